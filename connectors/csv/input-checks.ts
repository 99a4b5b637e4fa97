/**
 * What the CSV reader (parse.ts) checks with: where bytes stop being strict UTF-8 (a Latin-1 export must not import
 * with mangled ids), the bounded length per field, the header's column names, and messages: values quoted back are
 * truncated and their control characters written out, so a 10 MB cell never becomes a 10 MB error and a cell's
 * escape sequences never reach a terminal.
 */

/** Longest accepted field, by column; other columns get DEFAULT_FIELD_LIMIT. */
export const FIELD_LIMITS: Record<string, number> = { customer_id: 200, invoice_id: 200 };
export const DEFAULT_FIELD_LIMIT = 1_000;

/** `value` as shown in a message: at most `max` characters, then an ellipsis. */
export function shown(value: string, max = 40): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/** Shortens every quoted value in `message` (messages quote the cell they refuse). */
export function truncateQuoted(message: string, max = 40): string {
  return message.replace(/"([^"]*)"/g, (_m, v: string) => `"${shown(v, max)}"`);
}

/**
 * `message` with its control characters written out (ESC as \x1B): a refused cell is quoted back, and `duely
 * import` prints messages to a terminal, where a cell's escape sequences would otherwise run.
 */
export function printable(message: string): string {
  return message.replace(
    /\p{Cc}/gu,
    (c) => `\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** Byte offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += need + 1;
  }
  return -1;
}

/** A header cell as a column name: lower case, spaces and hyphens as underscores ("Invoice ID" is invoice_id). */
export function columnKey(cell: string): string {
  return cell.trim().toLowerCase().replace(/[ -]+/g, '_');
}

/** Column names of the header line (enough to name a column in an error before the parser has run). */
export function headerNames(text: string): string[] {
  const end = text.indexOf('\n');
  return (end < 0 ? text : text.slice(0, end))
    .replace(/^\ufeff/, '')
    .split(',')
    .map((h) => columnKey(h.trim().replace(/^"|"$/g, '')));
}

export function columnName(names: readonly string[], field: number): string {
  return names[field] || `column ${field + 1}`;
}
