/**
 * The risk model inside the app: loads a tenant's ledger from the database, picks the active model (the tenant's
 * own promoted challenger, else the shipped default), scores open invoices and customers, and stores the results
 * with the model version that produced them. The modelling itself is pure and lives in the modules beside this.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dayInZone, isTimeZone } from '../../connectors/dates';
import type { DbOrTx } from '../db/client';
import { csvLedgerDay } from '../db/queries/analytics';
import { creditOnAccount, payersOfJobs } from '../db/queries/credit-on-account';
import {
  activeModelManifest,
  deleteSettledPredictions,
  insertModelVersion,
  ledgerRows,
  openBalances,
  retireActiveModels,
  setModelChange,
  storeCustomerRisk,
  storedBands,
  storeInvoiceScores,
  upsertActiveModelVersion,
} from '../db/queries/risk';
import { tenantById } from '../db/queries/tenants';
import {
  type CustomerRisk,
  customerBand,
  customerRisk,
  openDebtRisks,
  openInvoiceRisks,
  withOpenDebt,
} from './customer-risk';
import { buildLedgerIndex } from './features';
import { dayNumber, dayOfInstant, isoFromDay, type LedgerInvoice } from './ledger';
import { DEFAULT_MODEL_DIR, type ModelRegistry, readsTodaysFeatures } from './model-registry';
import { type LoadedModel, MODEL_FILE, type ModelManifest, writeModel } from './model-store';
import type { RiskDeps } from './ports';
import { compareModels, type ModelComparison, trainChallenger } from './retrain';
import { type InvoiceScore, type RiskBand, scoreInvoices } from './score';
import { InsufficientHistoryError } from './train';

export { DEFAULT_MODEL_DIR };

/** A database (or transaction) and the process's model registry: what reading a tenant's model needs. */
export type RiskModels = { db: DbOrTx; models: ModelRegistry };

/** Invoices the model reads: settled ones need a paid date (a paid invoice without one says nothing about timing). */
export async function loadLedger(db: DbOrTx, tenantId: string): Promise<LedgerInvoice[]> {
  const rows = await ledgerRows(db, tenantId);
  return rows
    .filter((r) => r.status === 'open' || r.paidDate !== null)
    .map(({ status, ...r }) => ({ ...r, paidDate: status === 'open' ? null : r.paidDate }));
}

/** Open as of `asOf`: issued by then, and not paid by then. */
export function openAsOf(rows: readonly LedgerInvoice[], asOf: Date): string[] {
  const day = dayOfInstant(asOf);
  return rows
    .filter((r) => dayNumber(r.invoiceDate) <= day && (r.paidDate === null || dayNumber(r.paidDate) > day))
    .map((r) => r.invoiceId);
}

export function tenantSensitivity(settings: Record<string, unknown>): number {
  const s = Number(settings.sensitivity ?? 0);
  return Number.isFinite(s) ? Math.max(-3, Math.min(3, s)) : 0;
}

/** The tenant's active model, through the process's registry (loaded once, bounded). */
export function activeModel(deps: RiskModels, tenantId: string): Promise<LoadedModel> {
  return deps.models.active(deps.db, tenantId);
}

/** The active model's manifest (version, thresholds, metrics) without reading or loading its ONNX graph. */
export async function activeManifest(deps: RiskModels, tenantId: string): Promise<ModelManifest> {
  const row = await activeModelManifest(deps.db, tenantId);
  return row && readsTodaysFeatures(row.manifest)
    ? (row.manifest as unknown as ModelManifest)
    : (await deps.models.default()).manifest;
}

/**
 * A customer's risk band from its 0–1 score: the customer cut-offs (customer-risk.ts CUSTOMER_BANDS, in expected
 * days late) at the tenant's sensitivity. The score is not a P(late), so the invoice thresholds do not apply. The
 * one definition the risk API, the Customer page and the dunning planner share.
 */
export async function customerBandOf(
  _deps: RiskModels,
  tenant: { id: string; settings: Record<string, unknown> },
): Promise<(score: number) => RiskBand> {
  const sensitivity = tenantSensitivity(tenant.settings);
  return (score) => customerBand(score, sensitivity);
}

/**
 * Customer risks as stored and shown: the customers' payment habits (customerRisk) combined with the collection
 * risk of their open debt, read from the same run's invoice scores and the invoices' open balances, net of each
 * customer's credit on account dated by the scoring day, and not after the company's day (db/queries/credit-on-account.ts,
 * the credit the dashboard and dunning count; a job billed with its parent pooled with its payer).
 */
export async function accountRisks(
  db: DbOrTx,
  tenantId: string,
  ledger: readonly LedgerInvoice[],
  scores: readonly InvoiceScore[],
  asOf: Date,
  habits: readonly CustomerRisk[],
): Promise<CustomerRisk[]> {
  const day = dayOfInstant(asOf);
  const balances = await openBalances(db, tenantId);
  // Credit dated by the scoring day and by the company's calendar day of the instant, the earlier of the two: a
  // payment dated the company's tomorrow (already today in UTC, an evening in the Americas) is not credit yet for the
  // reminders, and must not cover the debt here either; a backtest sees no credit dated after its day.
  const tz = (await tenantById(db, tenantId))?.timezone;
  const creditDay = [isoFromDay(day), dayInZone(asOf, tz && isTimeZone(tz) ? tz : 'UTC')].sort()[0]!;
  const credits = await creditOnAccount(db, { tenantId, asOf: creditDay });
  // A job billed with its parent is netted with the customer who pays it, as reminders count its credit.
  const payerOf = await payersOfJobs(db, tenantId);
  return withOpenDebt(
    habits,
    openDebtRisks(openInvoiceRisks(ledger, scores, day, balances), credits, payerOf),
  );
}

export interface ScoreRunResult {
  modelVersion: string;
  invoices: number;
  customers: number;
}

/**
 * The instant a scoring run is as of by default: the clock's. Under the real time a CSV company's ledger is its
 * export, a ledger of the export's day (an invoice paid since is still open in it), and its figures are as of that
 * day (analytics ledgerDay): its risk is too, at noon UTC of it, when that is before the clock's day. Scored as of
 * today, a 2019 export's open invoices were all about 2,560 days overdue, and every customer owing anything scored
 * as doubtful debt beside a customer page counting 120 days.
 */
export async function scoringInstant(
  deps: Pick<RiskDeps, 'db' | 'clock'>,
  tenant: { id: string; source: string },
): Promise<Date> {
  const now = deps.clock.now();
  if (tenant.source !== 'csv' || !deps.clock.real) return now;
  const day = await csvLedgerDay(deps.db, tenant.id);
  return day && day < isoFromDay(dayOfInstant(now)) ? new Date(`${day}T12:00:00Z`) : now;
}

/**
 * Scores every invoice open as of `asOf` (by default scoringInstant) and every customer with history; stores the
 * latest of each.
 */
export async function scoreTenant(deps: RiskDeps, tenantId: string, at?: Date): Promise<ScoreRunResult> {
  const { db } = deps;
  const tenant = await tenantById(db, tenantId);
  if (!tenant) throw new Error(`tenant ${tenantId} not found`);
  const asOf = at ?? (await scoringInstant(deps, tenant));
  const model = await activeModel(deps, tenantId);
  const ledger = await loadLedger(db, tenantId);
  const open = openAsOf(ledger, asOf);
  // One ledger index for the invoice and the customer scores.
  const index = buildLedgerIndex(ledger);
  const scores = await scoreInvoices(model, ledger, open, asOf, {
    sensitivity: tenantSensitivity(tenant.settings),
    index,
  });
  const habits = await customerRisk(model, ledger, asOf, undefined, { index });
  const risks = await accountRisks(db, tenantId, ledger, scores, asOf, habits);
  await db.transaction(async (tx) => {
    // A run with another model than the last one: record how the bands moved (each model sets its own cuts, so the
    // high-risk count can halve with no invoice changing; Settings and the Dashboard say when and by how much).
    const before = await storedBands(tx, tenantId);
    if (before.version !== null && before.version !== model.manifest.version) {
      const after = { low: 0, medium: 0, high: 0 };
      for (const sc of scores) after[sc.riskBand] += 1;
      await setModelChange(tx, tenantId, {
        at: deps.clock.now().toISOString(),
        from: before.version,
        to: model.manifest.version,
        before: before.bands,
        after,
      });
    }
    await storeInvoiceScores(tx, tenantId, scores, asOf);
    await storeCustomerRisk(tx, tenantId, risks, model.manifest.version, asOf);
    // Predictions of invoices no longer open are history, not a forecast: drop them.
    await deleteSettledPredictions(tx, tenantId);
  });
  deps.logger.info({ tenantId, invoices: scores.length, model: model.manifest.version }, 'scored');
  return { modelVersion: model.manifest.version, invoices: scores.length, customers: risks.length };
}

/** Minimum settled invoices before a tenant's own model is worth training. */
export const MIN_SETTLED_FOR_TENANT_MODEL = 300;

export interface RetrainResult {
  trained: boolean;
  promoted: boolean;
  version: string | null;
  reason: string;
  comparison: ModelComparison | null;
  /** 'heuristic': no model beat the rule of thumb, and the tenant now scores with it. */
  scoring?: 'heuristic';
}

/**
 * Makes the customer-history rule of thumb the tenant's active predictor: a registry row whose manifest says
 * `scoring: 'heuristic'`, carrying the shipped default's graph (for the collection of overdue invoices only) and the
 * rule's own band cuts from the slice. Re-running on the same day re-activates the same row.
 */
async function activateHeuristic(deps: RiskDeps, tenantId: string, comparison: ModelComparison, now: Date) {
  const { db } = deps;
  const fallback = await deps.models.default();
  const version = `heuristic-${now.toISOString().slice(0, 10)}-${tenantId.slice(0, 8)}`;
  const manifest: ModelManifest = {
    ...fallback.manifest,
    version,
    scoring: 'heuristic',
    thresholds: comparison.heuristicThresholds ?? fallback.manifest.thresholds,
  };
  const onnx = readFileSync(path.join(DEFAULT_MODEL_DIR, fallback.manifest.onnx.file));
  await db.transaction(async (tx) => {
    await retireActiveModels(tx, tenantId);
    await upsertActiveModelVersion(tx, {
      tenantId,
      version,
      onnx,
      status: 'active',
      manifest: manifest as unknown as Record<string, unknown>,
      comparison: comparison as unknown as Record<string, unknown>,
      reason: comparison.reason,
      promotedAt: now,
    });
  });
}

/**
 * Per-tenant learning: train a challenger on the tenant's own history, compare it on the most recent time slice
 * with the current model and the heuristic, keep every version in the registry, and promote only a better one.
 */
export async function retrainTenant(deps: RiskDeps, tenantId: string, at?: Date): Promise<RetrainResult> {
  const { db } = deps;
  // When the version is made and promoted: the clock's (or the caller's) time.
  const now = at ?? deps.clock.now();
  // What it learns from: the ledger as of the day it is scored as of (a CSV company's export day under the real
  // time, scoringInstant); as of 2026 an invoice open in a 2019 export was labelled unpaid for seven years.
  const tenant = at ? undefined : await tenantById(db, tenantId);
  const asOf = tenant ? await scoringInstant(deps, tenant) : now;
  const ledger = await loadLedger(db, tenantId);
  const settled = ledger.filter(
    (r) => r.paidDate !== null && dayNumber(r.paidDate) < dayOfInstant(asOf),
  ).length;
  if (settled < MIN_SETTLED_FOR_TENANT_MODEL) {
    return {
      trained: false,
      promoted: false,
      version: null,
      comparison: null,
      reason: `${settled} settled invoices; ${MIN_SETTLED_FOR_TENANT_MODEL} needed for a tenant model`,
    };
  }
  let challenger: ReturnType<typeof trainChallenger>;
  try {
    challenger = trainChallenger(ledger, asOf);
  } catch (err) {
    if (err instanceof InsufficientHistoryError) {
      return { trained: false, promoted: false, version: null, comparison: null, reason: err.message };
    }
    throw err;
  }
  const current = await activeModel(deps, tenantId);
  const comparison = await compareModels({ rows: ledger, challenger, current });
  // writeModel produces the manifest and the ONNX bytes exactly as shipped models have them; the registry keeps both.
  const dir = mkdtempSync(path.join(tmpdir(), 'duely-model-'));
  let manifest: ModelManifest;
  let onnx: Buffer;
  try {
    manifest = writeModel(dir, challenger.trained, {
      dataSha256: `tenant:${tenantId}`,
      rows: ledger.length,
      cutoff: asOf,
      createdAt: now,
    });
    onnx = readFileSync(path.join(dir, MODEL_FILE));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const version = `${manifest.version}-${tenantId.slice(0, 8)}`;
  manifest = { ...manifest, version };
  await db.transaction(async (tx) => {
    if (comparison.promote) await retireActiveModels(tx, tenantId);
    await insertModelVersion(tx, {
      tenantId,
      version,
      status: comparison.promote ? 'active' : 'rejected',
      manifest: manifest as unknown as Record<string, unknown>,
      onnx,
      comparison: comparison as unknown as Record<string, unknown>,
      reason: comparison.reason,
      promotedAt: comparison.promote ? now : null,
    });
  });
  if (comparison.useHeuristic) await activateHeuristic(deps, tenantId, comparison, now);
  deps.logger.info(
    { tenantId, version, promote: comparison.promote, reason: comparison.reason },
    'retrained',
  );
  return {
    trained: true,
    promoted: comparison.promote,
    version,
    reason: comparison.reason,
    comparison,
    scoring: comparison.useHeuristic ? 'heuristic' : undefined,
  };
}
