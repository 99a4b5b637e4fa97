/**
 * An approved reminder that would now read "overdue" where the approved email read "due today" goes back to a
 * reviewer at claim time (approval_outdated), its stored body cleared: only while nothing under its key can have
 * been accepted. These check the promises around it from outside, under faults.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { dunningMessages } from '../../src/db/schema';
import { sendDue } from '../../src/dunning/send-batch';
import { SENDING_LEASE_MS, sendMessage } from '../../src/dunning/send-message';
import { sweepStaleMessages } from '../../src/dunning/send-sweep';
import { uploadToday } from '../dunning-engine/fixtures';
import { freshPlan, noSleep, rowOf, runUntilSettled, sendPathSuite, singleInvoiceMessage } from './helpers';

const env = sendPathSuite();

/** As a reminder on its invoices' due date reads ("due today"), approved on that day. */
async function approvedDueToday(id: string) {
  const m = await rowOf(env.s, id);
  const snap = m.snapshot as { sendDate: string; invoices: { dueDate: string }[] };
  await env.s.db
    .update(dunningMessages)
    .set({
      requiresApproval: true,
      decidedAt: new Date(`${snap.sendDate}T00:00:00Z`),
      decidedBy: 'reviewer@example.com',
      snapshot: { ...snap, invoices: snap.invoices.map((i) => ({ ...i, dueDate: snap.sendDate })) },
    })
    .where(eq(dunningMessages.id, id));
  return snap.sendDate;
}

const nextDayNoon = (day: string) => new Date(Date.parse(`${day}T16:00:00Z`) + 86_400_000);
/** The next day in the debtor's zone (UTC here), inside the 23 h key window of a call made at 09:00 on `day`. */
const nextDayEarly = (day: string) => new Date(Date.parse(`${day}T06:00:00Z`) + 86_400_000);

describe('an approved "due today" whose send is in doubt, sent a day later', () => {
  it('accepted, then 5xx: the same-key retry sends the stored bytes; not sent back for approval, delivered once', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, clock } = env;
    const day = await approvedDueToday(m.id);
    standIn.queue.push({ kind: '5xx', accepted: true }, { kind: '5xx' }, { kind: '5xx' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    const waiting = await rowOf(s, m.id);
    expect(waiting).toMatchObject({ status: 'queued' });
    expect(waiting.inDoubtSince).not.toBeNull();
    clock.set(nextDayEarly(day));
    const row = await runUntilSettled(env, m.id);
    expect(row, JSON.stringify([m.sendAt, clock.now(), row.statusReason, row.sendAt])).toMatchObject({
      status: 'sent',
      subject: waiting.subject,
      html: waiting.html,
    });
    expect(row.statusCode).not.toBe('approval_outdated');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    expect(new Set(standIn.requests.filter((r) => r.messageId === m.id).map((r) => r.key)).size).toBe(1);
  });

  it('its worker killed mid-call: the takeover a day later sends the stored bytes under the key, delivered once', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, clock } = env;
    const day = await approvedDueToday(m.id);
    await expect(
      sendMessage(s, m.id, {
        transport,
        afterProviderCall: () => {
          throw new Error('worker killed');
        },
      }),
    ).rejects.toThrow('worker killed');
    const before = await rowOf(s, m.id);
    expect(before.status).toBe('sending');
    clock.set(new Date(Math.max(nextDayEarly(day).getTime(), clock.now().getTime() + SENDING_LEASE_MS + 1)));
    await sweepStaleMessages(s);
    // The takeover may first wait for the debtor's sending hours when they open inside the key's window (which
    // message the plan picks, and so its first attempt's time, varies): run its job each time it is due.
    const out = await sendMessage(s, m.id, { transport, sleep: noSleep });
    const row = await runUntilSettled(env, m.id);
    const why = JSON.stringify([
      out,
      m.sendAt,
      clock.now(),
      before.attemptStartedAt,
      row.statusReason,
      row.sendAt,
    ]);
    expect(row, why).toMatchObject({ status: 'sent', subject: before.subject, html: before.html });
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });
});

describe('a batch where one member goes back to approval', () => {
  it('the others go in the batch; the held one waits unsent, then goes once when approved again', async () => {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    expect(queued.length).toBeGreaterThan(1);
    const { s, standIn, clock, transport } = env;
    const held = queued[queued.length - 1]!;
    const day = await approvedDueToday(held.id);
    clock.set(new Date(Math.max(nextDayNoon(day).getTime(), ...queued.map((m) => m.sendAt.getTime()))));
    await sendDue(s, queued[0]!.id === held.id ? queued[1]!.id : queued[0]!.id, {
      transport,
      batching: true,
      sleep: noSleep,
    });
    const back = await rowOf(s, held.id);
    expect(back).toMatchObject({
      status: 'awaiting_approval',
      statusCode: 'approval_outdated',
      batchId: null,
    });
    expect(back.html).toBeNull();
    expect(standIn.deliveriesOf(held.id)).toHaveLength(0);
    for (const m of queued.filter((q) => q.id !== held.id)) {
      const r = await rowOf(s, m.id);
      if (r.status === 'queued') continue; // not due yet in this plan
      expect(r.status, m.id).toBe('sent');
      expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    }
    const ok = await s.dunning.approve(env.tenantId, held.id, 'reviewer@example.com');
    expect(ok.status).toBe('queued');
    const row = await runUntilSettled(env, held.id);
    expect(row.status).toBe('sent');
    expect(standIn.deliveriesOf(held.id)).toHaveLength(1);
  });
});

describe('an approved reminder that waited past its approval’s 7 days, sent back for approval', () => {
  it('is asked again now: the reviewer can approve it (not "older than 7 days"), and it goes once', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, clock, transport } = env;
    const day = await approvedDueToday(m.id);
    // It waited 8 days (held while the ledger could not be read: a reconnect, a CSV upload too old) and now reads
    // "overdue" where the approved email said "due today": back to a reviewer.
    await s.db
      .update(dunningMessages)
      .set({ createdAt: new Date(`${day}T00:00:00Z`) })
      .where(eq(dunningMessages.id, m.id));
    clock.set(new Date(Date.parse(`${day}T10:00:00Z`) + 8 * 86_400_000));
    await s.db.update(dunningMessages).set({ sendAt: clock.now() }).where(eq(dunningMessages.id, m.id));
    await uploadToday(s); // the ledger read today (a CSV company's upload of the day)
    const out = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(out).toMatchObject({ outcome: 'held', code: 'approval_outdated' });
    // A new request with today's words: its 7 days start now, as a request asked again after expiry does.
    const ok = await s.dunning.approve(env.tenantId, m.id, 'reviewer@example.com');
    expect(ok.status).toBe('queued');
    const row = await runUntilSettled(env, m.id);
    expect(row.status).toBe('sent');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });
});
