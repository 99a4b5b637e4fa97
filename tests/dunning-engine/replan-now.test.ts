/**
 * What the team does shows at once (issue 14, point 6): a pause, exclusion, promise, dispute, unsubscribe, spam
 * complaint or bounce withdraws what was planned in the same transaction, with the reason on the message; an
 * opt-out opens a task for a person.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { dunningMessages } from '../../src/db/schema';
import { applyDeliveryUpdate, unsubscribeDebtor } from '../../src/dunning/delivery-events';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approveAll, customerId, messagesOf, suiteSetup } from './fixtures';

let s: Services;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };
const api = (method: 'PUT' | 'POST' | 'DELETE' | 'GET', url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1/tenants/${tenantId}/dunning${url}`, headers: auth, payload });
const pendingOf = async (customerId: string) =>
  (await messagesOf(s, tenantId)).filter(
    (m) => m.customerId === customerId && ['queued', 'awaiting_approval', 'planned'].includes(m.status),
  );

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, tenantId, auth } = suite);
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
}, 120_000);

/** The customer's one queued message (after a reviewer approved the day-one catch-up). */
async function queuedOf(externalId: string) {
  await approveAll(s, tenantId);
  const id = await customerId(s, externalId);
  const [m] = (await messagesOf(s, tenantId)).filter((x) => x.customerId === id && x.status === 'queued');
  expect(m, `a queued message for ${externalId}`).toBeDefined();
  return m!;
}

describe('actions re-plan at once', () => {
  it('a pause withdraws the queued message with the reason; lifting it plans the message again', async () => {
    const m = await queuedOf('MID');
    const put = await api('PUT', '/overrides', { customerId: m.customerId, pausedUntil: '2099-01-01' });
    expect(put.statusCode, put.body).toBe(200);
    expect(await pendingOf(m.customerId)).toEqual([]);
    const [after] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    expect(after).toMatchObject({ status: 'skipped', statusCode: 'customer_paused' });
    expect(after!.statusReason).toMatch(/^Will not be sent: Reminders to .* are paused until 2099-01-01$/);

    const del = await api('DELETE', `/overrides/${put.json().id}`);
    expect(del.statusCode).toBe(204);
    expect((await pendingOf(m.customerId)).length).toBeGreaterThan(0);
  });

  it('a promise to pay withdraws the message listing that invoice; the rest is planned again', async () => {
    const m = await queuedOf('SLOW');
    expect(m.invoiceIds).toHaveLength(2);
    const promised = m.invoiceIds[0]!;
    const promise = await api('POST', '/promises', {
      customerId: m.customerId,
      invoiceIds: [promised],
      promisedDate: '2013-07-20',
    });
    expect(promise.statusCode, promise.body).toBe(201);
    const [after] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    expect(after).toMatchObject({ status: 'skipped', statusCode: 'promise_to_pay' });
    const again = await pendingOf(m.customerId);
    expect(again.length).toBe(1);
    expect(again[0]!.invoiceIds).toEqual(m.invoiceIds.filter((i) => i !== promised));
  });

  it('a dispute withdraws the message; resolving it plans it again', async () => {
    const m = await queuedOf('MID');
    const dispute = await api('POST', '/disputes', { invoiceId: m.invoiceIds[0] });
    expect(dispute.statusCode, dispute.body).toBe(201);
    const [after] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    expect(after).toMatchObject({ status: 'skipped', statusCode: 'disputed' });
    expect(await pendingOf(m.customerId)).toEqual([]);
    const resolved = await app.inject({
      method: 'PATCH',
      url: `/api/v1/tenants/${tenantId}/dunning/disputes/${dispute.json().id}`,
      headers: auth,
      payload: { resolved: true },
    });
    expect(resolved.statusCode).toBe(200);
    expect((await pendingOf(m.customerId)).length).toBe(1);
  });

  it('an unsubscribe withdraws everything planned for the debtor and opens a task on the call list', async () => {
    const m = await queuedOf('SLOW');
    // The debtor unsubscribes with the link of an earlier email they got (the queued one's unsubscribes no one).
    const earlier = { ...m, id: `${m.id.slice(0, -4)}0000`, status: 'sent' as const, sentAt: m.sendAt };
    await s.db.insert(dunningMessages).values(earlier);
    expect(await unsubscribeDebtor(s, m.id)).toBe('never_sent');
    expect(await unsubscribeDebtor(s, earlier.id)).toBe(true);
    expect(await pendingOf(m.customerId)).toEqual([]);
    const [after] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    expect(after).toMatchObject({ status: 'skipped', statusCode: 'opted_out' });
    const tasks = (await api('GET', '/tasks')).json().items as {
      customerId: string;
      kind: string;
      title: string;
    }[];
    const task = tasks.find((t) => t.customerId === m.customerId && t.kind === 'review');
    expect(task?.title).toMatch(/unsubscribed from payment reminders: no more reminders will go out/);
  });

  it('a spam complaint about a sent reminder opens the same task and stops the debtor', async () => {
    const m = await queuedOf('MID');
    s.clock.now = () => m.sendAt;
    expect((await sendMessage(s, m.id, { transport: null })).outcome).toBe('sent');
    const [sent] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    const r = await applyDeliveryUpdate(
      s,
      {
        messageId: sent!.id,
        providerId: sent!.providerId!,
        status: 'complained',
        at: m.sendAt.toISOString(),
        detail: null,
        suppressRecipient: true,
      } as never,
      'svix-complaint-1',
    );
    expect(r).toBe('applied');
    const tasks = (await api('GET', '/tasks')).json().items as { customerId: string; title: string }[];
    expect(
      tasks.some((t) => t.customerId === m.customerId && /marked a reminder as spam/.test(t.title)),
    ).toBe(true);
    await planTenant(s, tenantId);
    expect(await pendingOf(m.customerId)).toEqual([]);
  });
});
