/**
 * NetSuite through the app, against the local stand-in: an admin connects with Token-Based Authentication through
 * POST /api/v1/tenants/:tenant/connections → the first sync is enqueued → the sync leaves every invoice's open
 * balance equal to the stand-in's ledger to the minor unit in every currency → days pass in NetSuite → an
 * incremental sync is still exact, voids and deletions show → the pre-send live re-read goes through the
 * connector's read.invoices → a revoked token marks the connection reconnect_needed. Runs on PGlite and Postgres.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { signPing } from '../../connectors/netsuite';
import { NetsuiteCompany, NetsuiteSandbox } from '../../sandboxes/netsuite';
import { ManualClock } from '../../src/clock';
import { ensureTenant } from '../../src/db/queries/tenants';
import { accountEmails, connections, invoices, syncRuns, tenants, users } from '../../src/db/schema';
import { syncConnectionJob } from '../../src/jobs/sync-jobs';
import type { Services } from '../../src/services';
import { refreshInvoicesLive } from '../../src/sync/live-refresh';
import { runSync } from '../../src/sync/run-sync';
import { buildTestApp, suiteTestApp } from '../helpers/app';
import { storedInvoices } from './fixtures';

const clock = new ManualClock('2026-04-01T08:00:00Z');
let sandbox: NetsuiteSandbox;
let s: Services;
let app: FastifyInstance;
let admin = '';
let tenantId = '';
let tenantSlug = '';
let connectionId = '';

const t = suiteTestApp(async () => {
  sandbox = new NetsuiteSandbox({ company: NetsuiteCompany.generate({ seed: 12, customers: 12 }) });
  await sandbox.start();
  return {
    clock,
    env: {
      ...sandbox.env(),
      NETSUITE_PING_SECRET: 'ping-secret',
      NETSUITE_PAY_LINK_FIELD: 'custbody_duely_paylink',
    },
    token: 'test admin',
    sandbox,
  };
});
beforeAll(async () => {
  ({ services: s, app, token: admin } = t);
  const tenant = await ensureTenant(s.db, 'NetSuite Co', 'netsuite');
  tenantId = tenant.id;
  tenantSlug = tenant.slug;
});

const post = (body: unknown) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${tenantSlug}/connections`,
    headers: { authorization: `Bearer ${admin}` },
    payload: body as Record<string, unknown>,
  });

/** Every live invoice in the DB: currency, balance in minor units, status — keyed by NetSuite id. */
const ours = () => storedInvoices(s.db, tenantId);

/** Totals per currency, for a readable failure. */
function perCurrency(m: Map<string, { currency: string; balanceMinor: number }>) {
  const out: Record<string, number> = {};
  for (const v of m.values()) out[v.currency] = (out[v.currency] ?? 0) + v.balanceMinor;
  return out;
}

async function expectExact() {
  const truth = sandbox.company.openBalances();
  const got = await ours();
  expect(perCurrency(got)).toEqual(perCurrency(truth));
  expect(got).toEqual(truth);
}

describe('NetSuite through the app', () => {
  it('GET /api/v1/integrations lists every registered connector with its mode and connect methods', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/integrations',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['netsuite', 'quickbooks']);
    expect(body.netsuite).toMatchObject({
      provider: 'netsuite',
      mode: 'live',
      methods: ['oauth', 'credentials'],
      connectUrl: '/connect/netsuite',
      pollMinutes: 15,
    });
    // No M2M key is configured: the form offers token-based authentication only.
    const type = body.netsuite.credentialFields.find((f: { name: string }) => f.name === 'type');
    expect(type.choices).toEqual(['tba']);
    expect(body.netsuite.credentialFields.map((f: { name: string }) => f.name)).not.toContain(
      'certificateId',
    );
    expect(body.netsuite.permissions).toContain('Transactions > Invoice (View)');
    expect(body.quickbooks).toHaveProperty('mode');
  });

  it('bad TBA credentials: 422 saying INVALID_LOGIN and where the admin looks; nothing stored', async () => {
    const res = await post({
      provider: 'netsuite',
      accountId: '1234567_SB1',
      auth: { type: 'tba', tokenId: 'sandbox-token-id', tokenSecret: 'wrong' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('INVALID_LOGIN');
    expect(res.json().error.message).toMatch(/Login Audit Trail/);
    expect(await s.db.select().from(connections)).toHaveLength(0);
  });

  it('a provider without a credential form, or an unknown one, is refused', async () => {
    expect((await post({ provider: 'quickbooks', accountId: 'x' })).statusCode).toBe(400);
    expect((await post({ provider: 'nope' })).statusCode).toBe(400);
  });

  it('connects with TBA: 201, sealed credentials, the first sync enqueued', async () => {
    const res = await post({
      provider: 'netsuite',
      accountId: '1234567_SB1',
      auth: { type: 'tba', tokenId: 'sandbox-token-id', tokenSecret: 'sandbox-token-secret' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      provider: 'netsuite',
      externalId: '1234567_SB1',
      status: 'active',
      missingPermissions: [],
    });
    connectionId = body.id;
    const [row] = await s.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(row?.tenantId).toBe(tenantId);
    // Sealed: the token secret is not readable in the row.
    expect(JSON.stringify(row?.credentials)).not.toContain('sandbox-token-secret');
    const jobs = (await s.queue.findJobs(syncConnectionJob.name)) as Array<{
      data: { connectionId: string; reason: string };
    }>;
    expect(jobs.map((j) => j.data)).toContainEqual({ connectionId, reason: 'connect' });
  });

  it("a SuiteScript pings with its own account's secret, from the Connections API; the installation secret and another account's are refused", async () => {
    const ping = (account: string, sign: (body: string, ts: number) => string) => {
      const body = JSON.stringify({ account, events: [{ type: 'invoice', id: '5001', operation: 'edit' }] });
      const ts = Math.floor(Date.now() / 1000);
      return app.inject({
        method: 'POST',
        url: '/webhooks/netsuite',
        headers: {
          'content-type': 'application/json',
          'x-duely-timestamp': String(ts),
          'x-duely-signature': sign(body, ts),
        },
        payload: body,
      });
    };
    expect((await ping('1234567-sb1', () => 'v1=bad')).statusCode).toBe(401);
    // The installation's NETSUITE_PING_SECRET itself signs nothing: each account has its own.
    expect((await ping('1234567-sb1', (b, ts) => signPing(b, 'ping-secret', ts))).statusCode).toBe(401);

    const list = await app.inject({
      method: 'GET',
      url: `/api/v1/tenants/${tenantSlug}/connections`,
      headers: { authorization: `Bearer ${admin}` },
    });
    const view = list.json().items.find((c: { id: string }) => c.id === connectionId);
    expect(view).toMatchObject({ pingSecretAvailable: true });
    expect(list.body).not.toMatch(/"secret"/);
    const got = await app.inject({
      method: 'GET',
      url: `/api/v1/tenants/${tenantSlug}/connections/${connectionId}/ping-secret`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(got.statusCode).toBe(200);
    expect(got.headers['cache-control']).toBe('no-store');
    const { secret, url } = got.json() as { secret: string; url: string };
    expect(url).toMatch(/\/webhooks\/netsuite$/);
    expect(secret).not.toContain('ping-secret');
    expect(secret.length).toBeGreaterThanOrEqual(40);

    const ok = await ping('1234567-sb1', (b, ts) => signPing(b, secret, ts));
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ events: 1, enqueued: 1, ignored: 0 });
    // The same account in its other spelling is the same account.
    expect((await ping('1234567_SB1', (b, ts) => signPing(b, secret, ts))).statusCode).toBe(200);
    // One company's script cannot make Duely poll another company's account.
    expect((await ping('7654321', (b, ts) => signPing(b, secret, ts))).statusCode).toBe(401);
  });

  it("the ping secret is for admins of the connection's own tenant only", async () => {
    const other = await ensureTenant(s.db, 'Other Co', 'other-co');
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/tenants/${other.slug}/connections/${connectionId}/ping-secret`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(res.statusCode).toBe(404);
  });

  it('the full sync leaves every open balance exact to the minor unit in every currency', async () => {
    const result = await runSync(s, { connectionId, reason: 'connect', pageSize: 25 });
    expect(result.status).toBe('succeeded');
    await expectExact();
    const currencies = new Set([...(await ours()).values()].map((v) => v.currency));
    expect(currencies).toEqual(new Set(['USD', 'CAD', 'EUR', 'JPY']));
  });

  it('with NETSUITE_PAY_LINK_FIELD set, every synced invoice carries the pay link from its custom body field', async () => {
    const rows = await s.db
      .select({ id: invoices.externalId, payLink: invoices.payLink })
      .from(invoices)
      .where(eq(invoices.tenantId, tenantId));
    const expected = [...sandbox.company.txns.values()]
      .filter((t) => t.type === 'CustInvc')
      .map((t) => [String(t.id), t.custom.custbody_duely_paylink ?? null] as const);
    expect(new Map(rows.map((r) => [r.id, r.payLink]))).toEqual(new Map(expected));
    // Most invoices have a link, some have none: both paths are exercised.
    expect(rows.filter((r) => r.payLink?.startsWith('https://pay.example.com/')).length).toBeGreaterThan(
      rows.length / 2,
    );
    expect(rows.some((r) => r.payLink === null)).toBe(true);
  });

  it('after days of changes in NetSuite, an incremental sync is still exact; voids and deletions show', async () => {
    const deletedBefore = sandbox.company.deleted.length;
    for (let day = 0; day < 8; day++) {
      sandbox.company.simulateDay();
      clock.advance(24 * 3600_000);
    }
    // A void and a deletion of invoices we hold, for certain.
    const held = [...sandbox.company.txns.values()].filter((t) => t.type === 'CustInvc' && !t.voided);
    const voided = held[0]!;
    const gone = held[1]!;
    sandbox.company.void(voided.id);
    sandbox.company.delete(gone.id);
    expect(sandbox.company.deleted.length).toBeGreaterThan(deletedBefore);

    const result = await runSync(s, { connectionId, reason: 'schedule', pageSize: 25 });
    expect(result.status).toBe('succeeded');
    const [run] = await s.db
      .select()
      .from(syncRuns)
      .where(and(eq(syncRuns.connectionId, connectionId), eq(syncRuns.status, 'succeeded')))
      .orderBy(syncRuns.startedAt);
    expect(run).toBeDefined();
    await expectExact();
    const got = await ours();
    expect(got.get(String(voided.id))).toMatchObject({ status: 'void', balanceMinor: 0 });
    expect(got.has(String(gone.id))).toBe(false);
    const [deletedRow] = await s.db
      .select({ status: invoices.status })
      .from(invoices)
      .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, String(gone.id))));
    expect(deletedRow?.status).toBe('deleted');
  });

  it('the pre-send live re-read goes through the connector: a payment minutes ago is seen without a sync', async () => {
    const inv = [...sandbox.company.txns.values()].find(
      (t) => t.type === 'CustInvc' && sandbox.company.unpaid(t) > 100,
    )!;
    const customer = sandbox.company.customers.get(inv.entity)!;
    const amount = sandbox.company.unpaid(inv) - 100;
    sandbox.company.addPayment(customer, amount, [{ invoice: inv.id, amountMinor: amount }]);
    // The payment SuiteApp issued a new link: the live re-read carries it too.
    inv.custom.custbody_duely_paylink = `https://pay.example.com/netsuite/inv/${inv.id}/renewed`;
    const [row] = await s.db
      .select({ id: invoices.id, balanceMinor: invoices.balanceMinor })
      .from(invoices)
      .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, String(inv.id))));
    expect(row!.balanceMinor).toBe(amount + 100);
    const queriesBefore = sandbox.queries.length;
    const [conn] = await s.db.select().from(connections).where(eq(connections.id, connectionId));
    await refreshInvoicesLive(s, conn!, [row!.id]);
    expect(sandbox.queries.slice(queriesBefore).some((q) => q.includes(String(inv.id)))).toBe(true);
    const [after] = await s.db
      .select({ balanceMinor: invoices.balanceMinor, payLink: invoices.payLink })
      .from(invoices)
      .where(eq(invoices.id, row!.id));
    expect(after!.balanceMinor).toBe(100);
    expect(after!.payLink).toBe(`https://pay.example.com/netsuite/inv/${inv.id}/renewed`);
  });

  it('OAuth 2.0 in the browser: per-account authorize with PKCE, callback company proven by a probe, 7-day lapse stored', async () => {
    // A second stand-in account, so this connect creates its own tenant.
    const other = new NetsuiteSandbox({
      accountId: '7654321',
      company: NetsuiteCompany.generate({ seed: 4, customers: 3 }),
    });
    await other.start();
    const second = await buildTestApp({
      clock,
      env: { ...other.env(), PUBLIC_URL: 'https://duely.example' },
      token: false,
      sandbox: other,
    });
    const { services: s2, app: app2 } = second;
    try {
      const start = await app2.inject({ url: '/connect/netsuite?account=7654321' });
      expect(start.statusCode).toBe(302);
      const authorize = new URL(String(start.headers.location));
      expect(authorize.origin).toBe(other.url);
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
      const cookie = String(start.headers['set-cookie']).split(';')[0]!;
      // The verifier is not in the URL the browser carries.
      expect(start.headers.location).not.toContain(cookie.split('.')[1]!);
      const consent = await fetch(authorize, { redirect: 'manual' });
      const back = new URL(String(consent.headers.get('location')));
      expect(back.searchParams.get('company')).toBe('7654321');
      const done = await app2.inject({ url: back.pathname + back.search, headers: { cookie } });
      expect(done.statusCode).toBe(302);
      const [conn] = await s2.db.select().from(connections).where(eq(connections.provider, 'netsuite'));
      expect(conn).toMatchObject({ externalId: '7654321', status: 'active' });
      const lapse = conn!.refreshExpiresAt!.getTime() - clock.now().getTime();
      expect(lapse).toBeGreaterThan(6 * 24 * 3600_000);
      expect(lapse).toBeLessThanOrEqual(7 * 24 * 3600_000);
      const [tenant] = await s2.db.select().from(tenants).where(eq(tenants.id, conn!.tenantId));
      expect(tenant?.name).toBe('Duely Demo Holdings Inc.');
      // The stored OAuth grant syncs, refreshing through the account's own token endpoint.
      const result = await runSync(s2, { connectionId: conn!.id, reason: 'connect' });
      expect(result.status).toBe('succeeded');

      // Signed out, this connect created a new tenant: the browser is signed in as that tenant's first admin
      // (NetSuite names no person: a placeholder address until they give theirs; .invalid never receives mail).
      const session = String(done.headers['set-cookie'])
        .split(/,(?=\s*\w+=)/)
        .map((c) => c.trim().split(';')[0]!)
        .find((c) => c.startsWith('duely_session='));
      expect(session).toBeDefined();
      const me = await app2.inject({ url: '/api/v1/session', headers: { cookie: session! } });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({
        kind: 'session',
        role: 'admin',
        tenant: { id: conn!.tenantId },
        user: { method: 'connect', email: 'netsuite-7654321@users.invalid' },
      });
      const people = await s2.db.select().from(users).where(eq(users.tenantId, conn!.tenantId));
      expect(people.map((p) => [p.role, p.status])).toEqual([['admin', 'active']]);

      // The landing page asks for their email: it becomes theirs only through the link mailed to it.
      const asMe = { cookie: session!, 'x-csrf-token': me.json().csrfToken as string };
      const ask = await app2.inject({
        method: 'POST',
        url: '/api/v1/session/email',
        headers: asMe,
        payload: { email: 'Controller@Example.com' },
      });
      expect(ask.statusCode).toBe(202);
      expect((await s2.db.select().from(users).where(eq(users.tenantId, conn!.tenantId)))[0]!.email).toBe(
        'netsuite-7654321@users.invalid',
      );
      const mails = await s2.db.select().from(accountEmails);
      expect(mails.map((m) => m.toAddress)).toEqual(['controller@example.com']);
      const link = /https:\/\/duely\.example(\/verify-email\?token=[^"\s<]+)/.exec(mails[0]!.text)![1]!;
      const tampered = link.replace(/token=./, (t) => (t.endsWith('a') ? 'token=b' : 'token=a'));
      expect((await app2.inject({ url: tampered })).statusCode).toBe(400);
      const opened = await app2.inject({ url: link.replaceAll('&amp;', '&') });
      expect(opened.statusCode).toBe(200);
      // Opening the link shows a button (a mail scanner fetching it confirms nothing); the button confirms.
      expect((await s2.db.select().from(users).where(eq(users.tenantId, conn!.tenantId)))[0]!.email).toBe(
        'netsuite-7654321@users.invalid',
      );
      const token = new URL(link.replaceAll('&amp;', '&'), 'https://duely.example').searchParams.get(
        'token',
      )!;
      const confirmed = await app2.inject({
        method: 'POST',
        url: '/verify-email',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://duely.example' },
        payload: new URLSearchParams({ token }).toString(),
      });
      expect(confirmed.statusCode).toBe(200);
      expect(confirmed.body).toContain('controller@example.com is your Duely sign-in address');
      expect((await s2.db.select().from(users).where(eq(users.tenantId, conn!.tenantId)))[0]!.email).toBe(
        'controller@example.com',
      );
      // Once set, it is not the connect's to change again.
      const again409 = await app2.inject({
        method: 'POST',
        url: '/api/v1/session/email',
        headers: asMe,
        payload: { email: 'someone-else@example.com' },
      });
      expect(again409.statusCode).toBe(409);

      // The same account again from another signed-out browser (anyone with a role in it could do this). While the
      // connection works, that browser may not replace its grant (its role may see less): refused, nothing changes.
      const signedOutConnect = async () => {
        const start = await app2.inject({ url: '/connect/netsuite?account=7654321' });
        const cookie = String(start.headers['set-cookie']).split(';')[0]!;
        const consent = await fetch(new URL(String(start.headers.location)), { redirect: 'manual' });
        const back = new URL(String(consent.headers.get('location')));
        return app2.inject({ url: back.pathname + back.search, headers: { cookie } });
      };
      const refused = await signedOutConnect();
      expect(refused.statusCode).toBe(409);
      expect(refused.body).toContain('is already connected to Duely');
      expect(String(refused.headers['set-cookie'] ?? '')).not.toContain('duely_session=');
      const [unchanged] = await s2.db.select().from(connections).where(eq(connections.id, conn!.id));
      expect([unchanged!.credentialsVersion, unchanged!.status]).toEqual([
        conn!.credentialsVersion,
        'active',
      ]);

      // Once NetSuite stops honouring the grant (reconnect needed), such a browser may restore it: renewed on the SAME
      // tenant and connection, but it gets no session into that tenant's data.
      await s2.db.update(connections).set({ status: 'reconnect_needed' }).where(eq(connections.id, conn!.id));
      const reattach = await signedOutConnect();
      expect(reattach.statusCode).toBe(200);
      expect(reattach.body).toContain('is connected again');
      expect(reattach.body).toContain('Sign in to Duely with your sign-in link');
      expect(String(reattach.headers['set-cookie'] ?? '')).not.toContain('duely_session=');
      const all = await s2.db.select().from(connections).where(eq(connections.provider, 'netsuite'));
      expect(all.map((c) => [c.id, c.tenantId, c.credentialsVersion, c.status])).toEqual([
        [conn!.id, conn!.tenantId, conn!.credentialsVersion + 1, 'active'],
      ]);
      expect(await s2.db.select().from(users).where(eq(users.tenantId, conn!.tenantId))).toHaveLength(1);

      // A forged callback (a valid code, but no state cookie from this browser) connects nothing and signs in no one.
      const start3 = await app2.inject({ url: '/connect/netsuite?account=7654321' });
      const consent3 = await fetch(new URL(String(start3.headers.location)), { redirect: 'manual' });
      const back3 = new URL(String(consent3.headers.get('location')));
      const forged = await app2.inject({ url: back3.pathname + back3.search });
      expect(forged.statusCode).toBe(400);
      expect(String(forged.headers['set-cookie'] ?? '')).not.toContain('duely_session=');
      const [still] = await s2.db.select().from(connections).where(eq(connections.id, conn!.id));
      expect(still!.credentialsVersion).toBe(conn!.credentialsVersion + 1);
    } finally {
      await second.close();
    }
  });

  it('a revoked TBA token marks the connection reconnect_needed', async () => {
    delete sandbox.options.tokens['sandbox-token-id'];
    const result = await runSync(s, { connectionId, reason: 'schedule' });
    expect(result.status).toBe('reconnect_needed');
    const [row] = await s.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(row?.status).toBe('reconnect_needed');
    const [tenant] = await s.db.select().from(tenants).where(eq(tenants.id, tenantId));
    expect(tenant?.slug).toBe(tenantSlug);
  });

  it('reconnecting a TBA connection reopens the credential form and re-activates the SAME connection', async () => {
    const list = await app.inject({
      method: 'GET',
      url: `/api/v1/tenants/${tenantSlug}/connections`,
      headers: { authorization: `Bearer ${admin}` },
    });
    const view = list.json().items.find((c: { id: string }) => c.id === connectionId);
    // Not the OAuth flow: the token-based form, for this account.
    expect(view).toMatchObject({
      status: 'reconnect_needed',
      externalId: '1234567_SB1',
      reconnectUrl: null,
      reconnectWith: 'credentials',
      reconnectType: 'tba',
    });
    // The admin creates a new token in NetSuite and enters it.
    sandbox.options.tokens['new-token-id'] = 'new-token-secret';
    const res = await post({
      provider: 'netsuite',
      accountId: '1234567_SB1',
      auth: { type: 'tba', tokenId: 'new-token-id', tokenSecret: 'new-token-secret' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ id: connectionId, status: 'active', reattached: true });
    const rows = await s.db.select().from(connections).where(eq(connections.tenantId, tenantId));
    expect(rows.map((r) => [r.id, r.status])).toEqual([[connectionId, 'active']]);
    // (Its sync job coalesces with this connection's job still queued from the connect: no worker runs here.)
    // The new token syncs.
    const result = await runSync(s, { connectionId, reason: 'reconnect' });
    expect(result.status).toBe('succeeded');
    await expectExact();
  });

  it('disconnecting a TBA connection deletes the credentials and says how the admin revokes the token in NetSuite', async () => {
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tenants/${tenantSlug}/connections/${connectionId}`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'disconnected', revoked: false });
    expect(res.json().adminAction).toMatch(/Access Tokens/);
    const [row] = await s.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(row?.credentials).toBeNull();
  });
});
