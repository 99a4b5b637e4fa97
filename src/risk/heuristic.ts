/**
 * The baseline every model must beat: P(late) is the customer's smoothed late rate, the pay date is the
 * customer's median days-to-pay, and the interval spans their 10th–90th percentile, all point-in-time.
 * Cold-start customers get the population prior.
 */
import {
  F,
  FEATURE_COUNT,
  type FeaturePriors,
  type FeatureQuery,
  featureMatrix,
  type LedgerIndex,
  recentSettled,
} from './features';
import { dayNumber } from './ledger';
import { quantile } from './metrics';
import type { RawPredictions } from './risk-model';

const HISTORY_WINDOW = 12;

export function heuristicPredict(
  index: LedgerIndex,
  queries: readonly FeatureQuery[],
  priors: FeaturePriors,
): RawPredictions {
  // The rule of thumb shrinks toward the whole ledger, as it always has: segment priors are the model's.
  const X = featureMatrix(index, queries, priors.segments ? { ...priors, segments: undefined } : priors);
  const n = queries.length;
  const pLate = new Float64Array(n);
  const remaining = new Float64Array(n * 3);
  queries.forEach(({ invoice, day }, i) => {
    pLate[i] = X[i * FEATURE_COUNT + F.late_rate]!;
    const past = recentSettled(index, invoice.customerId, day, HISTORY_WINDOW, invoice.invoiceId).map(
      (r) => r.daysToPay,
    );
    const dtp = past.length
      ? [quantile(past, 0.1), X[i * FEATURE_COUNT + F.recent_median_days_to_pay]!, quantile(past, 0.9)]
      : [0.5 * priors.daysToPay, priors.daysToPay, 1.5 * priors.daysToPay];
    const age = day - dayNumber(invoice.invoiceDate);
    dtp.forEach((v, k) => {
      remaining[i * 3 + k] = Math.max(0, v - age);
    });
  });
  // The rule of thumb has no view on collection of overdue debt: its dates come from the customer's median alone.
  return { pLate, pLateLogistic: pLate, remaining, pCollect: new Float64Array(n * 2).fill(Number.NaN) };
}
