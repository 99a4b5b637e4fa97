/**
 * What an imported CSV ledger amounts to, for the upload's answer: the day it is "as of" (its latest invoice,
 * payment or credit date: an old export is a ledger of then, which is why recent periods of the Dashboard are empty)
 * and the open balance of its open invoices per currency (the file has no partial payments: an invoice without a
 * paid date is open for its whole amount). Added up a chunk of rows at a time as the file is read.
 */
import type { HistoryRow } from '../../connectors/csv/parse';

export interface CsvLedgerSummary {
  /** YYYY-MM-DD: the latest date in the file. */
  asOf: string;
  /** Open invoices' amounts per currency, in minor units. */
  openBalance: Record<string, number>;
}

export class CsvLedgerTally {
  asOf = '';
  readonly openBalance: Record<string, number> = {};
  /** Open invoices. */
  open = 0;

  add(rows: readonly HistoryRow[], credits: readonly HistoryRow[] = []): void {
    for (const r of rows) {
      this.date(r);
      if (!r.paidDate) {
        this.openBalance[r.currency] = (this.openBalance[r.currency] ?? 0) + r.amountMinor;
        this.open++;
      }
    }
    for (const r of credits) this.date(r);
  }

  private date(r: HistoryRow): void {
    if (r.invoiceDate > this.asOf) this.asOf = r.invoiceDate;
    if (r.paidDate && r.paidDate > this.asOf) this.asOf = r.paidDate;
  }

  summary(): CsvLedgerSummary {
    return { asOf: this.asOf, openBalance: this.openBalance };
  }
}
