/**
 * Writing CSV that is safe to open in a spreadsheet. Text cells come from ledgers people typed (customer ids,
 * invoice numbers), and a cell such as `=HYPERLINK(…)`, `@SUM(…)` or `=cmd|…` would run as a formula in Excel,
 * LibreOffice or Sheets. OWASP's rule (https://owasp.org/www-community/attacks/CSV_Injection): a text cell that
 * begins with = + - @ TAB or CR gets a leading single quote (and so does a formula right after a `;`, see
 * formulaSafe), then every cell is quoted as RFC 4180 needs.
 * Numbers are written as numbers, so a legitimately negative amount stays a number.
 */

/** Characters a spreadsheet reads as the start of a formula (with their full-width forms, which some accept). */
export const FORMULA_START: ReadonlySet<string> = new Set([
  '=',
  '+',
  '-',
  '@',
  '\t',
  '\r',
  '\uFF1D',
  '\uFF0B',
  '\uFF0D',
  '\uFF20',
]);

/**
 * A formula start right after a `;` (blanks and quotes between allowed). Excel set to a semicolon list separator
 * (the default where the decimal mark is a comma: German, French, Dutch… locales) splits a comma-separated line at
 * every `;`, whatever the quoting, so `Acme;=1+1;` became a cell `=1+1` of its own. Built from FORMULA_START.
 */
const FORMULA_AFTER_SEMICOLON = new RegExp(
  `;(?=[\\s"]*[${[...FORMULA_START].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}])`,
  'g',
);

/**
 * Text as a spreadsheet must read it as text: a leading `'` when it starts like a formula, and one after any `;`
 * that a formula follows (the start of a cell for a semicolon-separated reading).
 */
export function formulaSafe(value: string): string {
  const text = value.replace(FORMULA_AFTER_SEMICOLON, ";'");
  return FORMULA_START.has(text.charAt(0)) ? `'${text}` : text;
}

export type CsvValue = string | number | boolean | null | undefined;

/** One cell: numbers as they are, text neutralised and quoted when needed. */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return String(value);
  const text = formulaSafe(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header and rows, one line each, in `columns` order. */
export function toCsv<K extends string>(columns: readonly K[], rows: readonly Record<K, CsvValue>[]): string {
  const lines = [columns.map((c) => csvCell(c)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvCell(row[c])).join(','));
  return `${lines.join('\n')}\n`;
}
