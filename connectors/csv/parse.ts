/**
 * The canonical invoice-history CSV (../shared/data/ibm-ar/README.md): one row per invoice, `paid_date` empty while
 * open. Parsing is total: every cell that cannot be understood is an error with its line and column, and callers
 * import nothing when any error exists. The bytes must be UTF-8 without NUL characters and each field is bounded in
 * length (input-checks.ts). What real exports legitimately contain is accepted with a warning naming the line: a
 * payment dated before its invoice (prepayment, posting vs document date), a due date before the invoice date,
 * zero or negative amounts (credit notes: returned in `credits`, never as invoices) and invoices in more than one
 * currency.
 */
import { parse } from 'csv-parse/sync';
import type { Delivery, IsoDate } from '../canonical';
import { isIsoDate } from '../dates';
import { hasControlChars } from '../email-address';
import { currencyExponent, isKnownCurrency, toMinor } from '../money';
import {
  columnName,
  DEFAULT_FIELD_LIMIT,
  decodeCsv,
  FIELD_LIMITS,
  headerNames,
  truncateQuoted,
  unclosedQuote,
} from './input-checks';

export const REQUIRED_COLUMNS = [
  'customer_id',
  'invoice_id',
  'invoice_date',
  'due_date',
  'amount',
  'currency',
  'paid_date',
] as const;
export const OPTIONAL_COLUMNS = ['delivery', 'country'] as const;

export interface HistoryRow {
  /** 1-based line in the file (the header is line 1). */
  line: number;
  customerId: string;
  invoiceId: string;
  invoiceDate: IsoDate;
  dueDate: IsoDate;
  currency: string;
  amountMinor: number;
  paidDate: IsoDate | null;
  delivery: Delivery | null;
  country: string | null;
}

export interface CsvIssue {
  line: number;
  column: string | null;
  message: string;
}

export interface ParsedHistory {
  rows: HistoryRow[];
  errors: CsvIssue[];
  /** Accepted but worth a look, each naming its line (at most MAX_ERRORS are kept; `warningCount` has them all). */
  warnings: CsvIssue[];
  warningCount: number;
  /** Zero or negative amounts: credit notes, with `amountMinor` the credited amount (>= 0). Not invoices. */
  credits: HistoryRow[];
}

export { isIsoDate };

/**
 * Ids become names, invoice numbers and email subjects: a line break or other control character in one (a quoted
 * field may hold any) is refused here, by line and column, with the send guard's own test (hasControlChars), rather
 * than failing every reminder later at that guard (unsafe_header) long after the import said yes.
 */
const controlMessage = (column: string) =>
  `${column} contains a line break or another control character; ids must be one line of text`;

/** No field is limited below this length: shorter fields need no lookup of their column's limit. */
const MIN_FIELD_LIMIT = Math.min(DEFAULT_FIELD_LIMIT, ...Object.values(FIELD_LIMITS));

/** Reports every field of `rec` longer than its limit; true when there was one (the row is not read further). */
function tooLong(rec: string[], names: string[], bad: (column: string, message: string) => void): boolean {
  let found = false;
  for (let i = 0; i < rec.length; i++) {
    const value = rec[i]!;
    if (value.length <= MIN_FIELD_LIMIT) continue;
    const name = columnName(names, i);
    const limit = FIELD_LIMITS[name] ?? DEFAULT_FIELD_LIMIT;
    if (value.length > limit) {
      bad(
        name,
        `${name} is ${value.length.toLocaleString('en-US')} characters long; at most ${limit} are allowed`,
      );
      found = true;
    }
  }
  return found;
}

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

/** Trimmed `line.slice(from, to)`, or null when an edge holds anything but printable ASCII, space or tab. */
function plainField(line: string, from: number, to: number): string | null {
  let a = from;
  let b = to;
  while (a < b && (line.charCodeAt(a) === 32 || line.charCodeAt(a) === 9)) a++;
  while (b > a && (line.charCodeAt(b - 1) === 32 || line.charCodeAt(b - 1) === 9)) b--;
  if (a === b) return '';
  const first = line.charCodeAt(a);
  const last = line.charCodeAt(b - 1);
  if (first < 0x21 || first > 0x7e || last < 0x21 || last > 0x7e) return null;
  return line.slice(a, b);
}

/**
 * The records of a file the parser would read without ever needing its quoting rules, as csv-parse returns them
 * (bom, skip_empty_lines, trim, info.lines), several times faster: no quote character at all, lines ended by \n
 * (or all by \r\n), every non-empty line with the header's field count, and no field edged by whitespace other than
 * spaces and tabs (csv-parse trims a wider set). Null for anything else: csv-parse then reads the file, and reports
 * what is wrong with it in its own terms (an unclosed quote, a short row…).
 */
export function splitPlainCsv(input: string): CsvRecord[] | null {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (text.includes('"')) return null;
  const crlf = text.includes('\r');
  const lines = text.split('\n');
  const records: CsvRecord[] = [];
  let width = -1;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (crlf) {
      const last = i === lines.length - 1;
      if (!last) {
        if (line.charCodeAt(line.length - 1) !== 13) return null;
        line = line.slice(0, -1);
      }
      if (line.includes('\r')) return null;
    }
    if (line === '') continue;
    const record: string[] = [];
    let from = 0;
    for (;;) {
      const comma = line.indexOf(',', from);
      const field = plainField(line, from, comma < 0 ? line.length : comma);
      if (field === null) return null;
      record.push(field);
      if (comma < 0) break;
      from = comma + 1;
    }
    if (width < 0) width = record.length;
    else if (record.length !== width) return null;
    records.push({ record, info: { lines: i + 1 } });
  }
  return records;
}

/** Why `amount` (refused by toMinor) cannot be stored in `currency`, in words the person fixing the file can act on. */
function amountProblem(amount: string, currency: string): string {
  const m = /^[+-]?\d+(?:\.(\d+))?$/.exec(amount);
  if (!m) {
    const hint = /[\d]/.test(amount)
      ? ' (write amounts without thousands separators or currency signs, with a dot for decimals: 1234.56)'
      : '';
    return `"${amount}" is not a decimal amount in ${currency}${hint}`;
  }
  const places = (m[1] ?? '').replace(/0+$/, '').length;
  const allowed = currencyExponent(currency);
  if (places > allowed) {
    return `"${amount}" has ${places} decimal place${places === 1 ? '' : 's'}; ${currency} amounts have ${allowed ? `at most ${allowed}` : 'none'}`;
  }
  return `"${amount}" is too large an amount`;
}

/** Stops collecting after this many errors: the report stays readable and a broken 1 GB file stays cheap. */
const MAX_ERRORS = 200;
const EMPTY: ParsedHistory = { rows: [], errors: [], warnings: [], warningCount: 0, credits: [] };

export function parseHistoryCsv(input: string | Buffer): ParsedHistory {
  const checked = parseChecked(input);
  // Messages quote the cells they refuse: never echo a huge one whole.
  return { ...checked, errors: checked.errors.map((e) => ({ ...e, message: truncateQuoted(e.message) })) };
}

/** The parser's own errors, located by line and column and told in our words (its messages echo whole values). */
function parserError(err: unknown, text: string): CsvIssue {
  const e = err as { lines?: number; column?: number; code?: string; record?: unknown[] };
  const names = headerNames(text);
  const line = e.lines ?? 1;
  if (e.code === 'CSV_QUOTE_NOT_CLOSED') {
    const at = unclosedQuote(text) ?? { line, field: e.column ?? 0 };
    return {
      line: at.line,
      column: columnName(names, at.field),
      message: 'a quoted value starts here and is never closed (a missing closing ")',
    };
  }
  if (e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
    const got = e.record?.length ?? e.column ?? 0;
    return {
      line,
      column: columnName(names, Math.min(got, names.length)),
      message: `this row has ${got} field${got === 1 ? '' : 's'}; the header has ${names.length}`,
    };
  }
  if (e.code === 'INVALID_OPENING_QUOTE' || e.code === 'CSV_INVALID_CLOSING_QUOTE') {
    return {
      line,
      column: columnName(names, e.column ?? 0),
      message: 'a quote inside a value: quote the whole value and double the inner quote ("a ""b"" c")',
    };
  }
  return {
    line,
    column: columnName(names, e.column ?? 0),
    message: `malformed CSV (${e.code ?? 'unreadable'})`,
  };
}

/**
 * The 1-based line each non-empty record starts on, quotes followed as RFC 4180 reads them (a line break inside a
 * quoted value does not end the record; CRLF, LF and CR are each one line break). csv-parse's own `info.lines` is
 * where a record ends, and counts the CR and LF of a quoted CRLF as two lines, so after one every later line was off.
 */
function recordStartLines(text: string): number[] {
  const starts: number[] = [];
  let line = 1;
  let inQuote = false;
  let inRecord = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      line++;
      if (!inQuote) inRecord = false;
      continue;
    }
    if (!inRecord) {
      inRecord = true;
      starts.push(line);
    }
    if (c === 34) inQuote = !inQuote;
  }
  return starts;
}

/**
 * A European Excel "CSV" is separated by semicolons (its amounts then have decimal commas), other exports by tabs:
 * the header holds no comma but one of those. Said first, since every later message would be a symptom of it.
 */
function otherSeparator(text: string): CsvIssue | null {
  const header = headerNames(text);
  if (header.length !== 1) return null;
  const sep = header[0]!.includes(';') ? 'semicolons' : header[0]!.includes('\t') ? 'tabs' : null;
  if (!sep) return null;
  return {
    line: 1,
    column: null,
    message: `the columns are separated by ${sep}; Duely reads comma-separated CSV: save or export the file as "CSV (comma-separated)" and import it again`,
  };
}

function parseChecked(input: string | Buffer): ParsedHistory {
  const errors: CsvIssue[] = [];
  const decoded = decodeCsv(input);
  if ('problem' in decoded) return { ...EMPTY, errors: [decoded.problem] };
  const { text } = decoded;
  const separator = otherSeparator(text);
  if (separator) return { ...EMPTY, errors: [separator] };
  let records: CsvRecord[] | null = splitPlainCsv(text);
  try {
    if (!records) {
      records = parse(text, {
        bom: true,
        skip_empty_lines: true,
        relax_column_count: false,
        trim: true,
        info: true,
      }) as unknown as CsvRecord[];
      // Quotes were involved: each record is named by the line it starts on (when both readings agree on the count).
      const starts = recordStartLines(text);
      if (starts.length === records.length) {
        records = records.map((r, i) => ({ ...r, info: { ...r.info, lines: starts[i]! } }));
      }
    }
  } catch (err) {
    return { ...EMPTY, errors: [parserError(err, text)] };
  }
  const header = records[0]?.record;
  if (!header) return { ...EMPTY, errors: [{ line: 1, column: null, message: 'the file is empty' }] };
  const names = header.map((h) => h.toLowerCase());
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (!index.has(n)) index.set(n, i);
  });
  const missing = REQUIRED_COLUMNS.filter((c) => !index.has(c));
  if (missing.length > 0) {
    const known = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);
    const unknown = names.filter((n) => n !== '' && !known.has(n));
    const message =
      `missing column(s): ${missing.join(', ')}` +
      (unknown.length
        ? ` (columns not known to Duely in the header: ${unknown.slice(0, 10).join(', ')})`
        : '');
    return { ...EMPTY, errors: [{ line: 1, column: missing[0]!, message }] };
  }
  const col = (rec: string[], name: string): string => {
    const i = index.get(name);
    return i === undefined ? '' : (rec[i] ?? '');
  };

  const rows: HistoryRow[] = [];
  const credits: HistoryRow[] = [];
  const warnings: CsvIssue[] = [];
  let warningCount = 0;
  const warn = (line: number, column: string, message: string) => {
    if (warnings.length < MAX_ERRORS) warnings.push({ line, column, message });
    warningCount++;
  };
  /** First line and count of each currency: a second currency is named once, at its first line. */
  const currencies = new Map<string, { line: number; count: number }>();
  const seen = new Map<string, number>();
  for (let r = 1; r < records.length && errors.length < MAX_ERRORS; r++) {
    const { record: rec, info } = records[r]!;
    const line = info.lines;
    const bad = (column: string, message: string) => errors.push({ line, column, message });
    if (tooLong(rec, names, bad)) continue;
    const customerId = col(rec, 'customer_id');
    const invoiceId = col(rec, 'invoice_id');
    const invoiceDate = col(rec, 'invoice_date');
    const dueDate = col(rec, 'due_date');
    const amount = col(rec, 'amount');
    const currency = col(rec, 'currency').toUpperCase();
    const paidDate = col(rec, 'paid_date');
    const delivery = col(rec, 'delivery').toLowerCase();
    const country = col(rec, 'country');
    const before = errors.length;

    if (!customerId) bad('customer_id', 'customer_id is empty');
    else if (hasControlChars(customerId)) bad('customer_id', controlMessage('customer_id'));
    if (!invoiceId) bad('invoice_id', 'invoice_id is empty');
    else if (hasControlChars(invoiceId)) bad('invoice_id', controlMessage('invoice_id'));
    else if (seen.has(invoiceId)) {
      bad('invoice_id', `invoice_id ${invoiceId} already appears on line ${seen.get(invoiceId)}`);
    } else seen.set(invoiceId, line);
    if (!isIsoDate(invoiceDate)) bad('invoice_date', `"${invoiceDate}" is not a date (YYYY-MM-DD)`);
    if (!isIsoDate(dueDate)) bad('due_date', `"${dueDate}" is not a date (YYYY-MM-DD)`);
    else if (isIsoDate(invoiceDate) && dueDate < invoiceDate) {
      warn(line, 'due_date', `due date ${dueDate} is before the invoice date ${invoiceDate}; imported as is`);
    } else if (isIsoDate(invoiceDate) && Number(dueDate.slice(0, 4)) - Number(invoiceDate.slice(0, 4)) > 10) {
      // SAP and other ERPs write 9999-12-31 for "no due date".
      warn(
        line,
        'due_date',
        `due date ${dueDate} is more than ten years after the invoice date ${invoiceDate} (an export's "no due date"?); imported as is, so the invoice is never overdue and never reminded`,
      );
    }
    const currencyOk = /^[A-Z]{3}$/.test(currency) && isKnownCurrency(currency);
    if (!currencyOk) bad('currency', `"${col(rec, 'currency')}" is not an ISO 4217 currency code`);
    const amountMinor = currencyOk ? toMinor(amount, currency) : null;
    if (currencyOk && amountMinor === null) bad('amount', amountProblem(amount, currency));
    if (paidDate !== '') {
      if (!isIsoDate(paidDate)) bad('paid_date', `"${paidDate}" is not a date (YYYY-MM-DD)`);
      else if (isIsoDate(invoiceDate) && paidDate < invoiceDate) {
        warn(
          line,
          'paid_date',
          `paid ${paidDate}, before the invoice date ${invoiceDate} (a prepayment or posting-date difference); imported as paid`,
        );
      }
    }
    if (delivery !== '' && delivery !== 'email' && delivery !== 'print') {
      bad('delivery', `"${col(rec, 'delivery')}" is not a delivery method (email or print)`);
    }
    if (errors.length > before) continue;
    const seenCurrency = currencies.get(currency);
    if (seenCurrency) seenCurrency.count++;
    else currencies.set(currency, { line, count: 1 });
    const credit = amountMinor! <= 0;
    if (credit) {
      warn(
        line,
        'amount',
        amountMinor === 0
          ? `amount ${amount} is zero: nothing to collect; not imported as an invoice`
          : `amount ${amount} is negative: imported as a credit note, not as an invoice`,
      );
    }
    (credit ? credits : rows).push({
      line,
      customerId,
      invoiceId,
      invoiceDate,
      dueDate,
      currency,
      amountMinor: Math.abs(amountMinor!),
      paidDate: paidDate === '' ? null : paidDate,
      delivery: delivery === '' ? null : (delivery as Delivery),
      country: country === '' ? null : country,
    });
  }
  if (currencies.size > 1) {
    const [main, ...others] = [...currencies.entries()].sort((a, b) => b[1].count - a[1].count);
    for (const [code, { line, count }] of others) {
      warn(
        line,
        'currency',
        `${count} invoice(s) in ${code} (first on this line) besides ${main![1].count} in ${main![0]}: each is kept in its own currency; totals are not converted`,
      );
    }
  }
  return { rows, errors, warnings, warningCount, credits };
}
