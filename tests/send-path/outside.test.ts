/**
 * The send path attacked from outside its own tests: rate limits with and without Retry-After, Resend's quota, an
 * invoice voided, sending paused and an approved message edited between planning and sending. After each: which
 * emails reached the stand-in, what the message log says, and that nothing is stuck or given up while the provider
 * only said "later".
 */
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  contactSuppressions,
  customers,
  dunningMessages,
  dunningOverrides,
  dunningTasks,
  tenants,
} from '../../src/db/schema';
import { editMessage, skipMessage } from '../../src/dunning/approvals';
import { loadDunningConfig } from '../../src/dunning/dunning-config';
import { planTenant } from '../../src/dunning/engine';
import { applySendingSwitches } from '../../src/dunning/go-live';
import { sendDue } from '../../src/dunning/send-batch';
import {
  HOLD_RETRY_MS,
  MAX_PROVIDER_ATTEMPTS,
  SENDING_LEASE_MS,
  sendMessage,
} from '../../src/dunning/send-message';
import { sweepStaleMessages } from '../../src/dunning/send-sweep';
import { windowBlock } from '../../src/dunning/send-time';
import { messagesOf } from '../dunning-engine/fixtures';
import {
  freshPlan,
  noSleep,
  rowOf,
  runUntilSettled,
  sendPathSuite,
  settle,
  singleInvoiceMessage,
  waitingJobs,
} from './helpers';

const env = sendPathSuite();

describe('rate limits and quotas: "later" is never "failed"', () => {
  it('429 without Retry-After: retried after a back-off inside the job, delivered once, recorded sent', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport } = env;
    standIn.queue.push({ kind: '429' });
    const waits: number[] = [];
    const out = await sendMessage(s, m.id, { transport, sleep: async (ms) => void waits.push(ms) });
    expect(out).toMatchObject({ outcome: 'sent' });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(0);
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    expect((await rowOf(s, m.id)).status).toBe('sent');
  });

  it('429 with a long Retry-After: not slept on; back in the queue with a job no earlier than it asked', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, clock } = env;
    standIn.queue.push({ kind: '429', retryAfterSeconds: 600 });
    const jobsBefore = await waitingJobs(s, m.id);
    const out = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(out).toMatchObject({ outcome: 'deferred', code: 'retrying' });
    const row = await rowOf(s, m.id);
    expect(row.status).toBe('queued');
    expect(row.sendAt.getTime()).toBeGreaterThanOrEqual(clock.now().getTime() + 600_000);
    expect(row.statusReason).toMatch(/rate_limit_exceeded/);
    expect(await waitingJobs(s, m.id)).toBe(jobsBefore + 1);
    expect(standIn.requests).toHaveLength(1);
    expect((await runUntilSettled(env, m.id)).status).toBe('sent');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });

  it(`a rate-limit storm longer than ${MAX_PROVIDER_ATTEMPTS} refused calls: the reminder waits and goes once, never "failed"`, async () => {
    const m = await singleInvoiceMessage(env);
    const { standIn } = env;
    for (let i = 0; i < MAX_PROVIDER_ATTEMPTS + 4; i++)
      standIn.queue.push({ kind: '429', retryAfterSeconds: 1 });
    const row = await runUntilSettled(env, m.id);
    // Every 429 was answered before anything was queued: nothing reached the debtor, nothing was refused for good.
    expect(row.status).toBe('sent');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });

  it("Resend's daily quota used up (429 daily_quota_exceeded, no Retry-After): not retried within the job, not given up", async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport } = env;
    const quota = { kind: '429', name: 'daily_quota_exceeded' } as const;
    for (let i = 0; i < MAX_PROVIDER_ATTEMPTS + 4; i++) standIn.queue.push(quota);
    const first = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(first).toMatchObject({ outcome: 'deferred', code: 'retrying' });
    // Hammering a used-up quota three times in a second changes nothing: back in an hour, the reason on the row.
    expect(standIn.requests).toHaveLength(1);
    const waiting = await rowOf(s, m.id);
    expect(waiting.status).toBe('queued');
    expect(waiting.sendAt.getTime()).toBeGreaterThanOrEqual(env.clock.now().getTime() + HOLD_RETRY_MS);
    expect(waiting.statusReason).toMatch(/daily_quota_exceeded/);
    expect(waiting.attempts).toBe(0);
    const row = await runUntilSettled(env, m.id);
    expect(row.status).toBe('sent');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });
});

describe('a provider outage: 5xx and timeouts are retried under the same key while the key lasts', () => {
  /** Resend answers 5xx (nothing accepted) until `minutes` after now, then normally. */
  function outageFor(minutes: number) {
    const { standIn, clock } = env;
    const until = clock.now().getTime() + minutes * 60_000;
    standIn.faultFor = () => (clock.now().getTime() < until ? { kind: '5xx', status: 503 } : { kind: 'ok' });
    return until;
  }

  /** Whether the message's send window (its debtor's zone, else the company's) is closed at `t`. */
  async function windowOf(m: { tenantId: string; customerId: string }) {
    const { s } = env;
    const [tenant] = await s.db.select().from(tenants).where(eq(tenants.id, m.tenantId));
    const config = await loadDunningConfig(s.db, tenant!);
    const [customer] = await s.db.select().from(customers).where(eq(customers.id, m.customerId));
    const tz = customer!.timezone || config.settings.timezone;
    return { config, tz, blocked: (t: number) => windowBlock(config.settings, new Date(t), tz) !== null };
  }

  it('a 90-minute Resend outage (503 on every call): the reminder goes once when it is over, not "unconfirmed"', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, clock } = env;
    // Due early enough in its day that the outage is over inside the send window: from the day's last open hour (a
    // send time the planner may pick) the retries would wait for the next morning, after the outage, and the case
    // would pass without retrying past one job.
    const { blocked } = await windowOf(m);
    let start = m.sendAt.getTime();
    while (blocked(start + 2 * 3_600_000)) start -= 3_600_000;
    expect(blocked(start)).toBe(false);
    await s.db
      .update(dunningMessages)
      .set({ sendAt: new Date(start) })
      .where(eq(dunningMessages.id, m.id));
    clock.set(new Date(start));
    const until = outageFor(90);
    const row = await runUntilSettled(env, m.id);
    standIn.faultFor = () => ({ kind: 'ok' });
    expect({ status: row.status, reason: row.statusReason }).toMatchObject({ status: 'sent' });
    expect(standIn.requests.filter((r) => r.fault === '5xx').length).toBeGreaterThan(MAX_PROVIDER_ATTEMPTS);
    expect(row.sentAt!.getTime()).toBeGreaterThanOrEqual(until);
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    const tasks = await s.db.select().from(dunningTasks).where(eq(dunningTasks.messageId, m.id));
    expect(tasks.filter((t) => t.kind === 'review')).toEqual([]);
  });

  it('a 90-minute Resend outage on batch calls (MAIL_BATCH=true): every member goes once when it is over', async () => {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    const { s, standIn, clock, transport } = env;
    clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
    const until = outageFor(90);
    for (let i = 0; i < 80; i++) {
      const rows = await Promise.all(queued.map((m) => rowOf(s, m.id)));
      const open = rows.filter((r) => r.status === 'queued' || r.status === 'sending');
      if (open.length === 0) break;
      const next = Math.min(...open.map((r) => (r.leaseUntil ?? r.sendAt).getTime()));
      if (next > clock.now().getTime()) clock.set(new Date(next));
      await sendDue(s, open[0]!.id, { transport, batching: true, sleep: noSleep });
    }
    standIn.faultFor = () => ({ kind: 'ok' });
    expect(standIn.requests.filter((r) => r.fault === '5xx').length).toBeGreaterThan(0);
    for (const m of queued) {
      const row = await rowOf(s, m.id);
      expect({ status: row.status, reason: row.statusReason }).toMatchObject({ status: 'sent' });
      expect(row.sentAt!.getTime()).toBeGreaterThanOrEqual(until);
      expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    }
  });

  it("an outage that ends outside the debtor's send window: the reminder waits for it, then goes once", async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn } = env;
    const { config, tz, blocked } = await windowOf(m);
    // Due in the last open hour of its day; the outage starts with it and ends half an hour into the closed hours
    // (the window opens again well inside the 23 h key window of the first call in doubt).
    let start = m.sendAt.getTime();
    while (!blocked(start + 3_600_000)) start += 3_600_000;
    const { clock } = env;
    await s.db
      .update(dunningMessages)
      .set({ sendAt: new Date(start) })
      .where(eq(dunningMessages.id, m.id));
    clock.set(new Date(start));
    const end = start + 90 * 60_000;
    expect(blocked(end)).toBe(true);
    standIn.faultFor = () => (clock.now().getTime() < end ? { kind: '5xx', status: 503 } : { kind: 'ok' });
    const row = await runUntilSettled(env, m.id, 200);
    standIn.faultFor = () => ({ kind: 'ok' });
    expect(row.status).toBe('sent');
    expect(row.sentAt!.getTime()).toBeGreaterThanOrEqual(end);
    expect(windowBlock(config.settings, row.sentAt!, tz)).toBeNull();
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });

  it('an outage outlasting the 23 h key window: unconfirmed with a review task, never sent blind', async () => {
    const m = await singleInvoiceMessage(env);
    const { standIn } = env;
    outageFor(25 * 60);
    const row = await runUntilSettled(env, m.id, 200);
    standIn.faultFor = () => ({ kind: 'ok' });
    expect(row.status).toBe('unconfirmed');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(0);
    const tasks = await env.s.db.select().from(dunningTasks).where(eq(dunningTasks.messageId, m.id));
    expect(tasks.map((t) => t.kind)).toEqual(['review']);
  });
});

describe('rate limits through stored batches (MAIL_BATCH=true)', () => {
  it(`a rate-limit storm longer than ${MAX_PROVIDER_ATTEMPTS} refused batch calls: every member goes once, none "failed"`, async () => {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    const { s, standIn, clock, transport } = env;
    clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
    for (let i = 0; i < MAX_PROVIDER_ATTEMPTS + 4; i++)
      standIn.queue.push({ kind: '429', retryAfterSeconds: 1 });
    for (let i = 0; i < 40; i++) {
      const rows = await Promise.all(queued.map((m) => rowOf(s, m.id)));
      const open = rows.filter((r) => r.status === 'queued' || r.status === 'sending');
      if (open.length === 0) break;
      const next = Math.min(...open.map((r) => (r.leaseUntil ?? r.sendAt).getTime()));
      if (next > clock.now().getTime()) clock.set(new Date(next));
      await sendDue(s, open[0]!.id, { transport, batching: true, sleep: noSleep });
    }
    for (const m of queued) {
      expect((await rowOf(s, m.id)).status).toBe('sent');
      expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    }
    expect(standIn.requests.filter((r) => r.fault === '429').length).toBe(MAX_PROVIDER_ATTEMPTS + 4);
  });
});

describe('stored batches: an unsubscribe or a pause after the batch was written, before its call', () => {
  async function dueAll() {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    env.clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
    return queued;
  }

  it('an unsubscribe: that debtor gets nothing (opted_out), the others go once in a new batch', async () => {
    const due = await dueAll();
    const { s, standIn, transport, tenantId } = env;
    const leaver = due[0]!;
    await sendDue(s, due[0]!.id, {
      transport,
      batching: true,
      sleep: noSleep,
      afterBatchWritten: async () => {
        await s.db
          .insert(contactSuppressions)
          .values({ tenantId, customerId: leaver.customerId, kind: 'unsubscribed' });
      },
    });
    try {
      expect(await rowOf(s, leaver.id)).toMatchObject({ status: 'skipped', statusCode: 'opted_out' });
      const rest = due.filter((m) => m.customerId !== leaver.customerId);
      expect(rest.length).toBeGreaterThan(0);
      await sendDue(s, rest[0]!.id, { transport, batching: true, sleep: noSleep });
      for (const m of rest) {
        expect((await rowOf(s, m.id)).status).toBe('sent');
        expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
      }
      expect(standIn.deliveries.filter((d) => d.to.some((t) => leaver.to.includes(t)))).toHaveLength(0);
    } finally {
      await s.db.delete(contactSuppressions);
    }
  });

  it('sending paused: no request, nothing failed and nothing left sending', async () => {
    const due = await dueAll();
    const { s, standIn, transport, tenantId } = env;
    await sendDue(s, due[0]!.id, {
      transport,
      batching: true,
      sleep: noSleep,
      afterBatchWritten: async () => {
        await s.db
          .update(tenants)
          .set({ settings: sql`${tenants.settings} || '{"sendingPaused": true}'::jsonb` })
          .where(eq(tenants.id, tenantId));
      },
    });
    try {
      expect(standIn.requests).toHaveLength(0);
      for (const m of due) {
        const row = await rowOf(s, m.id);
        expect(['sending', 'failed', 'sent', 'unconfirmed']).not.toContain(row.status);
      }
    } finally {
      await s.db
        .update(tenants)
        .set({ settings: sql`${tenants.settings} || '{"sendingPaused": false}'::jsonb` })
        .where(eq(tenants.id, tenantId));
    }
  });
});

describe('between planning and sending', () => {
  it('the invoice voided: skipped as void, nothing requested', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport } = env;
    await s.db.execute(
      sql`update invoices set status = 'void', balance_minor = 0 where id = ${m.invoiceIds[0]!}::uuid`,
    );
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({
      outcome: 'skipped',
      code: 'void_or_deleted',
    });
    expect(standIn.requests).toHaveLength(0);
  });

  it('sending paused after the job was queued: nothing requested, the reminder is not lost', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, tenantId } = env;
    const setPaused = (on: boolean) =>
      s.db
        .update(tenants)
        .set({ settings: sql`${tenants.settings} || ${JSON.stringify({ sendingPaused: on })}::jsonb` })
        .where(eq(tenants.id, tenantId));
    await setPaused(true);
    try {
      const out = await sendMessage(s, m.id, { transport, sleep: noSleep });
      // Not sent because sending is paused (taken back to be planned again), not for another reason.
      expect(out, JSON.stringify(out)).toMatchObject({ outcome: 'skipped', code: 'sending_paused' });
      expect(standIn.requests).toHaveLength(0);
      const row = await rowOf(s, m.id);
      expect(row.status).not.toBe('failed');
      expect(row.statusReason).toBeTruthy();
    } finally {
      await setPaused(false);
    }
  });

  it('an approved message edited before it went: approval reset, the queued job sends nothing', async () => {
    const queued = await freshPlan(env);
    const { s, standIn, transport, tenantId } = env;
    const m = queued.find((q) => q.requiresApproval);
    expect(m, 'the fixture plans an approved catch-up').toBeDefined();
    env.clock.set(m!.sendAt);
    await editMessage(s, tenantId, m!.id, 'reviewer@acme.example', { intro: 'Changed after approval' });
    expect((await rowOf(s, m!.id)).status).toBe('awaiting_approval');
    const out = await sendMessage(s, m!.id, { transport, sleep: noSleep });
    expect(out).toMatchObject({ outcome: 'noop', status: 'awaiting_approval' });
    expect(standIn.requests).toHaveLength(0);
  });

  it('an approval taken back (the reviewer skips the queued message): its job sends nothing; one in doubt cannot be', async () => {
    const queued = await freshPlan(env);
    const { s, standIn, transport, tenantId } = env;
    const [a, b] = queued.filter((q) => q.requiresApproval && q.decidedAt !== null);
    expect(b, 'two approved messages').toBeDefined();
    env.clock.set(new Date(Math.max(a!.sendAt.getTime(), b!.sendAt.getTime())));
    await skipMessage(s, tenantId, a!.id, 'reviewer@acme.example', 'customer called');
    expect(await sendMessage(s, a!.id, { transport, sleep: noSleep })).toMatchObject({
      outcome: 'noop',
      status: 'skipped',
    });
    expect(standIn.requests).toHaveLength(0);
    // b's send was accepted but the answer lost: a reviewer can no longer say it was not sent.
    standIn.queue.push({ kind: 'drop-after' }, { kind: 'drop-before' }, { kind: 'drop-before' });
    await sendMessage(s, b!.id, { transport, sleep: noSleep });
    await expect(skipMessage(s, tenantId, b!.id, 'reviewer@acme.example')).rejects.toMatchObject({
      status: 409,
    });
    expect((await rowOf(s, b!.id)).status).toBe('queued');
  });

  it('paused and resumed while a send is in doubt: the debtor is not emailed twice, the log says "may have been sent"', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, clock, tenantId } = env;
    // Accepted, but the answer was lost; the in-call retries never reach Resend: queued, in doubt.
    standIn.queue.push({ kind: 'drop-after' }, { kind: 'drop-before' }, { kind: 'drop-before' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(standIn.deliveries).toHaveLength(1);
    expect(await rowOf(s, m.id)).toMatchObject({ status: 'queued' });
    expect((await rowOf(s, m.id)).inDoubtSince).not.toBeNull();
    // A finance user pauses sending (Settings), the daily plan runs while paused, sending resumes two days later.
    await switchSending(true);
    clock.advance(2 * 86_400_000);
    await planTenant(s, tenantId);
    await switchSending(false);
    for (let i = 0; i < 20; i++) {
      const due = (await messagesOf(s, tenantId)).filter(
        (x) => x.customerId === m.customerId && x.status === 'queued',
      );
      if (due.length === 0) break;
      for (const x of due) {
        if (x.sendAt > clock.now()) clock.set(x.sendAt);
        await sendMessage(s, x.id, { transport, sleep: noSleep });
      }
    }
    const toDebtor = standIn.deliveries.filter((d) => d.to.some((t) => m.to.includes(t)));
    expect(toDebtor.map((d) => d.subject)).toHaveLength(1);
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    expect(row?.status).toBe('unconfirmed');
  });

  it('a customer paused while a send is in doubt: not logged "will not be sent", not emailed again after the pause', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, clock, tenantId } = env;
    standIn.queue.push({ kind: 'drop-after' }, { kind: 'drop-before' }, { kind: 'drop-before' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect((await rowOf(s, m.id)).inDoubtSince).not.toBeNull();
    // Someone pauses the customer for three days; the planner withdraws what the hold touches.
    const until = new Date(clock.now().getTime() + 3 * 86_400_000).toISOString().slice(0, 10);
    await s.db.insert(dunningOverrides).values({ tenantId, customerId: m.customerId, pausedUntil: until });
    try {
      await planTenant(s, tenantId);
      const held = await rowOf(s, m.id);
      expect(held.statusReason ?? '').not.toMatch(/Will not be sent/);
      clock.advance(4 * 86_400_000);
      await runPlanAndSends(m.customerId);
      const toDebtor = standIn.deliveries.filter((d) => d.to.some((t) => m.to.includes(t)));
      expect(toDebtor).toHaveLength(1);
      expect((await rowOf(s, m.id)).status).toBe('unconfirmed');
    } finally {
      await s.db.delete(dunningOverrides);
    }
  });
});

/** The daily plan, then every queued message of the customer sent when due, as the queue would run them. */
async function runPlanAndSends(customerId: string) {
  const { s, clock, transport, tenantId } = env;
  await planTenant(s, tenantId);
  for (let i = 0; i < 20; i++) {
    const due = (await messagesOf(s, tenantId)).filter(
      (x) => x.customerId === customerId && x.status === 'queued',
    );
    if (due.length === 0) break;
    for (const x of due) {
      if (x.sendAt > clock.now()) clock.set(x.sendAt);
      await sendMessage(s, x.id, { transport, sleep: noSleep });
    }
  }
}

/** Sending paused or resumed as the Settings page does it: the switch and its consequences in one transaction. */
async function switchSending(paused: boolean) {
  const { s, tenantId } = env;
  await s.db.transaction(async (tx) => {
    const [before] = await tx.select().from(tenants).where(eq(tenants.id, tenantId));
    const [after] = await tx
      .update(tenants)
      .set({ settings: sql`${tenants.settings} || ${JSON.stringify({ sendingPaused: paused })}::jsonb` })
      .where(eq(tenants.id, tenantId))
      .returning();
    await applySendingSwitches(s, tx, before!, after!);
  });
}

describe('a worker dies before it asked Resend anything', () => {
  it('killed right after the claim (before rendering): taken over as a first attempt, not "may have been sent"', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, clock } = env;
    await expect(
      sendMessage(s, m.id, {
        transport,
        sleep: noSleep,
        afterClaim: () => {
          throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    expect((await rowOf(s, m.id)).status).toBe('sending');
    // The invoice is paid while the dead worker's lease runs out; the sweeper's job takes the message over.
    await settle(s, m.invoiceIds[0]!, 0);
    clock.advance(SENDING_LEASE_MS + 1_000);
    expect((await sweepStaleMessages(s)).takenOver).toEqual([m.id]);
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({
      outcome: 'skipped',
      code: 'paid',
    });
    expect(standIn.requests).toHaveLength(0);
    const row = await rowOf(s, m.id);
    expect(row.inDoubtSince).toBeNull();
    const review = await s.db
      .select()
      .from(dunningTasks)
      .where(and(eq(dunningTasks.messageId, m.id), eq(dunningTasks.kind, 'review')));
    expect(review).toHaveLength(0);
  });

  it('killed after the claim, and the worker stays down past a day: sent on takeover, not left "unconfirmed"', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, clock } = env;
    await expect(
      sendMessage(s, m.id, {
        transport,
        sleep: noSleep,
        afterClaim: () => {
          throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    clock.advance(24 * 3_600_000);
    expect((await sweepStaleMessages(s)).takenOver).toEqual([m.id]);
    let out = await sendMessage(s, m.id, { transport, sleep: noSleep });
    // Outside the debtor's hours a day later: deferred to the next allowed time, then sent there.
    for (let i = 0; i < 5 && out.outcome === 'deferred'; i++) {
      clock.set((await rowOf(s, m.id)).sendAt);
      out = await sendMessage(s, m.id, { transport, sleep: noSleep });
    }
    expect(out).toMatchObject({ outcome: 'sent' });
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });
});
