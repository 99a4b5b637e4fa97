/**
 * The trained payment-delay model as plain data, its TypeScript evaluation (the reference the ONNX export is
 * tested against), and the post-processing both paths share.
 */
import { F, FEATURE_COUNT, type FeaturePriors } from './features';
import { type Ensemble, predictEnsemble } from './gbdt';
import { type LogisticModel, logisticMargin, sigmoid } from './logreg';

export const QUANTILE_LEVELS = [0.1, 0.5, 0.9] as const;

export interface RiskModel {
  featureNames: string[];
  priors: FeaturePriors;
  logistic: LogisticModel;
  /** Boosted log-odds of paying late. */
  classifier: Ensemble;
  /**
   * Boosted P10/P50/P90 of days from the as-of day to payment, as corrections to the `base_remaining` feature
   * (due date plus the customer's usual days late): remaining = base_remaining + head.
   */
  quantiles: [Ensemble, Ensemble, Ensemble];
  /** Boosted log-odds that an invoice still unpaid on the as-of day is paid within 30 / 90 days. */
  collect: [Ensemble, Ensemble];
  /**
   * Weight of `base_remaining_adjusted` in the pay-date baseline the heads correct (0, 0.5 or 1; the rest is
   * `base_remaining`): chosen on the validation slice, since a ledger of evenly noisy payers is better described by
   * the delivery-adjusted trimmed mean and one with heavy tails by the median habit.
   */
  baseMix: number;
  /**
   * Weight of `habit_mode_offset` added to the P50 pay date (0, 0.5 or 1; absent = 0): moves the date from the
   * median toward the customer's busiest payment week, which puts more invoices within ±3 days where customers pay
   * in bursts. Chosen on the validation slice, only when it cuts the misses by a larger fraction than it adds to
   * the mean absolute error.
   */
  modeShift?: number;
  /** Weight of the logistic probability in p_late; the rest is the boosted one (chosen on validation). */
  blend: number;
  /**
   * Per-customer fallback by history depth: with n settled invoices, p_late = w·model + (1 − w)·heuristic where
   * w = (n + ε) / (n + k + ε) and the heuristic is the customer's smoothed late rate (the base rate at cold
   * start). k = 0 trusts the model everywhere; k is chosen on the validation slice.
   */
  historyK: number;
  /**
   * Share of the model in p_late at every history depth (absent = 1): the history weight above is multiplied by it,
   * so the rest always goes to the customer's smoothed late rate.
   */
  modelShare?: number;
  /**
   * Platt recalibration fitted on the validation slice: p_late = sigmoid(a · logit(p) + b). Blending two models
   * squeezes probabilities toward the middle; this restores their spread. {a: 1, b: 0} is no change.
   */
  calibration: { a: number; b: number };
}

/** Probabilities are clipped to this before logit (the ONNX graph clips the same). */
export const CLIP = 1e-6;

export function calibrate(p: number, c: { a: number; b: number }): number {
  if (c.a === 1 && c.b === 0) return p;
  const q = Math.min(1 - CLIP, Math.max(CLIP, p));
  return sigmoid(c.a * Math.log(q / (1 - q)) + c.b);
}

export const HISTORY_EPS = 1e-6;

/** Weight of the model for a customer with `settled` invoices (float32 like the ONNX graph computes it). */
export function historyWeight(logSettled: number, k: number): number {
  const n = Math.fround(Math.fround(Math.exp(logSettled)) - 1);
  return Math.fround(Math.fround(n + HISTORY_EPS) / Math.fround(n + Math.fround(k + HISTORY_EPS)));
}

/** What both the TS model and the ONNX session produce for a batch. */
export interface RawPredictions {
  pLate: Float64Array;
  pLateLogistic: Float64Array;
  /** Row-major n x 3 remaining days at P10, P50, P90 (unsorted, unclamped). */
  remaining: Float64Array;
  /** Row-major n x 2: P(paid within 30 days), P(paid within 90 days) given unpaid on the as-of day (NaN: none). */
  pCollect: Float64Array;
}

export const COLLECT_HORIZONS = [30, 90] as const;

/** The pay-date baseline of row i (float32, as the graph's MatMul with the mix selector computes it). */
export function baselineOf(X: Float32Array, i: number, baseMix: number): number {
  const d = FEATURE_COUNT;
  if (baseMix === 0) return X[i * d + F.base_remaining]!;
  return Math.fround(
    (1 - baseMix) * X[i * d + F.base_remaining]! + baseMix * X[i * d + F.base_remaining_adjusted]!,
  );
}

export function predictRaw(model: RiskModel, X: Float32Array, n: number): RawPredictions {
  const d = FEATURE_COUNT;
  const lr = logisticMargin(model.logistic, X, n);
  const gb = predictEnsemble(model.classifier, X, n, d);
  const qs = model.quantiles.map((e) => predictEnsemble(e, X, n, d));
  const cs = model.collect.map((e) => predictEnsemble(e, X, n, d));
  const pLate = new Float64Array(n);
  const pLateLogistic = new Float64Array(n);
  const remaining = new Float64Array(n * 3);
  const pCollect = new Float64Array(n * 2);
  const modeShift = model.modeShift ?? 0;
  const share = model.modelShare ?? 1;
  for (let i = 0; i < n; i++) {
    pLateLogistic[i] = sigmoid(lr[i]!);
    const pModel = model.blend * pLateLogistic[i]! + (1 - model.blend) * sigmoid(gb[i]!);
    const wk = model.historyK > 0 ? historyWeight(X[i * d + F.log_settled_count]!, model.historyK) : 1;
    const w = share === 1 ? wk : Math.fround(wk * Math.fround(share));
    pLate[i] = calibrate(w * pModel + (1 - w) * X[i * d + F.late_rate]!, model.calibration);
    const base = baselineOf(X, i, model.baseMix);
    for (let k = 0; k < 3; k++) remaining[i * 3 + k] = base + qs[k]![i]!;
    if (modeShift) remaining[i * 3 + 1]! += modeShift * X[i * d + F.habit_mode_offset]!;
    for (let k = 0; k < 2; k++) pCollect[i * 2 + k] = sigmoid(cs[k]![i]!);
  }
  return { pLate, pLateLogistic, remaining, pCollect };
}

export interface Forecast {
  pLate: number;
  /** P(paid within 30 / 90 days of the as-of day), given unpaid then; null when the predictor has no such head. */
  pCollect30: number | null;
  pCollect90: number | null;
  /** Day numbers of the predicted payment at P10, P50 (the prediction) and P90. */
  payDayP10: number;
  payDay: number;
  payDayP90: number;
  /** Days past due of the median predicted pay date (0 when predicted on time). */
  expectedDaysLate: number;
}

/** Longest a conditional pay date is pushed out: beyond this the debt is, for planning, not coming. */
export const MAX_HORIZON_DAYS = 730;

/**
 * Days from the as-of day until the probability of still being unpaid falls to 1 - q, on a survival curve through
 * S(0) = 1, S(30) = 1 - p30, S(90) = 1 - p90 (linear between), with a constant hazard after 90 days taken from the
 * 30–90 segment. Capped at MAX_HORIZON_DAYS: old debt that is rarely collected is forecast far out, not next week.
 */
export function survivalQuantile(p30: number, p90: number, q: number): number {
  const s30 = Math.min(1, Math.max(1e-6, 1 - p30));
  const s90 = Math.min(s30, Math.max(1e-6, 1 - p90));
  const target = 1 - q;
  if (target >= s30) return (30 * (1 - target)) / Math.max(1e-6, 1 - s30);
  if (target >= s90) return 30 + (60 * (s30 - target)) / Math.max(1e-6, s30 - s90);
  const hazard = Math.max(Math.log(s30 / s90) / 60, 1e-4);
  return Math.min(MAX_HORIZON_DAYS, 90 + Math.log(s90 / target) / hazard);
}

/**
 * Turns row i of a raw prediction into dates. Conditioning on "still unpaid at the as-of day": payment is never
 * before that day, and an invoice already past due is late with certainty. For an overdue invoice the question is
 * when (and whether) it will still be collected: where the collection heads say payment within 30 days is
 * unlikely, each quantile comes from their survival curve instead of the pay-date heads (which learnt only from
 * invoices that were eventually paid). The interval spans the lowest to the highest of the three, so it is never
 * inverted and always holds the P50 date.
 */
export function toForecast(raw: RawPredictions, i: number, day: number, dueDay: number): Forecast {
  return forecastInto(raw, i, day, dueDay, emptyForecast());
}

/** A forecast to write into (`forecastInto`). */
export function emptyForecast(): Forecast {
  return {
    pLate: 0,
    pCollect30: null,
    pCollect90: null,
    payDayP10: 0,
    payDay: 0,
    payDayP90: 0,
    expectedDaysLate: 0,
  };
}

/**
 * `toForecast` written into `out` (returned): a batch that copies each forecast into its own result reuses one
 * object instead of allocating one per invoice.
 */
export function forecastInto(
  raw: RawPredictions,
  i: number,
  day: number,
  dueDay: number,
  out: Forecast,
): Forecast {
  const p30 = raw.pCollect[i * 2]!;
  const p90 = raw.pCollect[i * 2 + 1]!;
  const hasCollect = Number.isFinite(p30) && Number.isFinite(p90);
  // The pay-date heads answer "when, if paid soon"; past due, beyond the 30-day collection chance, the survival
  // curve answers.
  const survival = dueDay < day && hasCollect;
  const a = remainingDays(raw.remaining[i * 3]!, survival, p30, p90, 0.1);
  const b = remainingDays(raw.remaining[i * 3 + 1]!, survival, p30, p90, 0.5);
  const c = remainingDays(raw.remaining[i * 3 + 2]!, survival, p30, p90, 0.9);
  // The P50 date stands (the mode shift may move it past a quantile head); the interval spans all three (no array
  // per invoice).
  const lowest = Math.min(a, b, c);
  const highest = Math.max(a, b, c);
  const payDay = day + b;
  out.pLate = dueDay < day ? 1 : raw.pLate[i]!;
  out.pCollect30 = hasCollect ? p30 : null;
  out.pCollect90 = hasCollect ? Math.max(p30, p90) : null;
  out.payDayP10 = day + lowest;
  out.payDay = payDay;
  out.payDayP90 = day + highest;
  out.expectedDaysLate = Math.max(0, payDay - dueDay);
  return out;
}

/** Whole days to payment at quantile `level` from the pay-date head's `v` (see `toForecast`). */
function remainingDays(v: number, survival: boolean, p30: number, p90: number, level: number): number {
  return Math.max(
    0,
    Math.round(survival && p30 < level ? Math.max(v, survivalQuantile(p30, p90, level)) : v),
  );
}
