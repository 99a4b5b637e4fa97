/**
 * Bulk "Send statement" (customers/bulk, action send_statement): one statement of account per selected customer,
 * listing its open invoices not on hold, waiting for a reviewer; one per customer per day however often it is
 * asked; customers who cannot receive one are reported with the reason; one audit row; another tenant's customers
 * are never touched; a viewer is refused.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER, SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { createUser } from '../../src/auth/users';
import {
  bulkActions,
  contactSuppressions,
  customers,
  dunningMessages,
  dunningOverrides,
  invoices,
} from '../../src/db/schema';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { ledgerRows, suiteSetup } from '../dunning-engine/fixtures';
import { csv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: string;
let other: string;
const ids: Record<string, string> = {};

async function customerOf(tenantId: string, externalId: string) {
  const [c] = await s.db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, externalId)));
  return c!.id;
}

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, tenantId: tenant, auth } = suite);
  for (const c of ['RELY', 'SLOW', 'MID', 'FUT']) ids[c] = await customerOf(tenant, c);
  const second = await importHistoryCsv(s.db, csv(ledgerRows()), {
    tenantName: 'Other Co',
    now: s.clock.now(),
  });
  other = second.tenant.id;
  ids.OTHER_SLOW = await customerOf(other, 'SLOW');
}, 120_000);

const post = (t: string, path: string, payload: unknown, headers: Record<string, string> = auth) =>
  app.inject({ method: 'POST', url: `/api/v1/tenants/${t}/${path}`, headers, payload: payload as object });

const statementsOf = (customerId: string) =>
  s.db
    .select()
    .from(dunningMessages)
    .where(and(eq(dunningMessages.customerId, customerId), eq(dunningMessages.template, 'statement')));

describe('bulk send statement', () => {
  it('creates one statement per reachable customer, waiting for approval, and reports the rest with reasons', async () => {
    // MID unsubscribed, FUT excluded, RELY's only open invoice disputed.
    await s.db
      .insert(contactSuppressions)
      .values({ tenantId: tenant, customerId: ids.MID!, kind: 'unsubscribed' });
    // Written directly, as MID's opt-out is: a bulk exclude plans the tenant in its transaction (as an override PUT
    // does), and that plan would queue SLOW's catch-up statement before the request this test is about.
    await s.db.insert(dunningOverrides).values({ tenantId: tenant, customerId: ids.FUT!, excluded: true });
    const [relyO] = await s.db
      .select({ id: invoices.id })
      .from(invoices)
      .where(and(eq(invoices.tenantId, tenant), eq(invoices.number, 'RELY-O')));
    expect((await post(tenant, 'invoices/bulk', { action: 'dispute', ids: [relyO!.id] })).statusCode).toBe(
      200,
    );

    const selection = [ids.SLOW, ids.MID, ids.FUT, ids.RELY, ids.OTHER_SLOW];
    const r = await post(tenant, 'customers/bulk', { action: 'send_statement', ids: selection });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({
      action: 'send_statement',
      requested: 5,
      applied: 1,
      appliedIds: [ids.SLOW],
    });
    const reasons = Object.fromEntries(
      body.notApplied.map((n: { id: string; reason: string }) => [n.id, n.reason]),
    );
    expect(reasons[ids.MID!]).toMatch(/unsubscribed/);
    expect(reasons[ids.FUT!]).toMatch(/excluded/);
    expect(reasons[ids.RELY!]).toMatch(/^nothing open to list: .*disputed/);
    // Another tenant's customer: refused as not found, and nothing written for it.
    expect(reasons[ids.OTHER_SLOW!]).toBe('not found');
    expect(await statementsOf(ids.OTHER_SLOW!)).toEqual([]);
    for (const c of ['MID', 'FUT', 'RELY']) expect(await statementsOf(ids[c]!)).toEqual([]);

    const [m] = await statementsOf(ids.SLOW!);
    expect(m).toMatchObject({
      tenantId: tenant,
      kind: 'reminder',
      template: 'statement',
      status: 'awaiting_approval',
      requiresApproval: true,
      decidedAt: null,
      stepKeys: [
        expect.stringMatching(/^statement:requested:/),
        expect.stringMatching(/^statement:requested:/),
      ],
    });
    expect(m!.approvalReason).toMatch(/requested by API token "test"/);
    const snap = m!.snapshot as { invoices: { number: string }[]; totals: unknown[]; requestedBy: string };
    expect(snap.invoices.map((i) => i.number).sort()).toEqual(['SLOW-O', 'SLOW-O2']);
    expect(snap.totals).toEqual([{ currency: 'USD', openMinor: 300_000 }]);
    expect(snap.requestedBy).toBe('API token "test"');

    const [audit] = await s.db.select().from(bulkActions).where(eq(bulkActions.id, body.id));
    expect(audit).toMatchObject({
      tenantId: tenant,
      actor: 'API token "test"',
      target: 'customers',
      action: 'send_statement',
      requested: 5,
      applied: 1,
    });

    // It renders through the same path as any planned message (the reviewer's preview).
    const rendered = await app.inject({
      url: `/api/v1/tenants/${tenant}/dunning/messages/${m!.id}/rendered`,
      headers: auth,
    });
    expect(rendered.statusCode, rendered.body).toBe(200);
    expect(rendered.body).toContain('SLOW-O2');
  });

  it('a second request (a double click) makes no second statement; nor does one the same day after a skip', async () => {
    const again = await post(tenant, 'customers/bulk', { action: 'send_statement', ids: [ids.SLOW] });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({
      applied: 0,
      notApplied: [{ id: ids.SLOW, reason: 'a statement is already waiting to be sent' }],
    });
    const [m] = await statementsOf(ids.SLOW!);
    const skip = await post(tenant, 'dunning/messages/bulk', { action: 'skip', ids: [m!.id] });
    expect(skip.json()).toMatchObject({ applied: 1 });
    const third = await post(tenant, 'customers/bulk', { action: 'send_statement', ids: [ids.SLOW] });
    expect(third.json()).toMatchObject({
      applied: 0,
      notApplied: [{ id: ids.SLOW, reason: 'a statement was already requested today' }],
    });
    expect(await statementsOf(ids.SLOW!)).toHaveLength(1);
  });

  it('"all matching" a filter covers only this tenant\'s customers', async () => {
    const r = await post(tenant, 'customers/bulk', { action: 'send_statement', filter: {} });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    // Every one of them was covered above (a statement already asked for today, or a reason it cannot go).
    expect(body.applied).toBe(0);
    const asked = body.notApplied.map((n: { id: string }) => n.id);
    expect(asked).toHaveLength(body.requested);
    expect(asked).toEqual(expect.arrayContaining([ids.RELY, ids.SLOW, ids.MID, ids.FUT]));
    expect(asked).not.toContain(ids.OTHER_SLOW);
    expect(await statementsOf(ids.OTHER_SLOW!)).toEqual([]);
  });

  it('a viewer is refused (403) and nothing is written', async () => {
    const viewer = await createUser(s.db, {
      tenantId: tenant,
      email: 'vic@acme.example',
      role: 'viewer',
      status: 'active',
    });
    const sessions = new SessionAuth(s.db, s.config.APP_SECRET);
    const { token } = await sessions.createSession({
      tenantId: tenant,
      userId: viewer.id,
      method: 'email_link',
      now: s.clock.now(),
    });
    const before = await s.db.select().from(bulkActions).where(eq(bulkActions.tenantId, tenant));
    const r = await post(
      tenant,
      'customers/bulk',
      { action: 'send_statement', ids: [ids.MID] },
      { cookie: `${SESSION_COOKIE}=${token}`, [CSRF_HEADER]: sessions.csrfToken(token) },
    );
    expect(r.statusCode, r.body).toBe(403);
    const after = await s.db.select().from(bulkActions).where(eq(bulkActions.tenantId, tenant));
    expect(after).toHaveLength(before.length);
  });
});
