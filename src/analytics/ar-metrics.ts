/**
 * Receivables KPIs from the aggregates in src/db/queries/analytics.ts. Definitions (period P days ending today):
 *  - DSO (standard) = open AR today / credit sales issued in the period × P.
 *  - DSO (countback) = days of most recent credit sales, walking back day by day, that add up to today's AR
 *    (the last day counted fractionally); capped at `COUNTBACK_MAX_DAYS`.
 *  - CEI = (AR at period start + sales − AR today) / (AR at period start + sales − current AR today) × 100.
 *  - ADD (average days delinquent) = DSO − best possible DSO, where best possible DSO = current AR / sales × P,
 *    i.e. past-due AR / sales × P.
 *  - Collected within N days: of invoices issued in the P days ending N days ago, the share (by amount and by
 *    count) fully paid no later than N days after issue.
 * Ratios with a zero denominator are null ("not enough data"), never 0 or Infinity.
 */
import { addDays } from '../../connectors/dates';

export const COUNTBACK_MAX_DAYS = 365;

const round = (x: number, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const ratio = (num: number, den: number) => (den > 0 ? num / den : null);

export function standardDso(arMinor: number, salesMinor: number, periodDays: number): number | null {
  const r = ratio(arMinor, salesMinor);
  return r === null ? null : round(r * periodDays);
}

/**
 * Countback DSO from daily sales, newest day first. Days without sales count as whole days: `sales` lists only
 * days that had sales, so gaps between them are filled in from the dates.
 */
export function countbackDso(
  today: string,
  arMinor: number,
  sales: { day: string; minor: number }[],
  maxDays = COUNTBACK_MAX_DAYS,
): { days: number | null; capped: boolean } {
  if (arMinor <= 0) return { days: 0, capped: false };
  const byDay = new Map(sales.map((s) => [s.day, s.minor]));
  let remaining = arMinor;
  for (let i = 0; i < maxDays; i++) {
    const day = addDays(today, -i);
    const s = byDay.get(day) ?? 0;
    if (s > 0 && remaining <= s) return { days: round(i + remaining / s), capped: false };
    remaining -= s;
  }
  return { days: maxDays, capped: true };
}

export function cei(
  beginMinor: number,
  salesMinor: number,
  endMinor: number,
  endCurrentMinor: number,
): number | null {
  const r = ratio(beginMinor + salesMinor - endMinor, beginMinor + salesMinor - endCurrentMinor);
  return r === null ? null : round(r * 100);
}

export function averageDaysDelinquent(
  arMinor: number,
  currentMinor: number,
  salesMinor: number,
  periodDays: number,
): number | null {
  const dso = ratio(arMinor, salesMinor);
  const best = ratio(currentMinor, salesMinor);
  return dso === null || best === null ? null : round((dso - best) * periodDays);
}

export function share(part: number, whole: number): number | null {
  const r = ratio(part, whole);
  return r === null ? null : round(r, 4);
}
