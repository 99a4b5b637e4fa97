/**
 * A connect started signed out must finish under the signed-out rules even when the browser signs in somewhere
 * before the provider sends it back. Otherwise: start `/connect/quickbooks` signed out (an unbound state), sign in
 * to any tenant (your own, or the victim's as a viewer), consent at Intuit as any user of the victim's company, and
 * the callback — no longer "signed out", not bound to a tenant either — re-attached the company's connection with
 * the consenting user's grant: replacing the admin's working grant, or reviving a connection the team turned off.
 */
import { eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { createUser } from '../../src/auth/users';
import { Vault } from '../../src/auth/vault';
import { ManualClock } from '../../src/clock';
import { markDisconnected } from '../../src/db/queries/connections';
import { ensureTenant } from '../../src/db/queries/tenants';
import { connections } from '../../src/db/schema';
import { syncConnectionJob } from '../../src/jobs/sync-jobs';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { intuitIdentity } from '../helpers/intuit-identity';
import { QB_ENV, seedConnection, tokensAt } from '../sync/helpers';

const TOKEN_HOST = 'https://oauth.platform.intuit.com';
const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
const REALM = '7300000000000001';
const clock = new ManualClock('2026-11-27T10:00:00Z');
const intuit = intuitIdentity(QB_ENV.QUICKBOOKS_CLIENT_ID);
let s: Services;

const t = suiteTestApp({ clock, env: { ...QB_ENV, PUBLIC_URL: 'https://duely.example' }, token: false });
let victimTenant: string;
let strangerCookie: string;
let viewerCookie: string;

beforeAll(async () => {
  s = t.services;
  const { tenant } = await seedConnection(s, {
    name: 'Victim Books',
    realmId: REALM,
    tokens: tokensAt(clock.now(), 3600_000, 'admin'),
  });
  victimTenant = tenant.id;
  const auth = new SessionAuth(s.db, s.config.APP_SECRET);
  // The attacker's own tenant (anyone can have one: a CSV import, or a connect of their own company).
  const own = await ensureTenant(s.db, 'Mallory Books', 'csv');
  strangerCookie = `${SESSION_COOKIE}=${(await auth.createSession({ tenantId: own.id, method: 'login_link', now: clock.now() })).token}`;
  // A viewer of the victim's tenant.
  const viewer = await createUser(s.db, {
    tenantId: victimTenant,
    email: 'vic@victim.example',
    role: 'viewer',
    status: 'active',
  });
  viewerCookie = `${SESSION_COOKIE}=${(await auth.createSession({ tenantId: victimTenant, userId: viewer.id, method: 'email_link', now: clock.now() })).token}`;
});
afterEach(() => {
  nock.cleanAll();
});

const connection = async () =>
  (await s.db.select().from(connections).where(eq(connections.externalId, REALM)))[0]!;
const syncJobs = async (id: string) =>
  ((await s.queue.findJobs(syncConnectionJob.name)) as Array<{ data: { connectionId: string } }>).filter(
    (j) => j.data.connectionId === id,
  ).length;
const nonceCookie = (r: LightMyRequestResponse) =>
  String(r.headers['set-cookie'] ?? '')
    .split(';')[0]!
    .trim();

/** Starts signed out, then comes back from Intuit carrying `sessionCookie`, with Mallory's grant for REALM. */
async function startSignedOutFinishSignedIn(sessionCookie: string, tag: string) {
  const start = await t.app.inject({ url: '/connect/quickbooks' });
  expect(start.statusCode).toBe(302);
  const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
  intuit.nockJwks();
  intuit.nockUserInfo({ sub: 'u-mallory', email: 'mallory@evil.example' });
  nock(TOKEN_HOST)
    .post(TOKEN_PATH)
    .reply(200, {
      token_type: 'bearer',
      access_token: `at-${tag}`,
      refresh_token: `rt-${tag}`,
      expires_in: 3600,
      id_token: intuit.idToken({ sub: 'u-mallory', realmid: REALM }),
    });
  return t.app.inject({
    url: `/connect/quickbooks/callback?code=c-${tag}&state=${encodeURIComponent(state)}&realmId=${REALM}`,
    headers: { cookie: `${nonceCookie(start)}; ${sessionCookie}` },
  });
}

describe('a connect started signed out and finished signed in', () => {
  it("never replaces the working grant of a company another tenant has (signed in to the attacker's own tenant)", async () => {
    const before = await connection();
    const jobs = await syncJobs(before.id);
    await startSignedOutFinishSignedIn(strangerCookie, 'mallory-1');
    const after = await connection();
    expect(after).toEqual(before);
    expect(new Vault(s.config.APP_SECRET).open(after.credentials!)).toMatchObject({
      refreshToken: 'rt-admin',
    });
    expect(await syncJobs(before.id)).toBe(jobs);
  });

  it('never replaces the working grant when the browser is a viewer of that tenant', async () => {
    const before = await connection();
    const jobs = await syncJobs(before.id);
    await startSignedOutFinishSignedIn(viewerCookie, 'mallory-2');
    expect(await connection()).toEqual(before);
    expect(await syncJobs(before.id)).toBe(jobs);
  });

  it('never revives a connection the team disconnected', async () => {
    await markDisconnected(s.db, await connection(), clock.now());
    const disconnected = await connection();
    expect(disconnected.status).toBe('disconnected');
    const jobs = await syncJobs(disconnected.id);
    for (const [cookie, tag] of [
      [strangerCookie, 'mallory-3'],
      [viewerCookie, 'mallory-4'],
    ] as const) {
      await startSignedOutFinishSignedIn(cookie, tag);
      expect(await connection()).toEqual(disconnected);
    }
    expect(await syncJobs(disconnected.id)).toBe(jobs);
  });
});
