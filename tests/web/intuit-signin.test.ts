/**
 * Sign in with Intuit (OpenID Connect on the QuickBooks OAuth flow): the launch URL and /login/intuit start it; the
 * callback opens a session in the tenant of the company only for a verified ID token (our client id, Intuit's
 * issuer, unexpired, signed by a key in Intuit's JWKS) whose realmid is the company in the callback.
 */
import { generateKeyPairSync } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { createUser, updateUser } from '../../src/auth/users';
import { Vault } from '../../src/auth/vault';
import { ManualClock } from '../../src/clock';
import { markDisconnected } from '../../src/db/queries/connections';
import { connections, sessions, tenants, users } from '../../src/db/schema';
import { syncConnectionJob } from '../../src/jobs/sync-jobs';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { intuitIdentity } from '../helpers/intuit-identity';
import { QB_ENV, seedConnection, tokensAt } from '../sync/helpers';

const TOKEN_HOST = 'https://oauth.platform.intuit.com';
const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
const clock = new ManualClock('2026-11-27T10:00:00Z');
const intuit = intuitIdentity(QB_ENV.QUICKBOOKS_CLIENT_ID);
let s: Services;
let app: FastifyInstance;

const t = suiteTestApp({ clock, env: { ...QB_ENV, PUBLIC_URL: 'https://duely.example' }, token: false });
beforeAll(() => {
  ({ services: s, app } = t);
});
afterEach(() => {
  nock.cleanAll();
});

const nonceCookie = (r: LightMyRequestResponse) =>
  String(r.headers['set-cookie'] ?? '')
    .split(';')[0]!
    .trim();
const sessionCookie = (r: LightMyRequestResponse) => r.cookies.find((c) => c.name === SESSION_COOKIE)?.value;

/** /login/intuit → Intuit (state + nonce cookie) → our callback with a code whose token answer is `tokenBody`. */
async function signInFlow(
  realmId: string,
  tokenBody: Record<string, unknown>,
  opts: { sessionCookie?: string } = {},
) {
  const start = await app.inject({ url: '/login/intuit' });
  expect(start.statusCode).toBe(302);
  const authorize = new URL(String(start.headers.location));
  nock(TOKEN_HOST)
    .post(TOKEN_PATH)
    .reply(200, {
      token_type: 'bearer',
      access_token: `at-${realmId}`,
      refresh_token: `rt-${realmId}`,
      expires_in: 3600,
      ...tokenBody,
    });
  const cookies = [
    nonceCookie(start),
    ...(opts.sessionCookie ? [`${SESSION_COOKIE}=${opts.sessionCookie}`] : []),
  ];
  return app.inject({
    url: `/connect/quickbooks/callback?code=c-${realmId}&state=${encodeURIComponent(authorize.searchParams.get('state') ?? '')}&realmId=${realmId}`,
    headers: { cookie: cookies.join('; ') },
  });
}

const connectionOf = async (realmId: string) =>
  (await s.db.select().from(connections).where(eq(connections.externalId, realmId)))[0];

describe('Sign in with Intuit', () => {
  it('/login/intuit asks Intuit for openid, profile and email with a signed state and a nonce cookie', async () => {
    const r = await app.inject({ url: '/login/intuit' });
    expect(r.statusCode).toBe(302);
    const url = new URL(String(r.headers.location));
    expect(url.origin + url.pathname).toBe('https://appcenter.intuit.com/connect/oauth2');
    expect(url.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining(['openid', 'profile', 'email', 'com.intuit.quickbooks.accounting']),
    );
    expect(url.searchParams.get('state')).toMatch(/\S{20,}/);
    expect(String(r.headers['set-cookie'])).toMatch(/duely_qbo_oauth=.+HttpOnly/);
  });

  it('a verified user lands signed in, in the tenant of the company, named after it', async () => {
    const user = { sub: 'u-anna', email: 'anna@northwind.example', givenName: 'Anna', familyName: 'Berg' };
    intuit.nockJwks();
    intuit.nockUserInfo(user);
    intuit.nockCompanyInfo('4620816365', 'Northwind Traders');
    const r = await signInFlow('4620816365', {
      id_token: intuit.idToken({ sub: user.sub, realmid: '4620816365' }),
    });
    expect(r.statusCode).toBe(302);
    // A new company: straight to Connections, where its first sync's progress shows, naming the company.
    expect(r.headers.location).toMatch(/^\/connections\?company=northwind-traders/);
    const cookie = sessionCookie(r);
    expect(cookie).toMatch(/^dss_/);
    expect(String(r.headers['set-cookie'])).toMatch(/duely_session=[^;]+;.*HttpOnly.*SameSite=None/);

    const conn = await connectionOf('4620816365');
    const [tenant] = await s.db.select().from(tenants).where(eq(tenants.id, conn!.tenantId));
    expect(tenant?.name).toBe('Northwind Traders');
    const me = await app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: cookie! } });
    expect(me.json()).toMatchObject({
      kind: 'session',
      operator: false,
      tenant: { id: conn!.tenantId, name: 'Northwind Traders' },
      user: { method: 'intuit_openid', email: 'anna@northwind.example', name: 'Anna Berg' },
      signInMethods: ['login_link', 'intuit_openid'],
      // The install's first person is the company's admin.
      role: 'admin',
    });
    // Signed in to that tenant only.
    const other = await app.inject({ url: '/api/v1/tenants', cookies: { [SESSION_COOKIE]: cookie! } });
    expect(other.json().items.map((t: { id: string }) => t.id)).toEqual([conn!.tenantId]);
  });

  it('a second user of another company gets their own tenant and cannot see the first', async () => {
    intuit.nockJwks();
    intuit.nockUserInfo({ sub: 'u-bo', email: 'bo@contoso.example' });
    intuit.nockCompanyInfo('9130000000000001', 'Contoso');
    const r = await signInFlow('9130000000000001', {
      id_token: intuit.idToken({ sub: 'u-bo', realmid: '9130000000000001' }),
    });
    expect(r.statusCode).toBe(302);
    const mine = await connectionOf('9130000000000001');
    const northwind = await connectionOf('4620816365');
    expect(mine!.tenantId).not.toBe(northwind!.tenantId);
    const [nw] = await s.db.select().from(tenants).where(eq(tenants.id, northwind!.tenantId));
    const peek = await app.inject({
      url: `/api/v1/tenants/${nw!.slug}/invoices`,
      cookies: { [SESSION_COOKIE]: sessionCookie(r)! },
    });
    expect(peek.statusCode).toBe(403);
  });

  it('signing in again re-attaches to the same tenant and connection', async () => {
    const before = await connectionOf('4620816365');
    intuit.nockJwks();
    intuit.nockUserInfo({ sub: 'u-carl', email: 'carl@northwind.example' });
    const companyInfo = intuit.nockCompanyInfo('4620816365', 'Northwind Traders');
    const r = await signInFlow('4620816365', {
      id_token: intuit.idToken({ sub: 'u-carl', realmid: '4620816365' }),
    });
    expect(r.statusCode).toBe(302);
    const after = await connectionOf('4620816365');
    expect(after).toMatchObject({ id: before!.id, tenantId: before!.tenantId });
    const session = await new SessionAuth(s.db, s.config.APP_SECRET).verifySession(
      sessionCookie(r)!,
      clock.now(),
    );
    expect(session).toMatchObject({
      tenantId: before!.tenantId,
      userSub: 'u-carl',
      userEmail: 'carl@northwind.example',
      // A colleague who signs in later is a person of that company too, read-only until an admin says more.
      person: { email: 'carl@northwind.example', role: 'viewer', status: 'active', intuitSub: 'u-carl' },
    });
    // A known company is not named again: CompanyInfo is not read.
    expect(companyInfo.isDone()).toBe(false);
  });

  it('an Intuit account whose email is not verified is not matched to the Duely person with that address', async () => {
    // Anna (the company's admin) signed in above. Mallory, another QuickBooks user of the same company, gives her
    // Intuit profile Anna's address without verifying it: she must come in as a new viewer, not as Anna.
    const anna = (await s.db.select().from(users).where(eq(users.email, 'anna@northwind.example')))[0]!;
    expect(anna).toMatchObject({ role: 'admin', intuitSub: 'u-anna' });
    intuit.nockJwks();
    intuit.nockUserInfo({ sub: 'u-mallory', email: 'anna@northwind.example', emailVerified: false });
    const r = await signInFlow('4620816365', {
      id_token: intuit.idToken({ sub: 'u-mallory', realmid: '4620816365' }),
    });
    expect(r.statusCode).toBe(302);
    const me = await app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: sessionCookie(r)! } });
    expect(me.json()).toMatchObject({ role: 'viewer' });
    expect(me.json().user.email).not.toBe('anna@northwind.example');
    // Anna's row is untouched: still her Intuit account, still admin.
    const after = (await s.db.select().from(users).where(eq(users.id, anna.id)))[0]!;
    expect(after).toMatchObject({ role: 'admin', intuitSub: 'u-anna', email: 'anna@northwind.example' });
  });

  const refusals: Array<[string, () => Record<string, unknown>, number]> = [
    ['no ID token', () => ({}), 400],
    [
      'an ID token signed by another key',
      () => ({
        id_token: intuit.idToken(
          { sub: 'mallory', realmid: '5550001' },
          { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey },
        ),
      }),
      401,
    ],
    [
      'an ID token for another app',
      () => ({ id_token: intuit.idToken({ sub: 'mallory', realmid: '5550001', aud: ['other-app'] }) }),
      401,
    ],
    [
      'an ID token from another issuer',
      () => ({
        id_token: intuit.idToken({ sub: 'mallory', realmid: '5550001', iss: 'https://evil.example' }),
      }),
      401,
    ],
    [
      'an expired ID token',
      () => ({
        id_token: intuit.idToken({
          sub: 'mallory',
          realmid: '5550001',
          iat: 1_700_000_000,
          exp: 1_700_003_600,
        }),
      }),
      401,
    ],
    [
      'an ID token for another company than the callback says',
      () => ({ id_token: intuit.idToken({ sub: 'mallory', realmid: '4620816365' }) }),
      400,
    ],
    ['a token that is not a JWT', () => ({ id_token: 'not-a-jwt' }), 401],
  ];
  it.each(refusals)('refuses %s: no session, no connection, no tenant', async (_name, body, status) => {
    intuit.nockJwks();
    const sessionsBefore = (await s.db.select().from(sessions)).length;
    const tenantsBefore = (await s.db.select().from(tenants)).length;
    const r = await signInFlow('5550001', body());
    expect(r.statusCode).toBe(status);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(sessionCookie(r)).toBeUndefined();
    expect(await connectionOf('5550001')).toBeUndefined();
    expect((await s.db.select().from(sessions)).length).toBe(sessionsBefore);
    expect((await s.db.select().from(tenants)).length).toBe(tenantsBefore);
  });
});

describe('the QuickBooks launch URL', () => {
  it('signed out: starts Sign in with Intuit', async () => {
    const r = await app.inject({ url: '/connect/quickbooks/launch' });
    expect(r.statusCode).toBe(302);
    expect(String(r.headers.location)).toMatch(/^https:\/\/appcenter\.intuit\.com\/connect\/oauth2\?/);
  });

  it('signed out inside the QuickBooks frame: a link that leaves the frame (Intuit refuses to be framed)', async () => {
    const r = await app.inject({
      url: '/connect/quickbooks/launch',
      headers: { 'sec-fetch-dest': 'iframe' },
    });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('href="/login/intuit" target="_top"');
  });

  it('signed in: straight to the app', async () => {
    const [t] = await s.db.select().from(tenants).limit(1);
    const { token } = await new SessionAuth(s.db, s.config.APP_SECRET).createSession({
      tenantId: t!.id,
      method: 'intuit_openid',
      now: clock.now(),
    });
    const r = await app.inject({ url: '/connect/quickbooks/launch', cookies: { [SESSION_COOKIE]: token } });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('/');
  });

  it('the sign-in page offers Sign in with Intuit when QuickBooks is configured', async () => {
    const r = await app.inject({ url: '/login' });
    expect(r.body).toContain('Sign in with Intuit');
    expect(r.body).toContain('href="/login/intuit" target="_top"');
  });
});

describe('Sign in with Intuit on a company Duely already has: only its admins renew or revive the connection', () => {
  // Ada installs (the company's first person: its admin); Vic is a viewer, Dan a viewer an admin turned off.
  const REALM = '7700000000000001';
  const vault = () => new Vault(s.config.APP_SECRET);
  const signInAs = (sub: string, email: string, tokens: string) => {
    intuit.nockJwks();
    intuit.nockUserInfo({ sub, email });
    return signInFlow(REALM, {
      access_token: `at-${tokens}`,
      refresh_token: `rt-${tokens}`,
      id_token: intuit.idToken({ sub, realmid: REALM }),
    });
  };
  const personOf = async (email: string) =>
    (await s.db.select().from(users).where(eq(users.email, email)))[0];
  const syncJobsOf = async (connectionId: string) =>
    ((await s.queue.findJobs(syncConnectionJob.name)) as Array<{ data: { connectionId: string } }>).filter(
      (j) => j.data.connectionId === connectionId,
    ).length;
  const roleOf = async (r: LightMyRequestResponse) =>
    (await app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: sessionCookie(r)! } })).json()
      .role;

  beforeAll(async () => {
    intuit.nockCompanyInfo(REALM, 'Known Co');
    const ada = await signInAs('u-ada', 'ada@known.example', 'ada-1');
    expect(ada.statusCode).toBe(302);
    expect(await roleOf(ada)).toBe('admin');
    expect((await signInAs('u-vic', 'vic@known.example', 'vic-0')).statusCode).toBe(302);
    expect((await signInAs('u-dan', 'dan@known.example', 'dan-0')).statusCode).toBe(302);
    // Vic's and Dan's sign-ins left Ada's grant in place (the fix below); Dan is then turned off by Ada.
    const conn = (await connectionOf(REALM))!;
    const dan = (await personOf('dan@known.example'))!;
    await updateUser(s.db, conn.tenantId, dan.id, { status: 'disabled' }, clock.now());
  });

  it('a disabled person is refused before anything changes: a disconnected connection stays disconnected', async () => {
    const before = (await connectionOf(REALM))!;
    await markDisconnected(s.db, before, clock.now());
    const disconnected = (await connectionOf(REALM))!;
    const jobs = await syncJobsOf(before.id);
    const r = await signInAs('u-dan', 'dan@known.example', 'dan-1');
    expect(r.statusCode).toBe(403);
    expect(r.body).toContain('You were not signed in');
    expect(sessionCookie(r)).toBeUndefined();
    expect(await connectionOf(REALM)).toEqual(disconnected);
    expect(disconnected).toMatchObject({ status: 'disconnected', credentials: null });
    expect(await syncJobsOf(before.id)).toBe(jobs);
  });

  it('a viewer is signed in as a viewer and the disconnected connection stays as the team left it', async () => {
    const disconnected = (await connectionOf(REALM))!;
    expect(disconnected.status).toBe('disconnected');
    const jobs = await syncJobsOf(disconnected.id);
    const r = await signInAs('u-vic', 'vic@known.example', 'vic-1');
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('/');
    expect(await roleOf(r)).toBe('viewer');
    expect(await connectionOf(REALM)).toEqual(disconnected);
    expect(await syncJobsOf(disconnected.id)).toBe(jobs);
  });

  it('an admin signing in revives the disconnected connection with their grant', async () => {
    const disconnected = (await connectionOf(REALM))!;
    const r = await signInAs('u-ada', 'ada@known.example', 'ada-2');
    expect(r.statusCode).toBe(302);
    expect(await roleOf(r)).toBe('admin');
    const after = (await connectionOf(REALM))!;
    expect(after).toMatchObject({ id: disconnected.id, status: 'active', statusReason: null });
    expect(after.credentialsVersion).toBe(disconnected.credentialsVersion + 1);
    expect(vault().open(after.credentials!)).toMatchObject({
      accessToken: 'at-ada-2',
      refreshToken: 'rt-ada-2',
    });
  });

  it("on a working connection, a viewer's, a newcomer's, a collector's or a disabled person's sign-in never replaces the admin's grant", async () => {
    const working = (await connectionOf(REALM))!;
    expect(working.status).toBe('active');
    const jobs = await syncJobsOf(working.id);
    const vic = await signInAs('u-vic', 'vic@known.example', 'vic-2');
    expect(await roleOf(vic)).toBe('viewer');
    const newcomer = await signInAs('u-nina', 'nina@known.example', 'nina-1');
    expect(newcomer.statusCode).toBe(302);
    expect(await roleOf(newcomer)).toBe('viewer');
    // A collector an admin invited, signing in with Intuit for the first time (matched by verified email).
    await createUser(s.db, {
      tenantId: working.tenantId,
      email: 'cora@known.example',
      role: 'collector',
      status: 'invited',
    });
    const cora = await signInAs('u-cora', 'cora@known.example', 'cora-1');
    expect(await roleOf(cora)).toBe('collector');
    expect((await signInAs('u-dan', 'dan@known.example', 'dan-2')).statusCode).toBe(403);
    expect(await connectionOf(REALM)).toEqual(working);
    expect(vault().open(working.credentials!)).toMatchObject({ refreshToken: 'rt-ada-2' });
    expect(await syncJobsOf(working.id)).toBe(jobs);
  });

  it('a viewer does not restore a connection that needs reconnecting; an admin does', async () => {
    const conn = (await connectionOf(REALM))!;
    await s.db.update(connections).set({ status: 'reconnect_needed' }).where(eq(connections.id, conn.id));
    const stale = (await connectionOf(REALM))!;
    expect((await signInAs('u-vic', 'vic@known.example', 'vic-3')).statusCode).toBe(302);
    expect(await connectionOf(REALM)).toEqual(stale);
    expect((await signInAs('u-ada', 'ada@known.example', 'ada-3')).statusCode).toBe(302);
    const restored = (await connectionOf(REALM))!;
    expect(restored.status).toBe('active');
    expect(vault().open(restored.credentials!)).toMatchObject({ refreshToken: 'rt-ada-3' });
  });

  it('a company whose tenant has nobody yet: the first person to sign in becomes its admin and renews the grant', async () => {
    const realm = '7700000000000002';
    const { connection } = await seedConnection(s, {
      name: 'Nobody Yet Co',
      realmId: realm,
      tokens: tokensAt(clock.now(), 3600_000, 'seeded'),
    });
    await s.db
      .update(connections)
      .set({ status: 'reconnect_needed' })
      .where(eq(connections.id, connection.id));
    intuit.nockJwks();
    intuit.nockUserInfo({ sub: 'u-first', email: 'first@nobody.example' });
    const r = await signInFlow(realm, {
      access_token: 'at-first',
      refresh_token: 'rt-first',
      id_token: intuit.idToken({ sub: 'u-first', realmid: realm }),
    });
    expect(r.statusCode).toBe(302);
    expect(await roleOf(r)).toBe('admin');
    const after = (await connectionOf(realm))!;
    expect(after).toMatchObject({ id: connection.id, status: 'active' });
    expect(vault().open(after.credentials!)).toMatchObject({ refreshToken: 'rt-first' });
  });

  it('signing in signed out through /connect/quickbooks follows the same rule', async () => {
    const working = (await connectionOf(REALM))!;
    const start = await app.inject({ url: '/connect/quickbooks' });
    expect(start.statusCode).toBe(302);
    intuit.nockJwks();
    intuit.nockUserInfo({ sub: 'u-vic', email: 'vic@known.example' });
    nock(TOKEN_HOST)
      .post(TOKEN_PATH)
      .reply(200, {
        token_type: 'bearer',
        access_token: 'at-vic-4',
        refresh_token: 'rt-vic-4',
        expires_in: 3600,
        id_token: intuit.idToken({ sub: 'u-vic', realmid: REALM }),
      });
    const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
    const r = await app.inject({
      url: `/connect/quickbooks/callback?code=c-vic-4&state=${encodeURIComponent(state)}&realmId=${REALM}`,
      headers: { cookie: nonceCookie(start) },
    });
    expect(r.statusCode).toBe(302);
    expect(await roleOf(r)).toBe('viewer');
    expect(await connectionOf(REALM)).toEqual(working);
  });
});
