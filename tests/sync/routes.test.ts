/**
 * HTTP: the QuickBooks webhook (raw-body signature, both formats, one sync per known realm), the OAuth connect
 * flow (state bound to a cookie nonce; callback creates tenant + connection + sync job) and the connections API.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../connectors/quickbooks/webhooks';
import { issueApiToken } from '../../src/auth/api-tokens';
import { SessionAuth } from '../../src/auth/sessions';
import { Vault } from '../../src/auth/vault';
import { ManualClock } from '../../src/clock';
import { connections, syncRuns, tenants } from '../../src/db/schema';
import { syncConnectionJob } from '../../src/jobs/sync-jobs';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { intuitIdentity } from '../helpers/intuit-identity';
import { QB_ENV, readConnection, seedConnection, tokensAt } from './helpers';

const TOKEN_HOST = 'https://oauth.platform.intuit.com';
const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
const REVOKE_HOST = 'https://developer.api.intuit.com';
const clock = new ManualClock('2026-11-27T10:00:00Z');
const intuit = intuitIdentity(QB_ENV.QUICKBOOKS_CLIENT_ID);
let s: Services;
let app: FastifyInstance;
let admin: string;

const testApp = suiteTestApp({
  clock,
  env: { ...QB_ENV, PUBLIC_URL: 'https://duely.example' },
  token: 'test admin',
});
beforeAll(async () => {
  ({ services: s, app } = testApp);
  admin = testApp.token;
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

async function syncJobs(connectionId?: string) {
  const jobs = await s.queue.findJobs(syncConnectionJob.name);
  return (jobs as Array<{ data: { connectionId: string; reason: string }; state: string }>).filter(
    (j) => !connectionId || j.data.connectionId === connectionId,
  );
}

const legacyBody = (realmIds: string[]) =>
  JSON.stringify({
    eventNotifications: realmIds.map((realmId) => ({
      realmId,
      dataChangeEvent: {
        entities: [
          { name: 'Invoice', id: '130', operation: 'Update', lastUpdated: '2026-11-27T09:00:00.000Z' },
        ],
      },
    })),
  });
const cloudBody = (realmIds: string[]) =>
  JSON.stringify(
    realmIds.map((realm, i) => ({
      specversion: '1.0',
      id: `evt-${i}`,
      source: 'intuit.qbo',
      type: 'qbo.payment.created.v1',
      time: '2026-11-27T09:00:00.000Z',
      intuitentityid: String(200 + i),
      intuitaccountid: realm,
      data: {},
    })),
  );

function post(body: string, signature: string | null, contentType = 'application/json') {
  return app.inject({
    method: 'POST',
    url: '/webhooks/quickbooks',
    headers: { 'content-type': contentType, ...(signature ? { 'intuit-signature': signature } : {}) },
    payload: body,
  });
}

describe('POST /webhooks/quickbooks', () => {
  let legacyConn = '';
  let cloudConn = '';
  beforeAll(async () => {
    legacyConn = (await seedConnection(s, { realmId: '1001', tokens: tokensAt(clock.now(), 3600_000) }))
      .connection.id;
    cloudConn = (await seedConnection(s, { realmId: '1002', tokens: tokensAt(clock.now(), 3600_000) }))
      .connection.id;
  });

  it('refuses a missing or bad signature with 401 and enqueues nothing', async () => {
    const body = legacyBody(['1001']);
    expect((await post(body, null)).statusCode).toBe(401);
    expect((await post(body, signWebhook(body, 'wrong-token'))).statusCode).toBe(401);
    // A signature over different bytes (e.g. a re-serialized body) does not verify.
    const reserialized = JSON.stringify(JSON.parse(body), null, 2);
    expect(
      (await post(body, signWebhook(reserialized, QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN))).statusCode,
    ).toBe(401);
    expect(await syncJobs()).toEqual([]);
  });

  it('legacy format: verifies the raw body and enqueues one sync per known realm; unknown realms ignored', async () => {
    const body = legacyBody(['1001', '9999', '1001']);
    const res = await post(body, signWebhook(body, QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ events: 3, enqueued: 1, ignored: 1 });
    const jobs = await syncJobs(legacyConn);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.data).toMatchObject({ connectionId: legacyConn, reason: 'webhook' });
  });

  it('duplicate deliveries coalesce into the one queued sync', async () => {
    const body = legacyBody(['1001']);
    for (let i = 0; i < 3; i++) {
      expect((await post(body, signWebhook(body, QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN))).statusCode).toBe(
        200,
      );
    }
    expect(await syncJobs(legacyConn)).toHaveLength(1);
  });

  it('CloudEvents format (application/cloudevents-batch+json) works the same', async () => {
    const body = cloudBody(['1002', '8888']);
    const res = await post(
      body,
      signWebhook(body, QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN),
      'application/cloudevents-batch+json',
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ events: 2, enqueued: 1, ignored: 1 });
    expect(await syncJobs(cloudConn)).toHaveLength(1);
  });

  it('a signed body in no known format is a 400', async () => {
    const body = JSON.stringify({ hello: 'world' });
    expect((await post(body, signWebhook(body, QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN))).statusCode).toBe(
      400,
    );
  });
});

function cookieOf(res: { headers: Record<string, unknown> }): string {
  const raw = res.headers['set-cookie'];
  const first = (Array.isArray(raw) ? raw[0] : String(raw ?? '')) as string;
  return first.split(';')[0] ?? '';
}

async function startConnect() {
  const res = await app.inject('/connect/quickbooks');
  expect(res.statusCode).toBe(302);
  const location = new URL(String(res.headers.location));
  return { location, cookie: cookieOf(res), state: location.searchParams.get('state') ?? '' };
}

describe('OAuth connect flow', () => {
  it('redirects to Intuit with a signed state and sets an HttpOnly nonce cookie', async () => {
    const res = await app.inject('/connect/quickbooks');
    const location = new URL(String(res.headers.location));
    expect(location.origin + location.pathname).toBe('https://appcenter.intuit.com/connect/oauth2');
    expect(location.searchParams.get('client_id')).toBe(QB_ENV.QUICKBOOKS_CLIENT_ID);
    expect(location.searchParams.get('redirect_uri')).toBe(
      'https://duely.example/connect/quickbooks/callback',
    );
    expect(location.searchParams.get('scope')).toContain('com.intuit.quickbooks.accounting');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Secure/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
  });

  it('refuses a callback whose state does not match the cookie, is tampered, expired, or has no cookie', async () => {
    const a = await startConnect();
    const b = await startConnect();
    const cb = (state: string, cookie?: string) =>
      app.inject({
        url: `/connect/quickbooks/callback?code=c1&state=${encodeURIComponent(state)}&realmId=555`,
        headers: cookie ? { cookie } : {},
      });
    for (const res of [
      await cb(a.state, b.cookie),
      await cb(a.state),
      await cb(`${a.state.slice(0, -3)}abc`, a.cookie),
      await cb('', a.cookie),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.body).toMatch(/could not be verified/);
    }
    clock.advance(11 * 60_000);
    expect((await cb(a.state, a.cookie)).statusCode).toBe(400);
    expect(await s.db.select().from(connections).where(eq(connections.externalId, '555'))).toEqual([]);
  });

  it('shows a clear page when the user declines at Intuit', async () => {
    const a = await startConnect();
    const res = await app.inject({
      url: `/connect/quickbooks/callback?error=access_denied&state=${encodeURIComponent(a.state)}`,
      headers: { cookie: a.cookie },
    });
    expect(res.statusCode).toBe(403);
    expect(res.body).toMatch(/declined/);
  });

  it('callback exchanges the code, stores sealed tokens, creates tenant + connection, enqueues the initial sync', async () => {
    const a = await startConnect();
    // A browser with no session: the callback verifies who it is and signs it in to the new tenant.
    const user = { sub: 'intuit-user-777', email: 'owner@craigs.example' };
    intuit.nockJwks();
    intuit.nockUserInfo(user);
    intuit.nockCompanyInfo('777', "Craig's Design and Landscaping");
    nock(TOKEN_HOST)
      .post(
        TOKEN_PATH,
        (b: Record<string, string>) =>
          b.code === 'good-code' && b.redirect_uri === 'https://duely.example/connect/quickbooks/callback',
      )
      .reply(200, {
        token_type: 'bearer',
        access_token: 'at-first',
        refresh_token: 'rt-first',
        expires_in: 3600,
        x_refresh_token_expires_in: 8_726_400,
        id_token: intuit.idToken({ sub: user.sub, realmid: '777' }),
      });
    const res = await app.inject({
      url: `/connect/quickbooks/callback?code=good-code&state=${encodeURIComponent(a.state)}&realmId=777`,
      headers: { cookie: a.cookie },
    });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toMatch(/^\/connections\?company=/);
    const [conn] = await s.db.select().from(connections).where(eq(connections.externalId, '777'));
    expect(conn).toMatchObject({ provider: 'quickbooks', status: 'active' });
    expect(conn?.credentials).not.toContain('rt-first');
    expect(new Vault(s.config.APP_SECRET).open(conn!.credentials!)).toMatchObject({
      accessToken: 'at-first',
      refreshToken: 'rt-first',
    });
    const [tenant] = await s.db.select().from(tenants).where(eq(tenants.id, conn!.tenantId));
    expect(tenant).toMatchObject({ source: 'quickbooks', name: "Craig's Design and Landscaping" });
    const session = String(res.headers['set-cookie']).match(/duely_session=(dss_[^;]+)/)?.[1];
    expect(session).toBeDefined();
    const signedIn = await new SessionAuth(s.db, s.config.APP_SECRET).verifySession(session!, clock.now());
    expect(signedIn).toMatchObject({
      tenantId: conn!.tenantId,
      method: 'intuit_openid',
      userEmail: user.email,
    });
    const jobs = await syncJobs(conn!.id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.data.reason).toBe('connect');

    // Connecting the same company again re-attaches to the same tenant and connection.
    const again = await startConnect();
    intuit.nockJwks();
    intuit.nockUserInfo(user);
    const companyInfo = intuit.nockCompanyInfo('777', "Craig's Design and Landscaping");
    nock(TOKEN_HOST)
      .post(TOKEN_PATH)
      .reply(200, {
        token_type: 'bearer',
        access_token: 'at-second',
        refresh_token: 'rt-second',
        expires_in: 3600,
        id_token: intuit.idToken({ sub: user.sub, realmid: '777' }),
      });
    await s.db.update(connections).set({ status: 'reconnect_needed' }).where(eq(connections.id, conn!.id));
    const res2 = await app.inject({
      url: `/connect/quickbooks/callback?code=code-2&state=${encodeURIComponent(again.state)}&realmId=777`,
      headers: { cookie: again.cookie },
    });
    expect(res2.statusCode).toBe(302);
    // A reconnect returns to Connections, where it was started and the sync's progress shows (not the Dashboard).
    expect(res2.headers.location).toMatch(/^\/connections\?company=/);
    const rows = await s.db.select().from(connections).where(eq(connections.externalId, '777'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: conn!.id, tenantId: conn!.tenantId, status: 'active' });
    expect(rows[0]!.credentialsVersion).toBeGreaterThan(conn!.credentialsVersion);
    // Re-attaching names nothing: CompanyInfo is not read again (every other mock was used).
    expect(nock.pendingMocks()).toEqual(companyInfo.pendingMocks());
    nock.cleanAll();
  });

  it('a signed-in tenant gets the company attached to it; another tenant cannot take it over', async () => {
    const { SESSION_COOKIE, SessionAuth } = await import('../../src/auth/sessions');
    const { ensureTenant } = await import('../../src/db/queries/tenants');
    const auth = new SessionAuth(s.db, s.config.APP_SECRET);
    const mine = await ensureTenant(s.db, 'Signed In Co', 'quickbooks');
    const { token } = await auth.createSession({ tenantId: mine.id, method: 'login_link', now: clock.now() });
    const connectAs = async (sessionToken: string, code: string) => {
      const start = await app.inject({
        url: '/connect/quickbooks',
        headers: { cookie: `${SESSION_COOKIE}=${sessionToken}` },
      });
      const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
      intuit.nockJwks();
      nock(TOKEN_HOST)
        .post(TOKEN_PATH)
        .reply(200, {
          token_type: 'bearer',
          access_token: `at-${code}`,
          refresh_token: `rt-${code}`,
          expires_in: 3600,
          id_token: intuit.idToken({ sub: 'intuit-user-9', realmid: '999' }),
        });
      return app.inject({
        url: `/connect/quickbooks/callback?code=${code}&state=${encodeURIComponent(state)}&realmId=999`,
        headers: { cookie: cookieOf(start) },
      });
    };
    expect((await connectAs(token, 'c1')).statusCode).toBe(302);
    const [conn] = await s.db.select().from(connections).where(eq(connections.externalId, '999'));
    expect(conn?.tenantId).toBe(mine.id);

    const other = await ensureTenant(s.db, 'Someone Else', 'quickbooks');
    const { token: otherToken } = await auth.createSession({
      tenantId: other.id,
      method: 'login_link',
      now: clock.now(),
    });
    const refused = await connectAs(otherToken, 'c2');
    expect(refused.statusCode).toBe(409);
    const [still] = await s.db.select().from(connections).where(eq(connections.externalId, '999'));
    expect(still?.tenantId).toBe(mine.id);
  });

  it('a viewer or collector signed in to a tenant cannot connect a company to it (connections are for admins)', async () => {
    const { SESSION_COOKIE, SessionAuth } = await import('../../src/auth/sessions');
    const { ensureTenant } = await import('../../src/db/queries/tenants');
    const { createUser } = await import('../../src/auth/users');
    const { setUser } = await import('../../src/db/queries/users');
    const auth = new SessionAuth(s.db, s.config.APP_SECRET);
    const books = await ensureTenant(s.db, 'Role Checked Co', 'quickbooks');
    const person = async (email: string, role: 'admin' | 'collector' | 'viewer') => {
      const u = await createUser(s.db, { tenantId: books.id, email, role, status: 'active' });
      const { token } = await auth.createSession({
        tenantId: books.id,
        userId: u.id,
        method: 'email_link',
        now: clock.now(),
      });
      return { user: u, cookie: `${SESSION_COOKIE}=${token}` };
    };
    // A viewer (or collector) who administers another QuickBooks company would otherwise attach its books here.
    for (const role of ['viewer', 'collector'] as const) {
      const p = await person(`${role}@role-checked.example`, role);
      const start = await app.inject({ url: '/connect/quickbooks', headers: { cookie: p.cookie } });
      expect(start.statusCode).toBe(403);
      expect(start.headers['content-type']).toMatch(/text\/html/);
      expect(start.body).toContain('admin');
      expect(String(start.headers['set-cookie'] ?? '')).not.toMatch(/duely_qbo_oauth=[^;]/);
    }
    // An admin starts; the browser is signed in as a viewer of the tenant by the time Intuit sends it back.
    const a = await person('admin@role-checked.example', 'admin');
    const start = await app.inject({ url: '/connect/quickbooks', headers: { cookie: a.cookie } });
    expect(start.statusCode).toBe(302);
    const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
    await setUser(s.db, a.user.id, { role: 'viewer' });
    const back = await app.inject({
      url: `/connect/quickbooks/callback?code=c-roles&state=${encodeURIComponent(state)}&realmId=4444`,
      headers: { cookie: `${cookieOf(start)}; ${a.cookie}` },
    });
    expect(back.statusCode).toBe(403);
    expect(await s.db.select().from(connections).where(eq(connections.externalId, '4444'))).toEqual([]);
  });

  describe('the company is the one Intuit proves, never the callback parameter', () => {
    /** A signed-in tenant's connect flow up to the callback, with the token answer given. */
    async function signedInCallback(realmInUrl: string, tokenAnswer: Record<string, unknown>) {
      const { SESSION_COOKIE } = await import('../../src/auth/sessions');
      const { createTenant } = await import('../../src/db/queries/tenants');
      const attacker = await createTenant(s.db, 'Attacker Ltd', 'csv');
      const { token } = await new SessionAuth(s.db, s.config.APP_SECRET).createSession({
        tenantId: attacker.id,
        method: 'login_link',
        now: clock.now(),
      });
      const start = await app.inject({
        url: '/connect/quickbooks',
        headers: { cookie: `${SESSION_COOKIE}=${token}` },
      });
      const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
      nock(TOKEN_HOST)
        .post(TOKEN_PATH)
        .reply(200, {
          token_type: 'bearer',
          access_token: 'at-x',
          refresh_token: 'rt-x',
          expires_in: 3600,
          ...tokenAnswer,
        });
      const res = await app.inject({
        url: `/connect/quickbooks/callback?code=swap&state=${encodeURIComponent(state)}&realmId=${realmInUrl}`,
        headers: { cookie: cookieOf(start) },
      });
      const stored = await s.db.select().from(connections).where(eq(connections.externalId, realmInUrl));
      return { res, stored, attacker };
    }

    it('refuses a callback without an ID token (openid stripped from the authorize URL) and stores nothing', async () => {
      const { res, stored } = await signedInCallback('victim-1', {});
      expect(res.statusCode).toBe(400);
      expect(res.body).toMatch(/no ID token/);
      expect(stored).toEqual([]);
    });

    it('refuses a swapped realmId: the ID token names another company', async () => {
      intuit.nockJwks();
      const { res, stored } = await signedInCallback('victim-2', {
        id_token: intuit.idToken({ sub: 'attacker', realmid: 'attackers-own-realm' }),
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toMatch(/does not match/);
      expect(stored).toEqual([]);
    });
  });

  it('two companies with the same name get two tenants; a CSV tenant of that name is untouched', async () => {
    const { ensureTenant } = await import('../../src/db/queries/tenants');
    const csvTenant = await ensureTenant(s.db, 'Acme Plumbing', 'csv');
    const connectNew = async (realm: string, sub: string) => {
      const a = await startConnect();
      intuit.nockJwks();
      intuit.nockUserInfo({ sub, email: `${sub}@example.com` });
      intuit.nockCompanyInfo(realm, 'Acme Plumbing');
      nock(TOKEN_HOST)
        .post(TOKEN_PATH)
        .reply(200, {
          token_type: 'bearer',
          access_token: `at-${realm}`,
          refresh_token: `rt-${realm}`,
          expires_in: 3600,
          id_token: intuit.idToken({ sub, realmid: realm }),
        });
      const res = await app.inject({
        url: `/connect/quickbooks/callback?code=c-${realm}&state=${encodeURIComponent(a.state)}&realmId=${realm}`,
        headers: { cookie: a.cookie },
      });
      expect(res.statusCode).toBe(302);
      const [conn] = await s.db.select().from(connections).where(eq(connections.externalId, realm));
      const [tenant] = await s.db.select().from(tenants).where(eq(tenants.id, conn!.tenantId));
      return tenant!;
    };
    const first = await connectNew('acme-east', 'user-east');
    const second = await connectNew('acme-west', 'user-west');
    expect(first.id).not.toBe(second.id);
    expect(first.id).not.toBe(csvTenant.id);
    expect(second.id).not.toBe(csvTenant.id);
    expect([first.name, second.name]).toEqual(['Acme Plumbing', 'Acme Plumbing']);
    expect(new Set([csvTenant.slug, first.slug, second.slug]).size).toBe(3);
    const [csvNow] = await s.db.select().from(tenants).where(eq(tenants.id, csvTenant.id));
    expect(csvNow).toMatchObject({ source: 'csv', slug: 'acme-plumbing' });
    expect(await s.db.select().from(connections).where(eq(connections.tenantId, csvTenant.id))).toEqual([]);
  });

  it('a failed code exchange shows an error page and stores nothing', async () => {
    const a = await startConnect();
    nock(TOKEN_HOST).post(TOKEN_PATH).reply(400, { error: 'invalid_grant' });
    const res = await app.inject({
      url: `/connect/quickbooks/callback?code=used&state=${encodeURIComponent(a.state)}&realmId=888`,
      headers: { cookie: a.cookie },
    });
    expect(res.statusCode).toBe(502);
    expect(res.body).toMatch(/not connected/);
    expect(await s.db.select().from(connections).where(eq(connections.externalId, '888'))).toEqual([]);
  });

  it('serves the disconnect landing page', async () => {
    const res = await app.inject('/connect/quickbooks/disconnect?realmId=777');
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/disconnected from QuickBooks/);
  });
});

describe('connections API', () => {
  const auth = () => ({ authorization: `Bearer ${admin}` });
  let tenantSlug = '';
  let connId = '';
  beforeAll(async () => {
    const seeded = await seedConnection(s, {
      name: 'Api Co',
      realmId: '3003',
      tokens: tokensAt(clock.now(), 3600_000),
    });
    tenantSlug = seeded.tenant.slug;
    connId = seeded.connection.id;
    await s.db.insert(syncRuns).values({
      tenantId: seeded.tenant.id,
      connectionId: connId,
      kind: 'full',
      progress: { entities: { invoices: { pages: 2, rows: 2000, done: false } } },
    });
  });

  it('lists connections with status and the running sync progress; never credentials', async () => {
    const res = await app.inject({ url: `/api/v1/tenants/${tenantSlug}/connections`, headers: auth() });
    expect(res.statusCode).toBe(200);
    const [item] = res.json().items;
    expect(item).toMatchObject({
      id: connId,
      provider: 'quickbooks',
      externalId: '3003',
      status: 'active',
      runningSync: { kind: 'full', progress: { entities: { invoices: { pages: 2, rows: 2000 } } } },
    });
    expect(JSON.stringify(item)).not.toMatch(/credentials|rt-1|at-1/);
  });

  it('enqueues a sync on request (coalesced while one is queued)', async () => {
    const url = `/api/v1/tenants/${tenantSlug}/connections/${connId}/sync`;
    const r1 = await app.inject({ method: 'POST', url, headers: auth() });
    expect(r1.statusCode).toBe(202);
    expect(r1.json()).toMatchObject({ queued: true, coalesced: false });
    const r2 = await app.inject({ method: 'POST', url, headers: auth() });
    expect(r2.json()).toMatchObject({ queued: true, coalesced: true });
    expect(await syncJobs(connId)).toHaveLength(1);
    expect((await app.inject({ method: 'POST', url, headers: {} })).statusCode).toBe(401);
  });

  it('disconnect revokes at Intuit and clears the credentials', async () => {
    nock(REVOKE_HOST)
      .post('/v2/oauth2/tokens/revoke', (b: { token?: string }) => b.token === 'rt-1')
      .reply(200, '');
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tenants/${tenantSlug}/connections/${connId}`,
      headers: auth(),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'disconnected', revoked: true });
    const row = await readConnection(s, connId);
    expect(row).toMatchObject({ status: 'disconnected', credentials: null });
    const list = await app.inject({ url: `/api/v1/tenants/${tenantSlug}/connections`, headers: auth() });
    expect(list.json().items[0].status).toBe('disconnected');
    const sync = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenantSlug}/connections/${connId}/sync`,
      headers: auth(),
    });
    expect(sync.statusCode).toBe(409);
    // The Connections page words a refused "Sync now" by this code (syncRefusedMessage).
    expect(sync.json().error.code).toBe('disconnected');
  });

  it('a tenant token cannot see another tenant’s connections', async () => {
    const other = await seedConnection(s, { name: 'Other Co', realmId: '4004', tokens: null });
    const { token } = await issueApiToken(s.db, 'other', other.tenant.id);
    const res = await app.inject({
      url: `/api/v1/tenants/${tenantSlug}/connections`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(403);
  });
});
