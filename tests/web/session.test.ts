import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { SessionAuth, sessionCookieOptions } from '../../src/auth/sessions';
import { ManualClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { findTenant } from '../../src/db/queries/tenants';
import { sessionPrincipal } from '../../src/http/auth';
import { contentSecurityPolicy } from '../../src/http/web';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
let auth: SessionAuth;
let admin: string;
const clock = new ManualClock('2013-07-01');
const body = csv([['ACME', 'A1', '2013-05-02', '2013-06-01', '100.00', 'USD', '', 'email', 'US']]);

const testApp = suiteTestApp({ clock, token: 'admin' });
beforeAll(async () => {
  ({ services: s, app } = testApp);
  auth = new SessionAuth(s.db, s.config.APP_SECRET);
  admin = testApp.token;
  for (const t of ['acme', 'beta']) {
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${t}/imports`,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      payload: body,
    });
    expect(r.statusCode).toBe(201);
  }
});

const cookieOf = (r: LightMyRequestResponse) => {
  const c = r.cookies.find((x) => x.name === 'duely_session');
  return c?.value ?? '';
};

async function signIn(tenantId: string | null = null) {
  const token = await auth.issueLoginToken({ tenantId, label: 'test', now: clock.now() });
  const r = await app.inject({
    method: 'POST',
    url: '/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' },
    payload: new URLSearchParams({ token }).toString(),
  });
  return { r, token, cookie: cookieOf(r) };
}

async function csrfFor(cookie: string): Promise<string> {
  const r = await app.inject({ url: '/api/v1/session', cookies: { duely_session: cookie } });
  expect(r.statusCode).toBe(200);
  return r.json().csrfToken;
}

describe('one-time login link', () => {
  it('shows a confirmation page on GET without using the token', async () => {
    const token = await auth.issueLoginToken({ tenantId: null, label: 'test', now: clock.now() });
    const page = await app.inject(`/login?token=${token}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post" action="/login">');
    expect(page.headers['content-security-policy']).toContain('frame-ancestors');
    expect(page.headers['x-frame-options']).toBeUndefined();
    // Still redeemable after the GET (a link preview must not burn it).
    expect(await auth.redeemLoginToken(token, clock.now())).toEqual({ tenantId: null, userId: null });
  });

  it('signs in once: HttpOnly Lax cookie on http, 303 to the app; the same link then fails', async () => {
    const { r, token, cookie } = await signIn();
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe('/');
    const set = String(r.headers['set-cookie']);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Lax/);
    expect(set).not.toMatch(/Secure/);
    expect(cookie).toMatch(/^dss_/);
    const again = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${token}`,
    });
    expect(again.statusCode).toBe(401);
    expect(again.cookies).toHaveLength(0);
  });

  it('refuses forged, expired and cross-site sign-ins', async () => {
    const token = await auth.issueLoginToken({
      tenantId: null,
      label: 'test',
      now: clock.now(),
      ttlMs: 1000,
    });
    const forged = `${token.slice(0, -3)}abc`;
    const post = (t: string, origin?: string) =>
      app.inject({
        method: 'POST',
        url: '/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
        payload: `token=${encodeURIComponent(t)}`,
      });
    expect((await post(forged)).statusCode).toBe(401);
    expect((await post(token, 'https://evil.example')).statusCode).toBe(403);
    clock.advance(2000);
    expect((await post(token)).statusCode).toBe(401);
  });
});

describe('session cookie on the API', () => {
  it('reads with the cookie, and needs the CSRF header to change anything', async () => {
    const { cookie } = await signIn();
    const list = await app.inject({ url: '/api/v1/tenants', cookies: { duely_session: cookie } });
    expect(list.statusCode).toBe(200);
    expect(
      list
        .json()
        .items.map((t: { slug: string }) => t.slug)
        .sort(),
    ).toEqual(['acme', 'beta']);

    const upload = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/tenants/acme/imports',
        cookies: { duely_session: cookie },
        headers: { 'content-type': 'text/csv', ...headers },
        payload: body,
      });
    const noCsrf = await upload({});
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error.code).toBe('csrf_failed');
    expect((await upload({ 'x-csrf-token': 'nope' })).statusCode).toBe(403);
    expect((await upload({ 'x-csrf-token': await csrfFor(cookie) })).statusCode).toBe(201);
  });

  it('keeps a tenant-bound session to its tenant', async () => {
    const acme = (await findTenant(s.db, 'acme'))!;
    const { cookie } = await signIn(acme.id);
    const me = await app.inject({ url: '/api/v1/session', cookies: { duely_session: cookie } });
    expect(me.json()).toMatchObject({ kind: 'session', operator: false, tenant: { slug: 'acme' } });
    const list = await app.inject({ url: '/api/v1/tenants', cookies: { duely_session: cookie } });
    expect(list.json().items.map((t: { slug: string }) => t.slug)).toEqual(['acme']);
    const other = await app.inject({
      url: '/api/v1/tenants/beta/invoices',
      cookies: { duely_session: cookie },
    });
    expect(other.statusCode).toBe(403);
  });

  it('signs out: the session is revoked and the cookie cleared', async () => {
    const { cookie } = await signIn();
    const csrf = await csrfFor(cookie);
    const out = await app.inject({
      method: 'POST',
      url: '/api/v1/session/logout',
      cookies: { duely_session: cookie },
      headers: { 'x-csrf-token': csrf },
    });
    expect(out.statusCode).toBe(200);
    expect(out.cookies.find((c) => c.name === 'duely_session')?.value).toBe('');
    const after = await app.inject({ url: '/api/v1/tenants', cookies: { duely_session: cookie } });
    expect(after.statusCode).toBe(401);
  });

  it('exposes the session to routes outside /api', async () => {
    const { cookie } = await signIn();
    const req = { cookies: { duely_session: cookie } } as unknown as Parameters<typeof sessionPrincipal>[0];
    expect(await sessionPrincipal(req, s)).toMatchObject({ kind: 'session', tenantId: null });
    const none = { cookies: {} } as unknown as Parameters<typeof sessionPrincipal>[0];
    expect(await sessionPrincipal(none, s)).toBeNull();
  });

  it('expires sessions', async () => {
    const { cookie } = await signIn();
    clock.advance(13 * 3_600_000);
    expect(
      (await app.inject({ url: '/api/v1/tenants', cookies: { duely_session: cookie } })).statusCode,
    ).toBe(401);
  });

  it('keeps bearer tokens working and exempt from CSRF', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/tenants/acme/imports',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      payload: body,
    });
    expect(r.statusCode).toBe(201);
    expect((await app.inject('/api/v1/tenants')).statusCode).toBe(401);
  });
});

describe('embedding', () => {
  it('over https the cookie is SameSite=None; Secure; Partitioned, so it survives inside the QuickBooks iframe', () => {
    expect(sessionCookieOptions('https://duely.example')).toMatchObject({
      secure: true,
      sameSite: 'none',
      partitioned: true,
      httpOnly: true,
    });
    expect(sessionCookieOptions('http://127.0.0.1:3000')).toMatchObject({ secure: false, sameSite: 'lax' });
  });

  it('by default only the hosts’ own app pages may frame Duely, not pages NetSuite customers publish', () => {
    const ancestors = loadConfig({ ...process.env, FRAME_ANCESTORS: undefined }).FRAME_ANCESTORS.split(' ');
    expect(ancestors).toContain("'self'");
    expect(ancestors).toContain('https://*.app.netsuite.com');
    // *.netsuite.com would take in public Suitelets (*.extforms.netsuite.com) and web stores.
    expect(ancestors).not.toContain('https://*.netsuite.com');
  });

  it('CSP frame-ancestors comes from FRAME_ANCESTORS', () => {
    expect(contentSecurityPolicy({ FRAME_ANCESTORS: "'self' https://*.intuit.com" })).toContain(
      "frame-ancestors 'self' https://*.intuit.com",
    );
  });

  it('unknown /api paths stay JSON 404s, not the app', async () => {
    const r = await app.inject({ url: '/api/v1/nope', headers: { authorization: `Bearer ${admin}` } });
    expect(r.statusCode).toBe(404);
    expect(r.json().error.code).toBe('not_found');
  });
});
