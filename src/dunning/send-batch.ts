/**
 * Sending through Resend's POST /emails/batch (up to 100 emails per request; the default limit of 2 requests/s
 * then allows 200 emails/s instead of 2), when MAIL_BATCH is on. The guarantees of send-message.ts hold per member,
 * and the batch adds one rule: what was stored is what is sent.
 *
 * 1. Fixed before the first call. The due messages are claimed ('sending', this owner) and rendered once, then
 *    written, in one transaction, into a batch row: the members in a fixed order, the exact request body (JSON
 *    text, recipients minus known bounces) and the idempotency key `batch/<id>`. (The guards are not run here: they
 *    run under locks right before each call, rule 2, and running them twice cost a third of the batch's time.) Every call for the batch, first or
 *    retry (crash, 5xx, 429, timeout), sends exactly that body under exactly that key; Resend answers a repeat with
 *    the ids of the first acceptance and sends nothing again. A member is never sent outside its batch
 *    (sendMessage refuses a row with batch_id: 'batched').
 * 2. Never email a payer. Right before each call, one transaction locks the batch, every member, the members'
 *    customers and invoices (the same re-check as sendMessage, after the connector's live read) and holds them
 *    through the call. If a member no longer passes:
 *    - no call under the key can have been accepted (no call began, or each ended with a definite refusal such as
 *      a 429): the batch is abandoned (its key is never used again), that member is recorded as the re-check says
 *      (skipped, held, deferred) and the others go back to the queue for a new batch with a new key;
 *    - a call may have been accepted (timeout, 5xx, dropped connection, a crash mid-call): the body cannot change,
 *      and sending it again could reach the payer for the first time. If the member is to be skipped, every member
 *      becomes 'unconfirmed' with a review task ("may have been sent — check Resend for this key"); if it is only
 *      held or deferred, the batch waits and is retried unchanged later.
 * 3. All or nothing. Strict validation (the default, sent explicitly): Resend sends a batch only if every email is
 *    valid (https://resend.com/changelog/batch-validation-modes), so an answer covers all members. A 200 is matched
 *    to the members by position; a 200 whose ids do not match them one to one was accepted but cannot be mapped:
 *    every member becomes 'unconfirmed' (never re-sent). A definite refusal (4xx other than 429/409) sends the
 *    members back to the queue one by one (single sends report the bad one).
 * 4. Never lost, never hanging, never twice after 24 h. A batch in 'open' has an owner with a lease; a crash leaves
 *    call_started_at set, and whoever takes it over treats the batch as in doubt. Resend keeps keys 24 hours: a
 *    batch in doubt for IDEMPOTENCY_WINDOW_MS is concluded 'unconfirmed' by its next claim or by the sweeper
 *    (send-sweep.ts), never sent again.
 */
import { randomUUID } from 'node:crypto';
import { advisoryXactLock } from '../db/advisory-lock';
import type { Tx } from '../db/client';
import {
  acceptanceEvidence,
  countBatchAttempt,
  insertSendBatch,
  lockBatchCandidates,
  lockMessage,
  lockSendBatch,
  messageRow,
  renderDays,
  type SendBatch,
  setBatchMembers,
  setLocalLockTimeout10s,
  setMessage,
  setSendBatch,
  tenantRow,
  unownedOpenBatches,
} from '../db/queries/dunning-send';
import type { dunningMessages } from '../db/schema';
import { RETRY_AFTER_CAP_MS, refusedForNow, retryAnHourLater } from '../mail/resend';
import {
  headerProblem,
  isBatchTransport,
  MailSendError,
  type MailTransport,
  type OutboundEmail,
} from '../mail/transport';
import { fromHeader, messageUnsubscribeUrl, RenderError, senderOf } from './compose-email';
import { enqueueSend } from './engine';
import { refreshLiveState } from './live-invoice-state';
import { loadSuppressions, reachable } from './planner-input';
import type { DunningDeps, LedgerInvoiceRead } from './ports';
import {
  claim,
  EARLY_TOLERANCE_MS,
  failed,
  HOLD_RETRY_MS,
  IDEMPOTENCY_WINDOW_MS,
  IN_CALL_ATTEMPTS,
  MAX_PROVIDER_ATTEMPTS,
  markSent,
  PROVIDER_TIMEOUT_MS,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  type Recheck,
  recheck,
  record,
  released,
  renderedForEarlierDay,
  renderOnce,
  requeueForRetry,
  SEND_BUDGET_MS,
  SENDING_LEASE_MS,
  type SendOptions,
  type SendOutcome,
  sendMessage,
  unconfirmed,
} from './send-message';
import type { SuppressionDecision } from './suppression';
import { markKnownSent } from './unconfirmed';

type Row = typeof dunningMessages.$inferSelect;

export interface BatchSendOptions extends Omit<SendOptions, 'beforeProviderCall' | 'afterProviderCall'> {
  /** Members per request (at most the transport's maxBatchSize). */
  batchSize?: number;
  /** Form new batches (default: MAIL_BATCH). Open batches are resumed either way. */
  batching?: boolean;
  /** Test hook: the seed was read as queued, not yet claimed (another worker may act in between). */
  beforeClaim?: () => Promise<void> | void;
  /** Test hook: the batch row was committed, no call begun (a crash here: the next claim resends it). */
  afterBatchWritten?: (batchId: string) => Promise<void> | void;
  /** Test hook: inside the call's transaction, locks held, right before the request. */
  beforeProviderCall?: (batchId: string) => Promise<void> | void;
  /** Test hook: the provider accepted the batch, before the rows say so (a crash here). */
  afterProviderCall?: (providerIds: string[]) => Promise<void> | void;
}

type Outcomes = Map<string, SendOutcome>;

/** Thrown to roll a batch claim back when its seed turned out to be an attempt in doubt (see sendDue). */
class SeedInDoubt extends Error {}
type CallResult = { kind: 'done' } | { kind: 'retry'; waitMs: number; error: string; clearMarker: boolean };

/** Resend's batch key for a stored batch: the same on every call for it. */
export function batchKey(batchId: string): string {
  return `batch/${batchId}`;
}

/**
 * The send job's entry when MAIL_BATCH is on: `messageId` and the other due messages (up to the batch size) go out
 * in one stored batch. A member of an open batch resumes that batch; without a batch-capable transport, or for a
 * message with an attempt in doubt under its own key, this is sendMessage.
 */
export async function sendDue(
  services: DunningDeps,
  messageId: string,
  opts: BatchSendOptions = {},
): Promise<SendOutcome> {
  const transport = opts.transport !== undefined ? opts.transport : services.mailer;
  const pre = await messageRow(services.db, messageId);
  if (!pre) return { outcome: 'noop', status: null };
  if (pre.batchId && pre.status === 'sending') return resumeBatch(services, pre.batchId, messageId, opts);
  const single = () =>
    sendMessage(services, messageId, {
      transport: opts.transport,
      owner: opts.owner,
      sleep: opts.sleep,
      afterClaim: opts.afterClaim,
    });
  const batching = opts.batching ?? services.config.MAIL_BATCH;
  // A message with an attempt in doubt stays under its own key; one a batch got refused for goes alone.
  if (
    !batching ||
    !isBatchTransport(transport) ||
    pre.status !== 'queued' ||
    pre.inDoubtSince ||
    pre.statusCode === 'batch_refused'
  )
    return single();
  const size = Math.max(1, Math.min(opts.batchSize ?? transport.maxBatchSize, transport.maxBatchSize));
  const owner = opts.owner ?? randomUUID();
  const outcomes: Outcomes = new Map();
  await opts.beforeClaim?.();
  const now = services.clock.now();
  // 1. Claim: the seed through sendMessage's own rules, then whatever else is due.
  const claimed = await services.db
    .transaction(async (tx) => {
      const rows: Row[] = [];
      const seed = await claim(services, tx, messageId, owner, now);
      if (seed.kind === 'done') {
        outcomes.set(messageId, seed.result);
        return rows;
      }
      // Read as queued above without a lock: since then another worker may have begun an attempt and died (its lease
      // lapsed), and the claim took it over in doubt. It stays under its own key (a batch's key would deliver it a
      // second time): nothing of this claim is kept, and it goes through sendMessage.
      if (seed.row.inDoubtSince) throw new SeedInDoubt();
      rows.push(seed.row);
      const due = new Date(now.getTime() + EARLY_TOLERANCE_MS);
      for (const c of await lockBatchCandidates(tx, messageId, due, size - 1)) {
        const step = await claim(services, tx, c.id, owner, now);
        if (step.kind === 'done') outcomes.set(c.id, step.result);
        else rows.push(step.row);
      }
      // Claimed for a batch: nothing can reach the provider before the batch row exists.
      for (const r of rows) await setMessage(tx, r.id, { attemptStartedAt: null });
      return rows.map((r) => ({ ...r, attemptStartedAt: null }));
    })
    .catch((err: unknown) => {
      if (err instanceof SeedInDoubt) return null;
      throw err;
    });
  if (claimed === null) return single();
  if (claimed.length === 0) return outcomes.get(messageId) ?? { outcome: 'noop', status: null };
  opts.afterClaim?.();

  // 2. Render once (stored bytes) and read the invoices live, outside any transaction.
  const ready: Row[] = [];
  for (const c of claimed) {
    try {
      ready.push(await renderOnce(services, c));
    } catch (err) {
      // A database error while rendering is transient: the member goes back to the queue (as sendMessage does).
      if (!(err instanceof RenderError)) {
        const reason = `The email could not be prepared: ${(err as Error).message}`;
        outcomes.set(c.id, await releaseMember(services, c.id, owner, reason));
        continue;
      }
      const reason = `The email could not be rendered: ${err.message}`;
      outcomes.set(
        c.id,
        await services.db.transaction((tx) => failed(tx, c.id, services.clock.now(), reason)),
      );
    }
  }
  const live = await refreshMembers(services, ready);
  for (const [id, reason] of live.failed) outcomes.set(id, await releaseMember(services, id, owner, reason));
  const members = ready.filter((r) => !live.failed.has(r.id));

  // 3. Store: the batch row with its members, body and key, committed before any call. The guards that decide
  // whether a member may be emailed run right before each call, under locks held through it (callOnce); a member
  // that fails them there drops the batch (nothing sent) and is recorded. Here only what the body needs: the
  // sender, and the recipients minus addresses known to bounce (so a stored body never names one).
  const written = await services.db.transaction(async (tx) => {
    await setLocalLockTimeout10s(tx);
    const t = services.clock.now();
    const emails: OutboundEmail[] = [];
    const ids: string[] = [];
    const tenantsById = new Map<string, Awaited<ReturnType<typeof tenantRow>>>();
    const badByTenant = new Map<string, Set<string>>();
    for (const m of members) {
      const row = await lockMessage(tx, m.id);
      if (row?.status !== 'sending' || row.leaseOwner !== owner || row.batchId) {
        outcomes.set(m.id, { outcome: 'noop', status: row?.status ?? null });
        continue;
      }
      if (!tenantsById.has(row.tenantId)) tenantsById.set(row.tenantId, await tenantRow(tx, row.tenantId));
      const tenant = tenantsById.get(row.tenantId);
      if (!tenant) {
        const d = skipDecision('customer_gone', 'The customer no longer exists');
        outcomes.set(m.id, await record(services, tx, row, t, d));
        continue;
      }
      let bad = badByTenant.get(row.tenantId);
      if (!bad) {
        const customers = members.filter((x) => x.tenantId === row.tenantId).map((x) => x.customerId);
        bad = (await loadSuppressions(tx, row.tenantId, customers)).badEmails;
        badByTenant.set(row.tenantId, bad);
      }
      const to = reachable(row.to, bad).emails;
      if (to.length === 0) {
        const d = skipDecision('bounced', "The customer's address bounced");
        outcomes.set(m.id, await record(services, tx, row, t, d));
        continue;
      }
      const email = outbound(services, row, { tenant, to });
      if (typeof email === 'string') {
        outcomes.set(m.id, await failed(tx, row.id, t, email, 'unsafe_header'));
        continue;
      }
      emails.push(email);
      ids.push(row.id);
    }
    if (ids.length === 0) return null;
    const id = randomUUID();
    const leaseUntil = new Date(t.getTime() + SENDING_LEASE_MS);
    await insertSendBatch(tx, {
      id,
      idempotencyKey: batchKey(id),
      memberIds: ids,
      payload: JSON.stringify(emails),
      status: 'open',
      leaseOwner: owner,
      leaseUntil,
      createdAt: t,
      updatedAt: t,
    });
    for (const [i, mid] of ids.entries()) {
      // A member's attempts count the batch's calls as they are made (callOnce), as sendMessage counts its own: a
      // batch dropped before its call (a member held for an old upload, every hour until the next one) counts none.
      // Counted here, eight such batches failed the reminder ("Gave up after 8 provider attempts") with no call made.
      await setMessage(tx, mid, {
        batchId: id,
        to: emails[i]!.to,
        leaseUntil,
        statusReason: `In batch ${batchKey(id)} (${ids.length} emails)`,
        updatedAt: t,
      });
    }
    return id;
  });
  if (!written) return outcomes.get(messageId) ?? { outcome: 'noop', status: null };
  await opts.afterBatchWritten?.(written);
  await runBatch(services, written, owner, transport, opts, outcomes);
  return outcomes.get(messageId) ?? (await memberOutcome(services, messageId));
}

/**
 * Takes over an open batch (a member's job, the sweeper, a retry): the same members, body and key. An earlier call
 * that never concluded (its worker died) may have been accepted: the batch is in doubt from then.
 */
export async function resumeBatch(
  services: DunningDeps,
  batchId: string,
  messageId: string | null,
  opts: BatchSendOptions = {},
): Promise<SendOutcome> {
  const transport = opts.transport !== undefined ? opts.transport : services.mailer;
  const owner = opts.owner ?? randomUUID();
  const outcomes: Outcomes = new Map();
  const now = services.clock.now();
  const go = await services.db.transaction(async (tx) => {
    const b = await lockSendBatch(tx, batchId);
    if (b?.status !== 'open') return false;
    if (b.leaseOwner && b.leaseOwner !== owner && b.leaseUntil && b.leaseUntil > now) {
      await enqueueSend(
        services,
        tx,
        b.memberIds[0]!,
        b.leaseUntil,
        `batch-lease:${b.leaseUntil.toISOString()}`,
      );
      if (messageId) outcomes.set(messageId, { outcome: 'busy', until: b.leaseUntil });
      return false;
    }
    const inDoubt = b.inDoubtSince ?? b.callStartedAt;
    if (inDoubt && now.getTime() - inDoubt.getTime() > IDEMPOTENCY_WINDOW_MS) {
      await unconfirmedBatch(
        tx,
        { ...b, inDoubtSince: inDoubt },
        now,
        'The batch may have been delivered and Resend no longer dedupes its key; not re-sent',
        outcomes,
      );
      return false;
    }
    // In doubt, the key window above is the limit (a repeat under the key is safe), not a count of calls.
    if (!inDoubt && b.calls >= MAX_PROVIDER_ATTEMPTS) {
      const reason = `Gave up after ${b.calls} batch calls${b.error ? ` (last: ${b.error})` : ''}`;
      await failBatch(tx, b, now, reason, outcomes);
      return false;
    }
    // Written for an earlier day in some member's time zone (held by 429s, a revoked key, a used-up quota) and no
    // call under its key can have been accepted: the stored bodies say "due today" / days overdue for that day.
    // Abandoned (the key is never used again); the members are rendered again for today and batched anew.
    if (!inDoubt && (await writtenForEarlierDay(tx, b, now))) {
      await abandon(services, tx, b, now, 'Written for an earlier day: rendered again for today', outcomes);
      return false;
    }
    if (!isBatchTransport(transport)) {
      // MAIL_BATCH or the API key went away while a batch was open: it can only be finished by the batch endpoint.
      if (!inDoubt) {
        await abandon(services, tx, b, now, 'No batch-capable transport: members sent one by one', outcomes);
        return false;
      }
    }
    const leaseUntil = new Date(now.getTime() + SENDING_LEASE_MS);
    await setSendBatch(tx, batchId, {
      leaseOwner: owner,
      leaseUntil,
      inDoubtSince: inDoubt,
      callStartedAt: null,
      updatedAt: now,
    });
    await setBatchMembers(tx, batchId, {
      leaseOwner: owner,
      leaseUntil,
      ...(inDoubt ? { inDoubtSince: inDoubt } : {}),
      updatedAt: now,
    });
    return true;
  });
  if (go && isBatchTransport(transport)) await runBatch(services, batchId, owner, transport, opts, outcomes);
  else if (go)
    await handBackBatch(services, batchId, owner, HOLD_RETRY_MS, 'No batch-capable transport', true);
  if (!messageId) return { outcome: 'noop', status: null };
  return outcomes.get(messageId) ?? (await memberOutcome(services, messageId));
}

/**
 * The sweeper's part (send-sweep.ts): an open batch nobody works on is resumed by a job now (the same members and
 * key) if its lease ran out; one that may have been accepted and is about to outlive Resend's 24 h key
 * (IDEMPOTENCY_WINDOW_MS) is concluded 'unconfirmed' for a person to check, never sent again.
 */
export async function sweepBatches(
  services: DunningDeps,
  now: Date,
): Promise<{ resumed: string[]; unconfirmed: string[] }> {
  const out = { resumed: [] as string[], unconfirmed: [] as string[] };
  for (const s of await unownedOpenBatches(services.db, now)) {
    const inDoubt = s.inDoubtSince ?? s.callStartedAt;
    if (inDoubt && now.getTime() - inDoubt.getTime() > IDEMPOTENCY_WINDOW_MS) {
      const done = await services.db.transaction(async (tx) => {
        const b = await lockSendBatch(tx, s.id);
        if (b?.status !== 'open' || (b.leaseOwner && b.leaseUntil && b.leaseUntil > now)) return false;
        const since = b.inDoubtSince ?? b.callStartedAt ?? now;
        await unconfirmedBatch(
          tx,
          { ...b, inDoubtSince: since },
          now,
          'The batch may have been delivered and Resend is about to forget its key; not re-sent',
          new Map(),
        );
        return true;
      });
      if (done) out.unconfirmed.push(s.id);
      continue;
    }
    if (s.leaseUntil && s.leaseUntil > now) continue; // waiting for its retry job
    await services.db.transaction((tx) =>
      enqueueSend(services, tx, s.memberIds[0]!, now, `sweep-batch:${s.id}:${now.toISOString()}`),
    );
    out.resumed.push(s.id);
  }
  return out;
}

/** Calls for the batch, each after the locked re-check, until it concludes or goes back to the queue. */
async function runBatch(
  services: DunningDeps,
  batchId: string,
  owner: string,
  transport: MailTransport | null,
  opts: BatchSendOptions,
  outcomes: Outcomes,
): Promise<void> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const began = Date.now();
  for (let n = 1; ; n++) {
    // Committed before the call: a crash from here on leaves the batch in doubt for whoever takes it over.
    const b = await services.db.transaction(async (tx) => {
      const row = await lockSendBatch(tx, batchId);
      if (row?.status !== 'open' || row.leaseOwner !== owner) return null;
      const t = services.clock.now();
      await setSendBatch(tx, batchId, { callStartedAt: t, calls: row.calls + 1, updatedAt: t });
      return row;
    });
    if (!b) return;
    const members = (await Promise.all(b.memberIds.map((id) => messageRow(services.db, id)))).filter(
      (r): r is Row => r !== undefined,
    );
    const live = await refreshMembers(services, members);
    if (live.failed.size > 0) {
      const reason = `Could not read the invoices from the accounting system: ${[...live.failed.values()][0]}`;
      await handBackBatch(services, batchId, owner, RETRY_BASE_MS, reason, true);
      return;
    }
    const progress = { providerCalled: false };
    let r: CallResult;
    try {
      r = await services.db.transaction((tx) =>
        callOnce(services, tx, batchId, owner, transport, opts, progress, outcomes, live.said),
      );
    } catch (err) {
      // After the request started: the marker stays, the next owner treats the batch as in doubt.
      if (progress.providerCalled) throw err;
      await handBackBatch(
        services,
        batchId,
        owner,
        RETRY_BASE_MS,
        `The pre-send check failed: ${(err as Error).message}`,
        true,
      );
      return;
    }
    if (r.kind === 'done') return;
    const elapsed = Date.now() - began;
    if (
      n < IN_CALL_ATTEMPTS &&
      r.waitMs <= RETRY_AFTER_CAP_MS &&
      elapsed + r.waitMs + PROVIDER_TIMEOUT_MS <= SEND_BUDGET_MS
    ) {
      await sleep(r.waitMs);
      continue;
    }
    await handBackBatch(services, batchId, owner, r.waitMs, r.error, r.clearMarker);
    return;
  }
}

/** One call, in one transaction: lock and re-check every member, call with the stored body and key, record. */
async function callOnce(
  services: DunningDeps,
  tx: Tx,
  batchId: string,
  owner: string,
  transport: MailTransport | null,
  opts: BatchSendOptions,
  progress: { providerCalled: boolean },
  outcomes: Outcomes,
  said: ReadonlyMap<string, LedgerInvoiceRead>,
): Promise<CallResult> {
  const now = services.clock.now();
  await setLocalLockTimeout10s(tx);
  const b = await lockSendBatch(tx, batchId);
  if (b?.status !== 'open' || b.leaseOwner !== owner) return { kind: 'done' };
  const inDoubt = b.inDoubtSince !== null;
  const emails = JSON.parse(b.payload) as OutboundEmail[];
  // The daily cap's per-tenant lock (dailyCapDecision) before anything a member's re-check or its recording takes
  // (a re-plan job, a task): one send attempt takes it first too, so two transactions never wait on each other
  // in opposite orders (a deadlock on Postgres, seen in the race suite).
  for (const t of [...new Set(emails.map((e) => e.tags.tenant ?? ''))].filter(Boolean).sort())
    await advisoryXactLock(tx, `send-cap:${t}`);
  const rows: Row[] = [];
  const checks: Recheck[] = [];
  const stops: { row: Row; decision: SuppressionDecision }[] = [];
  for (const [i, id] of b.memberIds.entries()) {
    const row = await lockMessage(tx, id);
    if (row?.status !== 'sending' || row.batchId !== batchId) {
      // Nothing else changes a member; if something did, the body no longer matches the rows.
      const d = skipDecision(
        'batch_member_changed',
        `Message ${id} left the batch (${row?.status ?? 'deleted'})`,
      );
      stops.push({ row: row ?? ({ id } as Row), decision: d });
      continue;
    }
    // The doubt is the batch's: a retry of a call in doubt is a confirmation, not a new contact.
    const check = await recheck(services, tx, { ...row, inDoubtSince: b.inDoubtSince }, now, said);
    rows.push(row);
    checks.push(check);
    if (check.kind === 'stop') stops.push({ row, decision: check.decision });
    else if (check.kind === 'reread') {
      // Its invoices changed after the live read: no call now (a batch that cannot have been accepted is rebuilt
      // after a new read; one in doubt waits and retries unchanged).
      stops.push({
        row,
        decision: { action: 'defer', code: 'ok', reason: check.reason, replan: false, until: now },
      });
    } else if (!inDoubt && !sameList(check.to, emails[i]!.to)) {
      // A co-recipient bounced since the batch was stored: rebuild rather than send to it.
      stops.push({
        row,
        decision: {
          action: 'defer',
          code: 'ok',
          reason: 'Recipients changed since the batch was stored',
          replan: false,
          until: now,
        },
      });
    }
  }
  if (stops.length > 0) {
    const reason = stops.map((s) => `${s.row.id}: ${s.decision.reason}`).join('; ');
    if (!inDoubt) {
      // No call under this key can have been accepted, and this one is not made: the key is dropped with the batch.
      await abandon(
        services,
        tx,
        b,
        now,
        `A member no longer passes the pre-send check (${reason})`,
        outcomes,
        stops,
      );
      return { kind: 'done' };
    }
    if (stops.some((s) => s.decision.action === 'skip')) {
      await unconfirmedBatch(
        tx,
        b,
        now,
        `${reason}; an earlier call for this batch may have been delivered`,
        outcomes,
      );
      return { kind: 'done' };
    }
    await setSendBatch(tx, batchId, { callStartedAt: null, updatedAt: now });
    return { kind: 'retry', waitMs: HOLD_RETRY_MS, error: reason, clearMarker: true };
  }
  if (!isBatchTransport(transport)) {
    await setSendBatch(tx, batchId, { callStartedAt: null, updatedAt: now });
    return { kind: 'retry', waitMs: HOLD_RETRY_MS, error: 'No batch-capable transport', clearMarker: true };
  }
  await countBatchAttempt(tx, batchId, 1);
  await opts.beforeProviderCall?.(batchId);
  progress.providerCalled = true;
  let ids: { providerId: string }[];
  try {
    ids = await transport.sendBatchAttempt(emails, {
      idempotencyKey: b.idempotencyKey,
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
    });
  } catch (err) {
    const e =
      err instanceof MailSendError
        ? err
        : new MailSendError(
            err instanceof Error ? err.message : String(err),
            'unknown',
            null,
            true,
            undefined,
            true,
          );
    const error = `${e.code}: ${e.message}`;
    const doubt = inDoubt || e.mayHaveBeenAccepted;
    if (e.code === 'batch_length_mismatch' || e.code === 'invalid_idempotent_request') {
      await unconfirmedBatch(
        tx,
        { ...b, inDoubtSince: b.inDoubtSince ?? b.callStartedAt ?? now },
        now,
        `Resend accepted a batch under this key but its answer cannot be matched to the members (${error})`,
        outcomes,
      );
      return { kind: 'done' };
    }
    if (!e.retryable) {
      if (doubt)
        await unconfirmedBatch(tx, { ...b, inDoubtSince: b.inDoubtSince ?? now }, now, error, outcomes);
      // Strict validation refused the whole batch, nothing sent: each member goes alone (its own error shows).
      else
        await abandon(
          services,
          tx,
          b,
          now,
          `Resend refused the batch (${error})`,
          outcomes,
          [],
          'batch_refused',
        );
      return { kind: 'done' };
    }
    const since = b.inDoubtSince ?? (e.mayHaveBeenAccepted ? (b.callStartedAt ?? now) : null);
    // A 429 was answered before anything was queued: the call is given back (a rate-limit storm or a used-up
    // quota delays the batch; it does not fail its members after 8 refusals).
    const calls = refusedForNow(e) ? { calls: Math.max(0, b.calls - 1) } : {};
    if (refusedForNow(e)) await countBatchAttempt(tx, batchId, -1);
    await setSendBatch(tx, batchId, {
      error,
      inDoubtSince: since,
      callStartedAt: null,
      ...calls,
      updatedAt: now,
    });
    await setBatchMembers(tx, batchId, { error, inDoubtSince: since, updatedAt: now });
    const wait =
      e.retryAfterMs ??
      (retryAnHourLater(e) ? HOLD_RETRY_MS : Math.min(RETRY_MAX_MS, 500 * 2 ** (b.calls - 1)));
    return { kind: 'retry', waitMs: wait, error, clearMarker: true };
  }
  await opts.afterProviderCall?.(ids.map((i) => i.providerId));
  for (const [i, row] of rows.entries()) {
    const check = checks[i]!;
    if (check.kind !== 'send') continue;
    const providerId = ids[b.memberIds.indexOf(row.id)]!.providerId;
    await markSent(
      tx,
      row,
      check.tenant,
      check.customer,
      providerId,
      now,
      `Sent through Resend in batch ${b.idempotencyKey}`,
    );
    outcomes.set(row.id, { outcome: 'sent', providerId });
  }
  await setSendBatch(tx, batchId, {
    status: 'sent',
    sentAt: now,
    callStartedAt: null,
    leaseOwner: null,
    leaseUntil: null,
    error: null,
    updatedAt: now,
  });
  return { kind: 'done' };
}

/** The email as the provider gets it, or why it must not be sent. */
function outbound(
  services: DunningDeps,
  row: Row,
  check: Pick<Extract<Recheck, { kind: 'send' }>, 'tenant' | 'to'>,
): OutboundEmail | string {
  const from = fromHeader(check.tenant, services);
  if (!from) return 'MAIL_FROM is not configured; set the sender address to send through Resend';
  const email: OutboundEmail = {
    id: row.id,
    from,
    to: check.to,
    replyTo: senderOf(check.tenant, services).replyTo,
    subject: row.subject ?? '',
    html: row.html ?? '',
    text: row.text ?? '',
    unsubscribeUrl: messageUnsubscribeUrl(services, row),
    tags: { kind: row.kind, tenant: row.tenantId },
  };
  const unsafe = headerProblem(email);
  return unsafe ? `Not sent: ${unsafe} (stored data would add headers)` : email;
}

/** The members still bound to batch `b` (status 'sending'), each locked, in the batch's order. */
async function* lockedMembers(tx: Tx, b: SendBatch): AsyncGenerator<Row> {
  for (const id of b.memberIds) {
    const row = await lockMessage(tx, id);
    if (row?.status === 'sending' && row.batchId === b.id) yield row;
  }
}

/**
 * Proven never accepted under its key: the batch is closed for good. Members that failed the re-check are recorded
 * as it says; the others go back to the queue with a job now, for a new batch under a new key (or one by one with
 * `code` 'batch_refused').
 */
async function abandon(
  services: DunningDeps,
  tx: Tx,
  b: SendBatch,
  now: Date,
  reason: string,
  outcomes: Outcomes,
  stops: { row: Row; decision: SuppressionDecision }[] = [],
  code = 'rebatch',
): Promise<void> {
  await setSendBatch(tx, b.id, {
    status: 'abandoned',
    error: reason,
    callStartedAt: null,
    leaseOwner: null,
    leaseUntil: null,
    updatedAt: now,
  });
  for await (const row of lockedMembers(tx, b)) {
    const id = row.id;
    await setMessage(tx, id, { batchId: null, updatedAt: now });
    const stop = stops.find((s) => s.row.id === id);
    if (stop) {
      outcomes.set(id, await record(services, tx, { ...row, batchId: null }, now, stop.decision));
      continue;
    }
    await setMessage(tx, id, {
      status: 'queued',
      statusCode: code,
      statusReason: `Back in the queue: ${reason}`,
      ...released,
      updatedAt: now,
    });
    await enqueueSend(services, tx, id, now, `${code}:${b.id}`);
    outcomes.set(id, { outcome: 'deferred', code, reason });
  }
}

/** Some member's stored body was rendered on an earlier calendar day (its debtor's zone) than `now`. */
async function writtenForEarlierDay(tx: Tx, b: SendBatch, now: Date): Promise<boolean> {
  for (const m of await renderDays(tx, b.memberIds)) {
    if (m.renderedAsOf && renderedForEarlierDay(m.renderedAsOf, m.zone, now)) return true;
  }
  return false;
}

/** May have been delivered, and Duely cannot find out by itself: every member for a person to check. */
async function unconfirmedBatch(
  tx: Tx,
  b: SendBatch,
  now: Date,
  reason: string,
  outcomes: Outcomes,
): Promise<void> {
  const members: Row[] = [];
  for await (const row of lockedMembers(tx, b)) members.push(row);
  const since = b.inDoubtSince ?? b.callStartedAt ?? now;
  // One member known to have left (its debtor clicked its unsubscribe link, Resend's webhook reported it) proves
  // the call was accepted, and Resend accepts a batch whole: every member left, none is for a person to check.
  for (const row of members) {
    const evidence = await acceptanceEvidence(tx, row.id);
    if (!evidence) continue;
    await setSendBatch(tx, b.id, {
      status: 'sent',
      sentAt: since,
      inDoubtSince: since,
      callStartedAt: null,
      leaseOwner: null,
      leaseUntil: null,
      error: null,
      updatedAt: now,
    });
    for (const m of members) {
      const known = await markKnownSent(
        tx,
        { ...m, batchId: null, inDoubtSince: m.inDoubtSince ?? since },
        now,
        m.id === row.id ? evidence : { by: 'batch', providerId: null },
      );
      outcomes.set(m.id, { outcome: 'skipped', code: known.code, reason: known.reason });
    }
    return;
  }
  const why = `${reason} (Resend idempotency key ${b.idempotencyKey}, tag message_id)`;
  await setSendBatch(tx, b.id, {
    status: 'unconfirmed',
    error: why,
    inDoubtSince: b.inDoubtSince ?? b.callStartedAt ?? now,
    leaseOwner: null,
    leaseUntil: null,
    updatedAt: now,
  });
  for await (const row of lockedMembers(tx, b)) {
    const r = { ...row, inDoubtSince: row.inDoubtSince ?? b.inDoubtSince ?? b.callStartedAt ?? now };
    outcomes.set(row.id, await unconfirmed(tx, r, now, why));
  }
}

/** Too many calls ended in a definite failure: nothing was accepted, the members fail as sendMessage's would. */
async function failBatch(tx: Tx, b: SendBatch, now: Date, reason: string, outcomes: Outcomes): Promise<void> {
  await setSendBatch(tx, b.id, {
    status: 'abandoned',
    error: reason,
    leaseOwner: null,
    leaseUntil: null,
    updatedAt: now,
  });
  for await (const row of lockedMembers(tx, b)) {
    outcomes.set(row.id, await failed(tx, row.id, now, reason));
  }
}

/**
 * The batch waits: lease released, members kept ('sending', bound to it) with a lease ending at the retry time, and
 * a job then. `clearMarker`: this attempt made no call that could have been accepted.
 */
async function handBackBatch(
  services: DunningDeps,
  batchId: string,
  owner: string,
  waitMs: number,
  reason: string,
  clearMarker: boolean,
): Promise<void> {
  const now = services.clock.now();
  await services.db.transaction(async (tx) => {
    const b = await lockSendBatch(tx, batchId);
    if (b?.status !== 'open' || b.leaseOwner !== owner) return;
    const until = new Date(
      now.getTime() + Math.max(waitMs, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, b.calls - 1))),
    );
    await setSendBatch(tx, batchId, {
      leaseOwner: null,
      leaseUntil: until,
      error: reason,
      ...(clearMarker ? { callStartedAt: null } : {}),
      updatedAt: now,
    });
    await setBatchMembers(tx, batchId, {
      leaseOwner: null,
      leaseUntil: until,
      error: reason,
      statusCode: 'retrying',
      statusReason: `Batch ${b.idempotencyKey} retrying at ${until.toISOString()}: ${reason}`,
      updatedAt: now,
    });
    // The time too: a 429 gives its call back, so a retry job that meets 429s again hands back with the same call
    // count, and the job id it derives (its own, still running) would be dropped by pg-boss: no job, only the sweeper.
    await enqueueSend(
      services,
      tx,
      b.memberIds[0]!,
      until,
      `batch-retry:${batchId}:${b.calls}:${now.toISOString()}`,
    );
  });
}

/** A claimed message whose live read failed goes back to the queue (nothing was stored or sent for it). */
async function releaseMember(
  services: DunningDeps,
  id: string,
  owner: string,
  reason: string,
): Promise<SendOutcome> {
  const now = services.clock.now();
  return services.db.transaction(async (tx) => {
    const row = await lockMessage(tx, id);
    if (row?.status !== 'sending' || row.leaseOwner !== owner || row.batchId)
      return { outcome: 'noop', status: row?.status ?? null };
    return requeueForRetry(services, tx, row, now, new Date(now.getTime() + RETRY_BASE_MS), reason);
  });
}

/** The connector's live read of every member's invoices, one call per tenant; the members whose read failed. */
async function refreshMembers(
  services: DunningDeps,
  rows: Row[],
): Promise<{ failed: Map<string, string>; said: Map<string, LedgerInvoiceRead> }> {
  const byTenant = new Map<string, Row[]>();
  for (const r of rows) byTenant.set(r.tenantId, [...(byTenant.get(r.tenantId) ?? []), r]);
  const out = new Map<string, string>();
  const said = new Map<string, LedgerInvoiceRead>();
  for (const [tenantId, rs] of byTenant) {
    try {
      const read = await refreshLiveState(services, tenantId, [...new Set(rs.flatMap((r) => r.invoiceIds))]);
      for (const [id, r] of read) said.set(id, r);
    } catch (err) {
      const reason = `Could not read the invoices from the accounting system: ${(err as Error).message}`;
      for (const r of rs) out.set(r.id, reason);
    }
  }
  return { failed: out, said };
}

async function memberOutcome(services: DunningDeps, id: string): Promise<SendOutcome> {
  const row = await messageRow(services.db, id);
  if (row?.status === 'sent' && row.providerId) return { outcome: 'sent', providerId: row.providerId };
  return { outcome: 'noop', status: row?.status ?? null };
}

function skipDecision(code: string, reason: string): SuppressionDecision {
  return { action: 'skip', code: code as SuppressionDecision['code'], reason, replan: false };
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
