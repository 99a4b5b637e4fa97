/**
 * What an imported CSV ledger amounts to, for the upload's answer: the day it is "as of" (its latest invoice,
 * payment or credit date: an old export is a ledger of then, which is why recent periods of the Dashboard are empty)
 * and the open balance of its open invoices per currency (the file has no partial payments: an invoice without a
 * paid date is open for its whole amount).
 */
import type { HistoryRow } from '../../connectors/csv/parse';

export interface CsvLedgerSummary {
  /** YYYY-MM-DD: the latest date in the file. */
  asOf: string;
  /** Open invoices' amounts per currency, in minor units. */
  openBalance: Record<string, number>;
}

export function csvLedgerSummary(
  rows: readonly HistoryRow[],
  credits: readonly HistoryRow[] = [],
): CsvLedgerSummary {
  let asOf = '';
  const openBalance: Record<string, number> = {};
  for (const r of [...rows, ...credits]) {
    if (r.invoiceDate > asOf) asOf = r.invoiceDate;
    if (r.paidDate && r.paidDate > asOf) asOf = r.paidDate;
  }
  for (const r of rows) {
    if (!r.paidDate) openBalance[r.currency] = (openBalance[r.currency] ?? 0) + r.amountMinor;
  }
  return { asOf, openBalance };
}
