export const HEADER =
  'customer_id,invoice_id,invoice_date,due_date,amount,currency,paid_date,delivery,country';

/** Builds a canonical CSV from rows of cells (in HEADER order). */
export function csv(rows: (string | number)[][], header = HEADER): string {
  return `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
}

/** Parses our CSV (quoted cells with doubled quotes, CRLF rows). */
export function parseCsv(withBom: string): string[][] {
  const text = withBom.replace(/^\uFEFF/, '');
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  return rows;
}
