/**
 * Effects of what happens after a send: provider webhooks (delivered, opened, bounced, complained, …) and the
 * debtor's own unsubscribe. Each is recorded as a message event; bounces mark the address bad and open a task to
 * find a new contact; complaints, provider suppressions and unsubscribes stop all reminders to the debtor.
 */

import { advisoryXactLock } from '../db/advisory-lock';
import type { DbOrTx, Tx } from '../db/client';
import {
  customerName,
  hasUnsubscribeEvent,
  insertDeliveryEvent,
  insertMessageEvent,
  insertSuppression,
  lockBatchOfMessage,
  lockMessage,
  lockMessageForDelivery,
  setDeliveryStatus,
  suppressionExists,
} from '../db/queries/dunning-send';
import type { dunningMessages } from '../db/schema';
import type { ContactSuppressionKind } from '../db/schema/dunning';
import type { DunningDeps } from './ports';
import type { DeliveryUpdate } from './resend-webhook';
import { openTask } from './tasks';
import { markKnownSent } from './unconfirmed';

/** How far along a message got; a later event never moves delivery_status backwards (opened after clicked). */
const DELIVERY_RANK: Record<string, number> = {
  sent: 1,
  delayed: 1,
  delivered: 2,
  opened: 3,
  clicked: 4,
  soft_bounced: 2,
  failed: 5,
  bounced: 5,
  complained: 5,
  suppressed: 5,
};

export type ApplyResult = 'applied' | 'duplicate' | 'unknown_message';

export async function applyDeliveryUpdate(
  services: DunningDeps,
  update: DeliveryUpdate,
  svixId: string,
): Promise<ApplyResult> {
  return services.db.transaction(async (tx) => {
    await lockBatchOfMessage(tx, update);
    const msg = await lockMessageForDelivery(tx, update);
    // Idempotent on svix-id: Svix retries deliver the same id.
    const inserted = await insertDeliveryEvent(tx, {
      tenantId: msg?.tenantId ?? null,
      messageId: msg?.id ?? null,
      providerId: update.providerId,
      type: update.status,
      at: new Date(update.at),
      detail: update.detail,
      svixId,
    });
    if (!inserted) return 'duplicate';
    if (!msg) return 'unknown_message';
    // Resend reports only emails it accepted: one whose answer was lost (in doubt: a same-key retry waiting, or
    // "may have been sent" for a person to check) did leave. One still 'sending' is concluded by its worker or the
    // takeover (unconfirmed() reads this event).
    if (msg.inDoubtSince !== null && msg.status !== 'sent' && msg.status !== 'sending')
      await markKnownSent(tx, msg, services.clock.now(), { by: 'provider', providerId: update.providerId });

    const current = DELIVERY_RANK[msg.deliveryStatus ?? ''] ?? 0;
    if ((DELIVERY_RANK[update.status] ?? 0) >= current) {
      await setDeliveryStatus(tx, msg.id, update.status, services.clock.now());
    }
    if (update.status === 'bounced') {
      for (const email of msg.to) {
        await suppress(tx, {
          tenantId: msg.tenantId,
          customerId: msg.customerId,
          email,
          kind: 'bounced',
          reason: update.detail,
          messageId: msg.id,
        });
      }
      await openTask(tx, {
        tenantId: msg.tenantId,
        customerId: msg.customerId,
        kind: 'find_contact',
        title: `Find a new contact: ${msg.to.join(', ')} bounced`,
        invoiceIds: msg.invoiceIds,
        messageId: msg.id,
        dedupeKey: `bounce:${msg.id}`,
        today: services.clock.now().toISOString().slice(0, 10),
        extra: { bounce: update.detail },
      });
    } else if (update.status === 'complained' || update.status === 'suppressed') {
      await suppress(tx, {
        tenantId: msg.tenantId,
        customerId: msg.customerId,
        email: msg.to[0] ?? null,
        kind: update.status,
        reason:
          update.detail ??
          (update.status === 'complained' ? 'marked the email as spam' : 'suppressed by the provider'),
        messageId: msg.id,
      });
      if (update.status === 'complained')
        await openOptOutTask(services, tx, msg, 'complained', 'marked a reminder as spam');
    }
    if (['bounced', 'complained', 'suppressed'].includes(update.status)) {
      // What was planned for this debtor is withdrawn now, not when its send job runs.
      const { planTenantIn } = await import('./engine');
      await planTenantIn(services, tx, msg.tenantId);
    }
    return 'applied';
  });
}

export async function suppress(
  tx: DbOrTx,
  s: {
    tenantId: string;
    customerId: string | null;
    email: string | null;
    kind: ContactSuppressionKind;
    reason: string | null;
    messageId: string | null;
  },
): Promise<void> {
  const email = s.email?.toLowerCase() ?? null;
  // A replay adds nothing; an opt-out of the same debtor through another message is recorded with that message, so
  // every address the debtor opted out through is known (dunning-plan.releasedOptOutEmails).
  if (
    await suppressionExists(tx, {
      tenantId: s.tenantId,
      kind: s.kind,
      email,
      customerId: s.customerId,
      messageId: s.messageId,
    })
  )
    return;
  await insertSuppression(tx, { ...s, email });
}

/**
 * Whether a message's email may have reached its debtor: sent, being sent, or an attempt that may have got through
 * (in doubt). Only then does its unsubscribe link unsubscribe: every planned or held reminder is rendered with the
 * debtor's link, and anyone signed in to the tenant (a viewer too) can open it, so the link of an email that never
 * left would let them stop every reminder to a debtor, for good, in the debtor's name. An attempt the provider
 * answered with a definite refusal (a 422, a 429, a revoked key) is counted but reached no one: an attempt counts
 * only while its outcome is unknown (in_doubt_since; a worker that died mid-call leaves the message 'sending').
 */
export function mayHaveReachedDebtor(m: {
  status: string;
  sentAt: Date | null;
  inDoubtSince: Date | null;
}): boolean {
  return (
    ['sending', 'sent', 'unconfirmed'].includes(m.status) || m.sentAt !== null || m.inDoubtSince !== null
  );
}

/**
 * RFC 8058 one-click (or the confirm page's button): stop every reminder to this debtor. 'never_sent': the link
 * is of an email that never left (a preview), and nothing changed.
 */
export async function unsubscribeDebtor(
  services: DunningDeps,
  messageId: string,
): Promise<boolean | 'never_sent'> {
  return services.db.transaction(async (tx: Tx) => {
    // The link is public and may be replayed (by scanners, by anyone holding it, many times at once): the
    // customer's lock makes each replay see the first one's rows, so it adds nothing.
    await lockBatchOfMessage(tx, { messageId });
    const msg = await lockMessage(tx, messageId);
    if (!msg) return false;
    if (!mayHaveReachedDebtor(msg)) return 'never_sent';
    // The click proves an email in doubt reached the debtor: recorded as received, its same-key retry and the
    // "check whether they received it" task have nothing left to find out. One still 'sending' (a worker or a
    // stored batch mid-call, a dead worker not yet taken over) is settled by whoever concludes it (unconfirmed()
    // reads the unsubscribe event recorded below).
    if (msg.inDoubtSince !== null && msg.status !== 'sent' && msg.status !== 'sending')
      await markKnownSent(tx, msg, services.clock.now(), { by: 'unsubscribe', providerId: null });
    await advisoryXactLock(tx, `suppress:${msg.tenantId}:${msg.customerId}`);
    await suppress(tx, {
      tenantId: msg.tenantId,
      customerId: msg.customerId,
      email: msg.to[0] ?? null,
      kind: 'unsubscribed',
      reason: 'unsubscribed through the link in a reminder',
      messageId,
    });
    const recorded = await hasUnsubscribeEvent(tx, messageId);
    // A replayed unsubscribe adds nothing: no second event, task or re-plan.
    if (!recorded) {
      await insertMessageEvent(tx, {
        tenantId: msg.tenantId,
        messageId,
        type: 'unsubscribed',
        at: services.clock.now(),
      });
      await openOptOutTask(services, tx, msg, 'unsubscribed', 'unsubscribed from payment reminders');
      // Every reminder still planned for the debtor is withdrawn in this transaction.
      const { planTenantIn } = await import('./engine');
      await planTenantIn(services, tx, msg.tenantId);
    }
    return true;
  });
}

/**
 * A debtor who opted out (unsubscribe link, spam complaint) hears nothing more from Duely: a person follows up,
 * so the team is told through a task on the call list and the Dashboard.
 */
async function openOptOutTask(
  services: DunningDeps,
  tx: Tx,
  msg: typeof dunningMessages.$inferSelect,
  kind: 'unsubscribed' | 'complained',
  what: string,
): Promise<void> {
  const name = await customerName(tx, msg.customerId);
  await openTask(tx, {
    tenantId: msg.tenantId,
    customerId: msg.customerId,
    kind: 'review',
    title: `${name ?? 'A customer'} ${what}: no more reminders will go out; follow up personally`,
    invoiceIds: msg.invoiceIds,
    messageId: msg.id,
    dedupeKey: `optout:${msg.customerId}`,
    today: services.clock.now().toISOString().slice(0, 10),
    extra: { optOut: kind },
  });
}
