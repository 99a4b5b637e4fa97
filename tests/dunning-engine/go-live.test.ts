/**
 * Go-live (issue 14, point 1): a new company starts with sending off. Duely plans and shows what it would send and
 * sends nothing; going live needs a real reply-to; what was planned before go-live is re-planned at go-live (fresh
 * send times, approvals of unchanged messages kept), never sent late in a burst; "pause all sending" stops
 * everything at once.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { dunningMessages, invoices } from '../../src/db/schema';
import { approveMessage, editMessage } from '../../src/dunning/approvals';
import { planTenant } from '../../src/dunning/engine';
import { replyToProblem } from '../../src/dunning/go-live';
import { DEFAULT_POLICY } from '../../src/dunning/policy';
import { sendMessage } from '../../src/dunning/send-message';
import { sendingGate } from '../../src/dunning/suppression';
import type { Services } from '../../src/services';
import { messagesOf, RecordingTransport, suiteSetup, uploadToday } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };
const transport = new RecordingTransport();

const patch = (payload: Record<string, unknown>) =>
  app.inject({ method: 'PATCH', url: `/api/v1/tenants/${tenantId}/settings`, headers: auth, payload });

const suite = suiteSetup({ live: false });
beforeAll(async () => {
  ({ s, app, clock, tenantId, auth } = suite);
}, 120_000);

describe('the gate and the reply-to rule (pure)', () => {
  it('refuses to send before go-live and while paused, and re-plans what reached the send job', () => {
    expect(sendingGate({ enabled: false, paused: false })).toMatchObject({
      action: 'skip',
      code: 'sending_off',
      replan: true,
    });
    expect(sendingGate({ enabled: true, paused: true })).toMatchObject({
      code: 'sending_paused',
      replan: true,
    });
    expect(sendingGate({ enabled: true, paused: false })).toBeNull();
  });

  it('a reply-to that can never receive a reply is not a real one', () => {
    expect(replyToProblem('billing@127.0.0.1')).toMatch(/cannot receive replies/);
    expect(replyToProblem('billing@localhost')).toMatch(/not a complete|cannot receive/);
    expect(replyToProblem('ar@acme.example')).toMatch(/cannot receive replies/);
    expect(replyToProblem(null)).toBe('No reply-to address is set');
    expect(replyToProblem('ar@acme-billing.com')).toBeNull();
  });
});

describe('before go-live', () => {
  it('a new company has sending off; planning writes "would send" messages and queues nothing', async () => {
    const settings = await app.inject({
      method: 'GET',
      url: `/api/v1/tenants/${tenantId}/settings`,
      headers: auth,
    });
    expect(settings.json()).toMatchObject({ sendingEnabled: false, sendingPaused: false });
    await planTenant(s, tenantId);
    const msgs = await messagesOf(s, tenantId);
    expect(msgs.length).toBeGreaterThan(0);
    expect(msgs.filter((m) => m.status === 'queued')).toEqual([]);
    for (const m of msgs) expect(['planned', 'awaiting_approval']).toContain(m.status);
    // Day one: old debt to debtors never written to is a catch-up batch for review.
    expect(msgs.some((m) => m.status === 'awaiting_approval' && m.template === 'statement')).toBe(true);
    // A send job reaching a planned message does nothing.
    expect(await sendMessage(s, msgs[0]!.id, { transport })).toMatchObject({ outcome: 'noop' });
    expect(transport.deliveries).toEqual([]);
  });

  it('a message forced into the queue is refused by the send job and comes back as "would send"', async () => {
    const [m] = await messagesOf(s, tenantId);
    await s.db
      .update(dunningMessages)
      .set({ status: 'queued', sendAt: clock.now() })
      .where(eq(dunningMessages.id, m!.id));
    expect(await sendMessage(s, m!.id, { transport })).toMatchObject({
      outcome: 'skipped',
      code: 'sending_off',
    });
    expect(transport.deliveries).toEqual([]);
    await planTenant(s, tenantId);
    const [again] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id));
    expect(['planned', 'awaiting_approval']).toContain(again?.status);
  });

  it('the checklist asks for a real reply-to, and going live is refused without one', async () => {
    const status = await app.inject({
      method: 'GET',
      url: `/api/v1/tenants/${tenantId}/dunning/go-live`,
      headers: auth,
    });
    expect(status.statusCode).toBe(200);
    const body = status.json();
    expect(body.sendingEnabled).toBe(false);
    expect(body.wouldSend).toBeGreaterThan(0);
    expect(body.items.find((i: { key: string }) => i.key === 'sender')).toMatchObject({
      done: false,
      required: true,
    });
    expect(body.items.find((i: { key: string }) => i.key === 'payment')).toMatchObject({
      done: false,
      required: true,
    });
    const r = await patch({ sendingEnabled: true });
    expect(r.statusCode).toBe(409);
    expect(r.json().error.message).toMatch(/reply-to/);
    expect(r.json().error.message).toMatch(/no pay link: add payment details/);
    expect((await messagesOf(s, tenantId)).some((m) => m.status === 'queued')).toBe(false);
  });

  it('an approval given before go-live is recorded; the message stays planned', async () => {
    // Every step waits for a reviewer.
    const policy = structuredClone(DEFAULT_POLICY);
    for (const seq of policy.sequences) for (const step of seq.steps) step.approval = { type: 'always' };
    const put = await app.inject({
      method: 'PUT',
      url: `/api/v1/tenants/${tenantId}/dunning/policy`,
      headers: auth,
      payload: { policy },
    });
    expect(put.statusCode, put.body).toBe(200);
    await planTenant(s, tenantId);
    const held = (await messagesOf(s, tenantId)).find((m) => m.status === 'awaiting_approval');
    expect(held).toBeDefined();
    if (!held) return;
    const r = await approveMessage(s, tenantId, held.id, 'reviewer');
    expect(r.status).toBe('planned');
    expect(r.decidedAt).not.toBeNull();
    // A reviewer's edit of a would-send message survives the re-planning of every run before go-live.
    const [other] = (await messagesOf(s, tenantId)).filter((m) => m.id !== held.id);
    await editMessage(s, tenantId, other!.id, 'reviewer', { subject: 'About your account with Acme' });
    await planTenant(s, tenantId);
    const [kept] = (await messagesOf(s, tenantId)).filter((m) => m.id === other!.id);
    expect(kept?.editedSubject).toBe('About your account with Acme');
    const [stillApproved] = (await messagesOf(s, tenantId)).filter((m) => m.id === held.id);
    expect(stillApproved?.decidedAt).not.toBeNull();
  });
});

describe('go-live', () => {
  it('re-plans everything from the moment of go-live: no send time in the past, approvals of unchanged messages kept', async () => {
    const approvedBefore = (await messagesOf(s, tenantId))
      .filter((m) => m.decidedAt !== null)
      .map((m) => m.id);
    // The team goes live two days after the company was connected.
    clock.set('2013-07-03T10:00:00Z');
    const goLiveAt = clock.now();
    const r = await patch({
      sender: { companyName: 'Acme Ltd', replyTo: 'ar@acme-billing.com', address: ['1 Ledger Lane'] },
      paymentDetails: { instructions: 'Bank transfer to Acme Bank, IBAN DE00 1234 5678 9000' },
      sendingEnabled: true,
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ sendingEnabled: true, sendingPaused: false });
    const msgs = (await messagesOf(s, tenantId)).filter((m) => m.kind === 'reminder');
    expect(msgs.length).toBeGreaterThan(0);
    expect(msgs.filter((m) => m.status === 'planned')).toEqual([]);
    for (const m of msgs.filter((x) => x.status === 'queued')) {
      expect(m.sendAt.getTime()).toBeGreaterThanOrEqual(goLiveAt.getTime());
      expect((m.snapshot as { asOf: string }).asOf).toBe('2013-07-03');
    }
    const still = msgs.filter((m) => approvedBefore.includes(m.id));
    expect(still.length).toBeGreaterThan(0);
    for (const m of still) expect(m).toMatchObject({ status: 'queued' });
    expect(still.every((m) => m.decidedAt !== null)).toBe(true);
  });

  it('"pause all sending" takes every queued message back at once; resuming re-plans them', async () => {
    const queued = (await messagesOf(s, tenantId)).filter((m) => m.status === 'queued');
    expect(queued.length).toBeGreaterThan(0);
    expect((await patch({ sendingPaused: true })).statusCode).toBe(200);
    const paused = await messagesOf(s, tenantId);
    expect(paused.filter((m) => m.status === 'queued')).toEqual([]);
    // The send jobs of the earlier queue find nothing to send: each message is back to 'planned' (not held, deferred).
    for (const m of queued) {
      const out = await sendMessage(s, m.id, { transport });
      expect(out, JSON.stringify(out)).toMatchObject({ outcome: 'noop', status: 'planned' });
    }
    expect(transport.deliveries).toEqual([]);
    expect((await patch({ sendingPaused: false })).statusCode).toBe(200);
    expect((await messagesOf(s, tenantId)).filter((m) => m.status === 'queued').length).toBeGreaterThan(0);
  });

  it('every reminder can be paid: the payment details, and a pay link the ledger gave after planning', async () => {
    // The first to go (an unordered read picked any, on Postgres one due days later, past the upload's age limit).
    const [m] = (await messagesOf(s, tenantId))
      .filter((x) => x.status === 'queued')
      .sort((a, b) => a.sendAt.getTime() - b.sendAt.getTime());
    expect(m).toBeDefined();
    // Its send time comes (after go-live on Jul 3; Jul 5 when the planner puts it two days on), and the company has
    // uploaded the day's export: with the Jul 1 upload alone it would be held ledger_stale from Jul 5.
    clock.set(new Date(Math.max(m!.sendAt.getTime(), clock.now().getTime())));
    await uploadToday(s);
    // The ledger's pay link arrives after the plan was made (QuickBooks gives InvoiceLink on single reads).
    await s.db
      .update(invoices)
      .set({ payLink: 'https://pay.acme-billing.com/inv/1' })
      .where(eq(invoices.id, m!.invoiceIds[0]!));
    const out = await sendMessage(s, m!.id, { transport });
    expect(out, JSON.stringify(out)).toMatchObject({ outcome: 'sent' });
    const sentMail = transport.deliveries.at(-1)!;
    expect(sentMail.replyTo).toBe('ar@acme-billing.com');
    expect(sentMail.html).toContain('href="https://pay.acme-billing.com/inv/1"');
    expect(sentMail.html).toContain('IBAN DE00 1234 5678 9000');
    expect(sentMail.text).toContain('How to pay');
  });
});
