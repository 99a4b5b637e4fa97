/**
 * Disabling a person ends their sessions and unused sign-in links for good: turning them back on later (to let
 * them ask for a new link) must not bring back a browser that was signed in when access was cut — a lost laptop, a
 * shared desk — nor an invitation or emailed link still sitting in an inbox. Before, a disabled person's sessions
 * and links were only refused while the status read "disabled", and re-enabling revived every one of them.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER, SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { createUser } from '../../src/auth/users';
import { ManualClock } from '../../src/clock';
import { users } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

const clock = new ManualClock('2026-11-27T10:00:00Z');
const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' };
let s: Services;
let app: FastifyInstance;
let tenant: { id: string; slug: string };
let auth: SessionAuth;

const t = suiteTestApp({ clock, token: 'operator' });
beforeAll(async () => {
  ({ services: s, app } = t);
  const up = await app.inject({
    method: 'POST',
    url: '/api/v1/tenants/acme/imports',
    headers: { ...t.auth, 'content-type': 'text/csv' },
    payload: csv([['ACME', 'A1', '2026-09-02', '2026-10-01', '100.00', 'USD', '', 'email', 'US']]),
  });
  expect(up.statusCode).toBe(201);
  tenant = up.json().tenant;
  auth = new SessionAuth(s.db, s.config.APP_SECRET);
});

async function signIn(token: string) {
  const r = await app.inject({ method: 'POST', url: '/login', headers: form, payload: `token=${token}` });
  expect(r.statusCode).toBe(303);
  const cookie = r.cookies.find((c) => c.name === SESSION_COOKIE)!.value;
  const me = await app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: cookie } });
  return { cookie, csrf: me.json().csrfToken as string };
}
const link = (userId: string) =>
  auth.issueLoginToken({ tenantId: tenant.id, userId, label: 'test', now: clock.now() });
const setStatus = (id: string, status: 'active' | 'disabled') =>
  app.inject({
    method: 'PATCH',
    url: `/api/v1/tenants/${tenant.slug}/users/${id}`,
    headers: t.auth,
    payload: { status },
  });
const asSession = (b: { cookie: string; csrf: string }, opts: InjectOptions): InjectOptions => ({
  ...opts,
  cookies: { [SESSION_COOKIE]: b.cookie },
  headers: { [CSRF_HEADER]: b.csrf },
});

describe('disabling a person, then enabling them again', () => {
  it('leaves the sessions they had ended: the old cookie stays refused after re-enabling', async () => {
    const dee = await createUser(s.db, {
      tenantId: tenant.id,
      email: 'dee@acme.example',
      role: 'collector',
      status: 'active',
    });
    const browser = await signIn(await link(dee.id));
    expect((await app.inject(asSession(browser, { url: '/api/v1/session' }))).statusCode).toBe(200);

    expect((await setStatus(dee.id, 'disabled')).statusCode).toBe(200);
    expect((await app.inject(asSession(browser, { url: '/api/v1/session' }))).statusCode).toBe(401);
    clock.advance(60_000);
    expect((await setStatus(dee.id, 'active')).statusCode).toBe(200);

    expect((await app.inject(asSession(browser, { url: '/api/v1/session' }))).statusCode).toBe(401);
    const write = await app.inject(
      asSession(browser, {
        method: 'POST',
        url: `/api/v1/tenants/${tenant.slug}/dunning/plan`,
        payload: {},
      }),
    );
    expect(write.statusCode).toBe(401);
    // The person themselves can sign in again with a new link.
    const fresh = await signIn(await link(dee.id));
    expect((await app.inject(asSession(fresh, { url: '/api/v1/session' }))).json().user.email).toBe(
      'dee@acme.example',
    );
  });

  it('leaves their unused links spent: an invitation from before does not sign anyone in', async () => {
    const inv = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenant.slug}/users`,
      headers: t.auth,
      payload: { email: 'ivy@acme.example', name: 'Ivy', role: 'collector' },
    });
    expect(inv.statusCode).toBe(201);
    const ivy = inv.json().user.id as string;
    const emailed = await link(ivy);
    expect((await setStatus(ivy, 'disabled')).statusCode).toBe(200);
    expect((await setStatus(ivy, 'active')).statusCode).toBe(200);
    const [row] = await s.db.select().from(users).where(eq(users.id, ivy));
    expect(row!.status).toBe('invited');
    const r = await app.inject({ method: 'POST', url: '/login', headers: form, payload: `token=${emailed}` });
    expect(r.statusCode).toBe(401);
    expect(r.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
  });

  it('other people keep their sessions', async () => {
    const ann = await createUser(s.db, {
      tenantId: tenant.id,
      email: 'ann@acme.example',
      role: 'viewer',
      status: 'active',
    });
    const bob = await createUser(s.db, {
      tenantId: tenant.id,
      email: 'bob@acme.example',
      role: 'viewer',
      status: 'active',
    });
    const annB = await signIn(await link(ann.id));
    const bobB = await signIn(await link(bob.id));
    expect((await setStatus(ann.id, 'disabled')).statusCode).toBe(200);
    expect((await app.inject(asSession(annB, { url: '/api/v1/session' }))).statusCode).toBe(401);
    expect((await app.inject(asSession(bobB, { url: '/api/v1/session' }))).statusCode).toBe(200);
  });
});
