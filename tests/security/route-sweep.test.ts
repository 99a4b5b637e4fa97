/**
 * Deny by default, swept from Fastify's own route table (so a route added tomorrow is covered without anyone
 * remembering): every route that is not declared public refuses a request with no credentials, with another
 * tenant's token, with another tenant's session, and through encoded variants of its path — and nothing in the
 * database changes. The public routes are an explicit list: making a route public means changing this file.
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueApiToken } from '../../src/auth/api-tokens';
import { CSRF_HEADER, SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { rowsOf } from '../../src/db/client';
import { assertEveryRouteDeclaresAuth, PUBLIC, type RouteAuth } from '../../src/http/auth';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

/** The routes anyone may call, each authenticating itself or showing nothing private (plus the built app's
 * hashed files under /assets/, present once `npm run build:web` has run). */
const PUBLIC_ROUTES = [
  'GET /*',
  'GET /connect/:provider',
  'GET /connect/:provider/callback',
  'GET /connect/:provider/disconnect',
  'GET /connect/:provider/launch',
  'GET /connect/quickbooks/demo/authorize',
  // The demo company's pay links: a page naming one of the in-memory sandbox's synthetic invoices, 404 otherwise.
  'GET /connect/quickbooks/demo/pay/:realm/:invoice',
  'GET /health',
  'GET /invoice-pdf/:token',
  'GET /login',
  'GET /login/intuit',
  'GET /u/:token',
  'GET /verify-email',
  'POST /login',
  'POST /login/email',
  'POST /u/:token',
  'POST /verify-email',
  'POST /webhooks/:provider',
  'POST /webhooks/resend',
];

let s: Services;
let app: FastifyInstance;
let victim: { id: string; slug: string };
let otherToken: string;
let otherSession: { cookie: string; csrf: string };

const rows = [
  ['ACME', 'A1', '2013-05-02', '2013-06-01', '100.00', 'USD', '', 'email', 'US'],
  ['ACME', 'A2', '2013-05-10', '2013-06-09', '250.10', 'USD', '2013-06-20', 'email', 'US'],
];

const testApp = suiteTestApp({ token: false });
beforeAll(async () => {
  ({ services: s, app } = testApp);
  await app.ready();
  const admin = (await issueApiToken(s.db, 'operator')).token;
  const up = (tenant: string) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenant}/imports`,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      payload: csv(rows),
    });
  const v = await up('victim-co');
  expect(v.statusCode).toBe(201);
  victim = v.json().tenant;
  const o = await up('other-co');
  expect(o.statusCode).toBe(201);
  const otherId: string = o.json().tenant.id;
  otherToken = (await issueApiToken(s.db, 'other tenant', otherId)).token;
  const auth = new SessionAuth(s.db, s.config.APP_SECRET);
  const { token } = await auth.createSession({ tenantId: otherId, method: 'login_link', now: s.clock.now() });
  otherSession = { cookie: `${SESSION_COOKIE}=${token}`, csrf: auth.csrfToken(token) };
});

/** A digest of every table's rows: equal before and after means the refused requests changed nothing. */
async function databaseDigest(): Promise<string> {
  const tables = await s.db.execute(
    sql`select quote_ident(table_schema) || '.' || quote_ident(table_name) as t from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const h = createHash('sha256');
  for (const { t } of rowsOf<{ t: string }>(tables)) {
    // api_tokens.last_used_at and sessions.last_seen_at move on reads by design; everything else must stay.
    const r = await s.db.execute(
      sql.raw(`select md5(string_agg(x::text, '|' order by x::text)) as d from ${t} x`),
    );
    const d = rowsOf<{ d: string | null }>(r)[0]?.d ?? '';
    if (t === 'public.api_tokens' || t === 'public.sessions') {
      const c = await s.db.execute(sql.raw(`select count(*)::int as n from ${t}`));
      h.update(`${t}:${rowsOf<{ n: number }>(c)[0]?.n}`);
    } else h.update(`${t}:${d}`);
  }
  return h.digest('hex');
}

/** A concrete URL for a route pattern, aimed at the victim tenant. */
function concrete(url: string): string {
  return url
    .replace(':tenant', victim.slug)
    .replace(/:[a-zA-Z]+/g, '00000000-0000-4000-8000-000000000001')
    .replace('*', 'x');
}

/** The same path spelled so that a check on the raw URL text would miss it. */
function encodedVariants(path: string): string[] {
  const enc = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  const segs = path.split('/');
  return [
    `/${enc(path[1]!)}${path.slice(2)}`, // /%61pi/v1/…
    `/${enc(path[1]!).toUpperCase()}${path.slice(2)}`,
    segs.map((seg, i) => (i === 2 && seg ? enc(seg[0]!) + seg.slice(1) : seg)).join('/'), // /api/%761/…
    `/${path.slice(1).replace(/\//g, '%2F')}`,
    `//${path.slice(1)}`,
    `${path};x=1`,
  ];
}

describe('route table', () => {
  it('every route declares who may call it, and the public ones are exactly the written list', () => {
    const table: RouteAuth[] = app.routeAuth;
    expect(table.length).toBeGreaterThan(40);
    const publicRoutes = [
      ...new Set(
        table
          .filter((r) => r.auth === 'public' && r.method !== 'HEAD' && !r.url.startsWith('/assets/'))
          .map((r) => `${r.method} ${r.url}`),
      ),
    ].sort();
    expect(publicRoutes).toEqual([...PUBLIC_ROUTES].sort());
    // Nothing under /api is public.
    expect(table.filter((r) => r.url.startsWith('/api') && r.auth === 'public')).toEqual([]);
  });

  it('an app with a route that declares nothing refuses to start', async () => {
    const bare = Fastify();
    assertEveryRouteDeclaresAuth(bare);
    bare.get('/declared', { config: PUBLIC }, async () => 'ok');
    bare.get('/forgotten', async () => 'secret');
    await expect(bare.ready()).rejects.toThrow(/GET \/forgotten/);
  });
});

describe('every non-public route refuses strangers and other tenants', () => {
  it('no credentials, encoded paths, another tenant’s token or session: 401/403/404 and nothing changed', async () => {
    const routes = app.routeAuth.filter((r) => r.auth !== 'public' && r.method !== 'HEAD');
    const before = await databaseDigest();
    const failures: string[] = [];
    const expectRefused = async (label: string, opts: InjectOptions) => {
      const res = await app.inject(opts);
      if (![401, 403, 404].includes(res.statusCode)) {
        failures.push(`${label}: ${res.statusCode} ${res.body.slice(0, 120)}`);
      }
    };
    for (const r of routes) {
      const method = r.method as 'GET';
      const url = concrete(r.url);
      const payload = method === 'GET' || method === 'DELETE' ? undefined : {};
      await expectRefused(`${r.method} ${url} (no credentials)`, { method, url, payload });
      for (const variant of encodedVariants(url)) {
        await expectRefused(`${r.method} ${variant} (encoded, no credentials)`, {
          method,
          url: variant,
          payload,
        });
      }
      // Routes of one tenant (":tenant" in the path) or the operator's: another tenant's principal is refused.
      if (r.url.includes(':tenant') || r.auth === 'operator') {
        await expectRefused(`${r.method} ${url} (other tenant's token)`, {
          method,
          url,
          payload,
          headers: { authorization: `Bearer ${otherToken}` },
        });
        await expectRefused(`${r.method} ${url} (other tenant's session)`, {
          method,
          url,
          payload,
          headers: { cookie: otherSession.cookie, [CSRF_HEADER]: otherSession.csrf },
        });
      }
    }
    // A tenant's view of the tenant-less routes shows only itself.
    const listed = await app.inject({
      url: '/api/v1/tenants',
      headers: { authorization: `Bearer ${otherToken}` },
    });
    expect(listed.json().items.map((t: { slug: string }) => t.slug)).toEqual(['other-co']);
    expect(failures).toEqual([]);
    expect(await databaseDigest()).toBe(before);
  });

  it('a forged or revoked token and an ended session are refused on an encoded path too', async () => {
    const url = '/%61pi/v1/tenants';
    expect((await app.inject({ url, headers: { authorization: 'Bearer duely_forged' } })).statusCode).toBe(
      401,
    );
    expect((await app.inject({ url, headers: { cookie: `${SESSION_COOKIE}=dss_forged` } })).statusCode).toBe(
      401,
    );
    expect((await app.inject({ url })).statusCode).toBe(401);
    const up = await app.inject({
      method: 'POST',
      url: '/%61pi/v1/tenants/evil/imports',
      headers: { 'content-type': 'text/csv' },
      payload: csv(rows),
    });
    expect(up.statusCode).toBe(401);
    const evil = await app.inject({
      url: '/api/v1/tenants',
      headers: { authorization: `Bearer ${(await issueApiToken(s.db, 'operator 2')).token}` },
    });
    expect(evil.json().items.map((t: { slug: string }) => t.slug)).not.toContain('evil');
  });
});
