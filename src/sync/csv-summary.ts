/**
 * What an imported CSV ledger amounts to, for the upload's answer: the day it is "as of" (its latest invoice,
 * payment or credit date: an old export is a ledger of then, which is why recent periods of the Dashboard are empty)
 * and the open balance of its open invoices per currency (the file has no partial payments: an invoice without a
 * paid date is open for its whole amount). Added up a chunk of rows at a time as the file is read.
 */
import type { HistoryRow } from '../../connectors/csv/parse';

export interface CsvLedgerSummary {
  /**
   * YYYY-MM-DD: the latest date in the file not after the day it was imported (an export is not made after it is
   * uploaded: a row dated ahead, a typo or an invoice billed in advance, says nothing of its day); the latest date
   * when every date is ahead.
   */
  asOf: string;
  /** Open invoices' amounts per currency, in minor units. */
  openBalance: Record<string, number>;
}

export class CsvLedgerTally {
  /** The latest date up to `notAfter`. */
  private upTo = '';
  /** The latest date of all. */
  private latest = '';
  readonly openBalance: Record<string, number> = {};
  /** Open invoices. */
  open = 0;

  /** `notAfter`: the import's day (YYYY-MM-DD); dates after it are not the export's day. */
  constructor(private readonly notAfter = '9999-12-31') {}

  get asOf(): string {
    return this.upTo || this.latest;
  }

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
    for (const d of [r.invoiceDate, r.paidDate]) {
      if (!d) continue;
      if (d > this.latest) this.latest = d;
      if (d > this.upTo && d <= this.notAfter) this.upTo = d;
    }
  }

  summary(): CsvLedgerSummary {
    return { asOf: this.asOf, openBalance: this.openBalance };
  }
}
