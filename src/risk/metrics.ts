/** Scoring rules for probability and pay-date forecasts; all take plain arrays so tests can hand-compute them. */

/** Area under the ROC curve by ranks (Mann–Whitney U), ties counted as one half. NaN when a class is missing. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!]) {
        positives++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function brier(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i]! - y[i]!) ** 2;
  return s / p.length;
}

/** Mean negative log-likelihood; probabilities are clipped to [1e-15, 1 - 1e-15] so a confident miss is finite. */
export function logLoss(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - 1e-15, Math.max(1e-15, p[i]!));
    s -= y[i] ? Math.log(q) : Math.log(1 - q);
  }
  return s / p.length;
}

export interface CalibrationBin {
  bin: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

/** Deciles of predicted probability (equal counts, by rank), with the observed late share in each. */
export function calibrationByDecile(p: ArrayLike<number>, y: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const order = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[a]! - p[b]!);
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const idx = order.slice(
      Math.floor((b * order.length) / bins),
      Math.floor(((b + 1) * order.length) / bins),
    );
    if (idx.length === 0) continue;
    out.push({
      bin: b + 1,
      count: idx.length,
      meanPredicted: idx.reduce((s, i) => s + p[i]!, 0) / idx.length,
      observedRate: idx.reduce((s, i) => s + y[i]!, 0) / idx.length,
    });
  }
  return out;
}

export function meanAbsoluteError(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < predicted.length; i++) s += Math.abs(predicted[i]! - actual[i]!);
  return s / predicted.length;
}

export function shareWithin(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  tolerance: number,
): number {
  let k = 0;
  for (let i = 0; i < predicted.length; i++) if (Math.abs(predicted[i]! - actual[i]!) <= tolerance) k++;
  return k / predicted.length;
}

/** Share of actual values inside [lower, upper], both ends included. */
export function intervalCoverage(
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  actual: ArrayLike<number>,
): number {
  let k = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i]! >= lower[i]! && actual[i]! <= upper[i]!) k++;
  return k / actual.length;
}

/** Mean pinball (quantile) loss at level alpha. */
export function pinballLoss(predicted: ArrayLike<number>, actual: ArrayLike<number>, alpha: number): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = actual[i]! - predicted[i]!;
    s += d >= 0 ? alpha * d : (alpha - 1) * d;
  }
  return s / actual.length;
}

/** Empirical quantile with linear interpolation between order statistics (type 7, as numpy's default). */
export function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
