/**
 * Live scoring, pure apart from the ONNX session: the caller passes the ledger rows (from the database or a
 * CSV), the ids of the invoices to score and the as-of instant; nothing here reads the clock or the database.
 */
import {
  buildLedgerIndex,
  FEATURE_COUNT,
  type FeatureQuery,
  featureMatrix,
  type LedgerIndex,
  recentSettled,
} from './features';
import { heuristicPredict } from './heuristic';
import { dayOfInstant, isoFromDay, type LedgerInvoice } from './ledger';
import { sigmoid } from './logreg';
import type { LoadedModel, ModelManifest } from './model-store';
import { applyOffsets, collectionOffsets } from './collection-calibration';
import { explain, explainHeuristic } from './reasons';
import { runModel } from './run-model';
import { type Forecast, type RawPredictions, toForecast } from './risk-model';

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
}

const logit = (p: number) => Math.log(p / (1 - p));

export function riskBand(pLate: number, thresholds: ModelManifest['thresholds'], sensitivity = 0): RiskBand {
  const cut = (t: number) => sigmoid(logit(Math.min(0.999, Math.max(0.001, t))) - sensitivity);
  if (pLate >= cut(thresholds.late)) return 'high';
  return pLate >= cut(thresholds.medium) ? 'medium' : 'low';
}

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
  // One lookup structure: the index's id → row map finds the scored invoices (no second map of the ledger).
  const index = buildLedgerIndex(history);
  const asOfDay = dayOfInstant(asOf);
  const queries: FeatureQuery[] = [];
  const dueDays: number[] = [];
  let overdue = false;
  for (const id of openInvoiceIds) {
    const row = index.rowOf.get(id);
    if (row === undefined) continue;
    const day = Math.max(asOfDay, index.issueOf[row]!);
    queries.push({ invoice: history[row]!, day });
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
  const iso = (day: number) => {
    let text = isoOfDay.get(day);
    if (text === undefined) {
      text = isoFromDay(day);
      isoOfDay.set(day, text);
    }
    return text;
  };
  return queries.map(({ invoice, day }, i) => {
    const dueDay = dueDays[i]!;
    const f = toForecast(raw, i, day, dueDay);
    const row = X.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT);
    const risk = invoiceRisk(f, day, dueDay);
    return {
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
      riskBand: riskBand(risk, manifest.thresholds, options.sensitivity),
      modelVersion: manifest.version,
      reasons:
        manifest.scoring === 'heuristic'
          ? explainHeuristic({
              row,
              recent: recentSettled(index, invoice.customerId, day, 6, invoice.invoiceId),
              priors: manifest.priors,
            })
          : explain(manifest.logistic, {
              row,
              recent: recentSettled(index, invoice.customerId, day, 6, invoice.invoiceId),
              pLate: f.pLate,
              baseRate: manifest.priors.lateRate,
            }),
    };
  });
}
