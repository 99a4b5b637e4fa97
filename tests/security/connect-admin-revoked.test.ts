/**
 * A connect an admin starts from the app is bound to their tenant (the signed state carries it) and may finish with
 * no session cookie at all: over https the session cookie is Partitioned (the app runs framed in the ledger's web
 * app), so the top-level callback often does not see it. The binding must not outlive the admin's right to use it.
 * Before: an admin who started a connect, was then disabled, removed, demoted or signed out, could finish it within
 * the state's 10 minutes — with their dead cookie or none — and attach a company of their choosing (its books synced
 * into the tenant) or renew the tenant's connection with their own grant.
 */
import { eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { createUser, removeUser, updateUser } from '../../src/auth/users';
import { ManualClock } from '../../src/clock';
import { ensureTenant } from '../../src/db/queries/tenants';
import { connections } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { intuitIdentity } from '../helpers/intuit-identity';
import { QB_ENV } from '../sync/helpers';

const TOKEN_HOST = 'https://oauth.platform.intuit.com';
const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
const clock = new ManualClock('2026-11-27T10:00:00Z');
const intuit = intuitIdentity(QB_ENV.QUICKBOOKS_CLIENT_ID);
let s: Services;
let auth: SessionAuth;
let tenantId: string;

const t = suiteTestApp({ clock, env: { ...QB_ENV, PUBLIC_URL: 'https://duely.example' }, token: false });

beforeAll(async () => {
  s = t.services;
  auth = new SessionAuth(s.db, s.config.APP_SECRET);
  // A tenant that holds no books yet (a CSV tenant, or one holding another company, takes no company:
  // red-team-s36.test.ts).
  tenantId = (await ensureTenant(s.db, 'Victim Books', 'quickbooks')).id;
  // The tenant's lasting admin, so the others can be demoted, disabled or removed.
  await createUser(s.db, { tenantId, email: 'ada@victim.example', role: 'admin', status: 'active' });
});
afterEach(() => {
  nock.cleanAll();
});

const nonceCookie = (r: LightMyRequestResponse) =>
  String(r.headers['set-cookie'] ?? '')
    .split(';')[0]!
    .trim();
const connectionsOf = async (realm: string) =>
  s.db.select().from(connections).where(eq(connections.externalId, realm));

/** An admin of the tenant, signed in: their id and session cookie. */
async function admin(email: string) {
  const user = await createUser(s.db, { tenantId, email, role: 'admin', status: 'active' });
  const { token } = await auth.createSession({
    tenantId,
    userId: user.id,
    method: 'email_link',
    now: clock.now(),
  });
  return { id: user.id, cookie: `${SESSION_COOKIE}=${token}` };
}

/** Starts a connect signed in as `cookie`; `between` runs while the browser is at Intuit; returns with `realm`. */
async function connect(
  cookie: string,
  realm: string,
  between: () => Promise<unknown>,
  returnWithSession: boolean,
) {
  const start = await t.app.inject({ url: '/connect/quickbooks', headers: { cookie } });
  expect(start.statusCode).toBe(302);
  const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
  await between();
  clock.advance(60_000);
  // A refused callback before the code exchange leaves the previous attempt's answers queued.
  nock.cleanAll();
  intuit.nockJwks();
  intuit.nockUserInfo({ sub: `u-${realm}`, email: 'mallory@evil.example' });
  nock(TOKEN_HOST)
    .post(TOKEN_PATH)
    .reply(200, {
      token_type: 'bearer',
      access_token: `at-${realm}`,
      refresh_token: `rt-${realm}`,
      expires_in: 3600,
      id_token: intuit.idToken({ sub: `u-${realm}`, realmid: realm }),
    });
  return t.app.inject({
    url: `/connect/quickbooks/callback?code=c-${realm}&state=${encodeURIComponent(state)}&realmId=${realm}`,
    headers: { cookie: returnWithSession ? `${nonceCookie(start)}; ${cookie}` : nonceCookie(start) },
  });
}

describe('a connect bound to a tenant by its admin', () => {
  it('still attaches while that admin is one (with or without the session cookie on the way back)', async () => {
    const ok = await admin('ok@victim.example');
    for (const [realm, withSession] of [
      ['7300000000000101', true],
      ['7300000000000102', false],
    ] as const) {
      // One company a tenant: the previous round's is let go first.
      await s.db.delete(connections).where(eq(connections.tenantId, tenantId));
      const r = await connect(ok.cookie, realm, async () => {}, withSession);
      expect(r.statusCode, r.body).toBe(302);
      expect((await connectionsOf(realm)).map((c) => c.tenantId)).toEqual([tenantId]);
    }
  });

  const signOutEverywhere = async (cookie: string) => {
    const me = await t.app.inject({ url: '/api/v1/session', headers: { cookie } });
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session/logout-all',
      headers: { cookie, 'x-csrf-token': me.json().csrfToken },
    });
    expect(r.statusCode).toBe(200);
  };
  const cases: [string, (id: string, cookie: string) => Promise<unknown>][] = [
    ['disabled', (id) => updateUser(s.db, tenantId, id, { status: 'disabled' }, clock.now())],
    ['removed', (id) => removeUser(s.db, tenantId, id, { name: 'an admin', now: clock.now() })],
    ['demoted to viewer', (id) => updateUser(s.db, tenantId, id, { role: 'viewer' }, clock.now())],
    ['signed out', (_id, cookie) => signOutEverywhere(cookie)],
  ];
  let n = 0;
  for (const [what, change] of cases) {
    it(`attaches nothing once the admin who started it was ${what} meanwhile`, async () => {
      for (const withSession of [true, false]) {
        n++;
        const mallory = await admin(`mallory-${n}@victim.example`);
        const realm = `73000000000002${String(n).padStart(2, '0')}`;
        const r = await connect(mallory.cookie, realm, () => change(mallory.id, mallory.cookie), withSession);
        expect(r.statusCode, `${what}, cookie back: ${withSession}`).toBe(403);
        expect(await connectionsOf(realm)).toEqual([]);
        expect(r.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
      }
    });
  }
});
