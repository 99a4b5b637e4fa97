/**
 * What an unsubscribe link says about whether its email reached the debtor.
 * - An email Resend refused outright (422: never accepted) reached no one: its link answers "This email was never
 *   sent" and changes nothing, like an unsent one's. Before, any attempt counted as "may have reached the debtor".
 * - An email in doubt (accepted and then a 5xx, a worker killed mid-call) has a working link, and a click on it
 *   proves the debtor got it: the message is recorded as received, and no "check whether they received it" task is
 *   left for a person (an open one is closed). Before, the same-key retry met the opt-out and opened that task.
 * - Resend's webhook about an email whose answer was lost proves it accepted it: recorded as sent with its id.
 * - A batch is accepted whole: one member known to have left settles the others (before, a click on one member's
 *   link while the batch waited made every member "may have been sent", each with a task).
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { contactSuppressions, dunningTasks } from '../../src/db/schema';
import { sendDue } from '../../src/dunning/send-batch';
import { SENDING_LEASE_MS, sendMessage } from '../../src/dunning/send-message';
import { sweepStaleMessages } from '../../src/dunning/send-sweep';
import { signUnsubscribeToken } from '../../src/dunning/unsubscribe-token';
import { ResendTransport } from '../../src/mail/resend';
import { buildTestApp } from '../helpers/app';
import {
  freshPlan,
  noSleep,
  rowOf,
  runUntilSettled,
  sendPathSuite,
  settle,
  singleInvoiceMessage,
} from './helpers';

const env = sendPathSuite();
let app: FastifyInstance;
beforeAll(async () => {
  // The public routes over the suite's services (closed by the suite).
  ({ app } = await buildTestApp({ services: env.s, keepServices: true, token: false }));
});
afterAll(async () => {
  await app?.close();
});
afterEach(async () => {
  await env.s.db.delete(contactSuppressions);
});

async function optedOut(customerId: string) {
  const rows = await env.s.db
    .select()
    .from(contactSuppressions)
    .where(and(eq(contactSuppressions.customerId, customerId), eq(contactSuppressions.kind, 'unsubscribed')));
  return rows.length > 0;
}

/** "Check whether … received …" tasks about the message, open or done. */
async function receiptTasks(messageId: string) {
  const rows = await env.s.db.select().from(dunningTasks).where(eq(dunningTasks.messageId, messageId));
  return rows.filter((t) => t.title.includes('may have been sent'));
}

/** The debtor's link: the confirm page, then its button (what a person clicking does). */
async function clickUnsubscribe(messageId: string) {
  const token = signUnsubscribeToken(env.s.config.APP_SECRET, messageId);
  const page = await app.inject({ url: `/u/${token}` });
  const post = await app.inject({
    method: 'POST',
    url: `/u/${token}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'List-Unsubscribe=One-Click',
  });
  return { page, post };
}

describe('the link of an email Resend refused (422, never accepted)', () => {
  it('answers "This email was never sent" and changes nothing', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport } = env;
    standIn.queue.push({ kind: 'refused', status: 422, name: 'validation_error' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    const row = await rowOf(s, m.id);
    expect(row.status).toBe('failed');
    expect(row.attempts).toBeGreaterThan(0);
    expect(standIn.deliveriesOf(m.id)).toHaveLength(0);
    const { page, post } = await clickUnsubscribe(m.id);
    expect(page.body).toContain('This email was never sent');
    expect(post.body).toContain('This email was never sent');
    expect(await optedOut(m.customerId)).toBe(false);
  });
});

describe('the link of an email in doubt', () => {
  it('accepted, then 5xx: a click records it as received, the retry sends nothing, no receipt check is left', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport } = env;
    standIn.queue.push({ kind: '5xx', accepted: true }, { kind: '5xx' }, { kind: '5xx' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    const waiting = await rowOf(s, m.id);
    expect(waiting.status).toBe('queued');
    expect(waiting.inDoubtSince).not.toBeNull();
    const calls = standIn.requests.length;
    const { page, post } = await clickUnsubscribe(m.id);
    expect(page.body).toContain('Stop payment reminders');
    expect(post.body).toContain('You are unsubscribed');
    expect(await optedOut(m.customerId)).toBe(true);
    // The click proves the email reached the debtor.
    const received = await rowOf(s, m.id);
    expect(received.status).toBe('sent');
    expect(received.sentAt?.getTime()).toBe(waiting.inDoubtSince!.getTime());
    const row = await runUntilSettled(env, m.id);
    expect(row.status).toBe('sent');
    expect(standIn.requests).toHaveLength(calls);
    expect(await receiptTasks(m.id)).toEqual([]);
  });

  it('timed out (Resend slow, then down): the link works, a click records it as received', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn } = env;
    const transport = new ResendTransport({
      apiKey: 're_test_standin',
      baseUrl: standIn.url,
      timeoutMs: 500,
    });
    standIn.queue.push({ kind: 'slow', ms: 1_500 }, { kind: '5xx' }, { kind: '5xx' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    const waiting = await rowOf(s, m.id);
    expect(waiting.status).toBe('queued');
    expect(waiting.inDoubtSince).not.toBeNull();
    const { page, post } = await clickUnsubscribe(m.id);
    expect(page.body).toContain('Stop payment reminders');
    expect(post.body).toContain('You are unsubscribed');
    expect((await rowOf(s, m.id)).status).toBe('sent');
    expect(await receiptTasks(m.id)).toEqual([]);
  }, 30_000);

  it('already "may have been sent" with its check task open: the click closes the task, received', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport } = env;
    // Accepted, then 5xx; the same-key retry refused outright: nothing more Duely can learn by itself.
    standIn.queue.push(
      { kind: '5xx', accepted: true },
      { kind: 'refused', status: 422, name: 'validation_error' },
    );
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect((await rowOf(s, m.id)).status).toBe('unconfirmed');
    const [task] = await receiptTasks(m.id);
    expect(task?.status).toBe('open');
    const { post } = await clickUnsubscribe(m.id);
    expect(post.body).toContain('You are unsubscribed');
    expect((await rowOf(s, m.id)).status).toBe('sent');
    const tasks = await receiptTasks(m.id);
    expect(tasks.map((t) => t.status)).toEqual(['done']);
  });

  it('its worker killed mid-call: a click records it as received; the takeover sends nothing and opens no check', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, clock } = env;
    await expect(
      sendMessage(s, m.id, {
        transport,
        afterProviderCall: () => {
          throw new Error('worker killed');
        },
      }),
    ).rejects.toThrow('worker killed');
    expect((await rowOf(s, m.id)).status).toBe('sending');
    const calls = standIn.requests.length;
    const { post } = await clickUnsubscribe(m.id);
    expect(post.body).toContain('You are unsubscribed');
    clock.advance(SENDING_LEASE_MS + 1_000);
    await sweepStaleMessages(s);
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    const row = await rowOf(s, m.id);
    expect(row.status).toBe('sent');
    expect(standIn.requests).toHaveLength(calls);
    expect(await receiptTasks(m.id)).toEqual([]);
  });
});

describe("Resend's webhook about an email in doubt", () => {
  it('"delivered" for an email whose answer was lost: recorded as sent with its id, the check task closed', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport } = env;
    // Accepted, then 5xx; the same-key retry refused outright: "may have been sent", a person to check.
    standIn.queue.push(
      { kind: '5xx', accepted: true },
      { kind: 'refused', status: 422, name: 'validation_error' },
    );
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect((await rowOf(s, m.id)).status).toBe('unconfirmed');
    const providerId = standIn.deliveriesOf(m.id)[0]!.id;
    // Resend tells: the email (tagged with our message id) was delivered.
    const r = await s.dunning.applyDeliveryUpdate(
      {
        messageId: m.id,
        providerId,
        status: 'delivered',
        at: env.clock.now().toISOString(),
        suppressRecipient: false,
        detail: null,
      },
      `svix_${m.id}`,
    );
    expect(r).toBe('applied');
    const row = await rowOf(s, m.id);
    expect(row).toMatchObject({ status: 'sent', providerId, deliveryStatus: 'delivered' });
    expect((await receiptTasks(m.id)).map((t) => t.status)).toEqual(['done']);
  });

  it('"sent" while the same-key retry waits: recorded as sent, the retry sends nothing', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport } = env;
    standIn.queue.push({ kind: '5xx', accepted: true }, { kind: '5xx' }, { kind: '5xx' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect((await rowOf(s, m.id)).status).toBe('queued');
    const providerId = standIn.deliveriesOf(m.id)[0]!.id;
    const calls = standIn.requests.length;
    await s.dunning.applyDeliveryUpdate(
      {
        messageId: m.id,
        providerId,
        status: 'sent',
        at: env.clock.now().toISOString(),
        suppressRecipient: false,
        detail: null,
      },
      `svix_sent_${m.id}`,
    );
    expect(await rowOf(s, m.id)).toMatchObject({ status: 'sent', providerId });
    const row = await runUntilSettled(env, m.id);
    expect(row.status).toBe('sent');
    expect(standIn.requests).toHaveLength(calls);
    expect(await receiptTasks(m.id)).toEqual([]);
  });
});

describe('a member of a stored batch in doubt', () => {
  it("its debtor's click while the batch waits to be resumed: each member delivered once, no check task", async () => {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    expect(queued.length).toBeGreaterThan(1);
    const { s, standIn, clock, transport } = env;
    clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
    // The batch is accepted, then answered 5xx; Resend down for the in-call retries.
    standIn.queue.push({ kind: '5xx', accepted: true }, { kind: '5xx' }, { kind: '5xx' });
    await sendDue(s, queued[0]!.id, { transport, batching: true, sleep: noSleep });
    const members = [];
    for (const m of queued) if ((await rowOf(s, m.id)).batchId) members.push(m);
    expect(members.length).toBeGreaterThan(1);
    const clicked = members[0]!;
    const { post } = await clickUnsubscribe(clicked.id);
    expect(post.body).toContain('You are unsubscribed');
    // Resumed as the queue would run it.
    for (let i = 0; i < 40; i++) {
      const rows = await Promise.all(members.map((m) => rowOf(s, m.id)));
      const open = rows.filter((r) => r.status === 'queued' || r.status === 'sending');
      if (open.length === 0) break;
      const next = Math.min(...open.map((r) => (r.leaseUntil ?? r.sendAt).getTime()));
      if (next > clock.now().getTime()) clock.set(new Date(next));
      await sendDue(s, open[0]!.id, { transport, batching: true, sleep: noSleep });
    }
    for (const m of members) {
      expect((await rowOf(s, m.id)).status, m.id).toBe('sent');
      expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
      expect(await receiptTasks(m.id)).toEqual([]);
    }
  });

  it('concluded "may have been sent" (a member paid meanwhile), then Resend reports one member: all are sent', async () => {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    const { s, standIn, clock, transport } = env;
    clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
    standIn.queue.push({ kind: '5xx', accepted: true }, { kind: '5xx' }, { kind: '5xx' });
    await sendDue(s, queued[0]!.id, { transport, batching: true, sleep: noSleep });
    const members = [];
    for (const m of queued) if ((await rowOf(s, m.id)).batchId) members.push(m);
    expect(members.length).toBeGreaterThan(1);
    // A payment for one member lands before the retry: the batch cannot be confirmed unchanged.
    for (const id of members[0]!.invoiceIds) await settle(s, id, 0);
    clock.advance(60 * 60_000);
    await sendDue(s, members[1]!.id, { transport, batching: true, sleep: noSleep });
    for (const m of members) expect((await rowOf(s, m.id)).status).toBe('unconfirmed');
    const reported = members[1]!;
    await s.dunning.applyDeliveryUpdate(
      {
        messageId: reported.id,
        providerId: standIn.deliveriesOf(reported.id)[0]!.id,
        status: 'delivered',
        at: clock.now().toISOString(),
        suppressRecipient: false,
        detail: null,
      },
      `svix_batch_${reported.id}`,
    );
    for (const m of members) {
      expect((await rowOf(s, m.id)).status, m.id).toBe('sent');
      expect((await receiptTasks(m.id)).map((x) => x.status)).toEqual(['done']);
      expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    }
  });
});
