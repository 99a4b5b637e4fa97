/**
 * An approval survives a re-plan that changes nothing the reviewer saw (issue 14): a day-one catch-up statement
 * approved, then withdrawn by a pause, comes back approved when the pause is lifted — same invoices, same amounts,
 * same step. If the facts changed meanwhile (an invoice paid or partly paid), the approved text would be wrong:
 * the re-planned message waits for a new approval.
 */
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { dunningMessages, invoices } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approveAll, customerId, messagesOf, RecordingTransport, suiteSetup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };
const api = (method: 'PUT' | 'DELETE' | 'PATCH', url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1/tenants/${tenantId}/dunning${url}`, headers: auth, payload });
const PENDING = ['queued', 'awaiting_approval', 'planned'];

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, clock, tenantId, auth } = suite);
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
}, 120_000);

/** The customer's approved, queued catch-up (it needed approval). */
async function approvedOf(externalId: string) {
  const id = await customerId(s, externalId);
  const [m] = (await messagesOf(s, tenantId)).filter((x) => x.customerId === id && x.status === 'queued');
  expect(m, `a queued message for ${externalId}`).toBeDefined();
  expect(m!.requiresApproval).toBe(true);
  expect(m!.decidedAt).not.toBeNull();
  return m!;
}

async function pause(customer: string) {
  const put = await api('PUT', '/overrides', { customerId: customer, pausedUntil: '2099-01-01' });
  expect(put.statusCode, put.body).toBe(200);
  return put.json().id as string;
}
async function lift(overrideId: string) {
  expect((await api('DELETE', `/overrides/${overrideId}`)).statusCode).toBe(204);
}
const pendingOf = async (customer: string) =>
  (await messagesOf(s, tenantId)).filter((m) => m.customerId === customer && PENDING.includes(m.status));

describe('an approval and a re-plan', () => {
  it('survives a pause lifted with nothing changed: the same message is queued again, still approved', async () => {
    const m = await approvedOf('SLOW');
    const override = await pause(m.customerId);
    const [held] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    expect(held).toMatchObject({ status: 'skipped', statusCode: 'customer_paused' });

    await lift(override);
    const [back] = await pendingOf(m.customerId);
    expect(back).toMatchObject({
      id: m.id,
      status: 'queued',
      decidedBy: m.decidedBy,
      statusCode: 'approved',
      invoiceIds: m.invoiceIds,
    });
    expect(back!.decidedAt?.getTime()).toBe(m.decidedAt!.getTime());
    expect(back!.statusReason).toMatch(/before it was re-planned/);
    // And a later planning run leaves it as it is.
    await planTenant(s, tenantId);
    const [still] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    expect(still!.status).toBe('queued');
  });

  it('survives "pause all sending" and its resume, and a send job that met the pause', async () => {
    const m = await approvedOf('SLOW');
    const settings = (payload: object) =>
      app.inject({ method: 'PATCH', url: `/api/v1/tenants/${tenantId}/settings`, headers: auth, payload });
    const start = clock.now();
    expect((await settings({ sendingPaused: true })).statusCode).toBe(200);
    try {
      const [paused] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
      expect(paused).toMatchObject({ status: 'planned' });
      expect(paused!.decidedAt).not.toBeNull();
      // A send job that was already running when the pause came (in business hours): it refuses, and the
      // message is re-planned.
      clock.set('2013-07-01T10:00:00Z');
      await s.db
        .update(dunningMessages)
        .set({ status: 'queued', sendAt: clock.now() })
        .where(eq(dunningMessages.id, m.id));
      expect(await sendMessage(s, m.id, { transport: new RecordingTransport() })).toMatchObject({
        outcome: 'skipped',
        code: 'sending_paused',
      });
      await planTenant(s, tenantId);
    } finally {
      expect((await settings({ sendingPaused: false })).statusCode).toBe(200);
      clock.set(start);
    }
    const [back] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    expect(back).toMatchObject({ status: 'queued', decidedBy: m.decidedBy });
    expect(back!.decidedAt?.getTime()).toBe(m.decidedAt!.getTime());
  });

  it('is asked again when an invoice was partly paid while paused (the approved amounts are wrong)', async () => {
    const m = await approvedOf('SLOW');
    const override = await pause(m.customerId);
    // A payment arrives meanwhile (as a sync would write it): 100.00 off one invoice of the message.
    await s.db
      .update(invoices)
      .set({ balanceMinor: sql`${invoices.balanceMinor} - 10000` })
      .where(eq(invoices.id, m.invoiceIds[0]!));
    await lift(override);
    const [back] = await pendingOf(m.customerId);
    expect(back).toMatchObject({ id: m.id, status: 'awaiting_approval', decidedAt: null, decidedBy: null });
  });

  it('is asked again when an invoice was paid in full while paused (another message)', async () => {
    await approveAll(s, tenantId);
    const m = await approvedOf('SLOW');
    expect(m.invoiceIds.length).toBeGreaterThan(1);
    const override = await pause(m.customerId);
    await s.db
      .update(invoices)
      .set({ balanceMinor: 0, status: 'paid', paidDate: '2013-07-01' })
      .where(eq(invoices.id, m.invoiceIds[1]!));
    await lift(override);
    const pending = await pendingOf(m.customerId);
    expect(pending).toHaveLength(1);
    expect(pending[0]!.invoiceIds).toEqual([m.invoiceIds[0]]);
    expect(pending[0]).toMatchObject({ status: 'awaiting_approval', decidedAt: null });
    const [old] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    expect(old!.status).toBe('skipped');
  });

  it('a message a reviewer skipped is not revived by a re-plan', async () => {
    const [m] = (await messagesOf(s, tenantId)).filter((x) => x.status === 'awaiting_approval');
    expect(m).toBeDefined();
    const { skipMessage } = await import('../../src/dunning/approvals');
    await skipMessage(s, tenantId, m!.id, 'reviewer', 'not now');
    const override = await pause(m!.customerId);
    await lift(override);
    const [after] = (await messagesOf(s, tenantId)).filter((x) => x.id === m!.id);
    expect(after).toMatchObject({ status: 'skipped', statusCode: 'approval_rejected' });
  });
});
