/**
 * Sending through POST /emails/batch (src/dunning/send-batch.ts) against the Resend stand-in: the batch row (members
 * in a fixed order, body, key `batch/<id>`) is committed before the first call, and every retry sends exactly it.
 */
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { dunningMessages, dunningSendBatches, dunningTasks } from '../../src/db/schema';
import { createDunning } from '../../src/dunning';
import { batchKey, sendDue } from '../../src/dunning/send-batch';
import { IDEMPOTENCY_WINDOW_MS, SENDING_LEASE_MS, sendMessage } from '../../src/dunning/send-message';
import { sweepStaleMessages } from '../../src/dunning/send-sweep';
import { sendMessageJob } from '../../src/jobs/dunning-jobs';
import { freshPlan, noSleep, rowOf, sendPathSuite, settle } from './helpers';

const env = sendPathSuite();

/** Every queued reminder of the fixture, all due (the clock at the latest send time). */
async function dueReminders() {
  const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
  env.clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
  expect(queued.length).toBeGreaterThanOrEqual(2);
  return queued;
}

async function batches() {
  return env.s.db.select().from(dunningSendBatches);
}

const opts = () => ({ transport: env.transport, batching: true, sleep: noSleep });

/** Each batch request's key and members, in order. */
const batchRequests = () =>
  env.standIn.requests.filter((r) => r.batch).map((r) => ({ key: r.key, members: r.batch }));

describe('batch sending: stored before the call, the same members and key on every retry', () => {
  it('the due messages go out in one request under batch/<id>, ids recorded by position', async () => {
    const due = await dueReminders();
    const out = await sendDue(env.s, due[0]!.id, opts());
    expect(out).toMatchObject({ outcome: 'sent' });
    const [b] = await batches();
    expect(b).toMatchObject({ status: 'sent', idempotencyKey: batchKey(b!.id) });
    expect([...b!.memberIds].sort()).toEqual(due.map((m) => m.id).sort());
    expect(batchRequests()).toEqual([{ key: b!.idempotencyKey, members: b!.memberIds }]);
    for (const [i, id] of b!.memberIds.entries()) {
      const row = await rowOf(env.s, id);
      expect(row.status).toBe('sent');
      expect(row.providerId).toBe(env.standIn.deliveries[i]!.id);
      expect(env.standIn.deliveriesOf(id)).toHaveLength(1);
    }
    // The other messages' own jobs find them sent.
    expect(await sendDue(env.s, due[1]!.id, opts())).toMatchObject({ outcome: 'noop', status: 'sent' });
    expect(env.standIn.requests).toHaveLength(1);
  });

  it('a seed another worker began and died on between the read and the claim stays under its own key, never in a batch', async () => {
    const due = await dueReminders();
    const { s, clock, standIn } = env;
    const seed = due[0]!;
    const r = await sendDue(s, seed.id, {
      ...opts(),
      // Another worker claims the seed, begins its call (which may have reached Resend) and dies; its lease lapses.
      beforeClaim: async () => {
        await s.db
          .update(dunningMessages)
          .set({
            status: 'sending',
            leaseOwner: 'dead-worker',
            leaseUntil: new Date(clock.now().getTime() - 1_000),
            attemptStartedAt: new Date(clock.now().getTime() - SENDING_LEASE_MS - 1_000),
          })
          .where(eq(dunningMessages.id, seed.id));
      },
    });
    expect(r).toMatchObject({ outcome: 'sent' });
    for (const b of await batches()) expect(b.memberIds).not.toContain(seed.id);
    expect(standIn.requests.filter((q) => q.batch?.includes(seed.id))).toEqual([]);
    // Sent alone under its own key: the key the dead worker's call used, so Resend would answer it with that one.
    expect(standIn.requests.map((q) => q.key)).toEqual([seed.id]);
    expect(standIn.deliveriesOf(seed.id)).toHaveLength(1);
  });

  it('killed between the row write and the call: the sweeper resumes it with the same members and key, sent once', async () => {
    const due = await dueReminders();
    const { s, clock, standIn } = env;
    await expect(
      sendDue(s, due[0]!.id, {
        ...opts(),
        afterBatchWritten: () => {
          throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    const [b] = await batches();
    expect(b!.status).toBe('open');
    expect(standIn.requests).toHaveLength(0);
    // A member's own job never sends it alone.
    expect(await sendMessage(s, due[0]!.id, { transport: env.transport })).toMatchObject({
      outcome: 'batched',
      batchId: b!.id,
    });
    expect(standIn.requests).toHaveLength(0);
    clock.advance(SENDING_LEASE_MS + 1_000);
    const swept = await sweepStaleMessages(s);
    expect(swept.batchesResumed).toEqual([b!.id]);
    expect(swept.takenOver).toEqual([]);
    await sendDue(s, b!.memberIds[0]!, opts());
    expect(batchRequests()).toEqual([{ key: batchKey(b!.id), members: b!.memberIds }]);
    for (const id of b!.memberIds) {
      expect((await rowOf(s, id)).status).toBe('sent');
      expect(standIn.deliveriesOf(id)).toHaveLength(1);
    }
  });

  for (const fault of [
    { kind: '5xx', accepted: true },
    { kind: '5xx', accepted: false },
    { kind: '429', retryAfterSeconds: 0 },
    { kind: 'slow', ms: 4_000 },
    { kind: 'drop-after' },
  ] as const) {
    it(`${JSON.stringify(fault)} on the batch call: the retry has the same key and members; each delivered once`, async () => {
      const due = await dueReminders();
      const { s, standIn } = env;
      standIn.queue.push(fault);
      await sendDue(s, due[0]!.id, opts());
      // A request cut off at the timeout may still be running: the retries inside the job get 409 (in progress)
      // and the batch waits for a later job, which confirms it under the same key.
      await standIn.idle();
      let [b] = await batches();
      if (b!.status === 'open') {
        env.clock.set(new Date(b!.leaseUntil!.getTime() + 1_000));
        await sendDue(s, b!.memberIds[0]!, opts());
        [b] = await batches();
      }
      expect(b!.status).toBe('sent');
      const reqs = batchRequests();
      expect(reqs.length).toBeGreaterThanOrEqual(2);
      for (const r of reqs) expect(r).toEqual({ key: batchKey(b!.id), members: b!.memberIds });
      for (const id of b!.memberIds) {
        expect(standIn.deliveriesOf(id)).toHaveLength(1);
        const row = await rowOf(s, id);
        expect(row.status).toBe('sent');
        expect(row.providerId).toBe(standIn.deliveriesOf(id)[0]!.id);
      }
    }, 30_000);
  }

  it('a retry job that meets 429s again still leaves the batch a job (not its own id, which pg-boss drops)', async () => {
    const due = await dueReminders();
    const { s, clock, standIn } = env;
    // A rate-limit storm: each 429 gives its call back, so the batch's call count stays where it was.
    standIn.faultFor = () => ({ kind: '429', retryAfterSeconds: 1 });
    await sendDue(s, due[0]!.id, opts());
    const [b] = await batches();
    expect(b!.status).toBe('open');
    const first = b!.memberIds[0]!;
    for (let run = 1; run <= 3; run++) {
      const jobs = await s.queue.findJobs(sendMessageJob.name, { data: { messageId: first }, queued: true });
      expect(jobs.length, `retry ${run} has a job`).toBeGreaterThan(0);
      // The queue runs the job: active while its handler works (owner = job id), completed after.
      const job = jobs[0]!;
      await s.db.execute(sql`update pgboss.job set state = 'active' where id = ${job.id}::uuid`);
      const [open] = await batches();
      clock.set(new Date(open!.leaseUntil!.getTime() + 1_000));
      await sendDue(s, first, { ...opts(), owner: job.id });
      await s.db.execute(sql`update pgboss.job set state = 'completed' where id = ${job.id}::uuid`);
      const [after] = await batches();
      expect(after!.status).toBe('open');
    }
    standIn.faultFor = () => ({ kind: 'ok' });
    const [job] = await s.queue.findJobs(sendMessageJob.name, { data: { messageId: first }, queued: true });
    expect(job).toBeDefined();
    const [open] = await batches();
    clock.set(new Date(open!.leaseUntil!.getTime() + 1_000));
    await sendDue(s, first, { ...opts(), owner: job!.id });
    for (const id of b!.memberIds) expect(standIn.deliveriesOf(id)).toHaveLength(1);
  });

  it('a payment between the claim and the call, nothing sent yet: the batch is dropped, the payer skipped, the rest re-batched', async () => {
    const due = await dueReminders();
    const { s, standIn } = env;
    const payer = due.find((m) => m.invoiceIds.length === 1)!;
    await sendDue(s, due[0]!.id, {
      ...opts(),
      afterBatchWritten: () => settle(s, payer.invoiceIds[0]!, 0),
    });
    const [first] = (await batches()).filter((b) => b.memberIds.includes(payer.id));
    expect(first!.status).toBe('abandoned');
    expect(standIn.requests.filter((r) => r.key === first!.idempotencyKey)).toHaveLength(0);
    expect(await rowOf(s, payer.id)).toMatchObject({ status: 'skipped', statusCode: 'paid' });
    expect(standIn.deliveriesOf(payer.id)).toHaveLength(0);
    // The others went back to the queue with a job; the next send forms a new batch under a new key.
    const rest = due.filter((m) => m.id !== payer.id);
    for (const m of rest) expect((await rowOf(s, m.id)).status).toBe('queued');
    await sendDue(s, rest[0]!.id, opts());
    const second = (await batches()).find((b) => b.id !== first!.id)!;
    expect(second.status).toBe('sent');
    expect([...second.memberIds].sort()).toEqual(rest.map((m) => m.id).sort());
    for (const m of rest) expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });

  it('a payment committing during the call waits for it (locks held through the call)', async () => {
    const due = await dueReminders();
    const { s, standIn } = env;
    standIn.queue.push({ kind: 'slow', ms: 150 });
    let paid: Promise<void> | undefined;
    let paidAt = 0;
    await sendDue(s, due[0]!.id, {
      ...opts(),
      beforeProviderCall: () => {
        paid = settle(s, due[0]!.invoiceIds[0]!, 0).then(() => {
          paidAt = performance.now();
        });
      },
    });
    await paid;
    expect(standIn.deliveries.length).toBe(due.length);
    expect(standIn.requests[0]!.receivedAt).toBeLessThan(paidAt);
  });

  it('a payment after a call that may have been accepted: every member unconfirmed with a review task, no resend', async () => {
    const due = await dueReminders();
    const { s, standIn } = env;
    standIn.queue.push({ kind: '5xx', accepted: true });
    const payer = due[0]!;
    await sendDue(s, payer.id, { ...opts(), sleep: () => settle(s, payer.invoiceIds[0]!, 0) });
    const [b] = await batches();
    expect(b!.status).toBe('unconfirmed');
    expect(batchRequests()).toHaveLength(1);
    const tasks = await s.db.select().from(dunningTasks).where(eq(dunningTasks.kind, 'review'));
    for (const id of b!.memberIds) {
      expect(await rowOf(s, id)).toMatchObject({ status: 'unconfirmed', statusCode: 'send_unknown' });
      expect(standIn.deliveriesOf(id)).toHaveLength(1);
      expect(tasks.some((t) => t.messageId === id)).toBe(true);
    }
  });

  it('Resend batches are all or nothing; a 200 whose ids do not match the members is never re-sent: unconfirmed', async () => {
    const due = await dueReminders();
    const { s, standIn } = env;
    standIn.queue.push({ kind: 'short', ids: due.length - 1 });
    await sendDue(s, due[0]!.id, opts());
    const [b] = await batches();
    expect(b!.status).toBe('unconfirmed');
    expect(batchRequests()).toHaveLength(1);
    for (const id of b!.memberIds) {
      const row = await rowOf(s, id);
      expect(row.status).toBe('unconfirmed');
      expect(row.providerId).toBeNull();
    }
  });

  it('crash after Resend accepted: the takeover sends the same key, gets the same ids, delivers nothing twice', async () => {
    const due = await dueReminders();
    const { s, clock, standIn } = env;
    await expect(
      sendDue(s, due[0]!.id, {
        ...opts(),
        afterProviderCall: () => {
          throw new Error('crash');
        },
      }),
    ).rejects.toThrow('crash');
    const [b] = await batches();
    expect(b).toMatchObject({ status: 'open' });
    expect(b!.callStartedAt).not.toBeNull();
    clock.advance(SENDING_LEASE_MS + 1_000);
    await sweepStaleMessages(s);
    await sendDue(s, b!.memberIds[1]!, opts());
    expect(batchRequests()).toHaveLength(2);
    for (const id of b!.memberIds) {
      expect(standIn.deliveriesOf(id)).toHaveLength(1);
      expect((await rowOf(s, id)).providerId).toBe(standIn.deliveriesOf(id)[0]!.id);
    }
    const [after] = await batches();
    expect(after!.status).toBe('sent');
    expect(after!.inDoubtSince).not.toBeNull();
  });

  it('in doubt and about to outlive the 24 h key: the sweeper concludes it unconfirmed, without a call', async () => {
    const due = await dueReminders();
    const { s, clock, standIn } = env;
    // Accepted, answer lost, and the provider stays unreachable for the rest of the job.
    standIn.queue.push({ kind: 'drop-after' }, { kind: 'drop-before' }, { kind: 'drop-before' });
    await sendDue(s, due[0]!.id, opts());
    const [b] = await batches();
    expect(b!.status).toBe('open');
    expect(b!.inDoubtSince).not.toBeNull();
    const calls = standIn.requests.length;
    clock.advance(IDEMPOTENCY_WINDOW_MS + 60_000);
    const swept = await sweepStaleMessages(s);
    expect(swept.batchesUnconfirmed).toEqual([b!.id]);
    expect(standIn.requests).toHaveLength(calls);
    for (const id of b!.memberIds) expect((await rowOf(s, id)).status).toBe('unconfirmed');
    // Nothing sends it later either.
    await sendDue(s, due[0]!.id, opts());
    expect(standIn.requests).toHaveLength(calls);
  });

  it('a definite refusal (strict validation) sends nothing; the members go one by one', async () => {
    const due = await dueReminders();
    const { s, standIn } = env;
    const refusing = {
      ...env.transport,
      maxBatchSize: 100,
      send: env.transport.send.bind(env.transport),
      sendBatch: env.transport.sendBatch.bind(env.transport),
      sendBatchAttempt: async () => {
        const { MailSendError } = await import('../../src/mail/transport');
        throw new MailSendError('Invalid `to` field', 'validation_error', 422, false);
      },
    };
    await sendDue(s, due[0]!.id, { ...opts(), transport: refusing });
    const [b] = await batches();
    expect(b!.status).toBe('abandoned');
    for (const m of due) {
      expect(await rowOf(s, m.id)).toMatchObject({
        status: 'queued',
        statusCode: 'batch_refused',
        batchId: null,
      });
      await sendDue(s, m.id, { ...opts(), transport: refusing });
      expect((await rowOf(s, m.id)).status).toBe('sent');
    }
    expect(standIn.deliveries).toHaveLength(due.length);
    expect(standIn.requests.every((r) => !r.batch)).toBe(true);
  });

  it('MAIL_BATCH (off by default) decides whether the send job batches; an open batch is finished either way', async () => {
    const base = {
      NODE_ENV: 'test',
      DATA_DIR: '/tmp',
      APP_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    };
    expect(loadConfig(base).MAIL_BATCH).toBe(false);
    expect(loadConfig({ ...base, MAIL_BATCH: 'true' }).MAIL_BATCH).toBe(true);
    const module = (on: boolean) =>
      createDunning({ ...env.s, mailer: env.transport, config: { ...env.s.config, MAIL_BATCH: on } });
    let due = await dueReminders();
    await module(false).send(due[0]!.id);
    expect(env.standIn.requests.map((r) => Boolean(r.batch))).toEqual([false]);
    due = await dueReminders();
    await module(true).send(due[0]!.id);
    expect(env.standIn.requests.map((r) => Boolean(r.batch))).toEqual([true]);
    // Switched off while a batch is open: its members' jobs still finish it as stored, never one by one.
    due = await dueReminders();
    await expect(
      sendDue(env.s, due[0]!.id, {
        ...opts(),
        afterBatchWritten: () => {
          throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    env.clock.advance(SENDING_LEASE_MS + 1_000);
    for (const m of due) await module(false).send(m.id);
    expect(env.standIn.requests.map((r) => Boolean(r.batch))).toEqual([true]);
    for (const m of due) expect((await rowOf(env.s, m.id)).status).toBe('sent');
  });
});
