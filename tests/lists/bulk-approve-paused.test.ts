/**
 * Bulk approve while sending is paused does what a single approval does: the approval is recorded and the message
 * stays planned, with no send job, until sending is resumed (before, the bulk path queued it and enqueued its job).
 */
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { suiteSetup } from '../dunning-engine/fixtures';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: string;
const suite = suiteSetup();

const api = (method: 'GET' | 'PUT' | 'PATCH' | 'POST', path: string, payload?: unknown) =>
  app.inject({ method, url: `/api/v1/tenants/${tenant}/${path}`, headers: auth, payload: payload as object });

async function sendJobs(): Promise<number> {
  const [r] = rowsOf<{ n: number }>(
    await s.db.execute(sql`select count(*)::int as n from pgboss.job where name like 'dunning-send%'
      and state in ('created','retry')`),
  );
  return Number(r?.n ?? 0);
}

beforeAll(async () => {
  ({ s, app, tenantId: tenant, auth } = suite);
  const policy = (await api('GET', 'dunning/policy')).json().policy;
  for (const seq of policy.sequences) for (const step of seq.steps) step.approval = { type: 'always' };
  expect((await api('PUT', 'dunning/policy', { policy })).statusCode).toBe(200);
  await planTenant(s, tenant);
}, 120_000);

describe('bulk approve while sending is paused', () => {
  it('records the approvals and leaves the messages planned, with no send job; resuming queues them', async () => {
    const paused = await api('PATCH', 'settings', { sendingPaused: true });
    expect(paused.statusCode, paused.body).toBe(200);
    const waiting = await s.db
      .select()
      .from(dunningMessages)
      .where(and(eq(dunningMessages.tenantId, tenant), eq(dunningMessages.status, 'awaiting_approval')));
    expect(waiting.length).toBeGreaterThan(0);
    const jobsBefore = await sendJobs();
    const r = await api('POST', 'dunning/messages/bulk', {
      action: 'approve',
      ids: waiting.map((m) => m.id),
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().applied).toBe(waiting.length);
    const rows = await s.db.select().from(dunningMessages).where(eq(dunningMessages.tenantId, tenant));
    for (const m of waiting) {
      const row = rows.find((x) => x.id === m.id)!;
      expect(row.status).toBe('planned');
      expect(row.decidedBy).toBe('API token "test"');
    }
    expect(await sendJobs()).toBe(jobsBefore);

    const resumed = await api('PATCH', 'settings', { sendingPaused: false });
    expect(resumed.statusCode, resumed.body).toBe(200);
    const after = await s.db.select().from(dunningMessages).where(eq(dunningMessages.tenantId, tenant));
    for (const m of waiting) expect(after.find((x) => x.id === m.id)!.status).toBe('queued');
    expect(await sendJobs()).toBeGreaterThan(jobsBefore);
  });
});
