/**
 * What an unsubscribe link says about whether its email reached the debtor.
 * - An email Resend refused outright (422: never accepted) reached no one: its link answers "This email was never
 *   sent" and changes nothing, like an unsent one's. Before, any attempt counted as "may have reached the debtor".
 * - An email in doubt (accepted and then a 5xx, a worker killed mid-call) has a working link, and a click on it
 *   proves the debtor got it: the message is recorded as received, and no "check whether they received it" task is
 *   left for a person (an open one is closed). Before, the same-key retry met the opt-out and opened that task.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { contactSuppressions, dunningTasks } from '../../src/db/schema';
import { SENDING_LEASE_MS, sendMessage } from '../../src/dunning/send-message';
import { sweepStaleMessages } from '../../src/dunning/send-sweep';
import { signUnsubscribeToken } from '../../src/dunning/unsubscribe-token';
import { buildTestApp } from '../helpers/app';
import { noSleep, rowOf, runUntilSettled, sendPathSuite, singleInvoiceMessage } from './helpers';

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
