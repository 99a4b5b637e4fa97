/**
 * What the dunning settings routes read and write: policy versions, overrides, promises, disputes, a message and its
 * events. (Approvals, tasks and bulk actions: dunning-admin.ts.)
 */
import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { advisoryXactLock } from '../advisory-lock';
import { type DbOrTx, rowsOf, type Tx } from '../client';
import {
  customers,
  disputes,
  dunningMessageEvents,
  dunningMessages,
  dunningOverrides,
  dunningPolicies,
  invoices,
  promisesToPay,
} from '../schema';

export async function customerOfTenant(db: DbOrTx, tenantId: string, id: string) {
  const [c] = await db
    .select()
    .from(customers)
    .where(and(eq(customers.id, id), eq(customers.tenantId, tenantId)));
  return c ?? null;
}

export async function invoicesOfTenant(db: DbOrTx, tenantId: string, ids: string[]) {
  return db
    .select()
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.id, ids)));
}

/** Stores a new policy version (the next number, under the tenant's policy lock); returns it. */
export async function insertPolicyVersion(
  tx: Tx,
  tenantId: string,
  row: { policy: Record<string, unknown>; settings: Record<string, unknown>; createdBy: string },
): Promise<number> {
  await advisoryXactLock(tx, `dunning-policy:${tenantId}`);
  const [{ v } = { v: 0 }] = rowsOf<{ v: number }>(
    await tx.execute(
      sql`select coalesce(max(version), 0)::int as v from dunning_policies where tenant_id = ${tenantId}::uuid`,
    ),
  );
  await tx.insert(dunningPolicies).values({ tenantId, version: v + 1, ...row });
  return v + 1;
}

export async function tenantOverrides(db: DbOrTx, tenantId: string) {
  return db.select().from(dunningOverrides).where(eq(dunningOverrides.tenantId, tenantId));
}

/** The override of one customer or one invoice, or null. */
export async function overrideOf(
  db: DbOrTx,
  tenantId: string,
  target: { customerId?: string; invoiceId?: string },
) {
  const [row] = await db
    .select()
    .from(dunningOverrides)
    .where(
      and(
        eq(dunningOverrides.tenantId, tenantId),
        target.customerId
          ? eq(dunningOverrides.customerId, target.customerId)
          : eq(dunningOverrides.invoiceId, target.invoiceId ?? ''),
      ),
    );
  return row ?? null;
}

/**
 * Inserts or updates the override of one customer or one invoice: one statement on the partial unique index, so
 * two requests at once (a double click) both succeed, the last one winning, instead of racing to insert.
 */
export async function upsertOverride(
  tx: DbOrTx,
  tenantId: string,
  target: { customerId?: string; invoiceId?: string },
  values: Omit<typeof dunningOverrides.$inferInsert, 'id' | 'tenantId' | 'customerId' | 'invoiceId'>,
) {
  const conflict = target.customerId
    ? {
        target: [dunningOverrides.tenantId, dunningOverrides.customerId],
        targetWhere: sql`${dunningOverrides.customerId} is not null`,
      }
    : {
        target: [dunningOverrides.tenantId, dunningOverrides.invoiceId],
        targetWhere: sql`${dunningOverrides.invoiceId} is not null`,
      };
  const [row] = await tx
    .insert(dunningOverrides)
    .values({
      tenantId,
      customerId: target.customerId ?? null,
      invoiceId: target.invoiceId ?? null,
      ...values,
    })
    .onConflictDoUpdate({ ...conflict, set: values })
    .returning();
  return row!;
}

/**
 * Deletes an override: the deleted override (what it held, so the caller can re-plan what it routed), or null when
 * the tenant has none with that id.
 */
export async function deleteOverride(tx: DbOrTx, tenantId: string, id: string) {
  const [row] = await tx
    .delete(dunningOverrides)
    .where(and(eq(dunningOverrides.id, id), eq(dunningOverrides.tenantId, tenantId)))
    .returning();
  return row ?? null;
}

export async function activePromises(db: DbOrTx, tenantId: string) {
  return db
    .select()
    .from(promisesToPay)
    .where(and(eq(promisesToPay.tenantId, tenantId), isNull(promisesToPay.cancelledAt)))
    .orderBy(promisesToPay.promisedDate);
}

export async function insertPromise(tx: DbOrTx, row: typeof promisesToPay.$inferInsert) {
  const [r] = await tx.insert(promisesToPay).values(row).returning();
  return r!;
}

/** Cancels an active promise; false when the tenant has no active promise with that id. */
export async function cancelPromise(tx: DbOrTx, tenantId: string, id: string, now: Date): Promise<boolean> {
  const rows = await tx
    .update(promisesToPay)
    .set({ cancelledAt: now })
    .where(
      and(eq(promisesToPay.id, id), eq(promisesToPay.tenantId, tenantId), isNull(promisesToPay.cancelledAt)),
    )
    .returning({ id: promisesToPay.id });
  return rows.length > 0;
}

export async function tenantDisputes(db: DbOrTx, tenantId: string) {
  return db.select().from(disputes).where(eq(disputes.tenantId, tenantId)).orderBy(desc(disputes.createdAt));
}

/**
 * The invoice's open dispute (null: none), with the invoice row locked for the caller's transaction (FOR NO KEY
 * UPDATE, as the bulk dispute locks it), so two requests cannot both find none and both open one.
 */
export async function lockOpenDisputeOf(tx: Tx, tenantId: string, invoiceId: string) {
  await tx.execute(
    sql`select 1 from invoices where tenant_id = ${tenantId}::uuid and id = ${invoiceId}::uuid for no key update`,
  );
  const [open] = await tx
    .select()
    .from(disputes)
    .where(
      and(eq(disputes.tenantId, tenantId), eq(disputes.invoiceId, invoiceId), isNull(disputes.resolvedAt)),
    )
    .limit(1);
  return open ?? null;
}

export async function insertDispute(tx: DbOrTx, row: typeof disputes.$inferInsert) {
  const [r] = await tx.insert(disputes).values(row).returning();
  return r!;
}

export async function updateDispute(
  tx: DbOrTx,
  tenantId: string,
  id: string,
  set: { until?: string | null; resolvedAt?: Date | null },
) {
  const [row] = await tx
    .update(disputes)
    .set(set)
    .where(and(eq(disputes.id, id), eq(disputes.tenantId, tenantId)))
    .returning();
  return row ?? null;
}

export async function messageOfTenant(db: DbOrTx, tenantId: string, id: string) {
  const [m] = await db
    .select()
    .from(dunningMessages)
    .where(and(eq(dunningMessages.id, id), eq(dunningMessages.tenantId, tenantId)));
  return m ?? null;
}

export async function eventsOfMessage(db: DbOrTx, messageId: string) {
  return db
    .select()
    .from(dunningMessageEvents)
    .where(eq(dunningMessageEvents.messageId, messageId))
    .orderBy(dunningMessageEvents.at);
}

export async function customerById(db: DbOrTx, id: string) {
  const [c] = await db.select().from(customers).where(eq(customers.id, id));
  return c ?? null;
}
