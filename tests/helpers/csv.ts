export const HEADER =
  'customer_id,invoice_id,invoice_date,due_date,amount,currency,paid_date,delivery,country';

/** Builds a canonical CSV from rows of cells (in HEADER order). */
export function csv(rows: (string | number)[][], header = HEADER): string {
  return `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
}
