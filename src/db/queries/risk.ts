/**
 * The risk model's statements: the ledger it reads, the model registry (model_versions), and the predictions it
 * stores (invoice_predictions, customer_risk). risk/service.ts keeps the transactions and the decisions.
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { CustomerRisk } from '../../risk/customer-risk';
import type { InvoiceScore } from '../../risk/score';
import { type DbOrTx, rowsOf } from '../client';
import { type BandCounts, customers, invoices, type ModelChange, modelVersions, tenants } from '../schema';

export type NewModelVersion = typeof modelVersions.$inferInsert;

/** Invoices the model reads (open or paid, with their customer's delivery and country), unfiltered. */
export async function ledgerRows(db: DbOrTx, tenantId: string) {
  return db
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
}

/** What is still owed on each of the tenant's open invoices (minor units): the open debt's collection risk weighs by it. */
export async function openBalances(db: DbOrTx, tenantId: string): Promise<Map<string, number>> {
  const rows = await db
    .select({ id: invoices.id, balanceMinor: invoices.balanceMinor })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), eq(invoices.status, 'open')));
  return new Map(rows.map((r) => [r.id, Number(r.balanceMinor)]));
}

/**
 * The tenant's stored predictions of invoices still open by risk band (what the Dashboard's high-risk count shows),
 * and the model version of its latest scoring run (null: never scored). Read before a run replaces them: the previous
 * model's figures when the run's model is another. Predictions of invoices paid or voided since are left out (only a
 * scoring run drops them): counted "before" and not "after", a payment's move was blamed on the switch of models.
 */
export async function storedBands(
  db: DbOrTx,
  tenantId: string,
): Promise<{ version: string | null; bands: BandCounts }> {
  // The version from every prediction (a run whose invoices have all been paid since still names its model).
  const rows = rowsOf<{ risk_band: string | null; n: number | string | null; version: string }>(
    await db.execute(sql`
      select v.version, b.risk_band, b.n
      from (select model_version as version from invoice_predictions where tenant_id = ${tenantId}::uuid
            order by scored_at desc, invoice_id limit 1) v
      left join (select p.risk_band, count(*)::int as n
                 from invoice_predictions p join invoices i on i.id = p.invoice_id and i.status = 'open'
                 where p.tenant_id = ${tenantId}::uuid group by p.risk_band) b on true
      order by b.risk_band`),
  );
  const bands: BandCounts = { low: 0, medium: 0, high: 0 };
  for (const r of rows)
    if (r.risk_band !== null && r.risk_band in bands) bands[r.risk_band as keyof BandCounts] = Number(r.n);
  return { version: rows[0]?.version ?? null, bands };
}

/** Records a switch of models (tenants.model_change). */
export async function setModelChange(tx: DbOrTx, tenantId: string, change: ModelChange) {
  await tx.update(tenants).set({ modelChange: change }).where(eq(tenants.id, tenantId));
}

/** The tenant's last switch of models, or null. */
export async function modelChangeOf(db: DbOrTx, tenantId: string): Promise<ModelChange | null> {
  const [row] = await db.select({ c: tenants.modelChange }).from(tenants).where(eq(tenants.id, tenantId));
  return row?.c ?? null;
}

/** The tenant's active model (latest promoted): version, manifest and ONNX bytes, or null (the default model). */
export async function activeModelVersion(db: DbOrTx, tenantId: string) {
  const [row] = await db
    .select({ version: modelVersions.version, manifest: modelVersions.manifest, onnx: modelVersions.onnx })
    .from(modelVersions)
    .where(and(eq(modelVersions.tenantId, tenantId), eq(modelVersions.status, 'active')))
    .orderBy(desc(modelVersions.promotedAt))
    .limit(1);
  return row ?? null;
}

/** The active model's manifest only (no ONNX bytes read), or null. */
export async function activeModelManifest(db: DbOrTx, tenantId: string) {
  const [row] = await db
    .select({ manifest: modelVersions.manifest })
    .from(modelVersions)
    .where(and(eq(modelVersions.tenantId, tenantId), eq(modelVersions.status, 'active')))
    .orderBy(desc(modelVersions.promotedAt))
    .limit(1);
  return row ?? null;
}

/** Predictions of invoices no longer open are history, not a forecast. */
export async function deleteSettledPredictions(tx: DbOrTx, tenantId: string): Promise<void> {
  await tx.execute(sql`
      delete from invoice_predictions p using invoices i
      where p.invoice_id = i.id and p.tenant_id = ${tenantId}::uuid and i.status <> 'open'`);
}

export async function retireActiveModels(tx: DbOrTx, tenantId: string): Promise<void> {
  await tx
    .update(modelVersions)
    .set({ status: 'retired' })
    .where(and(eq(modelVersions.tenantId, tenantId), eq(modelVersions.status, 'active')));
}

/** Stores (or, for the same tenant and version, replaces) a registry row; onnx is kept from the first insert. */
export async function upsertActiveModelVersion(tx: DbOrTx, values: NewModelVersion): Promise<void> {
  const { tenantId: _t, version: _v, onnx: _o, ...set } = values;
  await tx
    .insert(modelVersions)
    .values(values)
    .onConflictDoUpdate({ target: [modelVersions.tenantId, modelVersions.version], set });
}

/** Keeps a trained version in the registry (a version already there is left as it is). */
export async function insertModelVersion(tx: DbOrTx, values: NewModelVersion): Promise<void> {
  await tx.insert(modelVersions).values(values).onConflictDoNothing();
}

/** Upserts the invoices' latest predictions (5,000 a statement). */
export async function storeInvoiceScores(tx: DbOrTx, tenantId: string, scores: InvoiceScore[], asOf: Date) {
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
      p_collect30: s.pCollect30,
      p_collect90: s.pCollect90,
      risk: s.risk,
      risk_band: s.riskBand,
      reasons: s.reasons,
      model_version: s.modelVersion,
    }));
    await tx.execute(sql`
      insert into invoice_predictions (invoice_id, tenant_id, customer_id, p_late, predicted_pay_date, pay_date_p10,
        pay_date_p90, expected_days_late, p_collect30, p_collect90, risk, risk_band, reasons, model_version, as_of,
        scored_at)
      select r.invoice_id, ${tenantId}::uuid, r.customer_id, r.p_late, r.predicted_pay_date, r.pay_date_p10, r.pay_date_p90,
             r.expected_days_late, r.p_collect30, r.p_collect90, r.risk, r.risk_band, r.reasons, r.model_version,
             ${asOf.toISOString()}::timestamptz, now()
      from jsonb_to_recordset(${JSON.stringify(part)}::jsonb) as r(invoice_id uuid, customer_id uuid, p_late float8,
        predicted_pay_date date, pay_date_p10 date, pay_date_p90 date, expected_days_late float8, p_collect30 float8,
        p_collect90 float8, risk float8, risk_band text, reasons jsonb, model_version text)
      on conflict (invoice_id) do update set
        customer_id = excluded.customer_id, p_late = excluded.p_late, predicted_pay_date = excluded.predicted_pay_date,
        pay_date_p10 = excluded.pay_date_p10, pay_date_p90 = excluded.pay_date_p90,
        expected_days_late = excluded.expected_days_late, p_collect30 = excluded.p_collect30,
        p_collect90 = excluded.p_collect90, risk = excluded.risk, risk_band = excluded.risk_band, reasons = excluded.reasons,
        model_version = excluded.model_version, as_of = excluded.as_of, scored_at = excluded.scored_at`);
  }
}

/** Upserts the customers' latest risk. */
export async function storeCustomerRisk(
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
    habit_score: Math.round(r.habitScore),
    open_debt_score: r.openDebtScore === null ? null : Math.round(r.openDebtScore),
    open_debt_reason: r.openDebtReason,
    p_late: r.pLate,
    p_severe: r.pSevere,
    expected_days_late: r.expectedDaysLate,
    trend30: r.trend30 === null ? null : Math.round(r.trend30),
    trend90: r.trend90 === null ? null : Math.round(r.trend90),
    slowing_alert: r.slowingAlert,
    message: r.message,
  }));
  await tx.execute(sql`
    insert into customer_risk (customer_id, tenant_id, score, habit_score, open_debt_score, open_debt_reason, p_late,
      p_severe, expected_days_late, trend30, trend90, slowing_alert, message, model_version, as_of, scored_at)
    select r.customer_id, ${tenantId}::uuid, r.score, r.habit_score, r.open_debt_score, r.open_debt_reason, r.p_late,
           r.p_severe, r.expected_days_late, r.trend30, r.trend90, r.slowing_alert, r.message, ${version},
           ${asOf.toISOString()}::timestamptz, now()
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(customer_id uuid, score int, habit_score int,
      open_debt_score int, open_debt_reason text, p_late float8, p_severe float8, expected_days_late float8,
      trend30 int, trend90 int, slowing_alert boolean, message text)
    on conflict (customer_id) do update set
      score = excluded.score, habit_score = excluded.habit_score, open_debt_score = excluded.open_debt_score,
      open_debt_reason = excluded.open_debt_reason, p_late = excluded.p_late, p_severe = excluded.p_severe,
      expected_days_late = excluded.expected_days_late, trend30 = excluded.trend30, trend90 = excluded.trend90,
      slowing_alert = excluded.slowing_alert, message = excluded.message, model_version = excluded.model_version,
      as_of = excluded.as_of, scored_at = excluded.scored_at`);
}

/** Provider ids of these invoices and of their customers (a placeholder id keeps an empty list valid SQL). */
export async function invoiceAndCustomerExternalIds(db: DbOrTx, invoiceIds: readonly string[]) {
  return db
    .select({ id: invoices.id, externalId: invoices.externalId, customer: customers.externalId })
    .from(invoices)
    .innerJoin(customers, eq(customers.id, invoices.customerId))
    .where(
      inArray(invoices.id, invoiceIds.length ? [...invoiceIds] : ['00000000-0000-0000-0000-000000000000']),
    );
}
