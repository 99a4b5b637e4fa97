/**
 * The send job's work for one message. The guarantees and how each is kept:
 *
 * 1. Never email a payer. Every provider attempt (including in-call retries) runs inside its own transaction that
 *    first locks the message row (FOR UPDATE), the customer's row and the invoices' rows (FOR SHARE), re-checks
 *    everything (balance, disputes, pauses, promises, opt-out, bounces, connection), and only then calls the
 *    provider — holding those locks until the provider answered or the call timed out (PROVIDER_TIMEOUT_MS). A
 *    payment or credit updates the invoice rows, and a dispute, pause, promise or unsubscribe takes a conflicting
 *    lock on the customer row (triggers in migration 0005), so a settling write either committed before the
 *    re-check (and is seen) or waits until the attempt is over. We chose holding the lock across the call over a
 *    separate "send lock" because it needs no cooperation from the writers' code and cannot be forgotten by a new
 *    one; the cost is that a settling write may wait up to one provider timeout (on PGlite, which has one
 *    connection, every query waits). The connector's live read runs right before each attempt, and the locked
 *    re-check reads the ledger again (no request) when the rows no longer say what that read said.
 * 2. Render once. The first attempt renders the email as of the planned send time and stores subject/html/text on
 *    the row; every later attempt sends those bytes under the same idempotency key (the message id). A body stored
 *    for an earlier day is rendered again for today only when no call under the key can have been accepted
 *    (renderOnce).
 * 3. Never hanging. 'sending' always has an owner (lease_owner/lease_until); an attempt never outlives its lease
 *    (provider timeout and a capped retry-after inside SEND_BUDGET_MS). Anything retried later goes back to
 *    'queued' WITH a new job; a job that finds another owner's live lease schedules itself after it. The sweeper
 *    (sweepStaleMessages, a cron job) re-enqueues any 'queued' row without a job and any 'sending' row whose owner
 *    died.
 * 4. Exactly once. An attempt whose outcome is unknown (timeout, dropped connection, 5xx, crash mid-call) sets
 *    in_doubt_since. Such a message is retried only with the same key inside the provider's 24-hour window; past
 *    it, or if the invoice was settled meanwhile, it becomes 'unconfirmed' with a review task ("may have been sent
 *    — check") and is never re-sent blind, nor recorded as cancelled or failed.
 */
import { randomUUID } from 'node:crypto';
import { formatMoney } from '../../connectors/money';
import { advisoryXactLock } from '../db/advisory-lock';
import type { Tx } from '../db/client';
import { creditOnAccount } from '../db/queries/credit-on-account';
import { releaseSteps } from '../db/queries/dunning-plan';
import {
  connectionStatuses,
  countAttempt,
  customerRow,
  customerWithBilledJobs,
  heldInvoiceRows,
  jobOverridesFor,
  livePromisesOverlapping,
  lockMessage,
  markAttemptStarting,
  messageRow,
  messageStatus,
  openDisputesOf,
  overridesFor,
  recipientsUsedSince,
  setLocalLockTimeout10s,
  setMessage,
  setMessageReturning,
  shareLockCustomer,
  storeRendered,
  tenantRow,
} from '../db/queries/dunning-send';
import type { customers, dunningMessages, tenants } from '../db/schema';
import type { Infra } from '../infra';
import { RESEND_TIMEOUT_MS, RETRY_AFTER_CAP_MS, refusedForNow, retryAnHourLater } from '../mail/resend';
import { headerProblem, MailSendError, type MailTransport } from '../mail/transport';
import { composeEmail, fromHeader, messageUnsubscribeUrl, RenderError, senderOf } from './compose-email';
import { type DebtorView, debtorView, debtorViewChange } from './debtor-view';
import { loadDunningConfig } from './dunning-config';
import { approvalVersion, dueState, enqueueSend } from './engine';
import { liveInvoiceState, movedSinceLiveRead, refreshLiveState } from './live-invoice-state';
import { addDays, debtorZone, localParts } from './local-time';
import { type DecisionCode, type HeldInvoice, heldChange } from './planner';
import { anyOptedOut, loadSuppressions, reachable, toOverride } from './planner-input';
import type { DunningDeps, LedgerInvoiceRead } from './ports';
import { reasonsAsOf } from './reason-text';
import { nextAllowedTime, windowBlock } from './send-time';
import { sendingSwitches } from './sending-switches';
import {
  checkSuppression,
  type LedgerUpload,
  type LiveInvoice,
  type SuppressionDecision,
  sendingGate,
  staleUpload,
  voidOrDeleted,
} from './suppression';
import { openFinalNoticeCall, openMessageReviewTask, released, unconfirmed } from './unconfirmed';
import { uploadedLedger } from './uploaded-ledger';

export { released, unconfirmed };

export type SendOutcome =
  | { outcome: 'sent'; providerId: string }
  | { outcome: 'skipped' | 'held' | 'deferred' | 'unconfirmed'; code: string; reason: string }
  /** Another worker owns the message; a job was scheduled for when its lease ends. */
  | { outcome: 'busy'; until: Date }
  /** A member of a stored batch: it is only ever sent with that batch (send-batch.ts resumes it). */
  | { outcome: 'batched'; batchId: string }
  | { outcome: 'noop'; status: string | null };

export interface SendOptions {
  /** Overrides the configured transport; null forces the local outbox. */
  transport?: MailTransport | null;
  /** Who owns the message while it is 'sending' (the job id); a random id when not given. */
  owner?: string;
  /** Waits between in-call attempts (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  /** Test hook: runs right after the claim (queued → sending) committed. */
  afterClaim?: () => void;
  /** Test hook: runs inside the attempt's transaction, locks held, right before the provider call. */
  beforeProviderCall?: () => Promise<void> | void;
  /** Test hook: runs after the provider accepted the message, before the row says so (a crash lands here). */
  afterProviderCall?: (providerId: string) => Promise<void> | void;
}

/** The process's transport (built once by the root): Resend, or null for the local outbox. */
export function mailTransportFor(deps: Pick<Infra, 'mailer'>): MailTransport | null {
  return deps.mailer;
}

export const HOLD_RETRY_MS = 60 * 60_000;
/** Bound on one provider call; the invoices' locks are held this long at most. */
export const PROVIDER_TIMEOUT_MS = RESEND_TIMEOUT_MS;
/**
 * One sendMessage starts no attempt that could end (provider timeout) later than this after it began; an attempt
 * may add up to 10 s of lock wait (lock_timeout), so a send ends within 50 s: inside the lease and the 60 s stop.
 */
export const SEND_BUDGET_MS = 40_000;
/** A message in 'sending' belongs to its claimant this long: longer than SEND_BUDGET_MS plus the DB work. */
export const SENDING_LEASE_MS = 2 * 60_000;
/** Attempts inside one job before the message goes back to the queue for a later one. */
export const IN_CALL_ATTEMPTS = 3;
/**
 * Provider attempts before a message none of whose attempts can have got through is given up ('failed'). One that may
 * have is retried under its key until the key window ends (IDEMPOTENCY_WINDOW_MS), then 'unconfirmed'.
 */
export const MAX_PROVIDER_ATTEMPTS = 8;
/** Back-off when handing a message back to the queue after a transient failure. */
export const RETRY_BASE_MS = 30_000;
export const RETRY_MAX_MS = 30 * 60_000;
export const EARLY_TOLERANCE_MS = 60_000;
/** Resend keeps idempotency keys for 24 hours; stay well inside that. */
export const IDEMPOTENCY_WINDOW_MS = 23 * 3_600_000;
/** An in-doubt retry waits for the send window only if the window opens at least this long before the key ends. */
export const IN_DOUBT_DEFER_MARGIN_MS = 60 * 60_000;

type Row = typeof dunningMessages.$inferSelect;
export type Step = { kind: 'done'; result: SendOutcome } | { kind: 'send'; row: Row };
type Attempt = { kind: 'done'; result: SendOutcome } | { kind: 'retry'; waitMs: number; error: string };

export async function sendMessage(
  services: DunningDeps,
  messageId: string,
  opts: SendOptions = {},
): Promise<SendOutcome> {
  const { db, clock } = services;
  const owner = opts.owner ?? randomUUID();
  const pre = await messageStatus(db, messageId);
  if (!pre) return { outcome: 'noop', status: null };
  if (pre !== 'queued' && pre !== 'sending') return { outcome: 'noop', status: pre };

  const claimed = await db.transaction((tx) => claim(services, tx, messageId, owner, clock.now()));
  if (claimed.kind === 'done') return claimed.result;
  opts.afterClaim?.();
  let row: Row;
  try {
    row = await renderOnce(services, claimed.row);
  } catch (err) {
    // Rendering reads and writes the database: an error there (a dropped connection, a lock timeout) is transient,
    // nothing was requested, and the message goes back to the queue like any other transient failure.
    if (!(err instanceof RenderError)) {
      const reason = `The email could not be prepared: ${(err as Error).message}`;
      return handBack(services, claimed.row.id, owner, RETRY_BASE_MS, reason);
    }
    // A template that cannot render will not render on a retry either; nothing was requested with it.
    const reason = `The email could not be rendered: ${err.message}`;
    const c = claimed.row;
    return db.transaction((tx) =>
      c.inDoubtSince ? unconfirmed(tx, c, clock.now(), reason) : failed(tx, c.id, clock.now(), reason),
    );
  }
  const transport = opts.transport !== undefined ? opts.transport : mailTransportFor(services);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  const began = Date.now();
  for (let n = 1; ; n++) {
    let said: Map<string, LedgerInvoiceRead>;
    try {
      // The provider's own view of the invoices, written to the rows the locked re-check reads next (and compared
      // with them there: a write in between sends the attempt back here).
      said = await refreshLiveState(services, row.tenantId, row.invoiceIds);
    } catch (err) {
      const reason = `Could not read the invoices from the accounting system: ${(err as Error).message}`;
      return handBack(services, row.id, owner, RETRY_BASE_MS, reason);
    }
    // Committed before the attempt's transaction: if this worker dies mid-call, the next claim knows one may have
    // got through.
    await markAttemptStarting(db, row.id, owner, clock.now());
    const progress = { providerCalled: false };
    let r: Attempt;
    try {
      r = await db.transaction((tx) => attempt(services, tx, row.id, owner, transport, opts, progress, said));
    } catch (err) {
      // Failed after the request started (a crash between the answer and the write): the row stays 'sending' with
      // attempt_started_at, so whoever takes it over treats the attempt as in doubt.
      if (progress.providerCalled) throw err;
      // Failed before any request (a lock timeout, a deadlock with a sync on Postgres): nothing reached the provider.
      const reason = `The pre-send check failed: ${(err as Error).message}`;
      return handBack(services, row.id, owner, RETRY_BASE_MS, reason);
    }
    if (r.kind === 'done') return r.result;
    const elapsed = Date.now() - began;
    if (
      n < IN_CALL_ATTEMPTS &&
      r.waitMs <= RETRY_AFTER_CAP_MS &&
      elapsed + r.waitMs + PROVIDER_TIMEOUT_MS <= SEND_BUDGET_MS
    ) {
      await sleep(r.waitMs);
      continue;
    }
    return handBack(services, row.id, owner, r.waitMs, r.error);
  }
}

/**
 * queued → sending with this owner, after deciding the message may be attempted at all: not before its time, not
 * while another owner's lease runs, not past the provider's key window when an earlier attempt is in doubt.
 */
export async function claim(
  services: DunningDeps,
  tx: Tx,
  id: string,
  owner: string,
  now: Date,
): Promise<Step> {
  const row = await lockMessage(tx, id);
  if (!row) return done({ outcome: 'noop', status: null });
  if (row.status !== 'queued' && row.status !== 'sending')
    return done({ outcome: 'noop', status: row.status });
  // Bound to a stored batch: sending it alone (under its own key) could deliver it a second time.
  if (row.batchId) return done({ outcome: 'batched', batchId: row.batchId });
  if (row.status === 'sending' && row.leaseOwner !== owner && row.leaseUntil && row.leaseUntil > now) {
    // Someone is working on it: not our job to finish, but a job must exist for when their lease ends.
    await enqueueSend(services, tx, id, row.leaseUntil, `lease:${row.leaseUntil.toISOString()}`);
    return done({ outcome: 'busy', until: row.leaseUntil });
  }
  // An attempt that began and never concluded (its worker died mid-call) may have reached the provider.
  const inDoubt = row.inDoubtSince ?? (row.status === 'sending' ? row.attemptStartedAt : null);
  if (inDoubt && now.getTime() - inDoubt.getTime() > IDEMPOTENCY_WINDOW_MS) {
    return done(
      await unconfirmed(
        tx,
        row,
        now,
        'An earlier attempt may have been delivered and the provider no longer dedupes its key; not re-sent',
      ),
    );
  }
  // In doubt, the key window above is the limit, not a count: every retry under the same key is safe (the provider
  // answers a repeat with the first id), so a provider outage longer than eight calls' back-off (about 50 minutes)
  // delays the reminder instead of leaving it "may have been sent", never sent.
  if (!inDoubt && row.attempts >= MAX_PROVIDER_ATTEMPTS) {
    const reason = `Gave up after ${row.attempts} provider attempts${row.error ? ` (last: ${row.error})` : ''}`;
    return done(await failed(tx, row.id, now, reason));
  }
  // A job that runs early (a retry, a clock set back) waits for the message's time.
  if (!inDoubt && now.getTime() < row.sendAt.getTime() - EARLY_TOLERANCE_MS) {
    return done(
      await record(services, tx, row, now, {
        action: 'defer',
        code: 'ok',
        reason: `Not before its send time ${row.sendAt.toISOString()}`,
        replan: false,
        until: row.sendAt,
      }),
    );
  }
  // Approved for what it said on the day it was read; the send renders it for today.
  const outdated = inDoubt ? null : await approvedWordsOutdated(tx, row, now);
  if (outdated) {
    await setMessage(tx, id, {
      status: 'awaiting_approval',
      decidedAt: null,
      decidedBy: null,
      statusCode: 'approval_outdated',
      statusReason: outdated,
      subject: null,
      html: null,
      text: null,
      renderedAsOf: null,
      ...released,
      // Asked again, with today's words: its approval's 7 days (APPROVAL_TTL_DAYS) start now, as a request asked
      // again after expiry does (engine.ts insertMessage). Kept, one that waited over 7 days (a hold, a reconnect,
      // an old upload) came back expired: approve refused it until the next daily plan re-planned it.
      createdAt: now,
      updatedAt: now,
    });
    return done({ outcome: 'held', code: 'approval_outdated', reason: outdated });
  }
  const claimed = await setMessageReturning(tx, id, {
    status: 'sending',
    leaseOwner: owner,
    leaseUntil: new Date(now.getTime() + SENDING_LEASE_MS),
    // Committed before any request: if this worker dies mid-call, the next claim knows one may have got through.
    // Not yet: the marker is committed right before the first request (markAttemptStarting), so a worker dying
    // while it renders or reads the ledger leaves a first attempt, not one that "may have been sent".
    attemptStartedAt: null,
    inDoubtSince: inDoubt,
    updatedAt: now,
  });
  return { kind: 'send', row: claimed };
}

const DUE_WORDS = { [-1]: 'not yet due', 0: 'due today', 1: 'overdue' } as const;

/**
 * Why an approved message must be approved again before it goes, or null. A reviewer approved the words as the
 * preview rendered them: as of its planned send day, or the day of the approval when that was later. A message that
 * waited past that day (send window, a hold, a retry) is rendered for the day it goes, and the counts of days move
 * with it; that is expected. What is not: an invoice the approved email called "due today" (or not yet due) that it
 * would now call overdue. That email was never read by anyone, so it waits for a reviewer instead of going out.
 */
async function approvedWordsOutdated(tx: Tx, row: Row, now: Date): Promise<string | null> {
  if (row.kind !== 'reminder' || !row.requiresApproval || !row.decidedAt) return null;
  const tenant = await tenantRow(tx, row.tenantId);
  const customer = await customerRow(tx, row.customerId);
  if (!tenant || !customer) return null; // the attempt's re-check skips it (customer_gone)
  const zone = debtorZone(customer, tenant);
  const asOf = renderAsOf(row, zone, now);
  if (!asOf) return null; // its stored body stands
  const day = localParts(asOf, zone).date;
  const snap = row.snapshot as { sendDate?: string; invoices?: { number?: string; dueDate?: string }[] };
  const decided = localParts(row.decidedAt, zone).date;
  const seen = snap.sendDate && snap.sendDate > decided ? snap.sendDate : decided;
  if (day <= seen) return null;
  const word = (d: string, due: string) => DUE_WORDS[dueState(d, due)];
  const moved = (snap.invoices ?? []).flatMap((i) =>
    i.dueDate && word(seen, i.dueDate) !== word(day, i.dueDate)
      ? [
          `${i.number ? `invoice ${i.number}` : 'an invoice'} was ${word(seen, i.dueDate)} and would now read ${word(day, i.dueDate)}`,
        ]
      : [],
  );
  if (moved.length === 0) return null;
  return `Approved as it read on ${seen}; sent on ${day} it would say something else (${moved.join('; ')}): approve again`;
}

/**
 * The email is rendered once, as of the planned send time, and stored: every attempt sends the same bytes, so the
 * provider's idempotency (same key, same body) holds however late a retry runs. Rendering reads the database, so it
 * happens here, outside the attempt's transaction (PGlite has a single connection).
 *
 * One exception: a body rendered for an earlier day in the debtor's time zone (the message waited: deferred over a
 * weekend by the send window, held while the API key was revoked or the quota used up, retried after 429s) said
 * "due today", "15 days overdue", "statement as of Jul 1" for that day. When nothing under the key can have reached
 * the provider (not in doubt, not bound to a stored batch: every earlier call ended in a definite refusal, which
 * Resend does not keep under the key), it is rendered again, as of now, before the attempt. A message in doubt keeps
 * its bytes: a retry under its key must be the same request.
 */
export async function renderOnce(services: DunningDeps, row: Row): Promise<Row> {
  const stored = hasStoredBody(row);
  if (stored && (row.inDoubtSince || row.batchId)) return row;
  const tenant = await tenantRow(services.db, row.tenantId);
  const customer = await customerRow(services.db, row.customerId);
  if (!tenant || !customer) return row; // the attempt's re-check skips it (customer_gone)
  const zone = debtorZone(customer, tenant);
  const asOf = renderAsOf(row, zone, services.clock.now());
  if (!asOf) return row;
  const email = await composeEmail(services, row, tenant, customer, asOf);
  const rendered = {
    subject: email.subject,
    html: email.html,
    text: email.text,
    templateVersion: email.templateVersion,
    renderedAsOf: asOf,
    // The reason counts days as this body does (it may be for a later day than the one planned).
    ...reasonsAsOf(row, localParts(asOf, zone).date),
  };
  const written = await storeRendered(services.db, row.id, rendered, stored ? row.renderedAsOf! : undefined);
  if (written) return written;
  const current = await messageRow(services.db, row.id);
  return current ?? row;
}

function hasStoredBody(row: Pick<Row, 'renderedAsOf' | 'subject' | 'html' | 'text'>): boolean {
  return row.renderedAsOf !== null && row.subject !== null && row.html !== null && row.text !== null;
}

/** The columns renderAsOf reads of a message. */
type RenderAsOfRow = Pick<
  Row,
  | 'renderedAsOf'
  | 'subject'
  | 'html'
  | 'text'
  | 'inDoubtSince'
  | 'batchId'
  | 'sendAt'
  | 'status'
  | 'attemptStartedAt'
>;

/**
 * What an unsent message's body is rendered as of (renderOnce, and the preview route, so the reviewer reads what
 * goes out), or null when its stored body stands: a stored body in doubt or in a stored batch always stands, and
 * one rendered on or after today (the debtor's zone) too. Otherwise the planned send time when that is today or
 * later (a preview on Saturday of Monday's email reads Monday's days overdue), else now (it waited past its day).
 * In doubt includes an attempt that began and never concluded (its worker died mid-call, nobody took it over yet):
 * the takeover's claim marks it in doubt and sends those bytes (claim).
 */
export function renderAsOf(row: RenderAsOfRow, zone: string, now: Date): Date | null {
  if (hasStoredBody(row)) {
    const midCall = row.status === 'sending' && row.attemptStartedAt !== null;
    if (row.inDoubtSince || row.batchId || midCall) return null;
    if (!renderedForEarlierDay(row.renderedAsOf!, zone, now)) return null;
  }
  return localParts(row.sendAt, zone).date >= localParts(now, zone).date ? row.sendAt : now;
}

/** Statuses whose email has not gone out: rendered (and previewed) as the send will render it. */
export const UNSENT_STATUSES: ReadonlySet<string> = new Set([
  'planned',
  'awaiting_approval',
  'queued',
  'sending',
]);

/**
 * A message's reason and approval reason as its email reads: an unsent one's counted to the day its email will be
 * rendered for (renderAsOf: its send date, or today when it waited past it), a sent one's as stored (written for
 * the day its body was rendered).
 */
export function reasonsNow(
  m: RenderAsOfRow & Pick<Row, 'reason' | 'approvalReason' | 'snapshot'>,
  zone: string,
  now: Date,
): { reason: string; approvalReason: string | null } {
  const asOf = UNSENT_STATUSES.has(m.status) ? renderAsOf(m, zone, now) : null;
  return asOf
    ? reasonsAsOf(m, localParts(asOf, zone).date)
    : { reason: m.reason, approvalReason: m.approvalReason };
}

/**
 * The approvalVersion of a message as a reviewer sees it now (the API's view, the approve that names it): an unsent
 * one's due words for the day its email is rendered for (renderAsOf), so a page left open past midnight is refused.
 */
export function viewedVersion(m: Row, zone: string, now: Date): string {
  const snapshot = m.snapshot as Parameters<typeof approvalVersion>[0]['snapshot'];
  const asOf = UNSENT_STATUSES.has(m.status) ? renderAsOf(m, zone, now) : null;
  return approvalVersion({ ...m, snapshot }, localParts(asOf ?? m.renderedAsOf ?? m.sendAt, zone).date);
}

/** A body rendered as of `renderedAsOf` speaks of an earlier calendar day in `zone` than `now`'s. */
export function renderedForEarlierDay(renderedAsOf: Date, zone: string, now: Date): boolean {
  return localParts(renderedAsOf, zone).date < localParts(now, zone).date;
}

/**
 * One provider attempt, in one transaction: lock, re-check, call, record. The locks taken by the re-check are held
 * through the provider call (bounded by PROVIDER_TIMEOUT_MS), so nothing that settles these invoices can commit
 * between the decision and the request.
 */
async function attempt(
  services: DunningDeps,
  tx: Tx,
  id: string,
  owner: string,
  transport: MailTransport | null,
  opts: SendOptions,
  progress: { providerCalled: boolean },
  said: ReadonlyMap<string, LedgerInvoiceRead>,
): Promise<Attempt> {
  const now = services.clock.now();
  // Waiting on a long sync transaction for the locks is bounded too: an attempt (lock wait + provider call) stays
  // inside the send budget, the lease and the graceful stop. A timeout here hands the message back, nothing sent.
  await setLocalLockTimeout10s(tx);
  const row = await lockMessage(tx, id);
  // Taken over (our lease ran out and the sweeper's job claimed it): the new owner finishes it.
  if (row?.status !== 'sending' || row.leaseOwner !== owner)
    return done({ outcome: 'noop', status: row?.status ?? null });
  const inDoubt = row.inDoubtSince !== null;
  const check = await recheck(services, tx, row, now, said);
  if (check.kind === 'reread') {
    // Nothing was requested: the attempt marker goes, so a crash before the next read leaves no doubt behind.
    await setMessage(tx, row.id, { attemptStartedAt: null, updatedAt: now });
    return { kind: 'retry', waitMs: 0, error: check.reason };
  }
  if (check.kind === 'stop') {
    const d = check.decision;
    // Already possibly delivered, and now there is a reason not to send: only a person can tell what happened.
    if (inDoubt && d.action === 'skip')
      return done(await unconfirmed(tx, row, now, `${d.reason}; an earlier attempt may have been delivered`));
    return done(await record(services, tx, row, now, d));
  }
  const { tenant, customer, to } = check;
  // A bounced co-recipient is dropped before the first request; once one may have gone out, the body stays as it was.
  const recipients = inDoubt ? row.to : to;
  const replyTo = senderOf(tenant, services).replyTo;
  // Outbox or provider alike: a header that stored data could split is never sent, and the row says why.
  const unsafe = headerProblem({
    from: fromHeader(tenant, services) ?? '',
    to: recipients,
    replyTo,
    subject: row.subject ?? '',
    unsubscribeUrl: messageUnsubscribeUrl(services, row),
  });
  if (unsafe) {
    const reason = `Not sent: ${unsafe}`;
    return done(
      inDoubt
        ? await unconfirmed(tx, row, now, reason)
        : await failed(tx, row.id, now, reason, 'unsafe_header'),
    );
  }

  let providerId: string;
  if (!transport) {
    progress.providerCalled = true;
    providerId = `outbox:${row.id}`;
  } else {
    const from = fromHeader(tenant, services);
    if (!from) {
      const reason = 'MAIL_FROM is not configured; set the sender address to send through Resend';
      return done(inDoubt ? await unconfirmed(tx, row, now, reason) : await failed(tx, row.id, now, reason));
    }
    await countAttempt(tx, row.id, recipients);
    await opts.beforeProviderCall?.();
    progress.providerCalled = true;
    try {
      ({ providerId } = await transport.send(
        {
          id: row.id,
          from,
          to: recipients,
          replyTo,
          subject: row.subject ?? '',
          html: row.html ?? '',
          text: row.text ?? '',
          // The same URL the stored body was rendered with (deterministic in the message id).
          unsubscribeUrl: messageUnsubscribeUrl(services, row),
          tags: { kind: row.kind, tenant: row.tenantId },
        },
        { signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) },
      ));
    } catch (err) {
      const e =
        err instanceof MailSendError
          ? err
          : // Not classified (a bug, an SDK change): assume it may have gone out.
            new MailSendError(
              err instanceof Error ? err.message : String(err),
              'unknown',
              null,
              true,
              undefined,
              true,
            );
      const error = `${e.code}: ${e.message}`;
      const doubt = inDoubt || e.mayHaveBeenAccepted;
      if (e.code === 'invalid_idempotent_request') {
        // The provider holds another body under this key: something was accepted under it before.
        return done(
          await unconfirmed(
            tx,
            row,
            now,
            `The provider already accepted an email under this message's key (${error})`,
          ),
        );
      }
      if (!e.retryable) {
        return done(doubt ? await unconfirmed(tx, row, now, error) : await failed(tx, row.id, now, error));
      }
      // A 429 was answered before anything was queued: it gives its attempt back, so a rate-limit storm or a
      // used-up quota delays reminders (queued, the reason on the row) instead of failing them after 8 refusals.
      const refused = refusedForNow(e);
      await setMessage(tx, row.id, {
        error,
        inDoubtSince: row.inDoubtSince ?? (e.mayHaveBeenAccepted ? now : null),
        // A definite answer (a 429, a 401/403) settled this call: the attempt marker goes, so a worker dying before
        // the next call (in the wait, in the next live read) leaves no doubt behind; the in-doubt mark above stays.
        ...(e.mayHaveBeenAccepted ? {} : { attemptStartedAt: null }),
        ...(refused ? { attempts: row.attempts } : {}),
        updatedAt: now,
      });
      const n = row.attempts + 1;
      const waitMs =
        e.retryAfterMs ?? (retryAnHourLater(e) ? HOLD_RETRY_MS : Math.min(RETRY_MAX_MS, 500 * 2 ** (n - 1)));
      return { kind: 'retry', waitMs, error };
    }
  }
  await opts.afterProviderCall?.(providerId);
  await markSent(
    tx,
    row,
    tenant,
    customer,
    providerId,
    now,
    transport ? 'Sent through Resend' : 'Stored in the local outbox (no RESEND_API_KEY)',
  );
  return done({ outcome: 'sent', providerId });
}

/** The provider accepted the message: the row says so, and a final notice opens its call task. */
export async function markSent(
  tx: Tx,
  row: Row,
  tenant: typeof tenants.$inferSelect,
  customer: typeof customers.$inferSelect,
  providerId: string,
  now: Date,
  statusReason: string,
): Promise<void> {
  await setMessage(tx, row.id, {
    status: 'sent',
    providerId,
    sentAt: now,
    statusCode: 'ok',
    statusReason,
    error: null,
    ...released,
    updatedAt: now,
  });
  await openFinalNoticeCall(tx, row, tenant, customer, now);
}

export function done(result: SendOutcome): { kind: 'done'; result: SendOutcome } {
  return { kind: 'done', result };
}

/** Back to 'queued' with a job at the retry time; the in-doubt mark (if any) stays, so the 24 h rule applies. */
async function handBack(
  services: DunningDeps,
  id: string,
  owner: string,
  waitMs: number,
  reason: string,
): Promise<SendOutcome> {
  const now = services.clock.now();
  return services.db.transaction(async (tx) => {
    const row = await lockMessage(tx, id);
    if (row?.status !== 'sending' || row.leaseOwner !== owner)
      return { outcome: 'noop', status: row?.status ?? null };
    const until = new Date(
      now.getTime() +
        Math.max(waitMs, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, row.attempts - 1))),
    );
    return requeueForRetry(services, tx, row, now, until, reason);
  });
}

/** A locked message back to 'queued' (lease released) with its send job at `until`. */
export async function requeueForRetry(
  services: DunningDeps,
  tx: Tx,
  row: Row,
  now: Date,
  until: Date,
  reason: string,
): Promise<SendOutcome> {
  await setMessage(tx, row.id, {
    status: 'queued',
    sendAt: until,
    error: reason,
    statusCode: 'retrying',
    statusReason: `Retrying at ${until.toISOString()}: ${reason}`,
    ...released,
    updatedAt: now,
  });
  await enqueueSend(services, tx, row.id, until, `retry:${row.attempts}:${now.toISOString()}`);
  return { outcome: 'deferred', code: 'retrying', reason };
}

export async function failed(
  tx: Tx,
  id: string,
  now: Date,
  error: string,
  code = 'send_failed',
): Promise<SendOutcome> {
  const row = await setMessageReturning(tx, id, {
    status: 'failed',
    error,
    statusCode: code,
    statusReason: error,
    ...released,
    updatedAt: now,
  });
  // Nothing reached the debtor and nothing will retry it (a refused email, an address that cannot go in a header,
  // attempts used up): the sequence passes this step, so a person must hear of it, not only the message log.
  const what = row.kind === 'receipt' ? 'The payment receipt' : `"${row.subject ?? row.stepKey}"`;
  await openMessageReviewTask(tx, row, now, 'failed', (name) =>
    `${what} to ${name} could not be sent: ${error}`.slice(0, 500),
  );
  return { outcome: 'skipped', code, reason: error };
}

export type Recheck =
  | { kind: 'stop'; decision: SuppressionDecision }
  /** The invoices' rows changed after the live read: read the ledger again before deciding. */
  | { kind: 'reread'; reason: string }
  | {
      kind: 'send';
      tenant: typeof tenants.$inferSelect;
      customer: typeof customers.$inferSelect;
      to: string[];
    };

/**
 * The pre-send re-check, inside the attempt's transaction: the customer's row, then the invoices' rows, locked FOR
 * SHARE (in that order, the order the sync writes them) until the transaction ends.
 */
export async function recheck(
  services: DunningDeps,
  tx: Tx,
  row: Row,
  now: Date,
  said: ReadonlyMap<string, LedgerInvoiceRead> = new Map(),
): Promise<Recheck> {
  const tenant = await tenantRow(tx, row.tenantId);
  const customer = await shareLockCustomer(tx, row.customerId);
  if (!tenant || !customer)
    return { kind: 'stop', decision: skip('customer_gone', 'The customer no longer exists') };
  // Go-live and "pause all sending" (issue 14): the pure rule is sendingGate in suppression.ts. A reminder is
  // taken back and re-planned; a receipt is held and retried (it is queued again when sending resumes).
  const gate = sendingGate(sendingSwitches(tenant));
  if (gate) {
    const d: SuppressionDecision = row.kind === 'receipt' ? { ...gate, action: 'hold', replan: false } : gate;
    return { kind: 'stop', decision: d };
  }
  const config = await loadDunningConfig(tx, tenant);
  const timeZone = customer.timezone || config.settings.timezone;
  const today = localParts(now, timeZone).date;

  const live = await liveInvoiceState(services, row.tenantId, row.invoiceIds, tx);
  // The live read's answer and the rows locked now must agree: a write in between (a sync page fetched before a
  // payment, tied with it on a ledger's whole-second change time) could have put an older balance back.
  const moved = movedSinceLiveRead(said, live);
  if (moved.length > 0) {
    return {
      kind: 'reread',
      reason: `Invoice ${moved.map((m) => m.number).join(', ')} changed after the live read from the accounting system; read again`,
    };
  }
  const overrides = await overridesFor(tx, row.tenantId, row.customerId, row.invoiceIds);
  const custOverride = overrides.find((o) => o.customerId === row.customerId);
  const invOverride = new Map(overrides.filter((o) => o.invoiceId).map((o) => [o.invoiceId!, toOverride(o)]));
  // A job billed with the message's customer: its pause or exclusion holds its invoices, as the planner reads it.
  const jobOverride = new Map(
    (await jobOverridesFor(tx, row.tenantId, row.customerId, row.invoiceIds)).map((o) => [o.invoice_id, o]),
  );
  const disputeRows = await openDisputesOf(tx, row.tenantId, row.invoiceIds);
  const promiseRows = await livePromisesOverlapping(tx, row.tenantId, row.invoiceIds);
  const suppressions = await loadSuppressions(tx, row.tenantId, [row.customerId]);
  const { badEmails } = suppressions;
  // Opted out: the debtor, or an address of the message a released CSV debtor opted out with (loadSuppressions).
  const optedOut = (customerId: string) =>
    suppressions.optedOut.has(customerId) || anyOptedOut(row.to, suppressions.optedOutEmails);
  const reach = reachable(row.to, badEmails);
  const conn = await connectionStatuses(tx, row.tenantId);
  const reconnect = conn.some((c) => c.status === 'reconnect_needed');
  // Every connection disconnected (the company was unplugged, in Duely or in its ledger): the ledger is frozen.
  const disconnected = conn.length > 0 && conn.every((c) => c.status === 'disconnected');

  const window = { ...config.settings, timeZone };
  let decision: SuppressionDecision;
  if (row.kind === 'receipt') {
    decision = receiptDecision(row.invoiceIds, live, optedOut(row.customerId), reach.bounced, window, now);
  } else {
    const snapshot = row.snapshot as { invoices?: { invoiceId: string; openBalanceMinor: number }[] };
    const liveInvoices: LiveInvoice[] = live.map((l) => {
      const own = invOverride.get(l.invoiceId);
      const job = jobOverride.get(l.invoiceId);
      const pausedUntil = [own?.pausedUntil, job?.paused_until ?? undefined]
        .filter((d) => d !== undefined)
        .sort()
        .at(-1);
      const ov = { excluded: (own?.excluded ?? false) || job?.excluded === true, pausedUntil };
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
        optedOut: optedOut(row.customerId),
        bounced: reach.bounced,
        excluded: custOverride?.excluded ?? false,
        pausedUntil: custOverride?.pausedUntil ?? null,
      },
      connection: { status: reconnect ? 'needs_reconnect' : disconnected ? 'disconnected' : 'active' },
      // Receipts are not held for an old upload: a thank-you for a payment the export shows chases nobody.
      upload: uploadAsOfAttempt(
        await uploadedLedger(tx, tenant, config.settings.maxUploadAgeDays, conn.length, row.invoiceIds),
        row.inDoubtSince,
      ),
      window,
    });
  }
  // A retry of an attempt that may already have been delivered is a confirmation under the same key: the send window
  // does not push it past the provider's key window. Inside that window it waits for the debtor's hours like any
  // email — after a long provider outage the "confirmation" is most likely the first delivery, and at night.
  if (decision.action === 'defer' && row.inDoubtSince) {
    const keyEnds = row.inDoubtSince.getTime() + IDEMPOTENCY_WINDOW_MS - IN_DOUBT_DEFER_MARGIN_MS;
    if (!decision.until || decision.until.getTime() > keyEnds)
      decision = { action: 'send', code: 'ok', reason: 'Retry of an attempt in doubt', replan: false };
  }
  if (decision.action !== 'send') return { kind: 'stop', decision };
  // Approved as it read then: a customer renamed in the ledger since would be greeted by a name nobody approved.
  // (A retry of an attempt in doubt confirms what may have left already: not held.)
  if (row.kind !== 'receipt' && !row.inDoubtSince) {
    const renamed = await viewChangedSinceApproval(tx, row, customer, now);
    if (renamed) return { kind: 'stop', decision: renamed };
  }
  // In doubt too: a retry under the key is the first delivery whenever the earlier call was not in fact accepted, and
  // credit moves no invoice balance, so this is the only check that sees a payer who paid on account meanwhile. The
  // caller turns the skip into 'unconfirmed' (a person checks), as it does for a payment applied to the invoice.
  if (row.kind !== 'receipt') {
    const credit = await creditSincePlanned(tx, row, localParts(now, tenant.timezone || 'UTC').date);
    if (credit) return { kind: 'stop', decision: credit };
    const held = await heldSincePlanned(tx, row, today);
    if (held) return { kind: 'stop', decision: held };
  }
  // A confirmation under the same key reaches nobody new; anything else counts against the tenant's daily cap.
  if (!row.inDoubtSince) {
    const capped = await dailyCapDecision(services, tx, row, reach.emails.length, now);
    if (capped) return { kind: 'stop', decision: capped };
  }
  return { kind: 'send', tenant, customer, to: reach.emails };
}

/**
 * An approved message whose customer row now reads otherwise in the email than when it was approved (debtor-view.ts:
 * the name, the greeting, "customer since", the locale): back to a reviewer with the reason, its approval withdrawn
 * and its snapshot showing what it will now say (so the next approval covers that). A message that stored no view
 * (planned before stop 40) is compared on nothing: its approval stands, as it did.
 */
async function viewChangedSinceApproval(
  tx: Tx,
  row: Row,
  customer: typeof customers.$inferSelect,
  now: Date,
): Promise<SuppressionDecision | null> {
  if (!row.requiresApproval || row.decidedAt === null) return null;
  const snapshot = row.snapshot as { debtor?: DebtorView } & Record<string, unknown>;
  if (!snapshot.debtor) return null;
  const current = debtorView(customer);
  const reason = debtorViewChange(snapshot.debtor, current);
  if (!reason) return null;
  await setMessage(tx, row.id, {
    decidedAt: null,
    decidedBy: null,
    snapshot: { ...snapshot, debtor: current },
    updatedAt: now,
  });
  return { action: 'hold', code: 'awaiting_approval', reason, replan: false };
}

/**
 * A retry of an attempt in doubt is a confirmation under the same key, of an email checked when that attempt began.
 * Without a newer upload its invoices' rows are the ones that check read, so an upload that was recent enough then is
 * not a reason to hold the retry now: held, it would only wait out the key's window and end 'may have been sent'. A
 * newer upload is read as usual (one showing the invoice paid stops the retry: a person checks).
 */
function uploadAsOfAttempt(upload: LedgerUpload | null, inDoubtSince: Date | null): LedgerUpload | null {
  if (!upload || !inDoubtSince) return upload;
  return staleUpload(upload, inDoubtSince) ? upload : null;
}

/**
 * Credit on account (unapplied payments, open credit memos) that grew in the message's currencies since it was
 * planned, even approved: a customer who paid without the payment being applied to an invoice leaves every invoice
 * balance as it was, so the live invoice re-check cannot see it. The message is not sent and is planned again with
 * the credit (none at all when it covers what is open; otherwise a reviewer sees it), never with the old figures.
 * Counted as the planner counts it, as of the company's day (`asOf`, tenant timezone): a post-dated credit memo is
 * new credit on the day it is dated, not before.
 */
async function creditSincePlanned(tx: Tx, row: Row, asOf: string): Promise<SuppressionDecision | null> {
  const snapshot = row.snapshot as {
    totals?: { currency: string }[];
    credits?: { currency: string; creditMinor: number }[];
  };
  const currencies = new Set((snapshot.totals ?? []).map((t) => t.currency));
  if (currencies.size === 0) return null;
  const planned = new Map((snapshot.credits ?? []).map((c) => [c.currency, c.creditMinor]));
  // As the planner counts it: the jobs billed with this customer use its credit too (their invoices are its to pay).
  const customerIds = await customerWithBilledJobs(tx, row.tenantId, row.customerId);
  const held = new Map<string, number>();
  for (const c of await creditOnAccount(tx, { tenantId: row.tenantId, customerIds, asOf }))
    held.set(c.currency, (held.get(c.currency) ?? 0) + c.creditMinor);
  const grown = [...held]
    .map(([currency, creditMinor]) => ({ currency, creditMinor }))
    .filter((c) => currencies.has(c.currency) && c.creditMinor > (planned.get(c.currency) ?? 0));
  if (grown.length === 0) return null;
  const amounts = grown.map((c) => formatMoney(c.creditMinor, c.currency, 'en-US')).join(', ');
  return {
    action: 'skip',
    code: 'credit_on_account',
    reason: `Credit on account since this was planned (${amounts} of unapplied payments and credits): not sent, planned again with it`,
    replan: true,
  };
}

/**
 * The invoices the message names as on hold (snapshot `held`) as they stand now, by the planner's rules: a dispute
 * resolved or past its date, a pause or promise over, or another hold since. Such a message would explain an absence
 * that is no more (or the wrong way): not sent, planned again, as for any other change of what it says.
 */
async function heldSincePlanned(tx: Tx, row: Row, today: string): Promise<SuppressionDecision | null> {
  const named = (row.snapshot as { held?: HeldInvoice[] } | null)?.held ?? [];
  if (named.length === 0) return null;
  const ids = named.map((h) => h.invoiceId);
  const overrides = await overridesFor(tx, row.tenantId, row.customerId, ids);
  const disputed = await openDisputesOf(tx, row.tenantId, ids);
  const promised = await livePromisesOverlapping(tx, row.tenantId, ids);
  const holds = new Map<string, { code: DecisionCode }>();
  for (const id of ids) {
    const ov = overrides.find((o) => o.invoiceId === id);
    const code: DecisionCode | null = ov?.excluded
      ? 'invoice_excluded'
      : ov?.pausedUntil && today < ov.pausedUntil
        ? 'invoice_paused'
        : disputed.some((d) => d.invoiceId === id && (d.until === null || today < d.until))
          ? 'disputed'
          : promised.some(
                (p) => p.invoiceIds.includes(id) && today < addDays(p.promisedDate, p.graceDays + 1),
              )
            ? 'promise_to_pay'
            : null;
    if (code) holds.set(id, { code });
  }
  const balances = new Map(
    (await heldInvoiceRows(tx, row.tenantId, ids))
      .filter((i) => i.status === 'open')
      .map((i) => [String(i.id), Number(i.balanceMinor)]),
  );
  const changed = heldChange(named, holds, balances);
  return changed ? { action: 'skip', code: changed.code, reason: changed.reason, replan: true } : null;
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * MAIL_DAILY_CAP: the recipients one tenant's emails may reach in any 24 hours, whatever the ledger or the
 * overrides say, so a tenant cannot turn Duely into a mass mailer. Over the cap the message waits (queued) until
 * the oldest send of the window is 24 hours old. Checks of one tenant serialize on an advisory lock, so two
 * workers cannot both take the last place; the message itself is not counted.
 */
async function dailyCapDecision(
  services: DunningDeps,
  tx: Tx,
  row: Row,
  recipients: number,
  now: Date,
): Promise<SuppressionDecision | null> {
  const cap = services.config.MAIL_DAILY_CAP;
  await advisoryXactLock(tx, `send-cap:${row.tenantId}`);
  const since = new Date(now.getTime() - DAY_MS);
  const used = await recipientsUsedSince(tx, row.tenantId, row.id, since);
  const n = used?.n ?? 0;
  if (n + recipients <= cap) return null;
  const oldest = used?.oldest ? new Date(used.oldest) : now;
  const until = new Date(Math.max(oldest.getTime() + DAY_MS, now.getTime() + HOLD_RETRY_MS));
  return {
    action: 'defer',
    code: 'daily_cap',
    reason: `The tenant's emails reached ${n} of ${cap} recipients in 24 hours (MAIL_DAILY_CAP); deferred to ${until.toISOString()}`,
    replan: false,
    until,
  };
}

function receiptDecision(
  invoiceIds: readonly string[],
  live: Awaited<ReturnType<typeof liveInvoiceState>>,
  optedOut: boolean,
  bounced: boolean,
  window: Parameters<typeof windowBlock>[0] & { timeZone: string },
  now: Date,
): SuppressionDecision {
  if (optedOut) return skip('opted_out', 'The customer unsubscribed');
  if (bounced) return skip('bounced', "The customer's address bounced");
  const reopened = live.filter((l) => l.status === 'open');
  if (reopened.length > 0) {
    return skip('payment_reversed', `Invoice ${reopened.map((l) => l.number).join(', ')} is no longer paid`);
  }
  // Voided or deleted in the ledger (or no row left): not a reversed payment; the reminders' wording.
  const gone = invoiceIds.flatMap(
    (id) =>
      voidOrDeleted(
        id,
        live.find((l) => l.invoiceId === id),
      ) ?? [],
  );
  if (gone.length > 0 || live.length === 0) {
    return skip('void_or_deleted', gone.map((g) => g.text).join('; ') || 'The invoice was deleted');
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

export async function record(
  services: DunningDeps,
  tx: Tx,
  row: Row,
  now: Date,
  d: SuppressionDecision,
): Promise<SendOutcome> {
  const id = row.id;
  if (d.action === 'skip') {
    await setMessage(tx, id, {
      status: 'skipped',
      statusCode: d.code,
      statusReason: d.reason,
      ...released,
      updatedAt: now,
    });
    if (d.replan) {
      // Some invoices are still owed: release this message's steps and plan again with the current figures.
      await releaseSteps(tx, id);
      await services.dunningJobs.replan(tx, row.tenantId, 'replan');
    }
    return { outcome: 'skipped', code: d.code, reason: d.reason };
  }
  if (d.action === 'hold' && d.code === 'awaiting_approval') {
    await setMessage(tx, id, {
      status: 'awaiting_approval',
      statusCode: d.code,
      statusReason: d.reason,
      ...released,
      updatedAt: now,
    });
    return { outcome: 'held', code: d.code, reason: d.reason };
  }
  if (d.action === 'hold' && d.code === 'ledger_stale') {
    // Held until a newer upload: nothing but an upload (releaseUploadHolds), a connection (planTenantIn) or a policy
    // change (which plans it again) can end this hold, so no job re-checks it hourly meanwhile; it keeps its send
    // time and the sweep leaves it (queuedSendingBefore). Before, it was re-checked every hour for ever.
    await setMessage(tx, id, {
      status: 'queued',
      statusCode: d.code,
      statusReason: d.reason,
      ...released,
      updatedAt: now,
    });
    return { outcome: 'held', code: d.code, reason: d.reason };
  }
  // Held (connection needs reconnecting) or deferred (outside the send window): queued again, with a job.
  const until = d.action === 'defer' && d.until ? d.until : new Date(now.getTime() + HOLD_RETRY_MS);
  await setMessage(tx, id, {
    status: 'queued',
    statusCode: d.code,
    statusReason: d.reason,
    sendAt: until,
    ...released,
    updatedAt: now,
  });
  await enqueueSend(services, tx, id, until, `${d.action}:${until.toISOString()}:${now.toISOString()}`);
  return { outcome: d.action === 'defer' ? 'deferred' : 'held', code: d.code, reason: d.reason };
}
