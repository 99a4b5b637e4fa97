/**
 * Outside review of the batch retry job ids that carry the time (b7e132f): a batch handed back after a 429 may now
 * have more than one waiting job (the retry's, the sweeper's), and two workers may run them at once. Each member is
 * still delivered once, under the batch's one key, and no member fails for calls that were refused.
 */
import { describe, expect, it } from 'vitest';
import { dunningSendBatches } from '../../src/db/schema';
import { sendDue } from '../../src/dunning/send-batch';
import { sweepStaleMessages } from '../../src/dunning/send-sweep';
import { sendMessageJob } from '../../src/jobs/dunning-jobs';
import { freshPlan, noSleep, rowOf, sendPathSuite } from './helpers';

const env = sendPathSuite();
const opts = (owner?: string) => ({
  transport: env.transport,
  batching: true,
  sleep: noSleep,
  ...(owner ? { owner } : {}),
});

describe('a batch retried after 429s with more than one job', () => {
  it('two workers running its jobs at once send each member once', async () => {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    env.clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
    const { s, standIn, clock } = env;
    standIn.faultFor = () => ({ kind: '429', retryAfterSeconds: 1 });
    await sendDue(s, queued[0]!.id, opts());
    await sendDue(s, queued[0]!.id, opts());
    const [b] = await s.db.select().from(dunningSendBatches);
    expect(b!.status).toBe('open');
    clock.set(new Date(b!.leaseUntil!.getTime() + 20 * 60_000));
    await sweepStaleMessages(s);
    const jobs = await s.queue.findJobs(sendMessageJob.name, {
      data: { messageId: b!.memberIds[0]! },
      queued: true,
    });
    standIn.faultFor = () => ({ kind: 'ok' });
    const runs = await Promise.all([
      sendDue(s, b!.memberIds[0]!, opts(jobs[0]?.id ?? 'w1')),
      sendDue(s, b!.memberIds[0]!, opts(jobs[1]?.id ?? 'w2')),
      sendDue(s, b!.memberIds[1]!, opts('w3')),
    ]);
    expect(runs.length).toBe(3);
    for (const id of b!.memberIds) {
      expect(standIn.deliveriesOf(id), id).toHaveLength(1);
      const row = await rowOf(s, id);
      expect(row.status).toBe('sent');
      expect(row.attempts, 'refused calls given back').toBeLessThanOrEqual(1);
    }
  }, 30_000);

  it('a rate-limit storm of 12 refused calls does not fail the members nor count as attempts', async () => {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    env.clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
    const { s, standIn, clock } = env;
    standIn.faultFor = () => ({ kind: '429', retryAfterSeconds: 1 });
    await sendDue(s, queued[0]!.id, opts());
    for (let i = 0; i < 12; i++) {
      const [b] = await s.db.select().from(dunningSendBatches);
      if (b!.status !== 'open') break;
      clock.set(new Date(Math.max(b!.leaseUntil?.getTime() ?? 0, clock.now().getTime()) + 61 * 60_000));
      await sendDue(s, b!.memberIds[0]!, opts());
    }
    const [b] = await s.db.select().from(dunningSendBatches);
    for (const id of b!.memberIds) {
      const row = await rowOf(s, id);
      expect(row.status, `${id}: ${row.statusReason} ${row.error}`).not.toBe('failed');
    }
    // Refused calls are given back: a member's attempts count none of them (out of business hours by now, the
    // batch is dropped and its members wait for the morning, not failed).
    for (const id of b!.memberIds) expect((await rowOf(s, id)).attempts).toBe(0);
  }, 60_000);
});
