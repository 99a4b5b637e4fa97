/**
 * The send job's work for one message: claim it (row lock, queued → sending as a compare-and-set) after the
 * pre-send re-check under the invoices' row locks, render, hand it to the transport with the message id as the
 * idempotency key, record the provider id. A message whose status is already sent is never sent again.
 */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../db/client';
import {
  connections,
  customers,
  disputes,
  dunningMessageSteps,
  dunningMessages,
  dunningOverrides,
  promisesToPay,
  tenants,
} from '../db/schema';
import type { Services } from '../services';
import { composeEmail, fromHeader, senderOf } from './compose-email';
import { loadDunningConfig } from './dunning-config';
import { enqueueSend } from './engine';
import { liveInvoiceState, refreshLiveState } from './live-invoice-state';
import { addDays, localParts } from './local-time';
import { MailSendError, type MailTransport } from './mail-transport';
import { loadSuppressions, reachable, toOverride } from './planner-input';
import { ResendTransport } from './resend-transport';
import { uuidArray } from './sql-arrays';
import { openTask } from './tasks';
import { nextAllowedTime, windowBlock } from './send-time';
import { sendingSwitches } from './go-live';
import { checkSuppression, type LiveInvoice, type SuppressionDecision, sendingGate } from './suppression';

export type SendOutcome =
  | { outcome: 'sent'; providerId: string }
  | { outcome: 'skipped' | 'held' | 'deferred'; code: string; reason: string }
  | { outcome: 'noop'; status: string | null };

export interface SendOptions {
  /** Overrides the configured transport; null forces the local outbox. */
  transport?: MailTransport | null;
  /** The job's last retry: a transient provider error now fails the message instead of waiting for a retry. */
  finalAttempt?: boolean;
  /** Test hook: runs right after the claim (re-check + queued → sending) committed. */
  afterClaim?: () => void;
  /** Test hook: runs after the provider accepted the message, before the row says so (a crash lands here). */
  afterProviderCall?: (providerId: string) => Promise<void> | void;
}

const transports = new WeakMap<Services, MailTransport | null>();

/** Resend when RESEND_API_KEY is set, else null: the local outbox (nothing leaves the machine). */
export function mailTransportFor(services: Services): MailTransport | null {
  if (transports.has(services)) return transports.get(services) ?? null;
  const key = services.config.RESEND_API_KEY;
  const t = key ? new ResendTransport({ apiKey: key, baseUrl: services.config.RESEND_BASE_URL }) : null;
  transports.set(services, t);
  return t;
}

/** Tests and embedders: use this transport for every send of these services. */
export function setMailTransport(services: Services, transport: MailTransport | null): void {
  transports.set(services, transport);
}

const HOLD_RETRY_MS = 60 * 60_000;
/**
 * A message in 'sending' belongs to the worker that claimed it for this long (longer than the transport's own
 * retries take). After that the claimant is presumed dead and a retried job may send again under the same key.
 */
export const SENDING_LEASE_MS = 2 * 60_000;
const EARLY_TOLERANCE_MS = 60_000;
/** Resend keeps idempotency keys for 24 hours; stay well inside that. */
const IDEMPOTENCY_WINDOW_MS = 23 * 3_600_000;

type Claim =
  | { kind: 'send'; row: typeof dunningMessages.$inferSelect }
  | { kind: 'done'; result: SendOutcome };

export async function sendMessage(
  services: Services,
  messageId: string,
  opts: SendOptions = {},
): Promise<SendOutcome> {
  const { db, clock } = services;
  const [pre] = await db
    .select({
      tenantId: dunningMessages.tenantId,
      invoiceIds: dunningMessages.invoiceIds,
      status: dunningMessages.status,
    })
    .from(dunningMessages)
    .where(eq(dunningMessages.id, messageId));
  if (!pre) return { outcome: 'noop', status: null };
  if (pre.status !== 'queued' && pre.status !== 'sending') return { outcome: 'noop', status: pre.status };
  // Provider read (QuickBooks hook) before the locks: it writes the rows the locked re-check then reads.
  await refreshLiveState(services, pre.tenantId, pre.invoiceIds);

  const claim = await db.transaction((tx) => claimForSending(services, tx, messageId, clock.now()));
  if (claim.kind === 'done') return claim.result;
  opts.afterClaim?.();
  const row = claim.row;

  const [tenant] = await db.select().from(tenants).where(eq(tenants.id, row.tenantId));
  const [customer] = await db.select().from(customers).where(eq(customers.id, row.customerId));
  if (!tenant || !customer) throw new Error(`message ${messageId}: tenant or customer gone`);
  const email = await composeEmail(services, row, tenant, customer, clock.now());
  const transport = opts.transport !== undefined ? opts.transport : mailTransportFor(services);

  let providerId: string;
  if (!transport) {
    providerId = `outbox:${row.id}`;
  } else {
    const from = fromHeader(tenant, services);
    if (!from)
      return fail(
        services,
        row.id,
        'MAIL_FROM is not configured; set the sender address to send through Resend',
      );
    try {
      ({ providerId } = await transport.send({
        id: row.id,
        from,
        to: row.to,
        replyTo: senderOf(tenant, services).replyTo,
        subject: email.subject,
        html: email.html,
        text: email.text,
        unsubscribeUrl: email.unsubscribeUrl,
        tags: { kind: row.kind, tenant: row.tenantId },
      }));
    } catch (err) {
      if (err instanceof MailSendError && err.retryable && !opts.finalAttempt) {
        // Back to queued so the retried job may claim it again; Resend dedupes the key if it did get through.
        await db
          .update(dunningMessages)
          .set({ status: 'queued', error: `${err.code}: ${err.message}`, updatedAt: clock.now() })
          .where(and(eq(dunningMessages.id, row.id), eq(dunningMessages.status, 'sending')));
        throw err;
      }
      const message = err instanceof Error ? err.message : String(err);
      return fail(services, row.id, message);
    }
  }
  await opts.afterProviderCall?.(providerId);
  await db
    .update(dunningMessages)
    .set({
      status: 'sent',
      providerId,
      subject: email.subject,
      html: email.html,
      text: email.text,
      templateVersion: email.templateVersion,
      sentAt: clock.now(),
      statusCode: 'ok',
      statusReason: transport ? 'Sent through Resend' : 'Stored in the local outbox (no RESEND_API_KEY)',
      error: null,
      updatedAt: clock.now(),
    })
    .where(and(eq(dunningMessages.id, row.id), eq(dunningMessages.status, 'sending')));
  if (row.tone === 'final') {
    // After a final notice a person calls: the task is due when the notice's deadline passes.
    const today = localParts(clock.now(), customer.timezone || tenant.timezone || 'UTC').date;
    await openTask(db, {
      tenantId: row.tenantId,
      customerId: row.customerId,
      kind: 'call',
      title: `Call ${customer.name}: final notice sent`,
      invoiceIds: row.invoiceIds,
      messageId: row.id,
      dedupeKey: `call:${row.id}`,
      today,
      dueOn: addDays(today, 7),
    });
  }
  return { outcome: 'sent', providerId };
}

async function fail(services: Services, id: string, error: string): Promise<SendOutcome> {
  await services.db
    .update(dunningMessages)
    .set({
      status: 'failed',
      error,
      statusCode: 'send_failed',
      statusReason: error,
      updatedAt: services.clock.now(),
    })
    .where(and(eq(dunningMessages.id, id), eq(dunningMessages.status, 'sending')));
  return { outcome: 'skipped', code: 'send_failed', reason: error };
}

/**
 * Inside one transaction: lock the message, lock its invoices (FOR SHARE), re-check everything, and either move
 * it to sending or record why not. Whatever settles an invoice must update its row, so it serializes with this.
 */
async function claimForSending(services: Services, tx: Tx, messageId: string, now: Date): Promise<Claim> {
  const [row] = await tx
    .select()
    .from(dunningMessages)
    .where(eq(dunningMessages.id, messageId))
    .for('update');
  if (!row) return { kind: 'done', result: { outcome: 'noop', status: null } };
  // 'sending' = an earlier attempt crashed after claiming; it is re-checked and re-sent under the same key.
  if (row.status !== 'queued' && row.status !== 'sending') {
    return { kind: 'done', result: { outcome: 'noop', status: row.status } };
  }
  if (row.status === 'sending' && now.getTime() - row.updatedAt.getTime() < SENDING_LEASE_MS) {
    return { kind: 'done', result: { outcome: 'noop', status: row.status } };
  }
  if (row.status === 'sending' && now.getTime() - row.updatedAt.getTime() > IDEMPOTENCY_WINDOW_MS) {
    // Resend remembers an idempotency key for 24 h: past that, sending again could deliver a second copy. Whether
    // the first attempt got through is unknown, so a person checks the provider log instead.
    const reason =
      'An earlier attempt may have been delivered and the provider no longer dedupes it; not re-sent';
    await tx
      .update(dunningMessages)
      .set({
        status: 'failed',
        statusCode: 'send_unknown',
        statusReason: reason,
        error: reason,
        updatedAt: now,
      })
      .where(eq(dunningMessages.id, row.id));
    return { kind: 'done', result: { outcome: 'skipped', code: 'send_unknown', reason } };
  }
  // A job that runs early (a retry, a clock set back) waits for the message's time.
  if (now.getTime() < row.sendAt.getTime() - EARLY_TOLERANCE_MS) {
    return record(
      tx,
      row.id,
      now,
      {
        action: 'defer',
        code: 'ok',
        reason: `Not before its send time ${row.sendAt.toISOString()}`,
        replan: false,
        until: row.sendAt,
      },
      services,
    );
  }
  const [tenant] = await tx.select().from(tenants).where(eq(tenants.id, row.tenantId));
  const [customer] = await tx.select().from(customers).where(eq(customers.id, row.customerId));
  if (!tenant || !customer)
    return record(tx, row.id, now, skip('customer_gone', 'The customer no longer exists'));
  // Go-live and "pause all sending" (issue 14): the pure rule is sendingGate in suppression.ts. A reminder is
  // taken back and re-planned; a receipt is held and retried (it is queued again when sending resumes).
  const gate = sendingGate(sendingSwitches(tenant));
  if (gate) {
    const d: SuppressionDecision = row.kind === 'receipt' ? { ...gate, action: 'hold', replan: false } : gate;
    return record(tx, row.id, now, d, services);
  }
  const config = await loadDunningConfig(tx, tenant);
  const timeZone = customer.timezone || config.settings.timezone;
  const today = localParts(now, timeZone).date;

  const live = await liveInvoiceState(services, row.tenantId, row.invoiceIds, tx);
  const overrides = await tx
    .select()
    .from(dunningOverrides)
    .where(
      and(
        eq(dunningOverrides.tenantId, row.tenantId),
        sql`(${dunningOverrides.customerId} = ${row.customerId}::uuid or ${dunningOverrides.invoiceId} = any(${uuidArray(row.invoiceIds)}))`,
      ),
    );
  const custOverride = overrides.find((o) => o.customerId === row.customerId);
  const invOverride = new Map(overrides.filter((o) => o.invoiceId).map((o) => [o.invoiceId!, toOverride(o)]));
  const disputeRows = await tx
    .select()
    .from(disputes)
    .where(
      and(
        eq(disputes.tenantId, row.tenantId),
        inArray(disputes.invoiceId, row.invoiceIds),
        isNull(disputes.resolvedAt),
      ),
    );
  const promiseRows = await tx
    .select()
    .from(promisesToPay)
    .where(
      and(
        eq(promisesToPay.tenantId, row.tenantId),
        isNull(promisesToPay.cancelledAt),
        sql`${promisesToPay.invoiceIds} && ${uuidArray(row.invoiceIds)}`,
      ),
    );
  const { badEmails, optedOut } = await loadSuppressions(tx, row.tenantId, [row.customerId]);
  const reach = reachable(row.to, badEmails);
  const conn = await tx
    .select({ status: connections.status })
    .from(connections)
    .where(eq(connections.tenantId, row.tenantId));
  const reconnect = conn.some((c) => c.status === 'reconnect_needed');
  // Every connection disconnected (the company was unplugged, in Duely or in QuickBooks): the ledger is frozen.
  const disconnected = conn.length > 0 && conn.every((c) => c.status === 'disconnected');

  const window = { ...config.settings, timeZone };
  let decision: SuppressionDecision;
  if (row.kind === 'receipt') {
    decision = receiptDecision(live, optedOut.has(row.customerId), reach.bounced, window, now);
  } else {
    const snapshot = row.snapshot as { invoices?: { invoiceId: string; openBalanceMinor: number }[] };
    const liveInvoices: LiveInvoice[] = live.map((l) => {
      const ov = invOverride.get(l.invoiceId);
      const d = disputeRows.find((x) => x.invoiceId === l.invoiceId && (x.until === null || today < x.until));
      const promiseUntil = promiseRows
        .filter((p) => p.invoiceIds.includes(l.invoiceId))
        .map((p) => addDays(p.promisedDate, p.graceDays))
        .sort()
        .at(-1);
      return {
        ...l,
        disputed: d !== undefined,
        excluded: ov?.excluded ?? false,
        pausedUntil: ov?.pausedUntil ?? null,
        promiseUntil: promiseUntil ?? null,
      };
    });
    decision = checkSuppression({
      now,
      today,
      message: {
        invoiceIds: row.invoiceIds,
        plannedBalances: (snapshot.invoices ?? []).map((i) => ({
          invoiceId: i.invoiceId,
          openBalanceMinor: i.openBalanceMinor,
        })),
        requiresApproval: row.requiresApproval,
        approval: row.requiresApproval ? (row.decidedAt ? 'approved' : 'pending') : null,
      },
      invoices: liveInvoices,
      customer: {
        optedOut: optedOut.has(row.customerId),
        bounced: reach.bounced,
        excluded: custOverride?.excluded ?? false,
        pausedUntil: custOverride?.pausedUntil ?? null,
      },
      connection: { status: reconnect ? 'needs_reconnect' : disconnected ? 'disconnected' : 'active' },
      window,
    });
  }
  if (decision.action !== 'send') return record(tx, row.id, now, decision, services);

  const [claimed] = await tx
    .update(dunningMessages)
    .set({
      status: 'sending',
      // Only the addresses still reachable (a bounced co-recipient is dropped, the rest still hear from us).
      to: reach.emails,
      attempts: sql`${dunningMessages.attempts} + 1`,
      updatedAt: now,
    })
    .where(and(eq(dunningMessages.id, row.id), inArray(dunningMessages.status, ['queued', 'sending'])))
    .returning();
  if (!claimed) return { kind: 'done', result: { outcome: 'noop', status: row.status } };
  return { kind: 'send', row: claimed };
}

function receiptDecision(
  live: Awaited<ReturnType<typeof liveInvoiceState>>,
  optedOut: boolean,
  bounced: boolean,
  window: Parameters<typeof windowBlock>[0] & { timeZone: string },
  now: Date,
): SuppressionDecision {
  if (optedOut) return skip('opted_out', 'The customer unsubscribed');
  if (bounced) return skip('bounced', "The customer's address bounced");
  const reopened = live.find((l) => l.status !== 'paid');
  if (reopened || live.length === 0) {
    return skip('payment_reversed', `Invoice ${reopened?.number ?? ''} is no longer paid`.trim());
  }
  const block = windowBlock(window, now, window.timeZone);
  if (block) {
    const until = nextAllowedTime({ ...window, now });
    return {
      action: 'defer',
      code: block,
      reason: `${block}; deferred to ${until.toISOString()}`,
      replan: false,
      until,
    };
  }
  return { action: 'send', code: 'ok', reason: 'All checks passed', replan: false };
}

function skip(code: string, reason: string): SuppressionDecision {
  return { action: 'skip', code: code as SuppressionDecision['code'], reason, replan: false };
}

async function record(
  tx: Tx,
  id: string,
  now: Date,
  d: SuppressionDecision,
  services?: Services,
): Promise<Claim> {
  if (d.action === 'skip') {
    await tx
      .update(dunningMessages)
      .set({ status: 'skipped', statusCode: d.code, statusReason: d.reason, updatedAt: now })
      .where(eq(dunningMessages.id, id));
    if (d.replan && services) {
      // Some invoices are still owed: release this message's steps and plan again with the current figures.
      await tx.delete(dunningMessageSteps).where(eq(dunningMessageSteps.messageId, id));
      const [m] = await tx
        .select({ tenantId: dunningMessages.tenantId })
        .from(dunningMessages)
        .where(eq(dunningMessages.id, id));
      if (m) await services.dunningJobs.replan(tx, m.tenantId, 'replan');
    }
    return { kind: 'done', result: { outcome: 'skipped', code: d.code, reason: d.reason } };
  }
  if (d.action === 'hold' && d.code === 'awaiting_approval') {
    await tx
      .update(dunningMessages)
      .set({ status: 'awaiting_approval', statusCode: d.code, statusReason: d.reason, updatedAt: now })
      .where(eq(dunningMessages.id, id));
    return { kind: 'done', result: { outcome: 'held', code: d.code, reason: d.reason } };
  }
  // Held (connection needs reconnecting) or deferred (outside the send window): stays queued, checked again later.
  const until = d.action === 'defer' && d.until ? d.until : new Date(now.getTime() + HOLD_RETRY_MS);
  await tx
    .update(dunningMessages)
    .set({ status: 'queued', statusCode: d.code, statusReason: d.reason, sendAt: until, updatedAt: now })
    .where(eq(dunningMessages.id, id));
  if (services)
    await enqueueSend(services, tx, id, until, `${d.action}:${until.toISOString()}:${now.toISOString()}`);
  return {
    kind: 'done',
    result: { outcome: d.action === 'defer' ? 'deferred' : 'held', code: d.code, reason: d.reason },
  };
}
