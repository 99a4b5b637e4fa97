/**
 * The first attempt renders the email and stores it (renderOnce). Rendering reads the database (tenant, customer,
 * pay links, connections) and writes the body back: a database error there is transient like any other and the
 * message is retried; only the message's own data failing to render (a template error) fails it for good.
 */
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { dunningMessages, dunningTasks } from '../../src/db/schema';
import { sendDue } from '../../src/dunning/send-batch';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { freshPlan, noSleep, rowOf, sendPathSuite, waitingJobs } from './helpers';

const env = sendPathSuite();

/** The services with a database whose next UPDATE outside a transaction fails, as a dropped connection does. */
function withFailingUpdate(s: Services): Services {
  let failed = false;
  const db = new Proxy(s.db, {
    get(target, prop, receiver) {
      if (prop === 'update' && !failed) {
        return () => {
          failed = true;
          throw Object.assign(new Error('terminating connection due to administrator command'), {
            code: '57P01',
          });
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { ...s, db } as Services;
}

describe('rendering the email at the first attempt', () => {
  it('a database error while storing the rendered body is retried, not "failed"; the retry sends it', async () => {
    const queued = await freshPlan(env);
    const m = queued.find((q) => q.invoiceIds.length === 1)!;
    const { s, standIn, transport, clock } = env;
    clock.set(m.sendAt);
    const out = await sendMessage(withFailingUpdate(s), m.id, { transport, sleep: noSleep });
    expect(out).toMatchObject({ outcome: 'deferred', code: 'retrying' });
    const row = await rowOf(s, m.id);
    expect(row.status).toBe('queued');
    expect(row.error).toMatch(/terminating connection/);
    expect(await waitingJobs(s, m.id)).toBeGreaterThan(0);
    expect(standIn.requests).toHaveLength(0);
    const tasks = await s.db.select().from(dunningTasks).where(eq(dunningTasks.messageId, m.id));
    expect(tasks).toHaveLength(0);
    // The job's retry renders and sends it.
    clock.set(row.sendAt);
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({ outcome: 'sent' });
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });

  it('a template error (the message data cannot be rendered) fails the message, with a task', async () => {
    const queued = await freshPlan(env);
    const m = queued.find((q) => q.invoiceIds.length === 1)!;
    const { s, standIn, transport, clock } = env;
    clock.set(m.sendAt);
    // A currency code no formatter knows: the template throws on every attempt alike.
    await s.db.execute(sql`
      update dunning_messages set snapshot = jsonb_set(snapshot, '{invoices,0,currency}', '"not a currency"')
      where id = ${m.id}`);
    const out = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(out).toMatchObject({ outcome: 'skipped', code: 'send_failed' });
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    expect(row!.status).toBe('failed');
    expect(row!.error).toMatch(/could not be rendered/);
    expect(standIn.requests).toHaveLength(0);
    const tasks = await s.db.select().from(dunningTasks).where(eq(dunningTasks.messageId, m.id));
    expect(tasks.map((t) => t.kind)).toEqual(['review']);
  });
});

describe('rendering a batch member', () => {
  it('a database error while storing one member\'s body sends that member back to the queue, not "failed"', async () => {
    const queued = (await freshPlan(env)).filter((q) => q.kind === 'reminder');
    const { s, transport, clock } = env;
    clock.set(new Date(Math.max(...queued.map((q) => q.sendAt.getTime()))));
    await sendDue(withFailingUpdate(s), queued[0]!.id, { transport, batching: true, sleep: noSleep });
    const rows = await Promise.all(queued.map((q) => rowOf(s, q.id)));
    expect(rows.filter((r) => r.status === 'failed')).toHaveLength(0);
    const back = rows.filter((r) => r.error?.includes('terminating connection'));
    expect(back.length).toBeGreaterThan(0);
    for (const r of back) expect(r.status).toBe('queued');
  });
});
