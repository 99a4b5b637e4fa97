/** The "may have been sent" outcome, shared by the send path and the planner's approval expiry. */
import type { Tx } from '../db/client';
import { customerRow, setMessage, tenantRow } from '../db/queries/dunning-send';
import type { dunningMessages } from '../db/schema';
import { localParts } from './local-time';
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
  const customer = await customerRow(tx, row.customerId);
  const tenant = await tenantRow(tx, row.tenantId);
  await openTask(tx, {
    tenantId: row.tenantId,
    customerId: row.customerId,
    kind: 'review',
    title: `Check whether ${customer?.name ?? 'the customer'} received "${row.subject ?? row.stepKey}" (may have been sent)`,
    invoiceIds: row.invoiceIds,
    messageId: row.id,
    dedupeKey: `unconfirmed:${row.id}`,
    today: localParts(now, customer?.timezone || tenant?.timezone || 'UTC').date,
  });
  return { outcome: 'unconfirmed', code: 'send_unknown', reason };
}
