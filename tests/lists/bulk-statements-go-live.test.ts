/**
 * A statement someone asked for (customers/bulk send_statement) under the go-live switches: before go-live it waits
 * (awaiting approval, then approved but planned) through every plan run instead of being taken back like the
 * planner's own messages; nothing is queued until sending is on; going live queues it, pausing takes it back,
 * resuming queues it again.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { dunningMessages } from '../../src/db/schema';
import { approveMessage } from '../../src/dunning/approvals';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { customerId, suiteSetup } from '../dunning-engine/fixtures';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: string;

const suite = suiteSetup({ live: false });
beforeAll(async () => {
  ({ s, app, tenantId: tenant, auth } = suite);
}, 120_000);

const statement = async (customer: string) => {
  const rows = await s.db
    .select()
    .from(dunningMessages)
    .where(and(eq(dunningMessages.customerId, customer), eq(dunningMessages.template, 'statement')));
  expect(rows).toHaveLength(1);
  return rows[0]!;
};
const patch = (payload: Record<string, unknown>) =>
  app.inject({ method: 'PATCH', url: `/api/v1/tenants/${tenant}/settings`, headers: auth, payload });

describe('a requested statement and the go-live switches', () => {
  it('waits through plan runs before go-live, is queued at go-live, taken back on pause and queued on resume', async () => {
    const slow = await customerId(s, 'SLOW');
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenant}/customers/bulk`,
      headers: auth,
      payload: { action: 'send_statement', ids: [slow] },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ applied: 1 });
    const made = await statement(slow);
    expect(made.status).toBe('awaiting_approval');

    // Plan runs before go-live take the planner's own messages back; the requested statement stays.
    await planTenant(s, tenant);
    expect(await statement(slow)).toMatchObject({ id: made.id, status: 'awaiting_approval' });
    // It counts as the planner's contact with SLOW: no catch-up statement or reminder planned on top of it.
    const toSlow = await s.db.select().from(dunningMessages).where(eq(dunningMessages.customerId, slow));
    expect(toSlow.map((m) => m.id)).toEqual([made.id]);
    const approved = await approveMessage(s, tenant, made.id, 'reviewer');
    expect(approved.status).toBe('planned');
    await planTenant(s, tenant);
    expect(await statement(slow)).toMatchObject({ id: made.id, status: 'planned', decidedBy: 'reviewer' });

    const live = await patch({
      sender: { companyName: 'Acme Ltd', replyTo: 'ar@acme-billing.com', address: ['1 Ledger Lane'] },
      paymentDetails: { instructions: 'Bank transfer to Acme Bank, IBAN DE00 1234 5678 9000' },
      sendingEnabled: true,
    });
    expect(live.statusCode, live.body).toBe(200);
    expect(await statement(slow)).toMatchObject({ status: 'queued', decidedBy: 'reviewer' });

    expect((await patch({ sendingPaused: true })).statusCode).toBe(200);
    expect(await statement(slow)).toMatchObject({ status: 'planned', decidedBy: 'reviewer' });
    expect((await patch({ sendingPaused: false })).statusCode).toBe(200);
    expect(await statement(slow)).toMatchObject({ status: 'queued', decidedBy: 'reviewer' });
  });
});
