/**
 * An approval approves exactly the words and recipients the reviewer saw, from outside (the HTTP API and the send
 * worker). Before: an approve carried no "as seen" version, so a message planned again under the same id while the
 * Approvals page was open was approved with figures nobody read; a reviewer's intro went out unreviewed after a
 * re-plan whose figures changed; an override naming another contact kept the approval (another address); and an
 * approved message that waited past its day was sent saying "overdue" where the approved email said "due today".
 */
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approvalRule, approveAll, messagesOf, suiteSetup, uploadToday } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };

const suite = suiteSetup();

beforeAll(async () => {
  ({ s, app, clock, tenantId, auth } = suite);
  // Every step waits for a reviewer.
  await approvalRule(app, tenantId, auth, { type: 'always' });
}, 120_000);

const api = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1/tenants/${tenantId}/dunning${url}`, headers: auth, payload });

async function pause(customer: string): Promise<string> {
  const put = await api('PUT', '/overrides', { customerId: customer, pausedUntil: '2099-01-01' });
  expect(put.statusCode, put.body).toBe(200);
  return put.json().id as string;
}
async function lift(overrideId: string) {
  expect((await api('DELETE', `/overrides/${overrideId}`)).statusCode).toBe(204);
}
async function view(id: string) {
  const r = await api('GET', `/messages/${id}`);
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as { status: string; approvalVersion: string; to: string[]; editedIntro: string | null };
}
async function row(id: string) {
  const [m] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, id));
  return m!;
}
/** As when the message was planned on a ledger that showed the debtor paying on time (another email). */
async function plannedOnOtherFigures(id: string) {
  await s.db
    .update(dunningMessages)
    .set({ snapshot: sql`${dunningMessages.snapshot} || '{"reliablePayer": true}'::jsonb` })
    .where(eq(dunningMessages.id, id));
}

const isReminder = (x: typeof dunningMessages.$inferSelect) =>
  x.kind === 'reminder' && x.template !== 'statement';

/** Days pass (what is due sent, every held message approved) until `pick` finds a reminder in `status`. */
async function reminder(
  status: string,
  pick: (m: typeof dunningMessages.$inferSelect) => boolean = () => true,
) {
  for (let day = 0; day < 60; day++) {
    await planTenant(s, tenantId);
    const held = (await messagesOf(s, tenantId)).find(
      (x) => isReminder(x) && x.status === 'awaiting_approval',
    );
    if (status === 'awaiting_approval' && held && pick(held)) return held;
    await approveAll(s, tenantId);
    const m = (await messagesOf(s, tenantId)).find(
      (x) => isReminder(x) && x.status === status && x.sendAt > clock.now() && pick(x),
    );
    if (m) return m;
    clock.set(new Date(Date.parse(clock.now().toISOString().slice(0, 10)) + 86_400_000 + 12 * 3_600_000));
    // The company uploads each day's export: a CSV company's reminders wait once its upload is over 3 days old.
    await uploadToday(s);
    for (const q of await messagesOf(s, tenantId))
      if (q.status === 'queued' && q.sendAt <= clock.now()) await sendMessage(s, q.id, { transport: null });
  }
  throw new Error(`no ${status} reminder in 60 days`);
}

describe('approving what the reviewer saw', () => {
  it('a message planned again with other figures while the page was open: 409, approved only as it reads now', async () => {
    const m = await reminder('awaiting_approval');
    await plannedOnOtherFigures(m.id);
    const seen = await view(m.id);
    const override = await pause(m.customerId);
    await lift(override);
    const now = await view(m.id);
    expect(now.status).toBe('awaiting_approval');
    expect(now.approvalVersion).not.toBe(seen.approvalVersion);
    // The Approvals page reads the list: the same version as the message's own view.
    const list = await api('GET', `/messages?status=awaiting_approval&limit=200`);
    expect(list.statusCode, list.body).toBe(200);
    const item = (list.json().items as { id: string; approvalVersion: string }[]).find((x) => x.id === m.id);
    expect(item?.approvalVersion).toBe(now.approvalVersion);

    const stale = await api('POST', `/messages/${m.id}/approve`, { version: seen.approvalVersion });
    expect(stale.statusCode, stale.body).toBe(409);
    expect(stale.json().error).toMatchObject({ code: 'message_changed' });
    expect(stale.json().error.message).toMatch(/changed since you viewed it/);
    expect(await row(m.id)).toMatchObject({ status: 'awaiting_approval', decidedAt: null });

    // The bulk action with the versions the cards showed leaves it, with why.
    const bulk = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenantId}/dunning/messages/bulk`,
      headers: auth,
      payload: { action: 'approve', ids: [m.id], versions: { [m.id]: seen.approvalVersion } },
    });
    expect(bulk.statusCode, bulk.body).toBe(200);
    expect(bulk.json()).toMatchObject({ applied: 0, notApplied: [{ id: m.id }] });
    expect(bulk.json().notApplied[0].reason).toMatch(/changed since you viewed it/);
    expect(await row(m.id)).toMatchObject({ status: 'awaiting_approval', decidedAt: null });

    const ok = await api('POST', `/messages/${m.id}/approve`, { version: now.approvalVersion });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'queued', decidedBy: expect.any(String) });
  });

  it('an edit by another reviewer since the view: 409', async () => {
    const m = await reminder('awaiting_approval');
    const seen = await view(m.id);
    const edit = await api('PATCH', `/messages/${m.id}`, { intro: 'Please call us about this.' });
    expect(edit.statusCode, edit.body).toBe(200);
    const stale = await api('POST', `/messages/${m.id}/approve`, { version: seen.approvalVersion });
    expect(stale.statusCode, stale.body).toBe(409);
    const ok = await api('POST', `/messages/${m.id}/approve`, {
      version: (await view(m.id)).approvalVersion,
    });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('a page left open overnight: what read "due today" reads "overdue" now, so that view is refused', async () => {
    const m = await reminder('awaiting_approval');
    const snap = m.snapshot as { sendDate: string; invoices: { dueDate: string }[] };
    await s.db
      .update(dunningMessages)
      .set({ snapshot: { ...snap, invoices: snap.invoices.map((i) => ({ ...i, dueDate: snap.sendDate })) } })
      .where(eq(dunningMessages.id, m.id));
    const seen = await view(m.id);
    clock.set(new Date(Date.parse(`${snap.sendDate}T12:00:00Z`) + 86_400_000));
    const stale = await api('POST', `/messages/${m.id}/approve`, { version: seen.approvalVersion });
    expect(stale.statusCode, stale.body).toBe(409);
    expect(await row(m.id)).toMatchObject({ status: 'awaiting_approval', decidedAt: null });
    const ok = await api('POST', `/messages/${m.id}/approve`, {
      version: (await view(m.id)).approvalVersion,
    });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('an override naming another contact: the approved message waits for a reviewer again, to the new address', async () => {
    const m = await reminder('queued', (x) => x.decidedAt !== null);
    const put = await api('PUT', '/overrides', {
      customerId: m.customerId,
      contactEmails: ['other.ap@debtor.example'],
    });
    expect(put.statusCode, put.body).toBe(200);
    const back = await row(m.id);
    expect(back.to).toEqual(['other.ap@debtor.example']);
    expect(back).toMatchObject({ status: 'awaiting_approval', decidedAt: null, decidedBy: null });
  });

  it('approved as "due today", sent a day later: waits for a reviewer instead of saying "overdue" unread', async () => {
    const m = await reminder('queued', (x) => x.decidedAt !== null);
    const snap = m.snapshot as { sendDate: string; invoices: { dueDate: string }[] };
    // As a reminder on its invoices' due date reads ("due today"), approved on that day.
    await s.db
      .update(dunningMessages)
      .set({
        snapshot: { ...snap, invoices: snap.invoices.map((i) => ({ ...i, dueDate: snap.sendDate })) },
      })
      .where(eq(dunningMessages.id, m.id));
    // It waited: the next day, in business hours.
    clock.set(new Date(Date.parse(`${snap.sendDate}T12:00:00Z`) + 86_400_000));
    const r = await sendMessage(s, m.id, { transport: null });
    expect(r).toMatchObject({ outcome: 'held', code: 'approval_outdated' });
    const held = await row(m.id);
    expect(held).toMatchObject({
      status: 'awaiting_approval',
      decidedAt: null,
      sentAt: null,
      providerId: null,
    });
    expect(held.statusReason).toMatch(/was due today and would now read overdue/);
    // A reviewer reads today's words and approves them: they go, at the next business hour (the days overdue grow
    // meanwhile; what it calls each invoice does not, so that needs no other approval).
    const ok = await api('POST', `/messages/${m.id}/approve`, {
      version: (await view(m.id)).approvalVersion,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    // The company uploads each day's export (its last upload may be days old by now: that would rightly hold the
    // reminder, which is not what this case is about).
    await uploadToday(s);
    let again = await sendMessage(s, m.id, { transport: null });
    if (again.outcome === 'deferred') {
      clock.set(new Date((await row(m.id)).sendAt.getTime() + 60_000));
      await uploadToday(s); // after a weekend, say
      again = await sendMessage(s, m.id, { transport: null });
    }
    expect(again, JSON.stringify({ again, clock: clock.now() })).toMatchObject({ outcome: 'sent' });
  });

  it('an edited reminder that needs no approval, planned again reading otherwise: the edit is kept and read again', async () => {
    await approvalRule(app, tenantId, auth, { type: 'never' });
    const m = await reminder('queued');
    expect(m.requiresApproval).toBe(false);
    const edit = await api('PATCH', `/messages/${m.id}`, {
      intro: 'As agreed on the phone, here are the figures.',
    });
    expect(edit.statusCode, edit.body).toBe(200);
    await plannedOnOtherFigures(m.id);
    const override = await pause(m.customerId);
    await lift(override);
    const back = await row(m.id);
    expect(back).toMatchObject({
      status: 'awaiting_approval',
      requiresApproval: true,
      editedIntro: 'As agreed on the phone, here are the figures.',
    });
    expect(back.approvalReason).toMatch(/Edited by .* when it read otherwise/);

    // The same through a take-back (an override naming another contact re-plans the customer's waiting messages).
    const ok = await api('POST', `/messages/${m.id}/approve`, {
      version: (await view(m.id)).approvalVersion,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const put = await api('PUT', '/overrides', {
      customerId: m.customerId,
      contactEmails: ['third@debtor.example'],
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(await row(m.id)).toMatchObject({
      status: 'awaiting_approval',
      editedIntro: 'As agreed on the phone, here are the figures.',
      to: ['third@debtor.example'],
    });
  });
});
