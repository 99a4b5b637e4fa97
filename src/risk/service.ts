/**
 * The risk model inside the app: loads a tenant's ledger from the database, picks the active model (the tenant's
 * own promoted challenger, else the shipped default), scores open invoices and customers, and stores the results
 * with the model version that produced them. The modelling itself is pure and lives in the modules beside this.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import * as ort from 'onnxruntime-node';
import type { DbOrTx } from '../db/client';
import { customers, invoices, modelVersions, tenants } from '../db/schema';
import type { Services } from '../services';
import { type CustomerRisk, customerRisk } from './customer-risk';
import { dayNumber, dayOfInstant, type LedgerInvoice } from './ledger';
import { type LoadedModel, loadModel, MODEL_FILE, type ModelManifest, writeModel } from './model-store';
import { compareModels, type ModelComparison, trainChallenger } from './retrain';
import { type InvoiceScore, type RiskBand, riskBand, scoreInvoices } from './score';
import { InsufficientHistoryError } from './train';

export const DEFAULT_MODEL_DIR = path.resolve(import.meta.dirname, '../../models/default');

/** Invoices the model reads: settled ones need a paid date (a paid invoice without one says nothing about timing). */
export async function loadLedger(db: DbOrTx, tenantId: string): Promise<LedgerInvoice[]> {
  const rows = await db
    .select({
      invoiceId: invoices.id,
      customerId: invoices.customerId,
      invoiceDate: invoices.issueDate,
      dueDate: invoices.dueDate,
      currency: invoices.currency,
      amountMinor: invoices.totalMinor,
      paidDate: invoices.paidDate,
      status: invoices.status,
      delivery: sql<'email' | 'print' | null>`coalesce(${invoices.delivery}, ${customers.delivery})`,
      country: customers.country,
    })
    .from(invoices)
    .innerJoin(customers, eq(customers.id, invoices.customerId))
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.status, ['open', 'paid'])));
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

/** Active models by version, loaded once per process. */
const sessions = new Map<string, Promise<LoadedModel>>();

export function defaultModel(): Promise<LoadedModel> {
  let p = sessions.get('default');
  if (!p) {
    p = loadModel(DEFAULT_MODEL_DIR);
    sessions.set('default', p);
    p.catch(() => sessions.delete('default'));
  }
  return p;
}

export async function activeModel(db: DbOrTx, tenantId: string): Promise<LoadedModel> {
  const [row] = await db
    .select({ version: modelVersions.version, manifest: modelVersions.manifest, onnx: modelVersions.onnx })
    .from(modelVersions)
    .where(and(eq(modelVersions.tenantId, tenantId), eq(modelVersions.status, 'active')))
    .orderBy(desc(modelVersions.promotedAt))
    .limit(1);
  if (!row) return defaultModel();
  const key = `${tenantId}:${row.version}`;
  let p = sessions.get(key);
  if (!p) {
    p = ort.InferenceSession.create(new Uint8Array(row.onnx)).then((session) => ({
      session,
      manifest: row.manifest as unknown as ModelManifest,
    }));
    sessions.set(key, p);
  }
  return p;
}

/** The active model's manifest (version, thresholds, metrics) without reading or loading its ONNX graph. */
export async function activeManifest(db: DbOrTx, tenantId: string): Promise<ModelManifest> {
  const [row] = await db
    .select({ manifest: modelVersions.manifest })
    .from(modelVersions)
    .where(and(eq(modelVersions.tenantId, tenantId), eq(modelVersions.status, 'active')))
    .orderBy(desc(modelVersions.promotedAt))
    .limit(1);
  return row ? (row.manifest as unknown as ModelManifest) : (await defaultModel()).manifest;
}

/**
 * A customer's risk band from its 0–1 score: the active model's thresholds at the tenant's sensitivity, the same
 * cut as the invoice bands. The one definition the risk API, the Customer page and the dunning planner share.
 */
export async function customerBandOf(
  db: DbOrTx,
  tenant: { id: string; settings: Record<string, unknown> },
): Promise<(score: number) => RiskBand> {
  const { thresholds } = await activeManifest(db, tenant.id);
  const sensitivity = tenantSensitivity(tenant.settings);
  return (score) => riskBand(score, thresholds, sensitivity);
}

export interface ScoreRunResult {
  modelVersion: string;
  invoices: number;
  customers: number;
}

/** Scores every invoice open as of `asOf` and every customer with history; stores the latest of each. */
export async function scoreTenant(
  services: Services,
  tenantId: string,
  asOf = services.clock.now(),
): Promise<ScoreRunResult> {
  const { db } = services;
  const [tenant] = await db.select().from(tenants).where(eq(tenants.id, tenantId));
  if (!tenant) throw new Error(`tenant ${tenantId} not found`);
  const model = await activeModel(db, tenantId);
  const ledger = await loadLedger(db, tenantId);
  const open = openAsOf(ledger, asOf);
  const scores = await scoreInvoices(model, ledger, open, asOf, {
    sensitivity: tenantSensitivity(tenant.settings),
  });
  const risks = await customerRisk(model, ledger, asOf);
  await db.transaction(async (tx) => {
    await storeInvoiceScores(tx, tenantId, scores, asOf);
    await storeCustomerRisk(tx, tenantId, risks, model.manifest.version, asOf);
    // Predictions of invoices no longer open are history, not a forecast: drop them.
    await tx.execute(sql`
      delete from invoice_predictions p using invoices i
      where p.invoice_id = i.id and p.tenant_id = ${tenantId}::uuid and i.status <> 'open'`);
  });
  services.logger.info({ tenantId, invoices: scores.length, model: model.manifest.version }, 'scored');
  return { modelVersion: model.manifest.version, invoices: scores.length, customers: risks.length };
}

async function storeInvoiceScores(tx: DbOrTx, tenantId: string, scores: InvoiceScore[], asOf: Date) {
  const CHUNK = 5000;
  for (let i = 0; i < scores.length; i += CHUNK) {
    const part = scores.slice(i, i + CHUNK).map((s) => ({
      invoice_id: s.invoiceId,
      customer_id: s.customerId,
      p_late: s.pLate,
      predicted_pay_date: s.predictedPayDate,
      pay_date_p10: s.payDateP10,
      pay_date_p90: s.payDateP90,
      expected_days_late: s.expectedDaysLate,
      risk_band: s.riskBand,
      reasons: s.reasons,
      model_version: s.modelVersion,
    }));
    await tx.execute(sql`
      insert into invoice_predictions (invoice_id, tenant_id, customer_id, p_late, predicted_pay_date, pay_date_p10,
        pay_date_p90, expected_days_late, risk_band, reasons, model_version, as_of, scored_at)
      select r.invoice_id, ${tenantId}::uuid, r.customer_id, r.p_late, r.predicted_pay_date, r.pay_date_p10, r.pay_date_p90,
             r.expected_days_late, r.risk_band, r.reasons, r.model_version, ${asOf.toISOString()}::timestamptz, now()
      from jsonb_to_recordset(${JSON.stringify(part)}::jsonb) as r(invoice_id uuid, customer_id uuid, p_late float8,
        predicted_pay_date date, pay_date_p10 date, pay_date_p90 date, expected_days_late float8, risk_band text,
        reasons jsonb, model_version text)
      on conflict (invoice_id) do update set
        customer_id = excluded.customer_id, p_late = excluded.p_late, predicted_pay_date = excluded.predicted_pay_date,
        pay_date_p10 = excluded.pay_date_p10, pay_date_p90 = excluded.pay_date_p90,
        expected_days_late = excluded.expected_days_late, risk_band = excluded.risk_band, reasons = excluded.reasons,
        model_version = excluded.model_version, as_of = excluded.as_of, scored_at = excluded.scored_at`);
  }
}

async function storeCustomerRisk(
  tx: DbOrTx,
  tenantId: string,
  risks: CustomerRisk[],
  version: string,
  asOf: Date,
) {
  if (risks.length === 0) return;
  const rows = risks.map((r) => ({
    customer_id: r.customerId,
    score: Math.round(r.score),
    trend30: r.trend30 === null ? null : Math.round(r.trend30),
    trend90: r.trend90 === null ? null : Math.round(r.trend90),
    slowing_alert: r.slowingAlert,
    message: r.message,
  }));
  await tx.execute(sql`
    insert into customer_risk (customer_id, tenant_id, score, trend30, trend90, slowing_alert, message, model_version, as_of, scored_at)
    select r.customer_id, ${tenantId}::uuid, r.score, r.trend30, r.trend90, r.slowing_alert, r.message, ${version},
           ${asOf.toISOString()}::timestamptz, now()
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(customer_id uuid, score int, trend30 int, trend90 int,
      slowing_alert boolean, message text)
    on conflict (customer_id) do update set
      score = excluded.score, trend30 = excluded.trend30, trend90 = excluded.trend90,
      slowing_alert = excluded.slowing_alert, message = excluded.message, model_version = excluded.model_version,
      as_of = excluded.as_of, scored_at = excluded.scored_at`);
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
async function activateHeuristic(db: DbOrTx, tenantId: string, comparison: ModelComparison, now: Date) {
  const fallback = await defaultModel();
  const version = `heuristic-${now.toISOString().slice(0, 10)}-${tenantId.slice(0, 8)}`;
  const manifest: ModelManifest = {
    ...fallback.manifest,
    version,
    scoring: 'heuristic',
    thresholds: comparison.heuristicThresholds ?? fallback.manifest.thresholds,
  };
  const onnx = readFileSync(path.join(DEFAULT_MODEL_DIR, fallback.manifest.onnx.file));
  await db.transaction(async (tx) => {
    await tx
      .update(modelVersions)
      .set({ status: 'retired' })
      .where(and(eq(modelVersions.tenantId, tenantId), eq(modelVersions.status, 'active')));
    const row = {
      status: 'active' as const,
      manifest: manifest as unknown as Record<string, unknown>,
      comparison: comparison as unknown as Record<string, unknown>,
      reason: comparison.reason,
      promotedAt: now,
    };
    await tx
      .insert(modelVersions)
      .values({ tenantId, version, onnx, ...row })
      .onConflictDoUpdate({ target: [modelVersions.tenantId, modelVersions.version], set: row });
  });
}

/**
 * Per-tenant learning: train a challenger on the tenant's own history, compare it on the most recent time slice
 * with the current model and the heuristic, keep every version in the registry, and promote only a better one.
 */
export async function retrainTenant(
  services: Services,
  tenantId: string,
  now = services.clock.now(),
): Promise<RetrainResult> {
  const { db } = services;
  const ledger = await loadLedger(db, tenantId);
  const settled = ledger.filter(
    (r) => r.paidDate !== null && dayNumber(r.paidDate) < dayOfInstant(now),
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
    challenger = trainChallenger(ledger, now);
  } catch (err) {
    if (err instanceof InsufficientHistoryError) {
      return { trained: false, promoted: false, version: null, comparison: null, reason: err.message };
    }
    throw err;
  }
  const current = await activeModel(db, tenantId);
  const comparison = await compareModels({ rows: ledger, challenger, current });
  // writeModel produces the manifest and the ONNX bytes exactly as shipped models have them; the registry keeps both.
  const dir = mkdtempSync(path.join(tmpdir(), 'duely-model-'));
  let manifest: ModelManifest;
  let onnx: Buffer;
  try {
    manifest = writeModel(dir, challenger.trained, {
      dataSha256: `tenant:${tenantId}`,
      rows: ledger.length,
      cutoff: now,
      createdAt: now,
    });
    onnx = readFileSync(path.join(dir, MODEL_FILE));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const version = `${manifest.version}-${tenantId.slice(0, 8)}`;
  manifest = { ...manifest, version };
  await db.transaction(async (tx) => {
    if (comparison.promote) {
      await tx
        .update(modelVersions)
        .set({ status: 'retired' })
        .where(and(eq(modelVersions.tenantId, tenantId), eq(modelVersions.status, 'active')));
    }
    await tx
      .insert(modelVersions)
      .values({
        tenantId,
        version,
        status: comparison.promote ? 'active' : 'rejected',
        manifest: manifest as unknown as Record<string, unknown>,
        onnx,
        comparison: comparison as unknown as Record<string, unknown>,
        reason: comparison.reason,
        promotedAt: comparison.promote ? now : null,
      })
      .onConflictDoNothing();
  });
  if (comparison.useHeuristic) await activateHeuristic(db, tenantId, comparison, now);
  services.logger.info(
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
