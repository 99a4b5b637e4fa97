/**
 * Bulk actions: approve/skip many held reminders, pause/exclude many customers, mark many invoices disputed — by ids
 * or "all matching" a list filter; one transaction, a summary naming what was left alone and why, an audit row with
 * who did it. (Who may call them: the COLLECTOR role, swept by tests/security/route-sweep.test.ts.)
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { bulkActions, disputes, dunningMessages, dunningOverrides } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { customerId, suiteSetup } from '../dunning-engine/fixtures';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: string;

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, tenantId: tenant, auth } = suite);
  // Every reminder needs approval, so there is a queue to work through.
  const policy = await app.inject({ url: `/api/v1/tenants/${tenant}/dunning/policy`, headers: auth });
  const p = policy.json().policy;
  for (const seq of p.sequences) for (const step of seq.steps) step.approval = { type: 'always' };
  const put = await app.inject({
    method: 'PUT',
    url: `/api/v1/tenants/${tenant}/dunning/policy`,
    headers: auth,
    payload: { policy: p },
  });
  expect(put.statusCode, put.body).toBe(200);
  await planTenant(s, tenant);
}, 120_000);

const post = (path: string, payload: unknown, headers: Record<string, string> = auth) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${tenant}/${path}`,
    headers,
    payload: payload as object,
  });

async function held() {
  return s.db
    .select()
    .from(dunningMessages)
    .where(and(eq(dunningMessages.tenantId, tenant), eq(dunningMessages.status, 'awaiting_approval')));
}

describe('bulk approve and skip', () => {
  it('skips "all matching" a filter (here one customer) and leaves the others waiting', async () => {
    const slow = await customerId(s, 'SLOW');
    const before = await held();
    const slowHeld = before.filter((m) => m.customerId === slow);
    expect(slowHeld.length).toBeGreaterThan(0);
    expect(before.length).toBeGreaterThan(slowHeld.length);
    const r = await post('dunning/messages/bulk', {
      action: 'skip',
      filter: { status: 'awaiting_approval', customer: slow },
      reason: 'on the phone with them',
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ requested: slowHeld.length, applied: slowHeld.length, notApplied: [] });
    const after = await held();
    expect(after.map((m) => m.id).sort()).toEqual(
      before
        .filter((m) => m.customerId !== slow)
        .map((m) => m.id)
        .sort(),
    );
    const [skipped] = await s.db
      .select()
      .from(dunningMessages)
      .where(eq(dunningMessages.id, slowHeld[0]!.id));
    expect(skipped!.statusReason).toBe('Skipped by API token "test": on the phone with them');
  });

  it('approves the selected held messages in one request, reports a decided one, and records who did it', async () => {
    const waiting = await held();
    expect(waiting.length).toBeGreaterThanOrEqual(1);
    // One message in the selection was already skipped (by the test above): reported, the rest approved.
    const [decided] = await s.db
      .select()
      .from(dunningMessages)
      .where(and(eq(dunningMessages.tenantId, tenant), eq(dunningMessages.status, 'skipped')));
    const ids = [...waiting.map((m) => m.id), decided!.id];
    const r = await post('dunning/messages/bulk', { action: 'approve', ids });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ action: 'approve', requested: ids.length, applied: waiting.length });
    expect(body.appliedIds.sort()).toEqual(waiting.map((m) => m.id).sort());
    expect(body.notApplied).toEqual([{ id: decided!.id, reason: 'is skipped, not awaiting approval' }]);
    const rows = await s.db.select().from(dunningMessages).where(eq(dunningMessages.tenantId, tenant));
    for (const m of waiting) {
      const row = rows.find((x) => x.id === m.id)!;
      expect(row.status).toBe('queued');
      expect(row.decidedBy).toBe('API token "test"');
    }
    const [audit] = await s.db.select().from(bulkActions).where(eq(bulkActions.id, body.id));
    expect(audit).toMatchObject({
      actor: 'API token "test"',
      target: 'messages',
      action: 'approve',
      applied: waiting.length,
    });
    expect(await held()).toEqual([]);
  });

  it('refuses a body with both ids and filter, or neither', async () => {
    expect((await post('dunning/messages/bulk', { action: 'approve' })).statusCode).toBe(400);
    expect(
      (await post('dunning/messages/bulk', { action: 'approve', ids: ['x'], filter: {} })).statusCode,
    ).toBe(400);
  });
});

describe('bulk customers and invoices', () => {
  it('pauses and excludes many customers, keeping each other setting', async () => {
    const ids = [await customerId(s, 'SLOW'), await customerId(s, 'MID')];
    const p = await post('customers/bulk', { action: 'pause', ids, until: '2013-08-01' });
    expect(p.statusCode, p.body).toBe(200);
    expect(p.json()).toMatchObject({ applied: 2 });
    const x = await post('customers/bulk', { action: 'exclude', ids: [ids[0]] });
    expect(x.json()).toMatchObject({ applied: 1 });
    const rows = await s.db.select().from(dunningOverrides).where(eq(dunningOverrides.tenantId, tenant));
    const of = (id: string) => rows.find((o) => o.customerId === id)!;
    expect(of(ids[0]!)).toMatchObject({ pausedUntil: '2013-08-01', excluded: true });
    expect(of(ids[1]!)).toMatchObject({ pausedUntil: '2013-08-01', excluded: false });
    // The list shows the state and filters by it.
    const paused = await app.inject({
      url: `/api/v1/tenants/${tenant}/customers?dunning=paused`,
      headers: auth,
    });
    expect(
      paused
        .json()
        .items.map((c: { externalId: string }) => c.externalId)
        .sort(),
    ).toEqual(['MID', 'SLOW']);
    expect((await post('customers/bulk', { action: 'pause', ids })).statusCode).toBe(400); // no until
  });

  it('marks all overdue invoices disputed; an invoice already disputed is reported', async () => {
    const r = await post('invoices/bulk', {
      action: 'dispute',
      filter: { overdue: true },
      reason: 'pricing',
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ requested: 3, applied: 3 });
    const again = await post('invoices/bulk', { action: 'dispute', filter: { overdue: 'true' } });
    expect(again.json()).toMatchObject({ applied: 0 });
    expect(again.json().notApplied.every((n: { reason: string }) => n.reason === 'already disputed')).toBe(
      true,
    );
    const rows = await s.db.select().from(disputes).where(eq(disputes.tenantId, tenant));
    expect(rows).toHaveLength(3);
    expect(rows[0]!.reason).toBe('pricing (marked by API token "test")');
    const list = await app.inject({ url: `/api/v1/tenants/${tenant}/invoices?disputed=true`, headers: auth });
    expect(list.json().total).toBe(3);
  });
});
