/** What the risk routes read: predictions with their invoice and customer, customer risk, the model registry. */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { customerRisk, customers, invoicePredictions, invoices, modelVersions, tenants } from '../schema';
import { predictionColumns } from './ledger';

/** Open invoices with their latest prediction, riskiest first. */
export async function predictionList(
  db: DbOrTx,
  tenantId: string,
  q: { band?: 'low' | 'medium' | 'high'; limit: number; offset: number },
) {
  const where = [eq(invoicePredictions.tenantId, tenantId)];
  if (q.band) where.push(eq(invoicePredictions.riskBand, q.band));
  return db
    .select({
      invoiceId: invoices.id,
      invoiceExternalId: invoices.externalId,
      number: invoices.number,
      customerId: customers.id,
      customerExternalId: customers.externalId,
      customerName: customers.name,
      dueDate: invoices.dueDate,
      balanceMinor: invoices.balanceMinor,
      currency: invoices.currency,
      ...predictionColumns,
      asOf: invoicePredictions.asOf,
    })
    .from(invoicePredictions)
    .innerJoin(invoices, eq(invoices.id, invoicePredictions.invoiceId))
    .innerJoin(customers, eq(customers.id, invoicePredictions.customerId))
    .where(and(...where))
    .orderBy(desc(invoicePredictions.pLate), invoices.id)
    .limit(q.limit)
    .offset(q.offset);
}

/** An invoice (by id or ledger id) and its prediction (null when not scored); null when there is no invoice. */
export async function invoiceWithPrediction(db: DbOrTx, tenantId: string, ref: string) {
  const isUuid = /^[0-9a-f-]{36}$/i.test(ref);
  const [row] = await db
    .select({ prediction: invoicePredictions, externalId: invoices.externalId })
    .from(invoices)
    .leftJoin(invoicePredictions, eq(invoicePredictions.invoiceId, invoices.id))
    .where(and(eq(invoices.tenantId, tenantId), isUuid ? eq(invoices.id, ref) : eq(invoices.externalId, ref)))
    .limit(1);
  return row ?? null;
}

export async function customerRiskRow(db: DbOrTx, customerId: string) {
  const [risk] = await db.select().from(customerRisk).where(eq(customerRisk.customerId, customerId));
  return risk ?? null;
}

/** The P(late) and reasons of a customer's scored invoices. */
export async function customerPredictionReasons(db: DbOrTx, tenantId: string, customerId: string) {
  return db
    .select({ pLate: invoicePredictions.pLate, reasons: invoicePredictions.reasons })
    .from(invoicePredictions)
    .where(and(eq(invoicePredictions.tenantId, tenantId), eq(invoicePredictions.customerId, customerId)));
}

/** Customers by risk score, slowing payers first. */
export async function customerRiskList(db: DbOrTx, tenantId: string, limit = 500) {
  return db
    .select({ risk: customerRisk, externalId: customers.externalId, name: customers.name })
    .from(customerRisk)
    .innerJoin(customers, eq(customers.id, customerRisk.customerId))
    .where(eq(customerRisk.tenantId, tenantId))
    .orderBy(desc(customerRisk.slowingAlert), desc(customerRisk.score))
    .limit(limit);
}

/** The tenant's own model versions, newest first (without the ONNX bytes). */
export async function tenantModelVersions(db: DbOrTx, tenantId: string) {
  return db
    .select({
      version: modelVersions.version,
      status: modelVersions.status,
      reason: modelVersions.reason,
      comparison: modelVersions.comparison,
      createdAt: modelVersions.createdAt,
      promotedAt: modelVersions.promotedAt,
    })
    .from(modelVersions)
    .where(eq(modelVersions.tenantId, tenantId))
    .orderBy(desc(modelVersions.createdAt));
}

/**
 * The tenant row, locked for the caller's transaction: FOR NO KEY UPDATE, so a settings change waits for another
 * one but never for (nor blocks) the tenant's writes, each of which references this row (KEY SHARE).
 */
export async function lockTenant(tx: DbOrTx, tenantId: string) {
  const [row] = await tx.select().from(tenants).where(eq(tenants.id, tenantId)).for('no key update');
  return row!;
}

/**
 * Merges `set` into the tenant's settings in SQL (two editors saving different keys at once both keep their
 * change), removing `drop` keys first; timezone and locale when given.
 */
export async function updateTenantSettings(
  tx: DbOrTx,
  tenantId: string,
  change: { set: Record<string, unknown>; drop: string[]; timezone?: string; locale?: string; now: Date },
) {
  let base = sql`${tenants.settings}`;
  for (const key of change.drop) base = sql`(${base} - ${key}::text)`;
  const merged = sql`${base} || ${JSON.stringify(change.set)}::jsonb`;
  const [row] = await tx
    .update(tenants)
    .set({
      settings: merged,
      ...(change.timezone ? { timezone: change.timezone } : {}),
      ...(change.locale ? { locale: change.locale } : {}),
      updatedAt: change.now,
    })
    .where(eq(tenants.id, tenantId))
    .returning();
  return row!;
}
