/**
 * The trained payment-delay model as plain data, its TypeScript evaluation (the reference the ONNX export is
 * tested against), and the post-processing both paths share.
 */
import { FEATURE_COUNT, type FeaturePriors } from './features';
import { type Ensemble, predictEnsemble } from './gbdt';
import { type LogisticModel, logisticMargin, sigmoid } from './logreg';

export const QUANTILE_LEVELS = [0.1, 0.5, 0.9] as const;

export interface RiskModel {
  featureNames: string[];
  priors: FeaturePriors;
  logistic: LogisticModel;
  /** Boosted log-odds of paying late. */
  classifier: Ensemble;
  /** Boosted P10/P50/P90 of days from the as-of day to payment. */
  quantiles: [Ensemble, Ensemble, Ensemble];
  /** Weight of the logistic probability in p_late; the rest is the boosted one (chosen on validation). */
  blend: number;
}

/** What both the TS model and the ONNX session produce for a batch. */
export interface RawPredictions {
  pLate: Float64Array;
  pLateLogistic: Float64Array;
  /** Row-major n x 3 remaining days at P10, P50, P90 (unsorted, unclamped). */
  remaining: Float64Array;
}

export function predictRaw(model: RiskModel, X: Float32Array, n: number): RawPredictions {
  const d = FEATURE_COUNT;
  const lr = logisticMargin(model.logistic, X, n);
  const gb = predictEnsemble(model.classifier, X, n, d);
  const qs = model.quantiles.map((e) => predictEnsemble(e, X, n, d));
  const pLate = new Float64Array(n);
  const pLateLogistic = new Float64Array(n);
  const remaining = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    pLateLogistic[i] = sigmoid(lr[i]!);
    pLate[i] = model.blend * pLateLogistic[i]! + (1 - model.blend) * sigmoid(gb[i]!);
    for (let k = 0; k < 3; k++) remaining[i * 3 + k] = qs[k]![i]!;
  }
  return { pLate, pLateLogistic, remaining };
}

export interface Forecast {
  pLate: number;
  /** Day numbers of the predicted payment at P10, P50 (the prediction) and P90. */
  payDayP10: number;
  payDay: number;
  payDayP90: number;
  /** Days past due of the median predicted pay date (0 when predicted on time). */
  expectedDaysLate: number;
}

/**
 * Turns row i of a raw prediction into dates. Conditioning on "still unpaid at the as-of day": payment is never
 * before that day, and an invoice already past due is late with certainty. Quantiles are sorted so the
 * interval is never inverted.
 */
export function toForecast(raw: RawPredictions, i: number, day: number, dueDay: number): Forecast {
  const q = [raw.remaining[i * 3]!, raw.remaining[i * 3 + 1]!, raw.remaining[i * 3 + 2]!]
    .map((v) => Math.max(0, Math.round(v)))
    .sort((a, b) => a - b);
  const payDay = day + q[1]!;
  return {
    pLate: dueDay < day ? 1 : raw.pLate[i]!,
    payDayP10: day + q[0]!,
    payDay,
    payDayP90: day + q[2]!,
    expectedDaysLate: Math.max(0, payDay - dueDay),
  };
}
