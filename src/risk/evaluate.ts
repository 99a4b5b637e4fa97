/**
 * Time-split backtest: fit on what was known before the cutoff, then score every later invoice as of its issue
 * day (its features see only what was known that day) and compare with what happened. Only invoices whose
 * payment is in the data can be scored; invoices still open at the end of the data are excluded and counted.
 */
import { buildLedgerIndex, type FeatureQuery, featureMatrix, type LedgerIndex } from './features';
import { heuristicPredict } from './heuristic';
import { dayNumber, dayOfInstant, isoFromDay, type LedgerInvoice } from './ledger';
import {
  auc,
  brier,
  type CalibrationBin,
  calibrationByDecile,
  intervalCoverage,
  logLoss,
  meanAbsoluteError,
  quantile,
  shareWithin,
} from './metrics';
import { predictRaw, type RawPredictions, type RiskModel, toForecast } from './risk-model';
import { createRng } from './rng';
import { type TrainOptions, type TrainResult, trainRiskModel } from './train';

export interface Estimate {
  value: number;
  /** Bootstrap 95% percentile interval. */
  lo: number;
  hi: number;
}

/** "0.812 [0.790, 0.833]", or "n/a" for a figure the scored invoices cannot give (AUC with one class only). */
export function estimateCell(e: Estimate, digits: number): string {
  if (!Number.isFinite(e.value)) return 'n/a';
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(digits) : '?');
  return `${e.value.toFixed(digits)} [${f(e.lo)}, ${f(e.hi)}]`;
}

/** Fewer scored invoices than this: the figures are printed with a warning that they mean little. */
export const FEW_SCORED = 30;

/** Plain-words caveats under a model-vs-heuristic table: too few invoices, an AUC that cannot be computed. */
export function tableCaveats(evaluated: number, lateShare: number): string[] {
  const out: string[] = [];
  if (evaluated < FEW_SCORED) {
    out.push(
      `Warning: only ${evaluated} invoice${evaluated === 1 ? '' : 's'} scored; too few for these figures to mean much (at least ${FEW_SCORED} are needed).`,
    );
  }
  if (lateShare === 0 || lateShare === 1) {
    out.push(
      `AUC needs both late and on-time invoices; every scored invoice was ${lateShare === 1 ? 'late' : 'paid on time'}.`,
    );
  }
  return out;
}

export interface MethodMetrics {
  auc: Estimate;
  brier: Estimate;
  logLoss: Estimate;
  /** Mean absolute error of the predicted (P50) pay date, in days. */
  payDateMae: Estimate;
  /** Mean absolute error of days late (0 when paid on time), predicted from the P50 pay date. */
  daysLateMae: Estimate;
  /** Share of invoices paid within ±3 days of the predicted date. */
  within3Days: Estimate;
  /** Share of actual pay dates inside the predicted P10–P90 interval. */
  intervalCoverage: Estimate;
  calibration: CalibrationBin[];
}

export interface Outcomes {
  late: Float64Array;
  payDay: Float64Array;
  daysLate: Float64Array;
}

export interface BacktestReport {
  cutoff: string;
  evaluated: number;
  excludedStillOpen: number;
  lateShare: number;
  bootstrap: number;
  note: string;
  model: MethodMetrics;
  heuristic: MethodMetrics;
  training: Pick<TrainResult, 'validation' | 'lateThreshold' | 'intervalWidening' | 'counts'> & {
    blend: number;
    lambda: number;
  };
}

/** Invoices issued in [from, to) whose payment is known, each as a query as of its issue day. */
export function issueDayQueries(rows: readonly LedgerInvoice[], fromDay: number, toDay = Infinity) {
  const inWindow = rows.filter((r) => {
    const issue = dayNumber(r.invoiceDate);
    return issue >= fromDay && issue < toDay;
  });
  const known = inWindow.filter((r) => r.paidDate !== null);
  const queries: FeatureQuery[] = known.map((invoice) => ({ invoice, day: dayNumber(invoice.invoiceDate) }));
  const outcomes: Outcomes = {
    late: Float64Array.from(known, (r) => (r.paidDate! > r.dueDate ? 1 : 0)),
    payDay: Float64Array.from(known, (r) => dayNumber(r.paidDate!)),
    daysLate: Float64Array.from(known, (r) => Math.max(0, dayNumber(r.paidDate!) - dayNumber(r.dueDate))),
  };
  return { queries, outcomes, stillOpen: inWindow.length - known.length };
}

interface PerInvoice {
  p: Float64Array;
  payDay: Float64Array;
  daysLate: Float64Array;
  p10: Float64Array;
  p90: Float64Array;
}

function perInvoice(raw: RawPredictions, queries: readonly FeatureQuery[]): PerInvoice {
  const n = queries.length;
  const out: PerInvoice = {
    p: new Float64Array(n),
    payDay: new Float64Array(n),
    daysLate: new Float64Array(n),
    p10: new Float64Array(n),
    p90: new Float64Array(n),
  };
  queries.forEach((q, i) => {
    const f = toForecast(raw, i, q.day, dayNumber(q.invoice.dueDate));
    out.p[i] = f.pLate;
    out.payDay[i] = f.payDay;
    out.daysLate[i] = f.expectedDaysLate;
    out.p10[i] = f.payDayP10;
    out.p90[i] = f.payDayP90;
  });
  return out;
}

type PointMetrics = Record<Exclude<keyof MethodMetrics, 'calibration'>, number>;

function pointMetrics(pred: PerInvoice, o: Outcomes, idx: Int32Array): PointMetrics {
  const pick = (a: Float64Array) => Float64Array.from(idx, (i) => a[i]!);
  const p = pick(pred.p);
  const y = pick(o.late);
  const payDay = pick(o.payDay);
  return {
    auc: auc(p, y),
    brier: brier(p, y),
    logLoss: logLoss(p, y),
    payDateMae: meanAbsoluteError(pick(pred.payDay), payDay),
    daysLateMae: meanAbsoluteError(pick(pred.daysLate), pick(o.daysLate)),
    within3Days: shareWithin(pick(pred.payDay), payDay, 3),
    intervalCoverage: intervalCoverage(pick(pred.p10), pick(pred.p90), payDay),
  };
}

/** Point estimates on all invoices, with percentile intervals from `bootstrap` resamples of the invoices. */
export function scoreMethod(
  raw: RawPredictions,
  queries: readonly FeatureQuery[],
  o: Outcomes,
  bootstrap: number,
  seed: number,
): MethodMetrics {
  const pred = perInvoice(raw, queries);
  const n = queries.length;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const point = pointMetrics(pred, o, all);
  const rng = createRng(seed);
  const draws: PointMetrics[] = [];
  for (let b = 0; b < bootstrap; b++) {
    draws.push(
      pointMetrics(
        pred,
        o,
        Int32Array.from({ length: n }, () => Math.floor(rng() * n)),
      ),
    );
  }
  const estimate = (k: keyof PointMetrics): Estimate => {
    const values = draws.map((d) => d[k]).filter((v) => !Number.isNaN(v));
    return values.length
      ? { value: point[k], lo: quantile(values, 0.025), hi: quantile(values, 0.975) }
      : { value: point[k], lo: Number.NaN, hi: Number.NaN };
  };
  return {
    auc: estimate('auc'),
    brier: estimate('brier'),
    logLoss: estimate('logLoss'),
    payDateMae: estimate('payDateMae'),
    daysLateMae: estimate('daysLateMae'),
    within3Days: estimate('within3Days'),
    intervalCoverage: estimate('intervalCoverage'),
    calibration: calibrationByDecile(pred.p, o.late),
  };
}

export function modelPredict(
  model: RiskModel,
  index: LedgerIndex,
  queries: readonly FeatureQuery[],
): RawPredictions {
  return predictRaw(model, featureMatrix(index, queries, model.priors), queries.length);
}

export interface BacktestOptions {
  rows: readonly LedgerInvoice[];
  cutoff: Date;
  bootstrap?: number;
  seed?: number;
  train?: Omit<TrainOptions, 'cutoff'>;
}

export function evaluateBacktest(options: BacktestOptions): BacktestReport {
  const { rows, cutoff, bootstrap = 1000, seed = 1 } = options;
  const trained = trainRiskModel(rows, { ...options.train, cutoff, seed });
  const index = buildLedgerIndex(rows);
  const { queries, outcomes, stillOpen } = issueDayQueries(rows, dayOfInstant(cutoff));
  const late = outcomes.late.reduce((s, v) => s + v, 0);
  return {
    cutoff: isoFromDay(dayOfInstant(cutoff)),
    evaluated: queries.length,
    excludedStillOpen: stillOpen,
    lateShare: queries.length ? late / queries.length : Number.NaN,
    bootstrap,
    note:
      'Scored: invoices issued on or after the cutoff whose payment is in the data, each as of its issue day. ' +
      'Invoices still open at the end of the data have no known outcome and are excluded, which under-represents slow payers near the end.',
    model: scoreMethod(modelPredict(trained.model, index, queries), queries, outcomes, bootstrap, seed),
    heuristic: scoreMethod(
      heuristicPredict(index, queries, trained.model.priors),
      queries,
      outcomes,
      bootstrap,
      seed,
    ),
    training: {
      validation: trained.validation,
      lateThreshold: trained.lateThreshold,
      intervalWidening: trained.intervalWidening,
      counts: trained.counts,
      blend: trained.model.blend,
      lambda: trained.model.logistic.lambda,
    },
  };
}

const METRIC_ROWS: [Exclude<keyof MethodMetrics, 'calibration'>, string, number][] = [
  ['auc', 'AUC (late)', 3],
  ['brier', 'Brier', 3],
  ['logLoss', 'Log-loss', 3],
  ['payDateMae', 'Pay-date MAE (days)', 2],
  ['daysLateMae', 'Days-late MAE', 2],
  ['within3Days', 'Paid within ±3 days', 3],
  ['intervalCoverage', 'P10–P90 coverage', 3],
];

export function formatBacktest(r: BacktestReport): string {
  const cell = estimateCell;
  const lines = [
    `Backtest: trained on what was known before ${r.cutoff}; ${r.evaluated} later invoices scored as of their issue day`,
    `(${r.excludedStillOpen} still open at the end of the data excluded; late share ${(r.lateShare * 100).toFixed(1)}%; 95% bootstrap CIs, ${r.bootstrap} resamples)`,
    '',
    `${'metric'.padEnd(22)}${'model'.padEnd(28)}heuristic`,
  ];
  for (const [k, label, digits] of METRIC_ROWS) {
    lines.push(`${label.padEnd(22)}${cell(r.model[k], digits).padEnd(28)}${cell(r.heuristic[k], digits)}`);
  }
  const caveats = tableCaveats(r.evaluated, r.lateShare);
  if (caveats.length) lines.push('', ...caveats);
  lines.push('', 'Calibration of the model by decile (mean predicted vs observed late share):');
  for (const b of r.model.calibration) {
    lines.push(
      `  ${String(b.bin).padStart(2)}  n=${String(b.count).padStart(4)}  predicted ${b.meanPredicted.toFixed(3)}  observed ${b.observedRate.toFixed(3)}`,
    );
  }
  lines.push('', r.note);
  return lines.join('\n');
}
