/** The "may have been sent" outcome, shared by the send path and the planner's approval expiry. */
import type { Tx } from '../db/client';
import { supersedeOpenTasks } from '../db/queries/dunning-admin';
import {
  acceptanceEvidence,
  customerRow,
  lockSendBatch,
  lockUnconfirmedMembers,
  setMessage,
  setSendBatch,
  tenantRow,
} from '../db/queries/dunning-send';
import type { customers, dunningMessages, tenants } from '../db/schema';
import { addDays, debtorZone, localParts } from './local-time';
import { openTask } from './tasks';

type Row = typeof dunningMessages.$inferSelect;

/** A message nobody is working on: no owner, no lease, no attempt under way. */
export const released = { leaseOwner: null, leaseUntil: null, attemptStartedAt: null } as const;

/**
 * May have been delivered, and Duely cannot find out by itself: a person checks the provider's log. Unless it found
 * out already (its worker died mid-call, or a batch was in doubt, meanwhile): Resend's webhook reported the email, or
 * the debtor unsubscribed through its link. Then it left, and it is recorded as sent instead.
 */
export async function unconfirmed(
  tx: Tx,
  row: Row,
  now: Date,
  reason: string,
): Promise<{ outcome: 'unconfirmed' | 'skipped'; code: string; reason: string }> {
  const evidence = await acceptanceEvidence(tx, row.id);
  if (evidence) {
    const known = await markKnownSent(tx, row, now, evidence);
    return { outcome: 'skipped', code: known.code, reason: known.reason };
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

/** Dedupe key prefix of the "may have been sent" check task of a message. */
const CHECK_TASK = 'unconfirmed:';

/** How Duely learnt that an email in doubt left. */
export type SentEvidence = {
  /** Resend's webhook about it; the debtor's unsubscribe through its link; another email of its batch known to have left. */
  by: 'provider' | 'unsubscribe' | 'batch';
  providerId: string | null;
};

const KNOWN: Record<SentEvidence['by'], { code: string; reason: string }> = {
  provider: {
    code: 'ok',
    reason: "Sent: Resend reported the email after the answer to Duely's call was lost",
  },
  unsubscribe: {
    code: 'received',
    reason: "Reached the debtor: they unsubscribed through this email's link",
  },
  batch: {
    code: 'ok',
    reason: 'Sent: another email of its batch is known to have left, and Resend accepts a batch whole',
  },
};

/**
 * An email in doubt that Duely now knows left: Resend's webhook reported it (it reports only emails it accepted), or
 * the debtor unsubscribed through its link (the click proves they got it). It is recorded as sent (at the call that
 * may have been accepted, with the provider's id when known), nothing under its key is sent again, and the "check
 * whether they received it" task, if one was opened, is closed. A batch is accepted whole (strict validation), so
 * the other members its batch left "may have been sent" are recorded the same way.
 */
export async function markKnownSent(
  tx: Tx,
  row: Row,
  now: Date,
  evidence: SentEvidence,
): Promise<{ code: string; reason: string }> {
  const known = KNOWN[evidence.by];
  const sentAt = row.sentAt ?? row.inDoubtSince ?? row.attemptStartedAt ?? now;
  await setMessage(tx, row.id, {
    status: 'sent',
    sentAt,
    providerId: row.providerId ?? evidence.providerId,
    statusCode: known.code,
    statusReason: known.reason,
    error: null,
    ...released,
    updatedAt: now,
  });
  await supersedeOpenTasks(tx, row.tenantId, `${CHECK_TASK}${row.id}`, null, {
    note: `${known.reason}.`,
    now,
  });
  // A final notice that left asks for a call, however Duely learnt that it left (markSent opens it otherwise).
  if (row.tone === 'final') {
    const tenant = await tenantRow(tx, row.tenantId);
    const customer = await customerRow(tx, row.customerId);
    if (tenant && customer) await openFinalNoticeCall(tx, row, tenant, customer, sentAt);
  }
  // Only a batch concluded "may have been sent" (its call in doubt): an abandoned one was never accepted.
  const batch = row.batchId && evidence.by !== 'batch' ? await lockSendBatch(tx, row.batchId) : undefined;
  if (batch?.status === 'unconfirmed') {
    for (const sibling of await lockUnconfirmedMembers(tx, batch.id))
      await markKnownSent(tx, sibling, now, { by: 'batch', providerId: null });
    await setSendBatch(tx, batch.id, { status: 'sent', error: null, updatedAt: now });
  }
  return known;
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

/**
 * After a final notice a person calls: a task on the call list, due when the notice's deadline passes (7 days after
 * the day it was sent, in the debtor's zone).
 */
export async function openFinalNoticeCall(
  tx: Tx,
  row: Row,
  tenant: typeof tenants.$inferSelect,
  customer: typeof customers.$inferSelect,
  sentAt: Date,
): Promise<void> {
  if (row.tone !== 'final') return;
  const day = localParts(sentAt, debtorZone(customer, tenant)).date;
  await openTask(tx, {
    tenantId: row.tenantId,
    customerId: row.customerId,
    kind: 'call',
    title: `Call ${customer.name}: final notice sent`,
    invoiceIds: row.invoiceIds,
    messageId: row.id,
    dedupeKey: `call:${row.id}`,
    today: day,
    dueOn: addDays(day, 7),
  });
}
