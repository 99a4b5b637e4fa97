/** The "may have been sent" outcome, shared by the send path and the planner's approval expiry. */
import type { Tx } from '../db/client';
import { supersedeOpenTasks } from '../db/queries/dunning-admin';
import { customerRow, hasUnsubscribeEvent, setMessage, tenantRow } from '../db/queries/dunning-send';
import type { dunningMessages } from '../db/schema';
import { debtorZone, localParts } from './local-time';
import { openTask } from './tasks';

type Row = typeof dunningMessages.$inferSelect;

/** A message nobody is working on: no owner, no lease, no attempt under way. */
export const released = { leaseOwner: null, leaseUntil: null, attemptStartedAt: null } as const;

/**
 * May have been delivered, and Duely cannot find out by itself: a person checks the provider's log. Unless the debtor
 * already unsubscribed through this email's link (its worker died mid-call, or a batch was in doubt, when they
 * clicked): then it did reach them, and it is recorded as received instead.
 */
export async function unconfirmed(
  tx: Tx,
  row: Row,
  now: Date,
  reason: string,
): Promise<{ outcome: 'unconfirmed' | 'skipped'; code: string; reason: string }> {
  if (await hasUnsubscribeEvent(tx, row.id)) {
    await markReceived(tx, row, now);
    return { outcome: 'skipped', code: RECEIVED, reason: RECEIVED_REASON };
  }
  await setMessage(tx, row.id, {
    status: 'unconfirmed',
    statusCode: 'send_unknown',
    statusReason: `May have been sent — check the provider's log. ${reason}`,
    error: reason,
    inDoubtSince: row.inDoubtSince ?? row.attemptStartedAt ?? now,
    ...released,
    updatedAt: now,
  });
  await openMessageReviewTask(
    tx,
    row,
    now,
    CHECK_TASK.slice(0, -1),
    (name) => `Check whether ${name} received "${row.subject ?? row.stepKey}" (may have been sent)`,
  );
  return { outcome: 'unconfirmed', code: 'send_unknown', reason };
}

const RECEIVED = 'received';
const RECEIVED_REASON = "Reached the debtor: they unsubscribed through this email's link";
/** Dedupe key prefix of the "may have been sent" check task of a message. */
const CHECK_TASK = 'unconfirmed:';

/**
 * An email in doubt whose debtor unsubscribed through its link reached them: the click proves it. It is recorded
 * as sent (at the call that may have been accepted), nothing under its key is sent again, and the "check whether
 * they received it" task, if one was opened, is closed.
 */
export async function markReceived(tx: Tx, row: Row, now: Date): Promise<void> {
  await setMessage(tx, row.id, {
    status: 'sent',
    sentAt: row.sentAt ?? row.inDoubtSince ?? row.attemptStartedAt ?? now,
    statusCode: RECEIVED,
    statusReason: RECEIVED_REASON,
    error: null,
    ...released,
    updatedAt: now,
  });
  await supersedeOpenTasks(tx, row.tenantId, `${CHECK_TASK}${row.id}`, null, {
    note: `${RECEIVED_REASON}.`,
    now,
  });
}

/**
 * A review task about one message on the customer's call list (dedupe key `<prefix>:<message id>`), dated in the
 * customer's zone (else the tenant's); `title` gets the customer's name.
 */
export async function openMessageReviewTask(
  tx: Tx,
  row: Row,
  now: Date,
  prefix: string,
  title: (customerName: string) => string,
): Promise<void> {
  const customer = await customerRow(tx, row.customerId);
  const tenant = await tenantRow(tx, row.tenantId);
  await openTask(tx, {
    tenantId: row.tenantId,
    customerId: row.customerId,
    kind: 'review',
    title: title(customer?.name ?? 'the customer'),
    invoiceIds: row.invoiceIds,
    messageId: row.id,
    dedupeKey: `${prefix}:${row.id}`,
    today: localParts(now, debtorZone(customer, tenant)).date,
  });
}
