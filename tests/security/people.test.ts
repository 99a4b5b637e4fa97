/**
 * People with roles, without a terminal: an admin invites by email (the link lands in the local outbox without
 * Resend), the invitee signs in by that link, asks for a new link by email later, and can do exactly what their
 * role allows on every route (swept from the route table); the audit names the person; the last admin stays;
 * disabling someone or "sign out everywhere" ends their sessions.
 */
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { SIGN_IN_EMAILS_PER_WINDOW } from '../../src/auth/account-mail';
import { CSRF_HEADER, SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { ManualClock } from '../../src/clock';
import { accountEmails, dunningPolicies, users } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { latestSignInLink } from '../helpers/account-mail';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

const clock = new ManualClock('2026-11-27T10:00:00Z');
let s: Services;
let app: FastifyInstance;
let operator: string;
let tenant: { id: string; slug: string };
const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' };

const testApp = suiteTestApp({ clock, token: 'operator' });
beforeAll(async () => {
  ({ services: s, app } = testApp);
  operator = testApp.token;
  const up = await app.inject({
    method: 'POST',
    url: '/api/v1/tenants/acme/imports',
    headers: { authorization: `Bearer ${operator}`, 'content-type': 'text/csv' },
    payload: csv([['ACME', 'A1', '2026-09-02', '2026-10-01', '100.00', 'USD', '', 'email', 'US']]),
  });
  expect(up.statusCode).toBe(201);
  tenant = up.json().tenant;
});

/** The one-time token of the newest email to `to`, which stays in the local outbox (no Resend configured). */
async function linkIn(to: string): Promise<string> {
  const link = await latestSignInLink(s, to);
  expect(link.status).toBe('outbox');
  return link.token;
}

/** Follows a sign-in link as a browser: GET shows the button, POST redeems; returns the session cookie + CSRF. */
async function signInWith(token: string) {
  expect((await app.inject(`/login?token=${token}`)).statusCode).toBe(200);
  const r = await app.inject({ method: 'POST', url: '/login', headers: form, payload: `token=${token}` });
  expect(r.statusCode).toBe(303);
  const cookie = r.cookies.find((c) => c.name === SESSION_COOKIE)!.value;
  const me = await app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: cookie } });
  return { cookie, csrf: me.json().csrfToken as string, me: me.json() };
}

const asSession = (who: { cookie: string; csrf: string }, opts: InjectOptions): InjectOptions => ({
  ...opts,
  cookies: { [SESSION_COOKIE]: who.cookie },
  headers: { ...(opts.headers ?? {}), [CSRF_HEADER]: who.csrf },
});

async function invite(
  email: string,
  role: string,
  by: InjectOptions['headers'] = { authorization: `Bearer ${operator}` },
) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${tenant.slug}/users`,
    headers: by,
    payload: { email, name: email.split('@')[0], role },
  });
}

type Browser = Awaited<ReturnType<typeof signInWith>>;
let adminP: Browser;
let collector: Browser;
let viewer: Browser;

describe('invitations and email sign-in', () => {
  it('the operator invites an admin; the admin invites a collector and a viewer; each signs in by the emailed link', async () => {
    const a = await invite('ada@acme.example', 'admin');
    expect(a.statusCode).toBe(201);
    expect(a.json()).toMatchObject({
      user: { role: 'admin', status: 'invited' },
      invitation: { delivery: 'outbox' },
    });
    adminP = await signInWith(await linkIn('ada@acme.example'));
    expect(adminP.me).toMatchObject({ role: 'admin', user: { email: 'ada@acme.example', name: 'ada' } });

    for (const [email, role] of [
      ['cole@acme.example', 'collector'],
      ['vic@acme.example', 'viewer'],
    ] as const) {
      const r = await app.inject(
        asSession(adminP, {
          method: 'POST',
          url: `/api/v1/tenants/${tenant.slug}/users`,
          payload: { email, role },
        }),
      );
      expect(r.statusCode).toBe(201);
      expect(r.json().user.invitedBy).toBe('ada <ada@acme.example>');
    }
    collector = await signInWith(await linkIn('cole@acme.example'));
    viewer = await signInWith(await linkIn('vic@acme.example'));
    expect(collector.me.role).toBe('collector');
    expect(viewer.me.role).toBe('viewer');
    const [vic] = await s.db.select().from(users).where(eq(users.email, 'vic@acme.example'));
    expect(vic).toMatchObject({ status: 'active' });
    // The same address twice is refused; a header-breaking address never reaches the mailer.
    expect((await invite('VIC@acme.example', 'admin')).statusCode).toBe(409);
    expect((await invite('x@acme.example\r\nBcc: all@evil.example', 'admin')).statusCode).toBe(400);
  });

  it('"email me a sign-in link": a link for a user, the same answer and no email for a stranger, bounded per address', async () => {
    const ask = (email: string) =>
      app.inject({
        method: 'POST',
        url: '/login/email',
        headers: form,
        payload: `email=${encodeURIComponent(email)}`,
      });
    const known = await ask('Vic@Acme.example');
    const unknown = await ask('nobody@acme.example');
    expect(known.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    expect(known.body.replace(/vic@acme\.example/, 'X')).toBe(
      unknown.body.replace(/nobody@acme\.example/, 'X'),
    );
    // The links go out after the answer (tests/security/sign-in-email-enumeration.test.ts).
    await s.auth.signInEmailsSettled();
    expect(
      await s.db.select().from(accountEmails).where(eq(accountEmails.toAddress, 'nobody@acme.example')),
    ).toEqual([]);
    const again = await signInWith(await linkIn('vic@acme.example'));
    expect(again.me).toMatchObject({ role: 'viewer', user: { method: 'email_link' } });

    for (let i = 0; i < SIGN_IN_EMAILS_PER_WINDOW + 3; i++) await ask('vic@acme.example');
    await s.auth.signInEmailsSettled();
    const sent = await s.db
      .select()
      .from(accountEmails)
      .where(eq(accountEmails.toAddress, 'vic@acme.example'));
    // The requests never send more than the bound (the invitation has its own: invitation-mail-bound.test.ts).
    expect(sent.filter((m) => m.kind === 'sign_in').length).toBeLessThanOrEqual(SIGN_IN_EMAILS_PER_WINDOW);
    expect(sent.filter((m) => m.kind === 'invitation')).toHaveLength(1);
    // A cross-site form cannot trigger emails.
    const cross = await app.inject({
      method: 'POST',
      url: '/login/email',
      headers: { ...form, origin: 'https://evil.example' },
      payload: 'email=vic%40acme.example',
    });
    expect(cross.statusCode).toBe(403);
  });
});

describe('roles on every route', () => {
  it('a viewer gets 403 on every write route and admin read, a collector on every admin route, and neither is refused what its role allows', async () => {
    const refused: string[] = [];
    const allowed: string[] = [];
    for (const r of app.routeAuth) {
      // Reads are every role's, except the few that show a secret (declared `role: 'admin'` on a GET).
      const read = r.method === 'GET' || r.method === 'HEAD';
      if (r.auth === 'public' || (read && r.role === 'viewer') || !r.url.includes(':tenant')) continue;
      const url = r.url
        .replace(':tenant', tenant.slug)
        .replace(/:[a-zA-Z]+/g, '00000000-0000-4000-8000-000000000001');
      const opts = {
        method: r.method as 'POST',
        url,
        payload: r.method === 'DELETE' || read ? undefined : {},
      };
      for (const [who, role] of [
        [viewer, 'viewer'],
        [collector, 'collector'],
      ] as const) {
        const res = await app.inject(asSession(who, opts));
        const mayCall = r.role === 'viewer' || (r.role === 'collector' && role === 'collector');
        if (!mayCall && res.statusCode !== 403)
          refused.push(`${role} ${r.method} ${r.url}: ${res.statusCode}`);
        if (mayCall && res.statusCode === 403) allowed.push(`${role} ${r.method} ${r.url}: 403`);
      }
    }
    expect(refused).toEqual([]);
    expect(allowed).toEqual([]);
    // Reads work for a viewer.
    const inv = await app.inject(asSession(viewer, { url: `/api/v1/tenants/${tenant.slug}/invoices` }));
    expect(inv.statusCode).toBe(200);
  });

  it('the audit trail names the person who changed something', async () => {
    const put = await app.inject(
      asSession(adminP, { method: 'PUT', url: `/api/v1/tenants/${tenant.slug}/dunning/policy`, payload: {} }),
    );
    expect(put.statusCode).toBe(200);
    const [latest] = await s.db
      .select()
      .from(dunningPolicies)
      .where(eq(dunningPolicies.tenantId, tenant.id))
      .orderBy(desc(dunningPolicies.version))
      .limit(1);
    expect(latest?.createdBy).toBe('ada <ada@acme.example>');
  });
});

describe('managing people', () => {
  it('the last active admin cannot be demoted, disabled or removed', async () => {
    const [ada] = await s.db
      .select()
      .from(users)
      .where(and(eq(users.tenantId, tenant.id), eq(users.email, 'ada@acme.example')));
    for (const payload of [{ role: 'viewer' }, { status: 'disabled' }]) {
      const r = await app.inject(
        asSession(adminP, {
          method: 'PATCH',
          url: `/api/v1/tenants/${tenant.slug}/users/${ada!.id}`,
          payload,
        }),
      );
      expect(r.statusCode).toBe(409);
    }
    const del = await app.inject(
      asSession(adminP, { method: 'DELETE', url: `/api/v1/tenants/${tenant.slug}/users/${ada!.id}` }),
    );
    expect(del.statusCode).toBe(409);
  });

  it('disabling a person ends their sessions and unused links; re-enabling lets them ask for a new link', async () => {
    const [vic] = await s.db.select().from(users).where(eq(users.email, 'vic@acme.example'));
    const pending = await new SessionAuth(s.db, s.config.APP_SECRET).issueLoginToken({
      tenantId: tenant.id,
      userId: vic!.id,
      label: 'test',
      now: clock.now(),
    });
    const off = await app.inject(
      asSession(adminP, {
        method: 'PATCH',
        url: `/api/v1/tenants/${tenant.slug}/users/${vic!.id}`,
        payload: { status: 'disabled' },
      }),
    );
    expect(off.statusCode).toBe(200);
    expect((await app.inject(asSession(viewer, { url: '/api/v1/session' }))).statusCode).toBe(401);
    const r = await app.inject({ method: 'POST', url: '/login', headers: form, payload: `token=${pending}` });
    expect(r.statusCode).toBe(401);
  });

  it('sign out everywhere ends every session of that person, and only theirs', async () => {
    const second = await signInWith(
      await new SessionAuth(s.db, s.config.APP_SECRET).issueLoginToken({
        tenantId: tenant.id,
        userId: (await s.db.select().from(users).where(eq(users.email, 'cole@acme.example')))[0]!.id,
        label: 'second browser',
        now: clock.now(),
      }),
    );
    const out = await app.inject(asSession(collector, { method: 'POST', url: '/api/v1/session/logout-all' }));
    expect(out.statusCode).toBe(200);
    expect(out.json().sessionsEnded).toBe(2);
    expect((await app.inject(asSession(second, { url: '/api/v1/session' }))).statusCode).toBe(401);
    expect((await app.inject(asSession(adminP, { url: '/api/v1/session' }))).statusCode).toBe(200);
  });
});
