/**
 * The send path's statements (dunning/send-message.ts, send-sweep.ts, delivery-events.ts): claiming and finishing
 * messages, the send cap, suppression and delivery events. Callers own the transactions and the locks.
 */
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { dunningMessages } from '../schema';

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
