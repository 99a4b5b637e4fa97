/**
 * Stop 34's send-path changes under faults: a held reminder rendered again for the sending day (renderOnce), and
 * unsubscribe links that work only for an email that may have reached the debtor (mayHaveReachedDebtor).
 * - An email whose first call may have got through (5xx after acceptance, then the provider down) has a working
 *   link, and its debtor's unsubscribe stops the queued same-key retry: no further request, and (since stop 35)
 *   the click records it as received instead of leaving a person to check.
 * - An email whose every call was refused (nothing can have reached anyone) has a link that changes nothing.
 * - A reminder held into the next day whose invoice was paid meanwhile is rendered again and then skipped as paid:
 *   never sent, never "failed".
 * - A reminder in doubt across midnight keeps its first bytes (a same-key retry must be the same request).
 */
import { and, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { contactSuppressions, dunningMessages, dunningTasks } from '../../src/db/schema';
import { localParts } from '../../src/dunning/local-time';
import { sendDue } from '../../src/dunning/send-batch';
import { sendMessage } from '../../src/dunning/send-message';
import {
  freshPlan,
  noSleep,
  rowOf,
  runUntilSettled,
  type SendPathEnv,
  sendPathSuite,
  settle,
  singleInvoiceMessage,
} from './helpers';

const env = sendPathSuite();

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

async function reviewTasks(messageId: string) {
  return env.s.db
    .select()
    .from(dunningTasks)
    .where(and(eq(dunningTasks.messageId, messageId), eq(dunningTasks.kind, 'review')));
}

describe('the unsubscribe link of an email whose first call may have got through', () => {
  it('works, and stops the queued same-key retry: no further request; the click proves receipt, nothing to check', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport } = env;
    await s.db.delete(contactSuppressions);
    // Accepted, then answered 5xx; Resend down for the in-call retries.
    standIn.queue.push({ kind: '5xx', accepted: true }, { kind: '5xx' }, { kind: '5xx' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    const waiting = await rowOf(s, m.id);
    expect(waiting.status).toBe('queued');
    expect(waiting.inDoubtSince).not.toBeNull();
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    const calls = standIn.requests.length;
    // The debtor got it and clicks the link in it.
    expect(await s.dunning.unsubscribe(m.id)).toBe(true);
    expect(await optedOut(m.customerId)).toBe(true);
    const row = await runUntilSettled(env, m.id);
    expect(row.status).toBe('sent');
    expect(standIn.requests).toHaveLength(calls);
    // The debtor read it (the click proves it): no "check whether they received it" task, only the opt-out's own
    // follow-up (tests/send-path/unsubscribe-receipt).
    const titles = (await reviewTasks(m.id)).map((t) => t.title);
    expect(titles.filter((t) => t.includes('may have been sent'))).toHaveLength(0);
    // Nothing else waits for that debtor.
    const others = await s.db
      .select()
      .from(dunningMessages)
      .where(eq(dunningMessages.customerId, m.customerId));
    for (const o of others.filter((x) => x.id !== m.id))
      expect(['skipped', 'cancelled', 'sent', 'unconfirmed', 'failed']).toContain(o.status);
    await s.db.delete(contactSuppressions);
  });

  it('refused on every call so far (429s): nothing reached anyone, its link changes nothing', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport } = env;
    await s.db.delete(contactSuppressions);
    standIn.queue.push({ kind: '429' }, { kind: '429' }, { kind: '429' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    const waiting = await rowOf(s, m.id);
    expect(waiting.status).toBe('queued');
    expect(waiting.inDoubtSince).toBeNull();
    expect(await s.dunning.unsubscribe(m.id)).toBe('never_sent');
    expect(await optedOut(m.customerId)).toBe(false);
    const row = await runUntilSettled(env, m.id);
    expect(row.status).toBe('sent');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });
});

describe('a reminder held into the next day', () => {
  it('whose invoice was paid meanwhile is rendered again and skipped as paid: never sent, never failed', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, clock } = env;
    standIn.queue.push({ kind: 'refused', status: 401, name: 'restricted_api_key' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    const held = await rowOf(s, m.id);
    expect(held.status).toBe('queued');
    expect(held.renderedAsOf).not.toBeNull();
    clock.set(new Date(m.sendAt.getTime() + 24 * 3_600_000));
    await settle(s, m.invoiceIds[0]!, 0);
    const row = await runUntilSettled(env, m.id);
    expect(row.status).toBe('skipped');
    expect(row.statusCode).toBe('paid');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(0);
    expect(await reviewTasks(m.id)).toHaveLength(0);
  });

  it('in doubt keeps its first bytes: the retry next day is the same request, delivered once', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, clock } = env;
    standIn.queue.push({ kind: '5xx' }, { kind: '5xx' }, { kind: '5xx' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    const first = await rowOf(s, m.id);
    expect(first.inDoubtSince).not.toBeNull();
    clock.set(new Date(m.sendAt.getTime() + 20 * 3_600_000));
    const row = await runUntilSettled(env, m.id);
    expect(row.status).toBe('sent');
    const delivered = standIn.deliveriesOf(m.id);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.text).toBe(first.text);
    expect(row.text).toBe(first.text);
  });
});

/** Runs the batched send job of whatever is due until every one of `ids` has left queued/sending. */
async function drainBatched(e: SendPathEnv, ids: string[], max = 60) {
  const { s, clock, transport } = e;
  for (let i = 0; i < max; i++) {
    const rows = await Promise.all(ids.map((id) => rowOf(s, id)));
    const open = rows.filter((r) => r.status === 'queued' || r.status === 'sending');
    if (open.length === 0) return;
    const next = Math.min(...open.map((r) => (r.leaseUntil ?? r.sendAt).getTime()));
    if (next > clock.now().getTime()) clock.set(new Date(next));
    await sendDue(s, open[0]!.id, { transport, batching: true, sleep: noSleep });
  }
}

describe('batched (MAIL_BATCH=true), a stored batch written for an earlier day', () => {
  it('refused into the next day, one member paid meanwhile: the payer gets nothing, the others go once with that day', async () => {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    expect(queued.length).toBeGreaterThan(1);
    const { s, standIn, clock, transport } = env;
    clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
    standIn.queue.push({ kind: 'refused', status: 403, name: 'invalid_api_key' });
    await sendDue(s, queued[0]!.id, { transport, batching: true, sleep: noSleep });
    expect(standIn.deliveries).toHaveLength(0);
    clock.set(new Date(clock.now().getTime() + 24 * 3_600_000));
    const payer = queued[0]!;
    for (const id of payer.invoiceIds) await settle(s, id, 0);
    await drainBatched(
      env,
      queued.map((m) => m.id),
    );
    expect(await rowOf(s, payer.id)).toMatchObject({ status: 'skipped', statusCode: 'paid' });
    expect(standIn.deliveriesOf(payer.id)).toHaveLength(0);
    for (const m of queued.slice(1)) {
      const row = await rowOf(s, m.id);
      expect(row.status).toBe('sent');
      const delivered = standIn.deliveriesOf(m.id);
      expect(delivered).toHaveLength(1);
      expect(delivered[0]!.text).toBe(row.text);
      expect(localParts(row.renderedAsOf!, 'UTC').date).toBe(localParts(row.sentAt!, 'UTC').date);
    }
  });

  it('in doubt (5xx on its call), resumed the next day: the same key and bytes, each delivered once', async () => {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    const { s, standIn, clock, transport } = env;
    clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
    standIn.queue.push({ kind: '5xx' }, { kind: '5xx' }, { kind: '5xx' });
    await sendDue(s, queued[0]!.id, { transport, batching: true, sleep: noSleep });
    const first = new Map<string, string>();
    for (const m of queued) {
      const r = await rowOf(s, m.id);
      if (r.batchId) first.set(m.id, r.text!);
    }
    expect(first.size).toBeGreaterThan(0);
    const keys = new Set(standIn.requests.map((r) => r.key));
    clock.set(new Date(clock.now().getTime() + 20 * 3_600_000));
    await drainBatched(
      env,
      queued.map((m) => m.id),
    );
    for (const [id, text] of first) {
      expect((await rowOf(s, id)).status).toBe('sent');
      const delivered = standIn.deliveriesOf(id);
      expect(delivered).toHaveLength(1);
      expect(delivered[0]!.text).toBe(text);
    }
    // The batch's key is the one the retries used.
    const batchKeys = standIn.requests.filter((r) => r.batch?.some((id) => first.has(id))).map((r) => r.key);
    expect(new Set(batchKeys).size).toBe(1);
    expect(keys.has(batchKeys[0]!)).toBe(true);
  });
});
