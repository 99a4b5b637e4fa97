/**
 * Live scoring, pure apart from the ONNX session: the caller passes the ledger rows (from the database or a
 * CSV), the ids of the invoices to score and the as-of instant; nothing here reads the clock or the database.
 */

import { applyOffsets, collectionOffsets } from './collection-calibration';
import {
  buildLedgerIndex,
  FEATURE_COUNT,
  type FeatureQuery,
  featureMatrix,
  type LedgerIndex,
  recentSettled,
} from './features';
import { heuristicPredict } from './heuristic';
import { dayNumber, dayOfInstant, isoFromDay, type LedgerInvoice } from './ledger';
import { sigmoid } from './logreg';
import type { LoadedModel, ModelManifest } from './model-store';
import { explainHeuristic, explainScored, RECENT_REASONS } from './reasons';
import { emptyForecast, type Forecast, forecastInto, type RawPredictions } from './risk-model';
import { runModel } from './run-model';

/** Kept here for importers of score.ts (the ONNX call itself lives in run-model.ts). */
export { runModel };

export type RiskBand = 'low' | 'medium' | 'high';

export interface InvoiceScore {
  invoiceId: string;
  customerId: string;
  pLate: number;
  /** P(paid within 30 / 90 days) given unpaid now (null from a model without collection heads). */
  pCollect30: number | null;
  pCollect90: number | null;
  /**
   * What the band is read from: P(late) while the invoice is not yet due; once overdue (late is then certain),
   * P(not collected within 90 days).
   */
  risk: number;
  predictedPayDate: string;
  payDateP10: string;
  payDateP90: string;
  expectedDaysLate: number;
  riskBand: RiskBand;
  modelVersion: string;
  reasons: string[];
}

export interface ScoreOptions {
  /**
   * Shifts the band thresholds in log-odds: +1 flags more invoices as high/medium risk (a cautious tenant),
   * -1 fewer. 0 uses the manifest's thresholds as validated.
   */
  sensitivity?: number;
  /** `buildLedgerIndex(history)` when the caller already has it (the customer scores of the same run share it). */
  index?: LedgerIndex;
}

const logit = (p: number) => Math.log(p / (1 - p));
/** The last day a YYYY-MM-DD date can name. */
const LAST_DAY = dayNumber('9999-12-31');

/** A band threshold shifted by the sensitivity (log-odds). */
const bandCut = (t: number, sensitivity: number) =>
  sigmoid(logit(Math.min(0.999, Math.max(0.001, t))) - sensitivity);

export function riskBand(pLate: number, thresholds: ModelManifest['thresholds'], sensitivity = 0): RiskBand {
  return bandOf(pLate, bandCut(thresholds.late, sensitivity), bandCut(thresholds.medium, sensitivity));
}

const bandOf = (p: number, high: number, medium: number): RiskBand =>
  p >= high ? 'high' : p >= medium ? 'medium' : 'low';

/**
 * An overdue invoice is late for certain, so P(late) no longer tells invoices apart; the question is whether it
 * will still be collected: its risk is P(not paid within 90 days). Not yet due, it is P(late).
 */
export function invoiceRisk(f: Forecast, day: number, dueDay: number): number {
  if (dueDay >= day || f.pCollect90 === null) return f.pLate;
  return 1 - f.pCollect90;
}

/**
 * The active predictor's raw output for `queries` (feature rows `X`). A tenant whose own check found that no model
 * beats the customer-history rule of thumb scores with that rule (manifest `scoring: 'heuristic'`): P(late) and
 * pay dates come from each customer's history; the graph still answers the collection question for overdue
 * invoices, on which the rule has no view.
 */
export async function predictFor(
  model: LoadedModel,
  index: LedgerIndex,
  queries: readonly FeatureQuery[],
  X: Float32Array,
): Promise<RawPredictions> {
  const raw = await runModel(model.session, X, queries.length);
  if (model.manifest.scoring !== 'heuristic') return raw;
  const rule = heuristicPredict(index, queries, model.manifest.priors);
  return { ...raw, pLate: rule.pLate, remaining: rule.remaining };
}

/**
 * Ledger rows of `ids` (-1: not in the ledger; ids are unique in a ledger). Callers list them in ledger order
 * (`openAsOf` filters the ledger), so a forward walk finds each with one string comparison per row passed; the
 * first id not found ahead switches to a map of the ledger's ids for the rest.
 */
function rowsOf(index: LedgerIndex, ids: readonly string[]): Int32Array {
  const { idOf } = index;
  const n = idOf.length;
  const out = new Int32Array(ids.length);
  let next = 0;
  let byId: Map<string, number> | undefined;
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    if (byId === undefined) {
      let i = next;
      while (i < n && idOf[i] !== id) i++;
      if (i < n) {
        out[k] = i;
        next = i + 1;
        continue;
      }
      byId = new Map();
      for (let j = 0; j < n; j++) byId.set(idOf[j]!, j);
    }
    out[k] = byId.get(id) ?? -1;
  }
  return out;
}

/**
 * Scores the given open invoices as of `asOf`. Ids not in `history` are skipped. An invoice issued after
 * `asOf` is scored as of its issue day. The caller decides what is open: an id whose ledger row shows a payment
 * before `asOf` is still scored as unpaid (its own payment never enters its features).
 */
export async function scoreInvoices(
  model: LoadedModel,
  history: readonly LedgerInvoice[],
  openInvoiceIds: readonly string[],
  asOf: Date,
  options: ScoreOptions = {},
): Promise<InvoiceScore[]> {
  const { manifest } = model;
  const index = options.index ?? buildLedgerIndex(history);
  const asOfDay = dayOfInstant(asOf);
  const queries: FeatureQuery[] = [];
  const dueDays: number[] = [];
  let overdue = false;
  const rows = rowsOf(index, openInvoiceIds);
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    if (row < 0) continue;
    const day = Math.max(asOfDay, index.issueOf[row]!);
    queries.push({ invoice: history[row]!, day, row });
    dueDays.push(index.dueOf[row]!);
    if (index.dueOf[row]! < day) overdue = true;
  }
  const X = featureMatrix(index, queries, manifest.priors);
  const raw = await predictFor(model, index, queries, X);
  if (overdue) {
    // Overdue invoices: the collection heads, corrected by how this ledger's own overdue invoices ended.
    const offsets = await collectionOffsets(model, history, index, asOfDay);
    for (let i = 0; i < queries.length; i++) {
      applyOffsets(raw.pCollect, i, queries[i]!.day - dueDays[i]!, offsets);
    }
  }
  // 300k pay dates fall on a few hundred days: each day's text is built once.
  const isoOfDay = new Map<number, string>();
  const iso = (at: number) => {
    // A due date of 9999-12-31 (an export's "no due date") puts pay dates past year 9999: kept to a real date,
    // since "10000-01-07" is not YYYY-MM-DD and sorts before every other date as text.
    const day = Math.min(at, LAST_DAY);
    let text = isoOfDay.get(day);
    if (text === undefined) {
      text = isoFromDay(day);
      isoOfDay.set(day, text);
    }
    return text;
  };
  // The band cuts depend on the tenant only: computed once, not per invoice.
  const sensitivity = options.sensitivity ?? 0;
  const high = bandCut(manifest.thresholds.late, sensitivity);
  const medium = bandCut(manifest.thresholds.medium, sensitivity);
  const heuristic = manifest.scoring === 'heuristic';
  const out: InvoiceScore[] = new Array(queries.length);
  // One forecast object for the batch: each result copies its fields.
  const f = emptyForecast();
  for (let i = 0; i < queries.length; i++) {
    const { invoice, day, row } = queries[i]!;
    const dueDay = dueDays[i]!;
    forecastInto(raw, i, day, dueDay, f);
    const risk = invoiceRisk(f, day, dueDay);
    out[i] = {
      invoiceId: invoice.invoiceId,
      customerId: invoice.customerId,
      pLate: f.pLate,
      pCollect30: f.pCollect30,
      pCollect90: f.pCollect90,
      risk,
      predictedPayDate: iso(f.payDay),
      payDateP10: iso(f.payDayP10),
      payDateP90: iso(f.payDayP90),
      expectedDaysLate: f.expectedDaysLate,
      riskBand: bandOf(risk, high, medium),
      modelVersion: manifest.version,
      reasons: heuristic
        ? explainHeuristic({
            row: X.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT),
            recent: recentSettled(index, invoice.customerId, day, RECENT_REASONS, invoice.invoiceId),
            priors: manifest.priors,
          })
        : explainScored(manifest.logistic, X, i, f.pLate, manifest.priors.lateRate, index, invoice, day, row),
    };
  }
  return out;
}
