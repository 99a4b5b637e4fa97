/**
 * The send path's statements (dunning/send-message.ts, send-sweep.ts, delivery-events.ts): claiming and finishing
 * messages, the send cap, suppression and delivery events. Callers own the transactions and the locks.
 */
import { and, asc, desc, eq, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf, type Tx } from '../client';
import {
  connections,
  contactSuppressions,
  customers,
  disputes,
  dunningMessageEvents,
  dunningMessages,
  dunningOverrides,
  dunningSendBatches,
  invoices,
  promisesToPay,
  syncRuns,
  tenants,
} from '../schema';
import { uuidArray } from '../sql-arrays';
import { succeededImportsOf } from './sync-runs';

/** 'sending' messages whose owner's lease ended (or never had one). */
export async function sendingWithLapsedLease(db: DbOrTx, now: Date) {
  return db
    .select({
      id: dunningMessages.id,
      leaseUntil: dunningMessages.leaseUntil,
      batchId: dunningMessages.batchId,
    })
    .from(dunningMessages)
    .where(
      and(
        eq(dunningMessages.status, 'sending'),
        or(isNull(dunningMessages.leaseUntil), lt(dunningMessages.leaseUntil, now)),
      ),
    );
}

/** 'queued' messages whose send time is before `before`. */
export async function queuedSendingBefore(db: DbOrTx, before: Date) {
  return db
    .select({ id: dunningMessages.id })
    .from(dunningMessages)
    .where(
      and(
        eq(dunningMessages.status, 'queued'),
        lt(dunningMessages.sendAt, before),
        // Held until a newer upload, with no job by design: the upload releases it (releaseHeld).
        sql`${dunningMessages.statusCode} is distinct from 'ledger_stale'`,
      ),
    );
}

export type DunningMessage = typeof dunningMessages.$inferSelect;
type NewSuppression = typeof contactSuppressions.$inferInsert;

/** A message by our id (when given) or else by the provider's id, its row locked; undefined when unknown. */
export async function lockMessageForDelivery(
  tx: Tx,
  ref: { messageId?: string | null; providerId: string },
): Promise<DunningMessage | undefined> {
  const [msg] = ref.messageId
    ? await tx.select().from(dunningMessages).where(eq(dunningMessages.id, ref.messageId)).for('update')
    : await tx
        .select()
        .from(dunningMessages)
        .where(eq(dunningMessages.providerId, ref.providerId))
        .limit(1)
        .for('update');
  return msg;
}

/** Records a delivery event unless its svix id was recorded before; whether it was new. */
export async function insertDeliveryEvent(
  tx: Tx,
  values: typeof dunningMessageEvents.$inferInsert,
): Promise<boolean> {
  const inserted = await tx
    .insert(dunningMessageEvents)
    .values(values)
    .onConflictDoNothing()
    .returning({ id: dunningMessageEvents.id });
  return inserted.length > 0;
}

export async function insertMessageEvent(
  tx: Tx,
  values: typeof dunningMessageEvents.$inferInsert,
): Promise<void> {
  await tx.insert(dunningMessageEvents).values(values);
}

export async function setDeliveryStatus(tx: Tx, id: string, status: string, now: Date): Promise<void> {
  await tx
    .update(dunningMessages)
    .set({ deliveryStatus: status, updatedAt: now })
    .where(eq(dunningMessages.id, id));
}

/**
 * Whether the suppression is recorded: a bounce per address; an opt-out per customer and, when it came through a
 * message, per message (releasedOptOutEmails reads each message's recipients).
 */
export async function suppressionExists(
  tx: DbOrTx,
  s: {
    tenantId: string;
    kind: NewSuppression['kind'];
    email: string | null;
    customerId: string | null;
    messageId: string | null;
  },
): Promise<boolean> {
  const [existing] = await tx
    .select({ id: contactSuppressions.id })
    .from(contactSuppressions)
    .where(
      and(
        eq(contactSuppressions.tenantId, s.tenantId),
        eq(contactSuppressions.kind, s.kind),
        s.kind === 'bounced'
          ? sql`${contactSuppressions.email} = ${s.email}`
          : sql`${contactSuppressions.customerId} = ${s.customerId}::uuid`,
        s.kind !== 'bounced' && s.messageId !== null
          ? eq(contactSuppressions.messageId, s.messageId)
          : undefined,
      ),
    )
    .limit(1);
  return existing !== undefined;
}

export async function insertSuppression(tx: DbOrTx, values: NewSuppression): Promise<void> {
  await tx.insert(contactSuppressions).values(values);
}

export async function messageRow(tx: DbOrTx, id: string): Promise<DunningMessage | undefined> {
  const [msg] = await tx.select().from(dunningMessages).where(eq(dunningMessages.id, id));
  return msg;
}

/** Whether the message already has an 'unsubscribed' event. */
export async function hasUnsubscribeEvent(tx: Tx, messageId: string): Promise<boolean> {
  const [recorded] = await tx
    .select({ id: dunningMessageEvents.id })
    .from(dunningMessageEvents)
    .where(and(eq(dunningMessageEvents.messageId, messageId), eq(dunningMessageEvents.type, 'unsubscribed')))
    .limit(1);
  return recorded !== undefined;
}

/**
 * What proves a message's email left, once its send's answer was lost: a provider event about it (Resend reports
 * only emails it accepted; the event names the provider's id), else the debtor's unsubscribe through its link.
 */
export async function acceptanceEvidence(
  tx: Tx,
  messageId: string,
): Promise<{ by: 'provider' | 'unsubscribe'; providerId: string | null } | undefined> {
  const rows = await tx
    .select({
      type: dunningMessageEvents.type,
      providerId: dunningMessageEvents.providerId,
      svixId: dunningMessageEvents.svixId,
    })
    .from(dunningMessageEvents)
    .where(
      and(
        eq(dunningMessageEvents.messageId, messageId),
        or(isNotNull(dunningMessageEvents.svixId), eq(dunningMessageEvents.type, 'unsubscribed')),
      ),
    )
    .orderBy(asc(dunningMessageEvents.at))
    .limit(20);
  const fromProvider = rows.find((r) => r.svixId !== null);
  if (fromProvider) return { by: 'provider', providerId: fromProvider.providerId };
  return rows.length > 0 ? { by: 'unsubscribe', providerId: null } : undefined;
}

export async function customerName(tx: DbOrTx, customerId: string): Promise<string | null> {
  const [c] = await tx.select({ name: customers.name }).from(customers).where(eq(customers.id, customerId));
  return c?.name ?? null;
}

export type DunningMessagePatch = Partial<typeof dunningMessages.$inferInsert>;
type Tenant = typeof tenants.$inferSelect;
type Customer = typeof customers.$inferSelect;

export async function messageStatus(db: DbOrTx, id: string): Promise<DunningMessage['status'] | null> {
  const [pre] = await db
    .select({ status: dunningMessages.status })
    .from(dunningMessages)
    .where(eq(dunningMessages.id, id));
  return pre?.status ?? null;
}

/** The message row, locked FOR UPDATE until the transaction ends. */
export async function lockMessage(tx: Tx, id: string): Promise<DunningMessage | undefined> {
  const [row] = await tx.select().from(dunningMessages).where(eq(dunningMessages.id, id)).for('update');
  return row;
}

/** Sets fields of one message. */
export async function setMessage(db: DbOrTx, id: string, patch: DunningMessagePatch): Promise<void> {
  await db.update(dunningMessages).set(patch).where(eq(dunningMessages.id, id));
}

/** Sets fields of one message; the updated row. */
export async function setMessageReturning(
  db: DbOrTx,
  id: string,
  patch: DunningMessagePatch,
): Promise<DunningMessage> {
  const [row] = await db.update(dunningMessages).set(patch).where(eq(dunningMessages.id, id)).returning();
  return row!;
}

/**
 * Stores the rendered email unless another attempt rendered it first; the row, or undefined then. `replacing`: the
 * stored body's renderedAsOf, for a body rendered for an earlier day (renderOnce in send-message.ts), replaced only
 * while it is still that body and nothing under the message's key can have reached the provider (not in doubt, not
 * bound to a stored batch).
 */
export async function storeRendered(
  db: DbOrTx,
  id: string,
  rendered: Pick<
    DunningMessagePatch,
    'subject' | 'html' | 'text' | 'templateVersion' | 'renderedAsOf' | 'reason' | 'approvalReason'
  >,
  replacing?: Date,
): Promise<DunningMessage | undefined> {
  const m = dunningMessages;
  const [stored] = await db
    .update(m)
    .set(rendered)
    .where(
      replacing
        ? and(eq(m.id, id), eq(m.renderedAsOf, replacing), isNull(m.inDoubtSince), isNull(m.batchId))
        : and(eq(m.id, id), isNull(m.renderedAsOf)),
    )
    .returning();
  return stored;
}

/** When each message's stored body was rendered, and the time zone its dates are in (the customer's, else the tenant's). */
export async function renderDays(
  db: DbOrTx,
  ids: string[],
): Promise<{ id: string; renderedAsOf: Date | null; zone: string }[]> {
  if (ids.length === 0) return [];
  return db
    .select({
      id: dunningMessages.id,
      renderedAsOf: dunningMessages.renderedAsOf,
      zone: sql<string>`coalesce(nullif(${customers.timezone}, ''), nullif(${tenants.timezone}, ''), 'UTC')`,
    })
    .from(dunningMessages)
    .innerJoin(customers, eq(customers.id, dunningMessages.customerId))
    .innerJoin(tenants, eq(tenants.id, dunningMessages.tenantId))
    .where(inArray(dunningMessages.id, ids));
}

/** One more provider attempt, to these recipients. */
export async function countAttempt(tx: Tx, id: string, recipients: string[]): Promise<void> {
  await tx
    .update(dunningMessages)
    .set({ attempts: sql`${dunningMessages.attempts} + 1`, to: recipients })
    .where(eq(dunningMessages.id, id));
}

/**
 * Committed right before an attempt's transaction (after the render and the live ledger read): from here on a
 * worker that dies may have reached the provider, so whoever takes the message over treats it as in doubt.
 */
export async function markAttemptStarting(db: DbOrTx, id: string, owner: string, at: Date): Promise<void> {
  await db
    .update(dunningMessages)
    .set({ attemptStartedAt: at })
    .where(
      and(
        eq(dunningMessages.id, id),
        eq(dunningMessages.status, 'sending'),
        eq(dunningMessages.leaseOwner, owner),
      ),
    );
}

/** Bounds this transaction's lock waits (an attempt stays within the send budget). */
export async function setLocalLockTimeout10s(tx: Tx): Promise<void> {
  await tx.execute(sql`set local lock_timeout = '10s'`);
}

export async function tenantRow(db: DbOrTx, id: string): Promise<Tenant | undefined> {
  const [tenant] = await db.select().from(tenants).where(eq(tenants.id, id));
  return tenant;
}

/**
 * A customer and the jobs billed with it (bill_with_parent, down the chain), live ones: whose invoices its messages
 * carry and whose credit on account it uses (planner-input's billedThrough).
 */
export async function customerWithBilledJobs(db: DbOrTx, tenantId: string, id: string): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(
    await db.execute(sql`
      with recursive payer(id, external_id) as (
        select c.id, c.external_id from customers c where c.id = ${id}::uuid and c.tenant_id = ${tenantId}::uuid
        union
        select j.id, j.external_id from customers j join payer p on j.parent_external_id = p.external_id
        where j.tenant_id = ${tenantId}::uuid and j.bill_with_parent and j.deleted_at is null
      )
      select id from payer`),
  );
  return rows.map((r) => String(r.id));
}

export async function customerRow(db: DbOrTx, id: string): Promise<Customer | undefined> {
  const [customer] = await db.select().from(customers).where(eq(customers.id, id));
  return customer;
}

/** The customer row, locked FOR SHARE (the pre-send re-check: customer first, then invoices, as the sync writes). */
export async function shareLockCustomer(tx: Tx, id: string): Promise<Customer | undefined> {
  const [customer] = await tx.select().from(customers).where(eq(customers.id, id)).for('share');
  return customer;
}

/** Overrides of the customer or of any of these invoices. */
export async function overridesFor(tx: Tx, tenantId: string, customerId: string, invoiceIds: string[]) {
  return tx
    .select()
    .from(dunningOverrides)
    .where(
      and(
        eq(dunningOverrides.tenantId, tenantId),
        sql`(${dunningOverrides.customerId} = ${customerId}::uuid or ${dunningOverrides.invoiceId} = any(${uuidArray(invoiceIds)}))`,
      ),
    );
}

/**
 * Overrides of the other customers whose invoices these are (a job billed with the message's customer, its parent),
 * each with the invoice it holds: planner-input applies a job's pause and exclusion to its invoices.
 */
export async function jobOverridesFor(tx: Tx, tenantId: string, customerId: string, invoiceIds: string[]) {
  return rowsOf<{ invoice_id: string; paused_until: string | null; excluded: boolean }>(
    await tx.execute(sql`
      select i.id as invoice_id, o.paused_until::text as paused_until, o.excluded
      from invoices i join dunning_overrides o on o.tenant_id = i.tenant_id and o.customer_id = i.customer_id
      where i.tenant_id = ${tenantId}::uuid and i.id = any(${uuidArray(invoiceIds)})
        and i.customer_id <> ${customerId}::uuid`),
  );
}

/** Unresolved disputes of these invoices. */
export async function openDisputesOf(tx: Tx, tenantId: string, invoiceIds: string[]) {
  return tx
    .select()
    .from(disputes)
    .where(
      and(
        eq(disputes.tenantId, tenantId),
        inArray(disputes.invoiceId, invoiceIds),
        isNull(disputes.resolvedAt),
      ),
    );
}

/** Promises to pay, not cancelled, covering any of these invoices. */
/** The stored balance and status of invoices a message names as on hold (read as the planner reads them). */
export async function heldInvoiceRows(tx: Tx, tenantId: string, invoiceIds: string[]) {
  return tx
    .select({ id: invoices.id, balanceMinor: invoices.balanceMinor, status: invoices.status })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.id, invoiceIds)));
}

export async function livePromisesOverlapping(tx: Tx, tenantId: string, invoiceIds: string[]) {
  return tx
    .select()
    .from(promisesToPay)
    .where(
      and(
        eq(promisesToPay.tenantId, tenantId),
        isNull(promisesToPay.cancelledAt),
        sql`${promisesToPay.invoiceIds} && ${uuidArray(invoiceIds)}`,
      ),
    );
}

/** The statuses of the tenant's connections. */
export async function connectionStatuses(tx: DbOrTx, tenantId: string) {
  return tx
    .select({ status: connections.status })
    .from(connections)
    .where(eq(connections.tenantId, tenantId));
}

/** What an upload's run says about open invoices its file left out (csv-import.ts); null on runs before that. */
export interface UploadNotListed {
  count: number;
  invoiceIds: string[];
}

/** The tenant's latest successful CSV upload: when it finished, the open invoices it left out and its export day (`asOf`); or null. */
export async function latestUpload(
  tx: DbOrTx,
  tenantId: string,
): Promise<{ at: Date; notListed: UploadNotListed | null; asOf: string | null } | null> {
  const [r] = await tx
    .select({ at: syncRuns.finishedAt, source: syncRuns.source })
    .from(syncRuns)
    .where(and(succeededImportsOf(tenantId), isNotNull(syncRuns.finishedAt)))
    .orderBy(desc(syncRuns.finishedAt))
    .limit(1);
  if (!r?.at) return null;
  const n = r.source.notListed as UploadNotListed | undefined;
  const asOf =
    typeof r.source.asOf === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(r.source.asOf) ? r.source.asOf : null;
  return { at: new Date(r.at), notListed: n ? { count: n.count, invoiceIds: n.invoiceIds } : null, asOf };
}

/**
 * When the latest successful CSV upload that listed every one of `invoiceIds` finished (one whose run kept no list of
 * what it left out, from before it did, counts as listing all; one that left out more than it kept, as listing none);
 * or null.
 */
export async function latestUploadListing(
  tx: DbOrTx,
  tenantId: string,
  invoiceIds: readonly string[],
): Promise<Date | null> {
  const left = sql`coalesce(${syncRuns.source}->'notListed'->'invoiceIds', '[]'::jsonb)`;
  const [r] = await tx
    .select({ at: sql<Date | string | null>`max(${syncRuns.finishedAt})` })
    .from(syncRuns)
    .where(
      and(
        succeededImportsOf(tenantId),
        sql`coalesce((${syncRuns.source}->'notListed'->>'count')::int, 0) <= jsonb_array_length(${left})`,
        sql`not exists (select 1 from jsonb_array_elements_text(${left}) e(id)
              where e.id::uuid = any(${uuidArray(invoiceIds)}))`,
      ),
    );
  return r?.at ? new Date(r.at) : null;
}

/**
 * The tenant's queued messages held with `statusCode` (a reason a later event ends, such as an upload for
 * ledger_stale): due now, so their send jobs re-check them at once; their ids.
 */
export async function releaseHeld(tx: Tx, tenantId: string, statusCode: string, now: Date) {
  // No longer held (its job re-checks it, and holds it again if it must): not counted as held, and swept if its job
  // were lost.
  return tx
    .update(dunningMessages)
    .set({ sendAt: now, updatedAt: now, statusCode: null, statusReason: null })
    .where(
      and(
        eq(dunningMessages.tenantId, tenantId),
        eq(dunningMessages.status, 'queued'),
        eq(dunningMessages.statusCode, statusCode),
        isNull(dunningMessages.batchId),
      ),
    )
    .returning({ id: dunningMessages.id });
}

/**
 * Recipients the tenant's other messages reached since `since` (sent then, or being sent now), and the oldest of
 * those sends.
 */
export async function recipientsUsedSince(tx: Tx, tenantId: string, exceptMessageId: string, since: Date) {
  const [used] = rowsOf<{ n: number; oldest: string | Date | null }>(
    await tx.execute(sql`
      select coalesce(sum(cardinality(${dunningMessages.to})), 0)::int as n,
             min(coalesce(${dunningMessages.sentAt}, ${dunningMessages.updatedAt})) as oldest
      from ${dunningMessages}
      where ${dunningMessages.tenantId} = ${tenantId}::uuid and ${dunningMessages.id} <> ${exceptMessageId}
        and (${dunningMessages.status} = 'sending'
             or (${dunningMessages.status} = 'sent' and ${dunningMessages.sentAt} > ${since.toISOString()}::timestamptz))`),
  );
  return used;
}

// ---------------------------------------------------------------------------------------------------------------
// Batches (src/dunning/send-batch.ts)
// ---------------------------------------------------------------------------------------------------------------

export type SendBatch = typeof dunningSendBatches.$inferSelect;
export type SendBatchPatch = Partial<typeof dunningSendBatches.$inferInsert>;

/**
 * Other queued messages due by `dueBy` that may join a batch (no batch yet, no earlier attempt in doubt, not sent
 * back from a refused batch, not held until a newer upload), oldest first, locked FOR UPDATE; rows another
 * transaction holds are skipped.
 */
export async function lockBatchCandidates(tx: Tx, exceptId: string, dueBy: Date, limit: number) {
  if (limit <= 0) return [];
  return tx
    .select({ id: dunningMessages.id })
    .from(dunningMessages)
    .where(
      and(
        eq(dunningMessages.status, 'queued'),
        lt(dunningMessages.sendAt, dueBy),
        isNull(dunningMessages.batchId),
        isNull(dunningMessages.inDoubtSince),
        sql`${dunningMessages.id} <> ${exceptId}`,
        sql`coalesce(${dunningMessages.statusCode}, '') <> 'batch_refused'`,
        // Held until a newer upload (no job; an upload releases it): claimed, it would only be held again and drop
        // the batch it joined.
        sql`coalesce(${dunningMessages.statusCode}, '') <> 'ledger_stale'`,
      ),
    )
    .orderBy(dunningMessages.sendAt, dunningMessages.id)
    .limit(limit)
    .for('update', { skipLocked: true });
}

export async function insertSendBatch(tx: Tx, values: typeof dunningSendBatches.$inferInsert): Promise<void> {
  await tx.insert(dunningSendBatches).values(values);
}

/** The batch row, locked FOR UPDATE until the transaction ends. */
export async function lockSendBatch(tx: Tx, id: string): Promise<SendBatch | undefined> {
  const [row] = await tx.select().from(dunningSendBatches).where(eq(dunningSendBatches.id, id)).for('update');
  return row;
}

export async function sendBatchRow(db: DbOrTx, id: string): Promise<SendBatch | undefined> {
  const [row] = await db.select().from(dunningSendBatches).where(eq(dunningSendBatches.id, id));
  return row;
}

export async function setSendBatch(db: DbOrTx, id: string, patch: SendBatchPatch): Promise<void> {
  await db.update(dunningSendBatches).set(patch).where(eq(dunningSendBatches.id, id));
}

/** Sets fields of the batch's members that are still bound to it ('sending' with this batch id). */
export async function setBatchMembers(
  db: DbOrTx,
  batchId: string,
  patch: DunningMessagePatch,
): Promise<void> {
  await db
    .update(dunningMessages)
    .set(patch)
    .where(and(eq(dunningMessages.batchId, batchId), eq(dunningMessages.status, 'sending')));
}

/** Counts a provider call for every member still bound to the batch (`by` -1 gives a refused call back). */
export async function countBatchAttempt(tx: Tx, batchId: string, by: 1 | -1): Promise<void> {
  await tx
    .update(dunningMessages)
    .set({ attempts: sql`greatest(0, ${dunningMessages.attempts} + ${by})` })
    .where(and(eq(dunningMessages.batchId, batchId), eq(dunningMessages.status, 'sending')));
}

/**
 * The stored batch a message is (or was) a member of, locked FOR UPDATE before the message is: the send path locks
 * a batch, then its members, and settling a member known to have left settles its siblings (markKnownSent), so a
 * report about one member takes the locks in that order too (two reports of one batch at once, a webhook for each
 * email of it or two debtors' clicks, otherwise each held its member and waited for the other's: a deadlock).
 */
export async function lockBatchOfMessage(
  tx: Tx,
  ref: { messageId?: string | null; providerId?: string },
): Promise<void> {
  const where = ref.messageId
    ? eq(dunningMessages.id, ref.messageId)
    : ref.providerId
      ? eq(dunningMessages.providerId, ref.providerId)
      : undefined;
  if (!where) return;
  const [m] = await tx
    .select({ batchId: dunningMessages.batchId })
    .from(dunningMessages)
    .where(where)
    .limit(1);
  if (m?.batchId) await lockSendBatch(tx, m.batchId);
}

/** The members of a batch left "may have been sent" (unconfirmed), locked FOR UPDATE, in id order. */
export async function lockUnconfirmedMembers(tx: Tx, batchId: string): Promise<DunningMessage[]> {
  return tx
    .select()
    .from(dunningMessages)
    .where(and(eq(dunningMessages.batchId, batchId), eq(dunningMessages.status, 'unconfirmed')))
    .orderBy(asc(dunningMessages.id))
    .for('update');
}

/** Open batches nobody is working on (no owner, or the owner's lease ended): the sweeper resumes or concludes them. */
export async function unownedOpenBatches(db: DbOrTx, now: Date) {
  return db
    .select({
      id: dunningSendBatches.id,
      memberIds: dunningSendBatches.memberIds,
      leaseUntil: dunningSendBatches.leaseUntil,
      callStartedAt: dunningSendBatches.callStartedAt,
      inDoubtSince: dunningSendBatches.inDoubtSince,
    })
    .from(dunningSendBatches)
    .where(
      and(
        eq(dunningSendBatches.status, 'open'),
        or(
          isNull(dunningSendBatches.leaseOwner),
          isNull(dunningSendBatches.leaseUntil),
          lt(dunningSendBatches.leaseUntil, now),
        ),
      ),
    );
}
