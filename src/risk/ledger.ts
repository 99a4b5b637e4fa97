/**
 * The ledger shape the risk module reads: one row per invoice, as the CSV import produces it and as live scoring
 * rebuilds it from the database. Dates are calendar days; the module works on UTC day numbers internally.
 */
import type { HistoryRow } from '../../connectors/csv/parse';

export type LedgerInvoice = Omit<HistoryRow, 'line'>;

const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 for a YYYY-MM-DD date. */
export function dayNumber(isoDate: string): number {
  return Math.round(Date.parse(`${isoDate}T00:00:00Z`) / MS_PER_DAY);
}

/** The UTC day an instant falls on. "As of t" means "at the start of that day": what is dated that day is not yet known. */
export function dayOfInstant(t: Date): number {
  return Math.floor(t.getTime() / MS_PER_DAY);
}

export function isoFromDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

export function instantFromDay(day: number): Date {
  return new Date(day * MS_PER_DAY);
}
