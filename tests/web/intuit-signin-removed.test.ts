/**
 * Settings → People → Remove keeps a person out. They may still be a QuickBooks user of the company, and Sign in with
 * Intuit re-created anyone it did not find as a viewer: removed, they came straight back. Now the removal is
 * remembered per company by the person's Intuit account and verified email: their Intuit sign-in is refused with a
 * page saying an admin removed their access, and nothing changes; an admin inviting that address again lifts it.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER, SESSION_COOKIE } from '../../src/auth/sessions';
import { ManualClock } from '../../src/clock';
import { markDisconnected } from '../../src/db/queries/connections';
import { connections, tenants, users } from '../../src/db/schema';
import { syncConnectionJob } from '../../src/jobs/sync-jobs';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { intuitIdentity } from '../helpers/intuit-identity';
import { QB_ENV } from '../sync/helpers';

const TOKEN_HOST = 'https://oauth.platform.intuit.com';
const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
const REALM = '7700000000000071';
const OTHER_REALM = '7700000000000072';
const clock = new ManualClock('2026-11-27T10:00:00Z');
const intuit = intuitIdentity(QB_ENV.QUICKBOOKS_CLIENT_ID);
let s: Services;
let app: FastifyInstance;

const t = suiteTestApp({ clock, env: { ...QB_ENV, PUBLIC_URL: 'https://duely.example' }, token: false });
afterEach(() => {
  nock.cleanAll();
});

const nonceCookie = (r: LightMyRequestResponse) =>
  String(r.headers['set-cookie'] ?? '')
    .split(';')[0]!
    .trim();
const sessionCookie = (r: LightMyRequestResponse) => r.cookies.find((c) => c.name === SESSION_COOKIE)?.value;

let tokenRound = 0;
/** /login/intuit → Intuit → our callback, as the Intuit user `sub` of company `realm` with this userinfo. */
async function signInAs(
  realm: string,
  person: { sub: string; email: string; emailVerified?: boolean; givenName?: string; familyName?: string },
): Promise<LightMyRequestResponse> {
  const start = await app.inject({ url: '/login/intuit' });
  expect(start.statusCode).toBe(302);
  const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
  tokenRound++;
  intuit.nockJwks();
  intuit.nockUserInfo(person);
  nock(TOKEN_HOST)
    .post(TOKEN_PATH)
    .reply(200, {
      token_type: 'bearer',
      access_token: `at-${person.sub}-${tokenRound}`,
      refresh_token: `rt-${person.sub}-${tokenRound}`,
      expires_in: 3600,
      id_token: intuit.idToken({ sub: person.sub, realmid: realm }),
    });
  return app.inject({
    url: `/connect/quickbooks/callback?code=c-${tokenRound}&state=${encodeURIComponent(state)}&realmId=${realm}`,
    headers: { cookie: nonceCookie(start) },
  });
}

type Browser = { cookie: string; csrf: string; role: string; email: string; tenantId: string };
async function browserOf(r: LightMyRequestResponse): Promise<Browser> {
  expect(r.statusCode, r.body).toBe(302);
  const cookie = sessionCookie(r)!;
  const me = (await app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: cookie } })).json();
  return { cookie, csrf: me.csrfToken, role: me.role, email: me.user.email, tenantId: me.tenant.id };
}

const connectionOf = async (realm: string) =>
  (await s.db.select().from(connections).where(eq(connections.externalId, realm)))[0]!;
const peopleOf = async (tenantId: string) =>
  (await s.db.select().from(users).where(eq(users.tenantId, tenantId))).map((u) => u.email).sort();
const syncJobsOf = async (connectionId: string) =>
  ((await s.queue.findJobs(syncConnectionJob.name)) as Array<{ data: { connectionId: string } }>).filter(
    (j) => j.data.connectionId === connectionId,
  ).length;

let ada: Browser;
let slug: string;
const as = (who: Browser) => ({
  cookies: { [SESSION_COOKIE]: who.cookie },
  headers: { [CSRF_HEADER]: who.csrf },
});

/** Settings → People → Remove, as the admin would press it. */
async function remove(email: string) {
  const [row] = await s.db.select().from(users).where(eq(users.email, email));
  const r = await app.inject({
    method: 'DELETE',
    url: `/api/v1/tenants/${slug}/users/${row!.id}`,
    ...as(ada),
  });
  expect(r.statusCode, r.body).toBe(200);
}

async function invite(email: string, role: string) {
  const r = await app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${slug}/users`,
    ...as(ada),
    payload: { email, role },
  });
  expect(r.statusCode, r.body).toBe(201);
}

/** A refused sign-in: the removal page, no session, no person created, the connection and its jobs as they were. */
async function expectKeptOut(r: LightMyRequestResponse, before: { people: string[]; jobs: number }) {
  expect(r.statusCode).toBe(403);
  expect(r.headers['content-type']).toMatch(/text\/html/);
  expect(r.body).toContain('You were not signed in');
  expect(r.body).toMatch(/admin[^.]*removed your access/i);
  expect(r.body).toMatch(/invite you again/i);
  expect(sessionCookie(r)).toBeUndefined();
  expect(await peopleOf(ada.tenantId)).toEqual(before.people);
  const conn = await connectionOf(REALM);
  expect(await syncJobsOf(conn.id)).toBe(before.jobs);
}
const snapshot = async () => ({
  people: await peopleOf(ada.tenantId),
  jobs: await syncJobsOf((await connectionOf(REALM)).id),
});

beforeAll(async () => {
  ({ services: s, app } = t);
  intuit.nockCompanyInfo(REALM, 'Removal Co');
  ada = await browserOf(await signInAs(REALM, { sub: 'u-ada', email: 'ada@removal.example' }));
  expect(ada.role).toBe('admin');
  slug = (await s.db.select().from(tenants).where(eq(tenants.id, ada.tenantId)))[0]!.slug;
});

describe('a person an admin removed does not come back through Sign in with Intuit', () => {
  it('removed after signing in with Intuit: refused by their Intuit account, whatever email it reports', async () => {
    const rita = await browserOf(await signInAs(REALM, { sub: 'u-rita', email: 'rita@removal.example' }));
    expect(rita.role).toBe('viewer');
    await remove('rita@removal.example');
    const before = await snapshot();
    expect(before.people).not.toContain('rita@removal.example');

    await expectKeptOut(await signInAs(REALM, { sub: 'u-rita', email: 'rita@removal.example' }), before);
    // Same Intuit account, another (verified) address: still her.
    await expectKeptOut(await signInAs(REALM, { sub: 'u-rita', email: 'rita@elsewhere.example' }), before);
    // Her old sessions ended with the removal.
    const me = await app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: rita.cookie } });
    expect(me.statusCode).toBe(401);
  });

  it('removed before ever using Intuit: refused by the verified address; an unverified one is not theirs', async () => {
    await invite('vera@removal.example', 'collector');
    await remove('vera@removal.example');
    const before = await snapshot();
    await expectKeptOut(await signInAs(REALM, { sub: 'u-vera', email: 'vera@removal.example' }), before);
    await expectKeptOut(await signInAs(REALM, { sub: 'u-vera', email: 'VERA@Removal.example ' }), before);
    // Someone else typing Vera's address into their Intuit profile without verifying it is not Vera: they come in
    // as a newcomer under a placeholder, as before.
    const other = await browserOf(
      await signInAs(REALM, { sub: 'u-mallory', email: 'vera@removal.example', emailVerified: false }),
    );
    expect(other.role).toBe('viewer');
    expect(other.email).not.toBe('vera@removal.example');
  });

  it('a removed admin is refused too, and their sign-in does not revive a disconnected connection', async () => {
    const ben = await browserOf(await signInAs(REALM, { sub: 'u-ben', email: 'ben@removal.example' }));
    const r = await app.inject({
      method: 'PATCH',
      url: `/api/v1/tenants/${slug}/users/${(await s.db.select().from(users).where(eq(users.email, 'ben@removal.example')))[0]!.id}`,
      ...as(ada),
      payload: { role: 'admin' },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(ben.role).toBe('viewer');
    await remove('ben@removal.example');
    await markDisconnected(s.db, await connectionOf(REALM), clock.now());
    const disconnected = await connectionOf(REALM);
    const before = await snapshot();
    // The refused sign-in re-created a grant at Intuit that nobody in Duely sees: it is revoked with its own token.
    const revoked: string[] = [];
    nock('https://developer.api.intuit.com')
      .post('/v2/oauth2/tokens/revoke', (body: { token?: string }) => {
        revoked.push(String(body.token));
        return true;
      })
      .reply(200, {});
    await expectKeptOut(await signInAs(REALM, { sub: 'u-ben', email: 'ben@removal.example' }), before);
    expect(await connectionOf(REALM)).toEqual(disconnected);
    expect(revoked).toEqual([`rt-u-ben-${tokenRound}`]);
    // Ada reconnects by signing in (an admin renews the grant); the rest of the file runs on a working connection.
    expect((await signInAs(REALM, { sub: 'u-ada', email: 'ada@removal.example' })).statusCode).toBe(302);
    expect((await connectionOf(REALM)).status).toBe('active');
  });

  it('an invitation of that address lifts the removal: they sign in with Intuit with the invited role', async () => {
    await invite('rita@removal.example', 'collector');
    const rita = await browserOf(await signInAs(REALM, { sub: 'u-rita', email: 'rita@removal.example' }));
    expect(rita).toMatchObject({ role: 'collector', email: 'rita@removal.example', tenantId: ada.tenantId });
    const [row] = await s.db.select().from(users).where(eq(users.email, 'rita@removal.example'));
    expect(row).toMatchObject({ status: 'active', intuitSub: 'u-rita' });
    // Removed again, kept out again.
    await remove('rita@removal.example');
    await expectKeptOut(
      await signInAs(REALM, { sub: 'u-rita', email: 'rita@removal.example' }),
      await snapshot(),
    );
  });

  it('the removal holds in its own company only: the same person in another company signs in there', async () => {
    intuit.nockCompanyInfo(OTHER_REALM, 'Other Co');
    const owner = await browserOf(
      await signInAs(OTHER_REALM, { sub: 'u-otto', email: 'otto@other.example' }),
    );
    expect(owner.role).toBe('admin');
    const rita = await browserOf(
      await signInAs(OTHER_REALM, { sub: 'u-rita', email: 'rita@removal.example' }),
    );
    expect(rita).toMatchObject({ role: 'viewer', tenantId: owner.tenantId });
    expect(rita.tenantId).not.toBe(ada.tenantId);
  });

  it('people nobody removed still come in as before', async () => {
    const nina = await browserOf(await signInAs(REALM, { sub: 'u-nina', email: 'nina@removal.example' }));
    expect(nina).toMatchObject({ role: 'viewer', tenantId: ada.tenantId });
  });
});

describe('Settings → People lists the removed, and "Allow again" is the way back without an address', () => {
  type Removed = {
    id: string;
    email: string | null;
    name: string | null;
    intuitAccount: boolean;
    removedBy: string;
    removedAt: string;
  };
  const removedList = async (who: Browser, tenant = slug): Promise<Removed[]> => {
    const r = await app.inject({ url: `/api/v1/tenants/${tenant}/users`, ...as(who) });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().removed;
  };
  let pat: Removed;

  it('a person removed with only an Intuit account is listed, with who removed them and when', async () => {
    // Pat's Intuit profile has no verified email: Duely knows Pat by the Intuit account alone (a placeholder).
    const first = await browserOf(
      await signInAs(REALM, {
        sub: 'u-pat',
        email: 'pat@unverified.example',
        emailVerified: false,
        givenName: 'Pat',
        familyName: 'Quill',
      }),
    );
    expect(first.email).toMatch(/@users\.invalid$/);
    clock.advance(60_000);
    await remove(first.email);
    const list = await removedList(ada);
    // Newest first; Rita (removed earlier in this file, by address) is listed too.
    pat = list[0]!;
    expect(pat).toMatchObject({ email: null, name: 'Pat Quill', intuitAccount: true });
    expect(pat.removedBy).toContain('ada@removal.example');
    expect(pat.removedAt).toBe(clock.now().toISOString());
    expect(list.map((r) => r.email)).toContain('rita@removal.example');
    // Everyone of the company reads the list (as the team); no removal of another company shows.
    const nina = await browserOf(await signInAs(REALM, { sub: 'u-nina', email: 'nina@removal.example' }));
    expect((await removedList(nina)).map((r) => r.id)).toEqual(list.map((r) => r.id));
    await expectKeptOut(
      await signInAs(REALM, { sub: 'u-pat', email: 'pat@unverified.example', emailVerified: false }),
      await snapshot(),
    );
  });

  it('only an admin of the company may allow them again: a viewer gets 403, another company 404', async () => {
    const nina = await browserOf(await signInAs(REALM, { sub: 'u-nina', email: 'nina@removal.example' }));
    const byViewer = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tenants/${slug}/users/removed/${pat.id}`,
      ...as(nina),
    });
    expect(byViewer.statusCode).toBe(403);
    intuit.nockCompanyInfo(OTHER_REALM, 'Other Co');
    const otto = await browserOf(await signInAs(OTHER_REALM, { sub: 'u-otto', email: 'otto@other.example' }));
    const otherSlug = (await s.db.select().from(tenants).where(eq(tenants.id, otto.tenantId)))[0]!.slug;
    const byOther = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tenants/${otherSlug}/users/removed/${pat.id}`,
      ...as(otto),
    });
    expect(byOther.statusCode).toBe(404);
    expect((await removedList(ada)).map((r) => r.id)).toContain(pat.id);
  });

  it('"Allow again" forgets the removal: their next Sign in with Intuit comes in as a viewer', async () => {
    const r = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tenants/${slug}/users/removed/${pat.id}`,
      ...as(ada),
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().allowed).toMatchObject({ id: pat.id, name: 'Pat Quill' });
    expect((await removedList(ada)).map((x) => x.id)).not.toContain(pat.id);
    const back = await browserOf(
      await signInAs(REALM, { sub: 'u-pat', email: 'pat@unverified.example', emailVerified: false }),
    );
    expect(back).toMatchObject({ role: 'viewer', tenantId: ada.tenantId });
    // Allowing again twice: the removal is gone, 404.
    const again = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tenants/${slug}/users/removed/${pat.id}`,
      ...as(ada),
    });
    expect(again.statusCode).toBe(404);
  });
});
