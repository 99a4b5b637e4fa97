/**
 * Approvals not given within 7 days expire, and the next plan asks again with current figures — a new request a
 * reviewer can approve. The planner asks again under the same key (same customer and steps), writing over the
 * expired row; before, that row kept its first created_at, so the request was born expired: its approve answered
 * 409 approval_expired ("plan again"), and every plan expired it and asked again, for ever — the reminder could never
 * be sent. The same for a message withdrawn by a pause of more than 7 days and planned again when it was lifted.
 */
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { dunningMessages } from '../../src/db/schema';
import { APPROVAL_TTL_DAYS, planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { customerId, messagesOf, suiteSetup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, clock, tenantId, auth } = suite);
}, 120_000);

const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1/tenants/${tenantId}/dunning${url}`, headers: auth, payload });

/** Plans, and dates what it wrote by the clock (the database's now() is the real time, not the test's clock). */
async function plan() {
  await planTenant(s, tenantId);
  await s.db.execute(
    sql`update dunning_messages set created_at = ${clock.now().toISOString()}::timestamptz
        where created_at > ${new Date(clock.now().getTime() + 365 * 86_400_000).toISOString()}::timestamptz`,
  );
}

async function heldFor(external: string) {
  const id = await customerId(s, external);
  return (await messagesOf(s, tenantId)).filter(
    (m) => m.customerId === id && m.kind === 'reminder' && m.status === 'awaiting_approval',
  );
}

async function approveAsViewed(id: string) {
  const view = await api('GET', `/messages/${id}`);
  expect(view.statusCode, view.body).toBe(200);
  return api('POST', `/messages/${id}/approve`, { version: view.json().approvalVersion });
}

const days = (n: number) => new Date(clock.now().getTime() + n * 86_400_000);

describe('an approval that expired', () => {
  it('is asked again by the next plan, and that request can be approved', async () => {
    await plan();
    const [first] = await heldFor('MID');
    expect(first).toBeDefined();
    // Nobody acts for more than the TTL (to a Wednesday, in business hours).
    clock.set(new Date(Date.parse('2013-07-10T10:00:00Z')));
    expect(clock.now().getTime() - first!.createdAt.getTime()).toBeGreaterThan(
      APPROVAL_TTL_DAYS * 86_400_000,
    );
    await plan();
    const [again] = await heldFor('MID');
    expect(again, 'asked again').toBeDefined();
    const r = await approveAsViewed(again!.id);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ status: 'queued' });
    // And the next plan leaves the approved message as it is.
    await plan();
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, again!.id));
    expect(row).toMatchObject({ status: 'queued', statusCode: 'approved' });
  });

  it('a message withdrawn by a pause of more than 7 days comes back as a request that can be approved', async () => {
    await plan();
    const [held] = await heldFor('SLOW');
    expect(held).toBeDefined();
    const slow = await customerId(s, 'SLOW');
    const put = await api('PUT', '/overrides', { customerId: slow, pausedUntil: '2099-01-01' });
    expect(put.statusCode, put.body).toBe(200);
    clock.set(days(9));
    expect((await api('DELETE', `/overrides/${put.json().id}`)).statusCode).toBe(204);
    await plan();
    const [back] = await heldFor('SLOW');
    expect(back, 'planned again when the pause was lifted').toBeDefined();
    const r = await approveAsViewed(back!.id);
    expect(r.statusCode, r.body).toBe(200);
  });
});
