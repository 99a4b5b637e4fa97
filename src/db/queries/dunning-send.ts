/**
 * The send path's statements (dunning/send-message.ts, send-sweep.ts, delivery-events.ts): claiming and finishing
 * messages, the send cap, suppression and delivery events. Callers own the transactions and the locks.
 */
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../client';
import { contactSuppressions, customers, dunningMessageEvents, dunningMessages } from '../schema';

/** 'sending' messages whose owner's lease ended (or never had one). */
export async function sendingWithLapsedLease(db: DbOrTx, now: Date) {
  return db
    .select({ id: dunningMessages.id, leaseUntil: dunningMessages.leaseUntil })
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
    .where(and(eq(dunningMessages.status, 'queued'), lt(dunningMessages.sendAt, before)));
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

/** Whether a suppression of this kind exists: by address for a bounce, else by customer. */
export async function suppressionExists(
  tx: DbOrTx,
  s: { tenantId: string; kind: NewSuppression['kind']; email: string | null; customerId: string | null },
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

export async function customerName(tx: DbOrTx, customerId: string): Promise<string | null> {
  const [c] = await tx.select({ name: customers.name }).from(customers).where(eq(customers.id, customerId));
  return c?.name ?? null;
}
