import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import { sendMessageJob } from '../../src/jobs/dunning-jobs';
import { scoreTenantJob } from '../../src/jobs/risk-jobs';
import type { Services } from '../../src/services';
import { approveAll, messagesOf, setup, uploadToday } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('dunning jobs on pg-boss', () => {
  it('outside business hours the send job defers to the next allowed time and re-enqueues itself', async () => {
    await planTenant(s, tenantId);
    await approveAll(s, tenantId); // day one: the old debt is a reviewed catch-up
    const [m] = (await messagesOf(s, tenantId)).filter((x) => x.status === 'queued');
    // Saturday 03:00 UTC: not a business day for a UTC tenant working Monday–Friday.
    clock.set('2013-07-06T03:00:00Z');
    await uploadToday(s); // a CSV company's reminders go out only from a recent upload (at most 3 days old)
    const out = await sendMessage(s, m!.id);
    expect(out).toMatchObject({ outcome: 'deferred', code: 'non_business_day' });
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id));
    expect(row!.status).toBe('queued');
    expect(row!.sendAt.toISOString()).toBe('2013-07-08T08:00:00.000Z');
    const jobs = rowsOf<{ data: { messageId: string } }>(
      await s.db.execute(sql`select data from pgboss.job where name = 'dunning-send'`),
    );
    expect(jobs.filter((j) => j.data.messageId === m!.id).length).toBe(2);
    // Early runs wait for the send time.
    clock.set('2013-07-08T07:00:00Z');
    expect(await sendMessage(s, m!.id)).toMatchObject({ outcome: 'deferred' });
    clock.set('2013-07-08T08:00:00Z');
    expect(await sendMessage(s, m!.id)).toMatchObject({ outcome: 'sent' });
  });

  it('risk-score → dunning-plan → dunning-send run through the workers', async () => {
    await s.db.delete(dunningMessages).where(eq(dunningMessages.tenantId, tenantId));
    await s.db.execute(sql`delete from pgboss.job where name like 'dunning-%'`);
    clock.set('2013-07-01T00:00:00Z');
    await s.queue.work(s, 2);
    await s.queue.send(scoreTenantJob, { tenantId, reason: 'test' });
    await vi.waitFor(
      async () => {
        const msgs = await messagesOf(s, tenantId);
        expect(msgs.length).toBeGreaterThan(0);
      },
      { timeout: 60_000, interval: 250 },
    );
    await approveAll(s, tenantId); // day one: the old debt is a reviewed catch-up
    // Each queued message has its send job, delayed by (send time − app now) on the database clock.
    const msgs = (await messagesOf(s, tenantId)).filter((m) => m.status === 'queued');
    const jobs = rowsOf<{ data: { messageId: string }; delay_ms: number }>(
      await s.db.execute(sql`
        select data, (extract(epoch from start_after - created_on) * 1000)::float8 as delay_ms
        from pgboss.job where name = 'dunning-send'`),
    );
    for (const m of msgs) {
      const job = jobs.find((j) => j.data.messageId === m.id);
      expect(job).toBeDefined();
      expect(Math.abs(job!.delay_ms - (m.sendAt.getTime() - clock.now().getTime()))).toBeLessThan(60_000);
    }
    // At its time, the worker sends it (local outbox).
    const m = msgs[0]!;
    clock.set(m.sendAt);
    await s.queue.send(sendMessageJob, { messageId: m.id });
    await vi.waitFor(
      async () => {
        const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
        expect(row!.status).toBe('sent');
        expect(row!.providerId).toBe(`outbox:${m.id}`);
      },
      { timeout: 30_000, interval: 250 },
    );
  }, 90_000);
});
