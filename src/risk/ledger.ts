/**
 * The ledger shape the risk module reads: one row per invoice, as the CSV import produces it and as live scoring
 * rebuilds it from the database. Dates are calendar days; the module works on UTC day numbers internally.
 */
import type { HistoryRow } from '../../connectors/csv/parse';

export type LedgerInvoice = Omit<HistoryRow, 'line'>;

const MS_PER_DAY = 86_400_000;

/**
 * Days since 1970-01-01 for a YYYY-MM-DD date. Calendar arithmetic on char codes (H. Hinnant's days_from_civil)
 * instead of Date parsing or slicing: indexing converts millions of dates and allocations dominated its profile.
 */
export function dayNumber(isoDate: string): number {
  // Char codes inline, no per-call closure: under tsx every closure is also named at creation (keepNames), which
  // cost more than the arithmetic.
  const y0 =
    (isoDate.charCodeAt(0) - 48) * 1000 +
    (isoDate.charCodeAt(1) - 48) * 100 +
    (isoDate.charCodeAt(2) - 48) * 10 +
    (isoDate.charCodeAt(3) - 48);
  const m = (isoDate.charCodeAt(5) - 48) * 10 + (isoDate.charCodeAt(6) - 48);
  const d = (isoDate.charCodeAt(8) - 48) * 10 + (isoDate.charCodeAt(9) - 48);
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The UTC day an instant falls on. "As of t" means "at the start of that day": what is dated that day is not yet known. */
export function dayOfInstant(t: Date): number {
  return Math.floor(t.getTime() / MS_PER_DAY);
}

/** YYYY-MM-DD of a day number (civil_from_days, the inverse of `dayNumber`). */
export function isoFromDay(day: number): string {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

export function instantFromDay(day: number): Date {
  return new Date(day * MS_PER_DAY);
}
