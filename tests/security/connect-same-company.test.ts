/**
 * Review of "one tenant holds one company's books" (attachCompany's tenant_holds_other_books, red-team-s36.test.ts)
 * from outside: the rule must refuse only ANOTHER company. The same company coming back, however it comes back,
 * is never refused:
 * - reconnecting after "reconnect needed" (the grant revoked at Intuit, or lapsed), after Disconnect in Duely;
 * - the operator connecting from the browser (a new tenant, then the same company again);
 * - two connects of the same company at once (both succeed, or one is cleanly refused: never a 500, never two
 *   connections or two tenants);
 * - a CSV company connecting its ledger (a supported flow: README, Sync "Deletions" — a tenant that "began with a
 *   file and connected its ledger later"), after which another company is refused like anywhere else.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { createUser } from '../../src/auth/users';
import { ManualClock } from '../../src/clock';
import { createTenant } from '../../src/db/queries/tenants';
import { connections, tenants } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';
import { intuitIdentity } from '../helpers/intuit-identity';
import { QB_ENV } from '../sync/helpers';

const TOKEN_HOST = 'https://oauth.platform.intuit.com';
const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
const REVOKE = () => nock('https://developer.api.intuit.com').post('/v2/oauth2/tokens/revoke');
const clock = new ManualClock('2026-12-07T10:00:00Z');
const intuit = intuitIdentity(QB_ENV.QUICKBOOKS_CLIENT_ID);
let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };

const testApp = suiteTestApp({
  clock,
  env: { ...QB_ENV, PUBLIC_URL: 'https://duely.example' },
  token: 'operator',
});
beforeAll(() => {
  ({ services: s, app, auth } = testApp);
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

const cookieOf = (res: { headers: Record<string, unknown> }) => {
  const raw = res.headers['set-cookie'];
  return String(Array.isArray(raw) ? raw[0] : (raw ?? '')).split(';')[0] ?? '';
};

/** A signed-in session: an admin of `tenantId`, or the operator's tenant-less admin link (`tenantId` null). */
async function sessionCookie(tenantId: string | null) {
  const userId = tenantId
    ? (
        await createUser(s.db, {
          tenantId,
          email: `admin-${Math.random().toString(36).slice(2)}@client.example`,
          role: 'admin',
          status: 'active',
        })
      ).id
    : null;
  const { token } = await new SessionAuth(s.db, s.config.APP_SECRET).createSession({
    tenantId,
    userId,
    method: tenantId ? 'email_link' : 'login_link',
    now: clock.now(),
  });
  return `${SESSION_COOKIE}=${token}`;
}

/** An admin of a new tenant (source `source`), signed in. */
async function adminOf(name: string, source: string) {
  const tenant = await createTenant(s.db, name, source);
  return { tenant, cookie: await sessionCookie(tenant.id) };
}

/** GET /connect/quickbooks as `cookie`: the callback to call once Intuit consented for `realm`. */
async function startConnect(cookie: string, realm: string, code: string) {
  const start = await app.inject({ url: '/connect/quickbooks', headers: { cookie } });
  expect(start.statusCode).toBe(302);
  const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
  return () =>
    app.inject({
      url: `/connect/quickbooks/callback?code=${code}&state=${encodeURIComponent(state)}&realmId=${realm}`,
      headers: { cookie: `${cookieOf(start)}; ${cookie}` },
    });
}

/** Intuit's side of a consent for `realm` per code (each answered by its own tokens), and its name for a new tenant. */
function intuitConsents(realm: string, codes: string[], opts: { named?: string } = {}) {
  for (const code of codes) {
    intuit.nockJwks();
    nock(TOKEN_HOST)
      .post(TOKEN_PATH, (b: { code?: string }) => b.code === code)
      .reply(200, {
        token_type: 'bearer',
        access_token: `at-${code}`,
        refresh_token: `rt-${code}`,
        expires_in: 3600,
        x_refresh_token_expires_in: 8_726_400,
        id_token: intuit.idToken({ sub: 'bookkeeper', realmid: realm }),
      });
    if (opts.named) intuit.nockCompanyInfo(realm, opts.named);
  }
}

async function connectAs(cookie: string, realm: string, code = `c-${realm}-${Math.random()}`) {
  const callback = await startConnect(cookie, realm, code);
  intuitConsents(realm, [code]);
  return callback();
}

const connectionsOfRealm = (realm: string) =>
  s.db.select().from(connections).where(eq(connections.externalId, realm));

describe('the same QuickBooks company again is never refused', () => {
  it('after "reconnect needed" (revoked at Intuit) and after Disconnect in Duely: renewed on the same connection', async () => {
    const { tenant, cookie } = await adminOf('Same Company Books', 'quickbooks');
    expect((await connectAs(cookie, '5551001')).statusCode).toBe(302);
    const [conn] = await connectionsOfRealm('5551001');

    // Disconnected at Intuit: the next sync met invalid_grant and marked it so.
    await s.db
      .update(connections)
      .set({ status: 'reconnect_needed', statusReason: 'invalid_grant' })
      .where(eq(connections.id, conn!.id));
    const revived = await connectAs(cookie, '5551001');
    expect(revived.statusCode, revived.body).toBe(302);
    expect((await connectionsOfRealm('5551001')).map((c) => [c.id, c.status])).toEqual([
      [conn!.id, 'active'],
    ]);

    // Disconnect in Duely (the grant revoked at Intuit, the credentials forgotten), then Connect again.
    REVOKE().reply(200, {});
    const off = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tenants/${tenant.slug}/connections/${conn!.id}`,
      headers: auth,
    });
    expect(off.statusCode, off.body).toBe(200);
    // The Connections page offers its row's Reconnect (it offers no connect of another company).
    const listed = await app.inject({ url: `/api/v1/tenants/${tenant.slug}/connections`, headers: auth });
    expect(
      listed.json().items.map((c: Record<string, unknown>) => [c.status, c.reconnectWith, c.reconnectUrl]),
    ).toEqual([['disconnected', 'oauth', '/connect/quickbooks']]);
    const again = await connectAs(cookie, '5551001');
    expect(again.statusCode, again.body).toBe(302);
    expect((await connectionsOfRealm('5551001')).map((c) => [c.id, c.tenantId, c.status])).toEqual([
      [conn!.id, tenant.id, 'active'],
    ]);
  });

  it('the operator (signed in to no company) connects a company, then the same company again', async () => {
    const operator = await sessionCookie(null);
    const first = await startConnect(operator, '5551002', 'op-1');
    intuitConsents('5551002', ['op-1'], { named: 'Operator Client Co' });
    const res = await first();
    expect(res.statusCode, res.body).toBe(302);
    const [conn] = await connectionsOfRealm('5551002');
    const [tenant] = await s.db.select().from(tenants).where(eq(tenants.id, conn!.tenantId));
    expect(tenant?.name).toBe('Operator Client Co');

    const again = await connectAs(operator, '5551002');
    expect(again.statusCode, again.body).toBe(302);
    expect((await connectionsOfRealm('5551002')).map((c) => [c.id, c.credentialsVersion])).toEqual([
      [conn!.id, conn!.credentialsVersion + 1],
    ]);
  });

  it("two connects of the same company at once by the tenant's admin: both succeed, one connection", async () => {
    const { tenant, cookie } = await adminOf('Double Click Books', 'quickbooks');
    const a = await startConnect(cookie, '5551003', 'dbl-a');
    const b = await startConnect(cookie, '5551003', 'dbl-b');
    intuitConsents('5551003', ['dbl-a', 'dbl-b']);
    const answers = await Promise.all([a(), b()]);
    expect(answers.map((r) => r.statusCode)).toEqual([302, 302]);
    expect((await connectionsOfRealm('5551003')).map((c) => c.tenantId)).toEqual([tenant.id]);
  });

  it('two different companies into one empty company at once: one is attached, the other cleanly refused', async () => {
    const { tenant, cookie } = await adminOf('Two Tabs Books', 'quickbooks');
    const a = await startConnect(cookie, '5551008', 'two-a');
    const b = await startConnect(cookie, '5551009', 'two-b');
    intuitConsents('5551008', ['two-a']);
    intuitConsents('5551009', ['two-b']);
    // The refused one's fresh grant is revoked (whichever it is).
    REVOKE().reply(200, {});
    const answers = await Promise.all([a(), b()]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([302, 409]);
    const held = await s.db.select().from(connections).where(eq(connections.tenantId, tenant.id));
    expect(held).toHaveLength(1);
  });

  it('two connects of a company new to Duely at once (the operator): one company, no error page', async () => {
    const operator = await sessionCookie(null);
    const a = await startConnect(operator, '5551004', 'new-a');
    const b = await startConnect(operator, '5551004', 'new-b');
    intuitConsents('5551004', ['new-a', 'new-b'], { named: 'Twice Connected Co' });
    const answers = await Promise.all([a(), b()]);
    // The company's name is asked for only while it is new: a connect that found it attached asks nothing.
    nock.cleanAll();
    expect(answers.map((r) => r.statusCode).sort()).toEqual([302, 302]);
    const conns = await connectionsOfRealm('5551004');
    expect(conns).toHaveLength(1);
    const named = await s.db.select().from(tenants).where(eq(tenants.name, 'Twice Connected Co'));
    expect(named.map((t) => t.id)).toEqual([conns[0]!.tenantId]);
  });
});

describe('a CSV company connecting its ledger', () => {
  it('is attached to it (the books move to a live connection); another company after it is refused', async () => {
    const { tenant, cookie } = await adminOf('Began With A File', 'csv');
    await importHistoryCsv(
      s.db,
      csv([['C1', 'INV-1', '2026-10-01', '2026-10-31', '250.00', 'USD', '', 'email', 'US']]),
      { tenantName: 'ignored', tenantId: tenant.id, now: clock.now() },
    );
    const res = await connectAs(cookie, '5551005');
    expect(res.statusCode, res.body).toBe(302);
    expect((await connectionsOfRealm('5551005')).map((c) => c.tenantId)).toEqual([tenant.id]);
    // Its books come from the ledger now: no more CSV uploads into it (their ids would land on the ledger's), and
    // its figures are today's, not as of the old export's day (analytics reads a CSV company's so).
    const [now] = await s.db.select().from(tenants).where(eq(tenants.id, tenant.id));
    expect(now?.source).toBe('quickbooks');
    await expect(
      importHistoryCsv(
        s.db,
        csv([['C2', 'INV-2', '2026-10-02', '2026-11-01', '90.00', 'USD', '', 'email', 'US']]),
        { tenantName: 'ignored', tenantId: tenant.id, now: clock.now() },
      ),
    ).rejects.toMatchObject({
      code: 'tenant_source_mismatch',
      // Words a finance admin reads on the upload page: the company's name and its ledger's, not the slug and source.
      message: expect.stringMatching(
        /^Nothing was imported: .+ is connected to QuickBooks, and its invoices/,
      ),
    });

    REVOKE().reply(200, {});
    const other = await connectAs(cookie, '5551006');
    expect(other.statusCode).toBe(409);
    expect(other.body).toContain('already holds the books of QuickBooks company 5551005');
    expect(await connectionsOfRealm('5551006')).toEqual([]);
  });
});

describe('attaching one company twice at once, bound to no tenant (a signed-out connect, the operator, the CLI)', () => {
  it('both attach it to one new tenant: the second finds the first (no unique-key error)', async () => {
    const enqueued: string[] = [];
    const attach = () =>
      s.sync.connect.attach(
        async (id) => {
          enqueued.push(id);
          return null;
        },
        {
          provider: 'quickbooks',
          externalId: '5551007',
          tokens: {
            accessToken: 'at',
            refreshToken: 'rt',
            tokenType: 'bearer',
            expiresIn: 3600,
            refreshTokenExpiresIn: null,
            idToken: null,
          },
          boundTenant: null,
          companyName: 'Raced Company',
        },
      );
    const results = await Promise.allSettled([attach(), attach(), attach()]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const conns = await connectionsOfRealm('5551007');
    expect(conns).toHaveLength(1);
    const named = await s.db.select().from(tenants).where(eq(tenants.name, 'Raced Company'));
    expect(named.map((t) => t.id)).toEqual([conns[0]!.tenantId]);
    expect(enqueued).toHaveLength(3);
  });
});
