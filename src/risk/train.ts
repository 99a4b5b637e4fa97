/**
 * Fits the payment-delay model on what was known before a cutoff. Hyper-parameters (L2 strength, number of
 * trees per head, logistic/boosted blend) are chosen on a time-ordered validation slice: fit on invoices settled
 * before the slice starts, score the slice's invoices as of their issue day. Then everything is refitted on all
 * labels with the chosen settings.
 */
import {
  buildLedgerIndex,
  F,
  FEATURE_COUNT,
  FEATURE_NAMES,
  type FeaturePriors,
  featureMatrix,
} from './features';
import { type BoostParams, binFeatures, boost, type Dataset, DEFAULT_BOOST, type Ensemble } from './gbdt';
import { dayNumber, dayOfInstant, type LedgerInvoice } from './ledger';
import { fitLogistic } from './logreg';
import { auc, brier, logLoss, pinballLoss, quantile } from './metrics';
import {
  baselineOf,
  CLIP,
  COLLECT_HORIZONS,
  predictRaw,
  QUANTILE_LEVELS,
  type RiskModel,
} from './risk-model';
import {
  type CollectSample,
  collectSamplesOf,
  DATE_SAMPLE_AGES,
  labelledInvoices,
  ledgerAsOf,
  maturityDays,
  priorsFrom,
  type Sample,
  samplesOf,
} from './training-set';

export interface TrainOptions {
  /** Only what was known before this instant is used. */
  cutoff: Date;
  seed?: number;
  boost?: Partial<BoostParams>;
  /**
   * Caps the training samples (evenly thinned, deterministic) to bound training time on large ledgers;
   * default 20,000, far more than 26 features and depth-3 trees need.
   */
  maxSamples?: number;
}

export interface ValidationMetrics {
  invoices: number;
  auc: number;
  brier: number;
  logLoss: number;
  aucLogistic: number;
  pinballP50: number;
  intervalCoverage: number;
}

export interface TrainResult {
  model: RiskModel;
  /** Metrics of the selection fit on the validation slice (null when there was too little data to hold one out). */
  validation: ValidationMetrics | null;
  /** Late/not-late threshold maximizing Youden's J on the validation slice (0.5 without one). */
  lateThreshold: number;
  /**
   * Band cuts: the 80th and 50th percentiles of P(late) on the validation slice, so "high" holds about the riskiest
   * fifth of new invoices and "medium" the next 30% whatever the ledger's base rate (null without a slice).
   */
  bandCuts: { high: number; medium: number } | null;
  /** Days added to each side of the P10–P90 interval (conformal, from the validation slice; 0 without one). */
  intervalWidening: number;
  /** Factor applied to the P50 pay-date head's correction of the baseline (chosen on the validation slice; 0 without one). */
  payDateShrink: number;
  counts: { labelledInvoices: number; samples: number; maturityDays: number };
}

export class InsufficientHistoryError extends Error {}

/** Candidates in order of preference: stronger penalty first, and the even blend first (both generalize better). */
const LAMBDAS = [10, 3, 1, 0.3, 0.1, 0.03, 0.01];
const BLENDS = [0.5, 0.25, 0.75, 0, 1];
const MIN_LABELS = 30;
const DATE_AGES = new Set(DATE_SAMPLE_AGES);
/**
 * Tree depth of the pay-date heads (at most the boosting depth): shallower than the classifier's, which gave better
 * pay dates on the validation weeks of both development ledgers (picking the classifier's depth per slice did not).
 */
const DATE_DEPTH = 2;
/** At least this many samples per leaf of a pay-date tree (the validation weeks favoured 40 over 20 and 80). */
const DATE_MIN_LEAF = 40;

interface Matrices {
  X: Float32Array;
  n: number;
  late: Float64Array;
  remaining: Float64Array;
  /** Rows at or before the due day: the only ones where "late" is still uncertain. */
  open: Uint8Array;
  /** Rows at an age that teaches the pay-date heads (DATE_SAMPLE_AGES). */
  dateRow: Uint8Array;
  /** Rows taken on the invoice's issue day: how invoices are scored when they are new. */
  issueRow: Uint8Array;
}

function matrices(
  samples: readonly Sample[],
  history: readonly LedgerInvoice[],
  priors: FeaturePriors,
): Matrices {
  const index = buildLedgerIndex(history);
  const X = featureMatrix(index, samples, priors);
  return {
    X,
    n: samples.length,
    late: Float64Array.from(samples, (s) => s.late),
    remaining: Float64Array.from(samples, (s) => s.remainingDays),
    open: Uint8Array.from(samples, (s) => (s.day <= dayNumber(s.invoice.dueDate) ? 1 : 0)),
    issueRow: Uint8Array.from(samples, (s) => (s.day === dayNumber(s.invoice.invoiceDate) ? 1 : 0)),
    dateRow: Uint8Array.from(samples, (s) =>
      DATE_AGES.has(s.day - dayNumber(s.invoice.invoiceDate)) ? 1 : 0,
    ),
  };
}

function subset(m: Matrices, keep: (i: number) => boolean, y: Float64Array): Dataset {
  const idx: number[] = [];
  for (let i = 0; i < m.n; i++) if (keep(i)) idx.push(i);
  const X = new Float32Array(idx.length * FEATURE_COUNT);
  idx.forEach((r, k) => {
    X.set(m.X.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT), k * FEATURE_COUNT);
  });
  return { X, n: idx.length, y: Float64Array.from(idx, (r) => y[r]!) };
}

function thin<T>(items: T[], max: number | undefined): T[] {
  if (!max || items.length <= max) return items;
  const step = items.length / max;
  return Array.from({ length: max }, (_, k) => items[Math.floor(k * step)]!);
}

interface Settings {
  lambda: number;
  baseMix: number;
  trees: [number, number, number, number];
  blend: number;
  historyK: number;
  /** Share of the model in p_late (see RiskModel.modelShare); absent = 1. */
  modelShare?: number;
  calibration: { a: number; b: number };
}

/**
 * Platt scaling: a, b of sigmoid(a · logit(p) + b) by Newton's method on the slice's log-loss, with a small ridge
 * toward no change (a = 1, b = 0) so a tiny slice cannot flip or explode the scores.
 */
/** Smaller validation slices keep the blend's probabilities as they are (a weekly slice of a small ledger overfits). */
const PLATT_MIN_SLICE = 500;

export function fitPlatt(p: ArrayLike<number>, y: ArrayLike<number>): { a: number; b: number } {
  const z = Float64Array.from(p, (v) => {
    const q = Math.min(1 - CLIP, Math.max(CLIP, v));
    return Math.log(q / (1 - q));
  });
  let a = 1;
  let b = 0;
  if (z.length < PLATT_MIN_SLICE) return { a, b };
  const ridge = 0.05 * z.length;
  for (let iter = 0; iter < 50; iter++) {
    let ga = ridge * (a - 1);
    let gb = ridge * b;
    let haa = ridge;
    let hab = 0;
    let hbb = ridge;
    for (let i = 0; i < z.length; i++) {
      const q = 1 / (1 + Math.exp(-(a * z[i]! + b)));
      const r = q - y[i]!;
      const w = Math.max(q * (1 - q), 1e-12);
      ga += r * z[i]!;
      gb += r;
      haa += w * z[i]! * z[i]!;
      hab += w * z[i]!;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  // Rounded so the manifest and the graph carry the same short numbers.
  return { a: Math.round(a * 1e6) / 1e6, b: Math.round(b * 1e6) / 1e6 };
}

const NO_CALIBRATION = { a: 1, b: 0 };

/** History-depth fallback candidates (k settled invoices for an even model/heuristic mix); 0 = model only. */
const HISTORY_KS = [0, 1, 2, 4, 8];

/**
 * Share of the model in p_late when the ledger is too short to hold out a validation slice: the settings are then
 * untuned guesses, and on the weekly replays' selection weeks of both development ledgers (and of each half of their
 * customers) the even mix with the customer's smoothed late rate ranked and scored lateness better than the model
 * alone (AUC +0.004 to +0.035 on those weeks).
 */
export const UNVALIDATED_MODEL_SHARE = 0.5;

/** Fits every part; with `valid`, each boosted head stops early on it and its tree count is what it kept. */
function fitParts(
  m: Matrices,
  collect: Dataset[],
  priors: FeaturePriors,
  s: Settings,
  params: BoostParams,
  valid?: Matrices,
): RiskModel {
  const cls = subset(m, (i) => m.open[i] === 1, m.late);
  // Pay-date heads learn the correction to the terms-and-habit baseline, not the days themselves.
  const all = blind(
    subset(m, (i) => m.dateRow[i] === 1, residual(m, s.baseMix)),
    CLASSIFIER_ONLY,
  );
  const validCls = valid && subset(valid, () => true, valid.late);
  const validAll = valid && subset(valid, (i) => valid.dateRow[i] === 1, residual(valid, s.baseMix));
  const clsBins = binFeatures(cls.X, cls.n, FEATURE_COUNT, params.maxBins);
  const allBins = binFeatures(all.X, all.n, FEATURE_COUNT, params.maxBins);
  return {
    featureNames: [...FEATURE_NAMES],
    priors,
    logistic: fitLogistic(cls.X, cls.y, FEATURE_COUNT, s.lambda),
    classifier: boost(
      cls,
      FEATURE_COUNT,
      { kind: 'logloss' },
      { ...params, maxTrees: s.trees[0] },
      validCls,
      clsBins,
    ).ensemble,
    quantiles: QUANTILE_LEVELS.map(
      (alpha, k) =>
        boost(
          all,
          FEATURE_COUNT,
          { kind: 'quantile', alpha },
          {
            ...params,
            maxDepth: Math.min(params.maxDepth, DATE_DEPTH),
            minLeaf: Math.max(params.minLeaf, DATE_MIN_LEAF),
            maxTrees: s.trees[k + 1]!,
          },
          validAll,
          allBins,
        ).ensemble,
    ) as RiskModel['quantiles'],
    collect: collect.map((c) =>
      c.n >= MIN_LABELS && hasBothClasses(c.y)
        ? boost(
            c,
            FEATURE_COUNT,
            { kind: 'logloss' },
            { ...params, maxTrees: COLLECT_TREES, learningRate: COLLECT_LEARNING_RATE },
          ).ensemble
        : { base: Math.fround(c.n ? logit(mean(c.y)) : 0), trees: [] },
    ) as RiskModel['collect'],
    blend: s.blend,
    baseMix: s.baseMix,
    historyK: s.historyK,
    ...(s.modelShare !== undefined && s.modelShare !== 1 ? { modelShare: s.modelShare } : {}),
    calibration: s.calibration,
  };
}

/**
 * Columns only the lateness classifiers and collection heads learn from: the heuristic's own P(late) and date
 * (stacking), which raised AUC and cut Brier on the replay's selection weeks of both development ledgers. The
 * pay-date heads are fitted with them held constant, so no tree of theirs splits on them and the dates are those of
 * the model without them (given to every head, a first form cost the SAP export 0.5 point of ±3-day share).
 */
const CLASSIFIER_ONLY = [F.heuristic_p_late, F.heuristic_days_late];

function blind(data: Dataset, columns: readonly number[]): Dataset {
  for (let r = 0; r < data.n; r++) for (const j of columns) data.X[r * FEATURE_COUNT + j] = 0;
  return data;
}

/** Trees per collection head: fixed (no slice can validate two-year horizons), shallow and shrunk. */
const COLLECT_TREES = 80;
const COLLECT_LEARNING_RATE = 0.1;

function mean(y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]!;
  return s / y.length;
}
function logit(p: number): number {
  const q = Math.min(0.999, Math.max(0.001, p));
  return Math.log(q / (1 - q));
}
function hasBothClasses(y: ArrayLike<number>): boolean {
  const m = mean(y);
  return m > 0 && m < 1;
}

function residual(m: Matrices, baseMix: number): Float64Array {
  return Float64Array.from(m.remaining, (r, i) => r - baselineOf(m.X, i, baseMix));
}

/** Baseline mixes (weight of the delivery-adjusted baseline), in order of preference: ties keep the earlier. */
const BASE_MIXES = [0, 0.5, 1];

/**
 * The mix whose baseline alone gives the closest whole-day pay dates on the issue-day rows given. The baselines fit
 * nothing (customer history and population means, point-in-time), so every labelled invoice can judge them, not
 * only the validation slice: a few hundred invoices choose more steadily than a slice of fifty.
 */
function chooseBaseMix(ms: readonly Matrices[]): number {
  const mae = BASE_MIXES.map((mix) => {
    let s = 0;
    let n = 0;
    for (const m of ms)
      for (let i = 0; i < m.n; i++) {
        if (m.issueRow[i] !== 1) continue;
        s += Math.abs(Math.max(0, Math.round(baselineOf(m.X, i, mix))) - m.remaining[i]!);
        n++;
      }
    return n ? s / n : 0;
  });
  return BASE_MIXES[mae.indexOf(Math.min(...mae))]!;
}

/** The collection heads' data sets (30 and 90 days) as of the cutoff, each thinned to `maxSamples`. */
function collectData(
  history: readonly LedgerInvoice[],
  cutoffDay: number,
  priors: FeaturePriors,
  maxSamples: number | undefined,
): Dataset[] {
  const index = buildLedgerIndex(history);
  return COLLECT_HORIZONS.map((h) => {
    const samples: CollectSample[] = thin(collectSamplesOf(history, cutoffDay, h), maxSamples);
    return {
      X: featureMatrix(index, samples, priors),
      n: samples.length,
      y: Float64Array.from(samples, (x) => x.paid),
    };
  });
}

/** Chooses settings on the validation slice and returns them with the slice's metrics. */
function select(
  history: readonly LedgerInvoice[],
  labelled: readonly LedgerInvoice[],
  maturity: number,
  params: BoostParams,
  maxSamples: number | undefined,
): {
  settings: Settings;
  metrics: ValidationMetrics;
  threshold: number;
  bandCuts: { high: number; medium: number };
  widening: number;
  shrink: number;
  modeShift: number;
} | null {
  const issueDays = labelled.map((r) => dayNumber(r.invoiceDate)).sort((a, b) => a - b);
  const validStart = issueDays[Math.floor(issueDays.length * 0.8)]!;
  const fitLabels = labelledInvoices(labelled, validStart, maturity);
  const validLabels = labelled.filter((r) => dayNumber(r.invoiceDate) >= validStart);
  if (fitLabels.length < MIN_LABELS || validLabels.length < 20) return null;

  const priors = priorsFrom(fitLabels);
  // The fit half sees the ledger as of the slice start; the slice is scored on the ledger as of the cutoff,
  // which is still point-in-time because each row's features only look before its own day.
  const train = matrices(thin(samplesOf(fitLabels), maxSamples), ledgerAsOf(history, validStart), priors);
  const valid = matrices(samplesOf(validLabels, [0]), history, priors);
  const cls = subset(train, (i) => train.open[i] === 1, train.late);
  const validCls = subset(valid, () => true, valid.late);

  const lambda = oneStandardError(
    LAMBDAS.map(
      (l) =>
        predictRaw(stub(fitLogistic(cls.X, cls.y, FEATURE_COUNT, l)), validCls.X, validCls.n).pLateLogistic,
    ),
    validCls.y,
    LAMBDAS,
  );
  const baseMix = chooseBaseMix([train, valid]);
  const max = params.maxTrees;
  const noCollect: Dataset[] = [
    { X: new Float32Array(0), n: 0, y: [] },
    { X: new Float32Array(0), n: 0, y: [] },
  ];
  const model = fitParts(
    train,
    noCollect,
    priors,
    { lambda, baseMix, trees: [max, max, max, max], blend: 1, historyK: 0, calibration: NO_CALIBRATION },
    params,
    valid,
  );
  const settings: Settings = {
    lambda,
    baseMix,
    trees: [
      model.classifier.trees.length,
      ...model.quantiles.map((q) => q.trees.length),
    ] as Settings['trees'],
    blend: 1,
    historyK: 0,
    calibration: NO_CALIBRATION,
  };
  const lrP = predictRaw({ ...model, blend: 1 }, valid.X, valid.n).pLate;
  const gbP = predictRaw({ ...model, blend: 0 }, valid.X, valid.n).pLate;
  settings.blend = oneStandardError(
    BLENDS.map((b) => lrP.map((p, i) => b * p + (1 - b) * gbP[i]!)),
    valid.late,
    BLENDS,
  );
  settings.historyK = oneStandardError(
    HISTORY_KS.map(
      (k) => predictRaw({ ...model, blend: settings.blend, historyK: k }, valid.X, valid.n).pLate,
    ),
    valid.late,
    HISTORY_KS,
  );
  settings.calibration = fitPlatt(
    predictRaw({ ...model, blend: settings.blend, historyK: settings.historyK }, valid.X, valid.n).pLate,
    valid.late,
  );
  const { blend, historyK, calibration } = settings;
  const raw = predictRaw({ ...model, blend, historyK, calibration }, valid.X, valid.n);
  const q = (k: number) => Float64Array.from({ length: valid.n }, (_, i) => raw.remaining[i * 3 + k]!);
  const q10 = q(0);
  const q90 = q(2);
  let covered = 0;
  for (let i = 0; i < valid.n; i++)
    if (valid.remaining[i]! >= q10[i]! && valid.remaining[i]! <= q90[i]!) covered++;
  // Conformalized quantile regression (Romano, Patterson & Candès 2019): the margin by which [P10, P90] must
  // grow (or may shrink) for 80% of the slice to fall inside; pinball-trained quantiles are often too narrow.
  const conformity = Float64Array.from({ length: valid.n }, (_, i) =>
    Math.max(q10[i]! - valid.remaining[i]!, valid.remaining[i]! - q90[i]!),
  ).sort();
  const widening = conformity[Math.min(valid.n - 1, Math.ceil((valid.n + 1) * 0.8) - 1)]!;
  return {
    settings,
    widening,
    shrink: payDateShrink(valid, q(1), baseMix),
    modeShift: chooseModeShift([train, valid], baseMix),
    threshold: youdenThreshold(raw.pLate, valid.late),
    bandCuts: {
      high: Math.round(quantile(raw.pLate, 0.8) * 1000) / 1000,
      medium: Math.round(quantile(raw.pLate, 0.5) * 1000) / 1000,
    },
    metrics: {
      invoices: valid.n,
      auc: auc(raw.pLate, valid.late),
      brier: brier(raw.pLate, valid.late),
      logLoss: logLoss(raw.pLate, valid.late),
      aucLogistic: auc(lrP, valid.late),
      pinballP50: pinballLoss(q(1), valid.remaining, 0.5),
      intervalCoverage: covered / valid.n,
    },
  };
}

/** Candidate factors on the P50 head's correction, simplest (the baseline alone) first. */
const SHRINKS = [0, 0.25, 0.5, 0.75, 1];

/**
 * How much of the P50 head's correction to the terms-and-habit baseline to keep, by the one-standard-error rule on
 * the whole-day pay-date error of the validation slice: the smallest factor within one standard error of the best.
 * The head's tree count was early-stopped on this same slice, which flatters it; a head fitted on a short history
 * mostly learns noise and the baseline alone is then the better date, while on a long history it keeps its
 * correction.
 */
function payDateShrink(valid: Matrices, p50: Float64Array, baseMix: number): number {
  const base = Float64Array.from({ length: valid.n }, (_, i) => baselineOf(valid.X, i, baseMix));
  const errors = SHRINKS.map((c) =>
    Float64Array.from({ length: valid.n }, (_, i) =>
      Math.abs(Math.max(0, Math.round(base[i]! + c * (p50[i]! - base[i]!))) - valid.remaining[i]!),
    ),
  );
  const means = errors.map((e) => e.reduce((s, v) => s + v, 0) / e.length);
  const best = means.indexOf(Math.min(...means));
  // Standard error of the difference to the best candidate (paired, per invoice).
  const limit = (k: number) => {
    const d = errors[k]!.map((v, i) => v - errors[best]![i]!);
    const m = means[k]! - means[best]!;
    const sd = Math.sqrt(d.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(1, d.length - 1));
    return m <= sd / Math.sqrt(d.length);
  };
  return SHRINKS[SHRINKS.findIndex((_, k) => limit(k))]!;
}

/** Candidate weights of the mode offset on the P50 date, none first. */
const MODE_SHIFTS = [0, 0.5, 1];

/**
 * How far to move the P50 date toward the customer's busiest payment week (`habit_mode_offset`): the weight whose
 * relative cut of the share of dates missed by more than ±3 days most exceeds its relative increase of the mean
 * absolute error, or none when no weight cuts misses by more than it costs (the product reports both figures;
 * neither is bought dearly with the other). Judged like the baseline mix, on the whole-day baseline dates of every
 * issue-day row: on the validation slice alone (a few hundred invoices) the choice was noise.
 */
function chooseModeShift(ms: readonly Matrices[], baseMix: number): number {
  const errors = MODE_SHIFTS.map((w) => {
    const e: number[] = [];
    for (const m of ms)
      for (let i = 0; i < m.n; i++) {
        if (m.issueRow[i] !== 1) continue;
        const date = baselineOf(m.X, i, baseMix) + w * m.X[i * FEATURE_COUNT + F.habit_mode_offset]!;
        e.push(Math.abs(Math.max(0, Math.round(date)) - m.remaining[i]!));
      }
    return e;
  });
  if (errors[0]!.length === 0) return 0;
  const mae = errors.map((e) => mean(e));
  const miss = errors.map((e) => mean(e.map((v) => (v > 3 ? 1 : 0))));
  let best = 0;
  let bestScore = 0;
  for (let k = 1; k < MODE_SHIFTS.length; k++) {
    const missGain = miss[0]! > 0 ? (miss[0]! - miss[k]!) / miss[0]! : 0;
    const maeCost = mae[0]! > 0 ? (mae[k]! - mae[0]!) / mae[0]! : 0;
    if (missGain - maeCost > bestScore) {
      best = k;
      bestScore = missGain - maeCost;
    }
  }
  return MODE_SHIFTS[best]!;
}

/** The ensemble with every output (base and leaves) multiplied by `c`, so TypeScript and ONNX scale alike. */
function scaleEnsemble(e: Ensemble, c: number): Ensemble {
  if (c === 1) return e;
  return {
    base: Math.fround(e.base * c),
    trees: e.trees.map((t) => ({ ...t, value: Float32Array.from(t.value, (v) => Math.fround(v * c)) })),
  };
}

/**
 * The one-standard-error rule: the first candidate (in order of preference) whose validation log-loss is within
 * one standard error of the best. A single time slice is small; this keeps noise from picking a sharp model.
 */
function oneStandardError<T>(predictions: Float64Array[], y: ArrayLike<number>, candidates: readonly T[]): T {
  const perRow = predictions.map((p) => Array.from(p, (v, i) => logLoss([v], [y[i]!])));
  const means = perRow.map((l) => l.reduce((s, v) => s + v, 0) / l.length);
  const best = means.indexOf(Math.min(...means));
  const l = perRow[best]!;
  const sd = Math.sqrt(l.reduce((s, v) => s + (v - means[best]!) ** 2, 0) / Math.max(1, l.length - 1));
  const limit = means[best]! + sd / Math.sqrt(l.length);
  return candidates[means.findIndex((m) => m <= limit)]!;
}

/** A model holding only a logistic part, to score it alone. */
function stub(logistic: RiskModel['logistic']): RiskModel {
  const empty = { base: 0, trees: [] };
  return {
    featureNames: [],
    priors: priorsFrom([]),
    logistic,
    classifier: empty,
    quantiles: [empty, empty, empty],
    collect: [empty, empty],
    baseMix: 0,
    blend: 1,
    historyK: 0,
    calibration: NO_CALIBRATION,
  };
}

/** The probability cut that maximizes sensitivity + specificity - 1 on the slice. */
function youdenThreshold(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const order = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b]! - p[a]!);
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i]!;
  const negatives = y.length - positives;
  if (positives === 0 || negatives === 0) return 0.5;
  let tp = 0;
  let fp = 0;
  let best = { j: -1, t: 0.5 };
  for (const i of order) {
    if (y[i]) tp++;
    else fp++;
    const j = tp / positives - fp / negatives;
    if (j > best.j) best = { j, t: p[i]! };
  }
  return Math.round(best.t * 1000) / 1000;
}

export function trainRiskModel(rows: readonly LedgerInvoice[], options: TrainOptions): TrainResult {
  const cutoffDay = dayOfInstant(options.cutoff);
  const params: BoostParams = {
    ...DEFAULT_BOOST,
    ...options.boost,
    seed: options.seed ?? DEFAULT_BOOST.seed,
  };
  const history = ledgerAsOf(rows, cutoffDay);
  const maturity = maturityDays(history, cutoffDay);
  const labelled = labelledInvoices(history, cutoffDay, maturity);
  const lateCount = labelled.filter((r) => r.paidDate! > r.dueDate).length;
  if (labelled.length < MIN_LABELS || lateCount === 0 || lateCount === labelled.length) {
    throw new InsufficientHistoryError(
      `need at least ${MIN_LABELS} invoices settled before the cutoff with both late and on-time payments; have ${labelled.length} (${lateCount} late)`,
    );
  }
  const maxSamples = options.maxSamples ?? 20_000;
  const selected = select(history, labelled, maturity, params, maxSamples);
  const samples = thin(samplesOf(labelled), maxSamples);
  const priors = priorsFrom(labelled);
  const all = matrices(samples, history, priors);
  const settings = selected?.settings ?? {
    lambda: 0.1,
    baseMix: chooseBaseMix([all]),
    trees: [150, 150, 150, 150],
    blend: 0.5,
    historyK: 0,
    modelShare: UNVALIDATED_MODEL_SHARE,
    calibration: NO_CALIBRATION,
  };
  const fitted = fitParts(all, collectData(history, cutoffDay, priors, maxSamples), priors, settings, params);
  const widening = selected?.widening ?? 0;
  // Without a slice to judge the P50 head, too little history to trust it: the baseline alone gives the date.
  const shrink = selected?.shrink ?? 0;
  const [q10, q50, q90] = fitted.quantiles;
  const model: RiskModel = {
    ...fitted,
    modeShift: selected?.modeShift ?? 0,
    quantiles: [
      { ...q10, base: Math.fround(q10.base - widening) },
      scaleEnsemble(q50, shrink),
      { ...q90, base: Math.fround(q90.base + widening) },
    ],
  };
  return {
    model,
    intervalWidening: widening,
    payDateShrink: shrink,
    validation: selected?.metrics ?? null,
    lateThreshold: selected?.threshold ?? 0.5,
    bandCuts: selected?.bandCuts ?? null,
    counts: { labelledInvoices: labelled.length, samples: samples.length, maturityDays: maturity },
  };
}
