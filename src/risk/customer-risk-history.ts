/**
 * A customer's payment-habit score over time, read back from the stored customer risk: the habit score as of the
 * last scoring and its change against 30 and 90 days earlier (customer-risk.ts computes each of those on what was
 * known then), so the series is the same numbers the trend and the slowing-payer alert were decided on. The open
 * debt's collection risk, which the account's score may take instead, is scored as of today only: it has no series.
 * A point is left out when the customer had no invoices yet on that day (its trend is null).
 */
import { dayOfInstant, isoFromDay } from './ledger';
import { pastDueDays, pastDueText } from './reasons';

export interface RiskPoint {
  /** YYYY-MM-DD (UTC day of the scoring instant, minus the offset). */
  day: string;
  /** 0–100, as customer_risk.score. */
  score: number;
}

export interface StoredCustomerRisk {
  score: number;
  /** The habit score the trend is of (null or absent: a row scored before it was stored, whose score is the habit). */
  habitScore?: number | null;
  trend30: number | null;
  trend90: number | null;
  asOf: Date;
}

/** Oldest first: 90 days before, 30 days before, as of the scoring. */
export function customerRiskHistory(r: StoredCustomerRisk): RiskPoint[] {
  const day = dayOfInstant(r.asOf);
  const habit = r.habitScore ?? r.score;
  const points: RiskPoint[] = [];
  const earlier = (offset: number, trend: number | null) => {
    if (trend === null) return;
    points.push({ day: isoFromDay(day - offset), score: Math.min(100, Math.max(0, habit - trend)) });
  };
  earlier(90, r.trend90);
  earlier(30, r.trend30);
  points.push({ day: isoFromDay(day), score: habit });
  return points;
}

/**
 * The distinct reasons of a customer's scored open invoices, riskiest invoice first, at most `max`. How late each
 * overdue invoice already is would be one unnamed line per invoice ("already 699 days past due", "already 28 days
 * past due"): only the oldest is said, first, as the oldest overdue invoice's. The customer's doubtful open debt in
 * words (`openDebt`: amount, age, chance of collection), when given, leads.
 */
export function customerReasons(
  predictions: readonly { pLate: number; reasons: string[] }[],
  max = 5,
  openDebt: string | null = null,
): string[] {
  const out: string[] = [];
  let oldest = 0;
  for (const p of [...predictions].sort((a, b) => b.pLate - a.pLate))
    for (const reason of p.reasons) {
      const days = pastDueDays(reason);
      if (days !== null) oldest = Math.max(oldest, days);
      else if (!out.includes(reason)) out.push(reason);
    }
  if (oldest > 0) out.unshift(`oldest overdue invoice ${pastDueText(oldest)}`);
  if (openDebt) out.unshift(openDebt);
  return out.slice(0, max);
}
