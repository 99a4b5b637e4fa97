/** The "may have been sent" outcome, shared by the send path and the planner's approval expiry. */
import type { Tx } from '../db/client';
import { customerRow, setMessage, tenantRow } from '../db/queries/dunning-send';
import type { dunningMessages } from '../db/schema';
import { debtorZone, localParts } from './local-time';
import { openTask } from './tasks';

type Row = typeof dunningMessages.$inferSelect;

/** A message nobody is working on: no owner, no lease, no attempt under way. */
export const released = { leaseOwner: null, leaseUntil: null, attemptStartedAt: null } as const;

/** May have been delivered, and Duely cannot find out by itself: a person checks the provider's log. */
export async function unconfirmed(
  tx: Tx,
  row: Row,
  now: Date,
  reason: string,
): Promise<{ outcome: 'unconfirmed'; code: string; reason: string }> {
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
    'unconfirmed',
    (name) => `Check whether ${name} received "${row.subject ?? row.stepKey}" (may have been sent)`,
  );
  return { outcome: 'unconfirmed', code: 'send_unknown', reason };
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
