/**
 * Evidence that an email in doubt left, arriving for several emails at once. Resend accepts a batch whole and then
 * reports every email of it, each in its own webhook, at about the same time; debtors of one batch click their
 * links independently. Each report settles the batch's other members (markKnownSent): before, each locked its own
 * message and then the batch and its siblings, so two reports for two members of one batch waited on each other
 * (a deadlock on Postgres): one webhook, or one debtor's unsubscribe click, failed with an error.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { contactSuppressions, dunningMessages, dunningTasks } from '../../src/db/schema';
import { addDays } from '../../src/dunning/local-time';
import { sendDue } from '../../src/dunning/send-batch';
import { sendMessage } from '../../src/dunning/send-message';
import { signUnsubscribeToken } from '../../src/dunning/unsubscribe-token';
import { buildTestApp } from '../helpers/app';
import { freshPlan, noSleep, rowOf, runUntilSettled, sendPathSuite, settle } from './helpers';

const env = sendPathSuite();
let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await buildTestApp({ services: env.s, keepServices: true, token: false }));
});
afterAll(async () => {
  await app?.close();
});
afterEach(async () => {
  await env.s.db.delete(contactSuppressions);
});

/** A stored batch accepted by Resend whose answer was lost, then concluded "may have been sent": its members. */
async function unconfirmedBatch() {
  const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
  const { s, standIn, clock, transport } = env;
  clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
  standIn.queue.push({ kind: '5xx', accepted: true }, { kind: '5xx' }, { kind: '5xx' });
  await sendDue(s, queued[0]!.id, { transport, batching: true, sleep: noSleep });
  const members: typeof queued = [];
  for (const m of queued) if ((await rowOf(s, m.id)).batchId) members.push(m);
  expect(members.length).toBeGreaterThan(1);
  // A payment for one member before the retry: the batch cannot be confirmed unchanged.
  for (const id of members[0]!.invoiceIds) await settle(s, id, 0);
  clock.advance(60 * 60_000);
  await sendDue(s, members[1]!.id, { transport, batching: true, sleep: noSleep });
  for (const m of members) expect((await rowOf(s, m.id)).status).toBe('unconfirmed');
  return members;
}

async function receiptTasks(messageId: string) {
  const rows = await env.s.db.select().from(dunningTasks).where(eq(dunningTasks.messageId, messageId));
  return rows.filter((t) => t.title.includes('may have been sent'));
}

describe('reports for several members of one batch at once', () => {
  it("Resend's webhooks for every member, concurrently: each applied, every member sent once, checks closed", async () => {
    const members = await unconfirmedBatch();
    const { s, standIn, clock } = env;
    const results = await Promise.allSettled(
      members.map((m, i) =>
        s.dunning.applyDeliveryUpdate(
          {
            messageId: m.id,
            providerId: standIn.deliveriesOf(m.id)[0]!.id,
            status: 'delivered',
            at: clock.now().toISOString(),
            suppressRecipient: false,
            detail: null,
          },
          `svix_race_${i}_${m.id}`,
        ),
      ),
    );
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
    ).toEqual([]);
    for (const m of members) {
      expect((await rowOf(s, m.id)).status, m.id).toBe('sent');
      expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
      expect((await receiptTasks(m.id)).map((x) => x.status)).toEqual(['done']);
    }
  });

  it('two debtors of one batch click their unsubscribe links at once: both unsubscribed, every member sent', async () => {
    const members = await unconfirmedBatch();
    const { s, standIn } = env;
    const clicked = members.slice(0, 2);
    const posts = await Promise.all(
      clicked.map((m) =>
        app.inject({
          method: 'POST',
          url: `/u/${signUnsubscribeToken(s.config.APP_SECRET, m.id)}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'List-Unsubscribe=One-Click',
        }),
      ),
    );
    for (const p of posts) expect(p.body).toContain('You are unsubscribed');
    for (const m of clicked) {
      const rows = await s.db
        .select()
        .from(contactSuppressions)
        .where(
          and(eq(contactSuppressions.customerId, m.customerId), eq(contactSuppressions.kind, 'unsubscribed')),
        );
      expect(rows.length, m.customerId).toBeGreaterThan(0);
    }
    for (const m of members) {
      expect((await rowOf(s, m.id)).status, m.id).toBe('sent');
      expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    }
  });

  it("a debtor's click while the batch's retry is mid-call: the call's answer stands, each member delivered once", async () => {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    const { s, standIn, clock, transport } = env;
    clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
    standIn.queue.push({ kind: '5xx', accepted: true }, { kind: '5xx' }, { kind: '5xx' });
    await sendDue(s, queued[0]!.id, { transport, batching: true, sleep: noSleep });
    const members: typeof queued = [];
    for (const m of queued) if ((await rowOf(s, m.id)).batchId) members.push(m);
    expect(members.length).toBeGreaterThan(1);
    clock.advance(60 * 60_000);
    let click: Promise<{ body: string }> | undefined;
    await sendDue(s, members[0]!.id, {
      transport,
      batching: true,
      sleep: noSleep,
      beforeProviderCall: () => {
        click = app.inject({
          method: 'POST',
          url: `/u/${signUnsubscribeToken(s.config.APP_SECRET, members[1]!.id)}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'List-Unsubscribe=One-Click',
        });
      },
    });
    expect((await click!).body).toContain('You are unsubscribed');
    for (const m of members) {
      const row = await rowOf(s, m.id);
      expect(row.status, m.id).toBe('sent');
      expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
      expect(await receiptTasks(m.id)).toEqual([]);
    }
  });
});

describe('a final notice whose answer was lost, then known to have left', () => {
  async function finalNoticeInDoubt() {
    const queued = await freshPlan(env);
    const m = queued.find((q) => q.invoiceIds.length === 1)!;
    env.clock.set(m.sendAt);
    // The last step: after it a person calls the debtor.
    await env.s.db.update(dunningMessages).set({ tone: 'final' }).where(eq(dunningMessages.id, m.id));
    env.standIn.queue.push({ kind: '5xx', accepted: true }, { kind: '5xx' }, { kind: '5xx' });
    await sendMessage(env.s, m.id, { transport: env.transport, sleep: noSleep });
    const waiting = await rowOf(env.s, m.id);
    expect(waiting.status).toBe('queued');
    expect(waiting.inDoubtSince).not.toBeNull();
    return m;
  }
  const callTasks = async (messageId: string) =>
    (await env.s.db.select().from(dunningTasks).where(eq(dunningTasks.messageId, messageId))).filter(
      (t) => t.kind === 'call' && t.dedupeKey === `call:${messageId}`,
    );

  it("Resend's webhook says it was sent: recorded sent, and the call a final notice asks for is on the call list", async () => {
    const m = await finalNoticeInDoubt();
    const { s, standIn, clock } = env;
    clock.advance(30 * 60_000);
    await s.dunning.applyDeliveryUpdate(
      {
        messageId: m.id,
        providerId: standIn.deliveriesOf(m.id)[0]!.id,
        status: 'sent',
        at: clock.now().toISOString(),
        suppressRecipient: false,
        detail: null,
      },
      `svix_final_${m.id}`,
    );
    expect((await rowOf(s, m.id)).status).toBe('sent');
    const [call] = await callTasks(m.id);
    expect(call).toMatchObject({ status: 'open', dueOn: addDays(m.sendAt.toISOString().slice(0, 10), 7) });
  });

  it('the same-key retry confirms it instead: the same call task (the control)', async () => {
    const m = await finalNoticeInDoubt();
    await runUntilSettled(env, m.id);
    expect((await rowOf(env.s, m.id)).status).toBe('sent');
    expect(await callTasks(m.id)).toHaveLength(1);
  });
});
