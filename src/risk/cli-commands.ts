/**
 * `duely model train|evaluate` and `duely predictions`: the model's command-line surface. The CLI parses flags and
 * calls these; everything here is computed as of the given clock.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseHistoryCsv } from '../../connectors/csv/parse';
import { toCsv } from '../../connectors/csv/write';
import { isoDay } from '../clock';
import { invoiceAndCustomerExternalIds } from '../db/queries/risk';
import { AppError } from '../errors';
import { customerRisk } from './customer-risk';
import { evaluateBacktest, formatBacktest } from './evaluate';
import { buildLedgerIndex } from './features';
import { dayOfInstant } from './ledger';
import { loadModel, type ModelManifest, trainDefaultModel } from './model-store';
import { formatOverdueBacktest, ledgerEnd, overdueBacktest } from './overdue-backtest';
import type { RiskDeps } from './ports';
import { formatReplay, replayWindow, weeklyReplay } from './replay';
import type { SliceMetrics } from './retrain';
import { scoreInvoices } from './score';
import {
  accountRisks,
  activeModel,
  DEFAULT_MODEL_DIR,
  loadLedger,
  openAsOf,
  type RetrainResult,
  tenantSensitivity,
} from './service';
import { InsufficientHistoryError } from './train';

/** The shipped model learns from two ledger shapes: a demo-style one (one 30-day term) and a real SAP export. */
export const DEFAULT_TRAINING_CSVS = [
  path.resolve(process.cwd(), '../shared/data/ibm-ar/invoices-dev.csv'),
  path.resolve(process.cwd(), '../shared/data/highradius-dev/invoices.csv'),
];
/** The shipped model's creation date: fixed so `duely model train` reproduces models/default byte for byte. */
export const DEFAULT_MODEL_CREATED_AT = '2026-11-27T00:00:00Z';

function readHistory(file: string) {
  let buffer: Buffer;
  try {
    buffer = readFileSync(file);
  } catch (err) {
    // Named in the error, so the CLI says which file it could not read (EISDIR carries no path of its own).
    if (err && typeof err === 'object' && !('path' in err)) Object.assign(err, { path: file });
    throw err;
  }
  const { rows, errors, errorCount } = parseHistoryCsv(buffer);
  if (errors.length > 0) {
    const e = errors[0]!;
    throw new AppError(
      'invalid_csv',
      `${file}: ${errorCount.toLocaleString('en-US')} error${errorCount === 1 ? '' : 's'}; first: line ${e.line}${e.column ? `, column ${e.column}` : ''}: ${e.message}`,
      422,
    );
  }
  return rows;
}

export function trainModelCommand(opts: {
  history?: string[];
  out?: string;
  createdAt?: string;
}): ModelManifest {
  return trainDefaultModel({
    historyCsvs: opts.history?.length ? opts.history : DEFAULT_TRAINING_CSVS,
    outDir: opts.out ?? DEFAULT_MODEL_DIR,
    now: new Date(opts.createdAt ?? DEFAULT_MODEL_CREATED_AT),
  });
}

/**
 * `duely model evaluate`: the weekly replay protocol (default), or with `cutoff` a single time-split backtest; with
 * `overdue` the collection chances of the invoices overdue on `cutoff` (default: 90 days before the data end).
 */
export async function evaluateCommand(opts: {
  history: string;
  cutoff?: Date;
  from?: Date;
  /** End of the replay (exclusive). */
  to?: Date;
  /** `selection`: the weeks between the 20 % and 40 % points of issue dates instead of the test weeks after 40 %. */
  window?: 'selection' | 'test';
  everyWeeks?: number;
  /** A model directory to score with instead of retraining each week. */
  modelDir?: string;
  json: boolean;
  bootstrap?: number;
  /** Backtest the collection chances of overdue invoices (scored with `modelDir`, else the shipped model). */
  overdue?: boolean;
}): Promise<string> {
  const rows = readHistory(opts.history);
  if (rows.length === 0) throw new AppError('invalid_csv', `${opts.history}: no invoices to evaluate`, 422);
  if (opts.overdue) {
    const model = await loadModel(opts.modelDir ?? DEFAULT_MODEL_DIR);
    const asOfDay = opts.cutoff ? dayOfInstant(opts.cutoff) : ledgerEnd(rows) - 90;
    const report = await overdueBacktest(model, rows, asOfDay);
    return opts.json ? JSON.stringify(report, null, 2) : formatOverdueBacktest(report);
  }
  if (!opts.cutoff) {
    const window = replayWindow(rows, opts.window ?? 'test');
    const replay = await weeklyReplay({
      rows,
      from: opts.from ?? (opts.window ? window.from : undefined),
      to: opts.to ?? (opts.window ? window.to : undefined),
      retrainEveryWeeks: opts.everyWeeks,
      bootstrap: opts.bootstrap ?? 1000,
      model: opts.modelDir ? await loadModel(opts.modelDir) : undefined,
    });
    if (replay.evaluated === 0) {
      throw nothingScored(
        `issued from ${replay.from} to ${replay.to}`,
        replay.excludedStillOpen,
        ledgerSpan(rows),
      );
    }
    return opts.json ? JSON.stringify(replay, null, 2) : formatReplay(replay);
  }
  let report: ReturnType<typeof evaluateBacktest>;
  try {
    report = evaluateBacktest({ rows, cutoff: opts.cutoff, bootstrap: opts.bootstrap ?? 1000 });
  } catch (err) {
    if (!(err instanceof InsufficientHistoryError)) throw err;
    throw new AppError(
      'insufficient_history',
      `cannot train on what was known before ${isoDay(opts.cutoff)}: ${err.message} (${ledgerSpan(rows)}); choose a later --cutoff`,
      422,
    );
  }
  if (report.evaluated === 0) {
    throw nothingScored(`issued on or after ${report.cutoff}`, report.excludedStillOpen, ledgerSpan(rows));
  }
  return opts.json ? JSON.stringify(report, null, 2) : formatBacktest(report);
}

/** "invoices issued 2019-01-01 … 2019-08-31": what the file spans, for messages. */
function ledgerSpan(rows: readonly { invoiceDate: string }[]): string {
  let first = rows[0]!.invoiceDate;
  let last = first;
  for (const r of rows) {
    if (r.invoiceDate < first) first = r.invoiceDate;
    if (r.invoiceDate > last) last = r.invoiceDate;
  }
  return `the file's invoices are issued ${first} … ${last}`;
}

function nothingScored(window: string, stillOpen: number, span: string): AppError {
  return new AppError(
    'nothing_to_evaluate',
    `nothing to evaluate: no invoice ${window} has a known outcome` +
      `${stillOpen ? ` (${stillOpen} still open at the end of the data)` : ''}; ${span}`,
    422,
  );
}

export const PREDICTION_COLUMNS = [
  'invoice_id',
  'customer_id',
  'p_late',
  'predicted_pay_date',
  'pay_date_p10',
  'pay_date_p90',
  'expected_days_late',
  'p_collect_30',
  'p_collect_90',
  'risk_band',
  'customer_risk',
  'model_version',
] as const;
export type PredictionRow = Record<(typeof PREDICTION_COLUMNS)[number], string | number>;

/** Every invoice open as of the clock, scored now (nothing stored): the export behind `duely predictions`. */
export async function predictionRows(
  deps: Pick<RiskDeps, 'db' | 'clock' | 'models'>,
  tenantId: string,
  tenantSettings: Record<string, unknown>,
): Promise<PredictionRow[]> {
  const asOf = deps.clock.now();
  const model = await activeModel(deps, tenantId);
  const ledger = await loadLedger(deps.db, tenantId);
  const open = openAsOf(ledger, asOf);
  // One ledger index for the invoice and the customer scores.
  const index = buildLedgerIndex(ledger);
  const scores = await scoreInvoices(model, ledger, open, asOf, {
    sensitivity: tenantSensitivity(tenantSettings),
    index,
  });
  const customers = [...new Set(scores.map((s) => s.customerId))];
  const habits = await customerRisk(model, ledger, asOf, customers, { index });
  const risk = new Map(
    (await accountRisks(deps.db, tenantId, ledger, scores, asOf, habits)).map((r) => [r.customerId, r.score]),
  );
  const ids = await invoiceAndCustomerExternalIds(
    deps.db,
    scores.map((s) => s.invoiceId),
  );
  const external = new Map(ids.map((r) => [r.id, r]));
  return scores
    .map((s) => ({
      invoice_id: external.get(s.invoiceId)?.externalId ?? s.invoiceId,
      customer_id: external.get(s.invoiceId)?.customer ?? s.customerId,
      p_late: Math.round(s.pLate * 10_000) / 10_000,
      predicted_pay_date: s.predictedPayDate,
      pay_date_p10: s.payDateP10,
      pay_date_p90: s.payDateP90,
      expected_days_late: Math.round(s.expectedDaysLate * 10) / 10,
      p_collect_30: s.pCollect30 === null ? '' : Math.round(s.pCollect30 * 10_000) / 10_000,
      p_collect_90: s.pCollect90 === null ? '' : Math.round(s.pCollect90 * 10_000) / 10_000,
      risk_band: s.riskBand,
      customer_risk: Math.round(risk.get(s.customerId) ?? 0),
      model_version: s.modelVersion,
    }))
    .sort((a, b) => String(a.invoice_id).localeCompare(String(b.invoice_id)));
}

export function formatPredictions(rows: PredictionRow[], format: 'csv' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  // Ids and numbers come from ledgers people typed: formula-leading text cells are neutralised (toCsv).
  return toCsv(PREDICTION_COLUMNS, rows);
}

/** `duely model retrain --tenant NAME`: the comparison in plain lines, and whether the challenger was promoted. */
export function formatRetrain(tenant: string, r: RetrainResult): string {
  const lines = [
    r.trained
      ? `Tenant ${tenant}: trained ${r.version}; ${r.promoted ? 'PROMOTED' : 'not promoted'}: ${r.reason}`
      : `Tenant ${tenant}: no model trained: ${r.reason}`,
  ];
  const m = r.comparison?.metrics;
  if (m) {
    const cols: [string, SliceMetrics | null][] = [
      ['challenger', m.challenger],
      ['current', m.current],
      ['heuristic', m.heuristic],
    ];
    lines.push(
      `Most recent slice (${m.invoices} invoices settled, scored as of their issue day):`,
      `${'metric'.padEnd(22)}${cols.map(([c]) => c.padEnd(12)).join('')}`,
    );
    const rows: [keyof SliceMetrics, string, number][] = [
      ['auc', 'AUC (late)', 3],
      ['brier', 'Brier', 3],
      ['logLoss', 'Log-loss', 3],
      ['payDateMae', 'Pay-date MAE (days)', 2],
      ['within3Days', 'Paid within ±3 days', 3],
      ['intervalCoverage', 'P10–P90 coverage', 3],
    ];
    for (const [k, label, d] of rows) {
      lines.push(
        `${label.padEnd(22)}${cols.map(([, v]) => (v ? (Number.isFinite(v[k].value) ? v[k].value.toFixed(d) : 'n/a') : '—').padEnd(12)).join('')}`,
      );
    }
  }
  return lines.join('\n');
}
