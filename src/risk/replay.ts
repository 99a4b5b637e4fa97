/**
 * The weekly replay protocol: each week the app knows the ledger exactly as it stood when the week began, (re)trains
 * on it, and scores the invoices issued that week as of their issue day; outcomes are compared once known. The
 * heuristic (customer late rate and median days to pay) is scored on the same invoices, with the same history.
 * Weeks where the ledger is too thin to train fall back to the heuristic, as the product does.
 */
import {
  estimateCell,
  issueDayQueries,
  type MethodMetrics,
  modelPredict,
  type Outcomes,
  scoreMethod,
  tableCaveats,
} from './evaluate';
import { buildLedgerIndex, type FeatureQuery, featureMatrix } from './features';
import { heuristicPredict } from './heuristic';
import { dayNumber, dayOfInstant, isoFromDay, type LedgerInvoice } from './ledger';
import { quantile } from './metrics';
import { type LoadedModel, ledgerSnapshotDay } from './model-store';
import type { RawPredictions, RiskModel } from './risk-model';
import { runModel } from './run-model';
import { InsufficientHistoryError, type TrainOptions, trainRiskModel } from './train';
import { ledgerAsOf, priorsFrom } from './training-set';

export interface ReplayOptions {
  rows: readonly LedgerInvoice[];
  /** First replayed week; default: the issue date by which 40% of the invoices had been issued. */
  from?: Date;
  /** End of the replay (exclusive); default: the day after the last date in the file. */
  to?: Date;
  /** Retrain every this many weeks (default 1: every week, as the weekly job does). */
  retrainEveryWeeks?: number;
  bootstrap?: number;
  seed?: number;
  train?: Omit<TrainOptions, 'cutoff'>;
  /** Score every week with this model instead of retraining (e.g. the shipped default on a ledger it never saw). */
  model?: LoadedModel;
}

export interface ReplayReport {
  from: string;
  to: string;
  weeks: number;
  retrains: number;
  /** Version of the model given in the options (scored every week, never retrained); null when retrained weekly. */
  fixedModel: string | null;
  /** Weeks scored by the heuristic because there was too little history to train. */
  fallbackWeeks: number;
  evaluated: number;
  excludedStillOpen: number;
  lateShare: number;
  bootstrap: number;
  model: MethodMetrics;
  heuristic: MethodMetrics;
  note: string;
}

function concat(parts: RawPredictions[]): RawPredictions {
  const join = (k: keyof RawPredictions) => {
    const out = new Float64Array(parts.reduce((s, p) => s + p[k].length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p[k], o);
      o += p[k].length;
    }
    return out;
  };
  return {
    pLate: join('pLate'),
    pLateLogistic: join('pLateLogistic'),
    remaining: join('remaining'),
    pCollect: join('pCollect'),
  };
}

function concatOutcomes(parts: Outcomes[]): Outcomes {
  const join = (k: keyof Outcomes) => Float64Array.from(parts.flatMap((p) => Array.from(p[k])));
  return { late: join('late'), payDay: join('payDay'), daysLate: join('daysLate') };
}

/**
 * The replay's two windows over a ledger's issue dates: `test` from the 40 % point to the end (the default, the figures
 * reported), `selection` from the 20 % to the 40 % point (where choices are made, so the test weeks stay unseen).
 */
export function replayWindow(
  rows: readonly LedgerInvoice[],
  window: 'selection' | 'test',
): { from: Date; to?: Date } {
  const issueDays = rows.map((r) => dayNumber(r.invoiceDate));
  const at = (q: number) => new Date(Math.floor(quantile(issueDays, q)) * 86_400_000);
  return window === 'selection' ? { from: at(0.2), to: at(0.4) } : { from: at(0.4) };
}

export async function weeklyReplay(options: ReplayOptions): Promise<ReplayReport> {
  const { rows, bootstrap = 1000, seed = 1, retrainEveryWeeks = 1 } = options;
  const snapshot = options.to
    ? Math.min(dayOfInstant(options.to), ledgerSnapshotDay(rows))
    : ledgerSnapshotDay(rows);
  const fromDay = dayOfInstant(options.from ?? replayWindow(rows, 'test').from);
  // Features only look before their own day, so one index of the whole file serves every week point-in-time.
  const index = buildLedgerIndex(rows);
  const modelParts: RawPredictions[] = [];
  const heuristicParts: RawPredictions[] = [];
  const outcomeParts: Outcomes[] = [];
  const queries: FeatureQuery[] = [];
  let model: RiskModel | null = null;
  let weeks = 0;
  let retrains = 0;
  let fallbackWeeks = 0;
  let stillOpen = 0;
  for (let week = fromDay; week < snapshot; week += 7, weeks++) {
    const known = ledgerAsOf(rows, week);
    if (!options.model && weeks % retrainEveryWeeks === 0) {
      try {
        model = trainRiskModel(known, { ...options.train, cutoff: new Date(week * 86_400_000), seed }).model;
        retrains++;
      } catch (err) {
        if (!(err instanceof InsufficientHistoryError)) throw err;
      }
    }
    const q = issueDayQueries(rows, week, week + 7);
    stillOpen += q.stillOpen;
    if (q.queries.length === 0) continue;
    const fixed = options.model;
    const priors =
      fixed?.manifest.priors ?? model?.priors ?? priorsFrom(known.filter((r) => r.paidDate !== null));
    const heuristic = heuristicPredict(index, q.queries, priors);
    if (fixed) {
      modelParts.push(
        await runModel(fixed.session, featureMatrix(index, q.queries, priors), q.queries.length),
      );
    } else {
      if (!model) fallbackWeeks++;
      modelParts.push(model ? modelPredict(model, index, q.queries) : heuristic);
    }
    heuristicParts.push(heuristic);
    outcomeParts.push(q.outcomes);
    queries.push(...q.queries);
  }
  const outcomes = concatOutcomes(outcomeParts);
  const late = outcomes.late.reduce((s, v) => s + v, 0);
  return {
    from: isoFromDay(fromDay),
    to: isoFromDay(snapshot),
    weeks,
    retrains,
    fixedModel: options.model?.manifest.version ?? null,
    fallbackWeeks,
    evaluated: queries.length,
    excludedStillOpen: stillOpen,
    lateShare: queries.length ? late / queries.length : Number.NaN,
    bootstrap,
    model: scoreMethod(concat(modelParts), queries, outcomes, bootstrap, seed),
    heuristic: scoreMethod(concat(heuristicParts), queries, outcomes, bootstrap, seed + 1),
    note:
      (options.model
        ? 'Each week: invoices issued that week scored as of their issue day by the given model. '
        : 'Each week: trained on the ledger as known when the week began; invoices issued that week scored as of their issue day. ') +
      'Invoices still open at the end of the data have no known outcome and are excluded, which under-represents slow payers near the end.',
  };
}

const ROWS: [Exclude<keyof MethodMetrics, 'calibration'>, string, number][] = [
  ['auc', 'AUC (late)', 3],
  ['brier', 'Brier', 3],
  ['logLoss', 'Log-loss', 3],
  ['payDateMae', 'Pay-date MAE (days)', 2],
  ['within3Days', 'Paid within ±3 days', 3],
  ['intervalCoverage', 'P10–P90 coverage', 3],
];

export function formatReplay(r: ReplayReport): string {
  const cell = estimateCell;
  const lines = [
    `Weekly replay ${r.from} … ${r.to}: ${r.weeks} weeks, ${r.fixedModel ? `model ${r.fixedModel}, not retrained` : `${r.retrains} retrainings`}, ${r.evaluated} invoices scored as of their issue day`,
    `(${r.excludedStillOpen} still open at the end excluded; late share ${(r.lateShare * 100).toFixed(1)}%; ${r.fallbackWeeks} week(s) on the heuristic for lack of history; 95% bootstrap CIs, ${r.bootstrap} resamples)`,
    '',
    `${'metric'.padEnd(22)}${'model'.padEnd(28)}heuristic`,
  ];
  for (const [k, label, digits] of ROWS) {
    lines.push(`${label.padEnd(22)}${cell(r.model[k], digits).padEnd(28)}${cell(r.heuristic[k], digits)}`);
  }
  const caveats = tableCaveats(r.evaluated, r.lateShare);
  if (caveats.length) lines.push('', ...caveats);
  lines.push('', r.note);
  return lines.join('\n');
}
