/**
 * A sign-in with Intuit by someone who may not change a company's connection (not an admin, or turned off) gets
 * tokens Duely does not keep. Intuit connects an app to a company once (its "My Apps" lists one Duely per company,
 * and revoking a token disconnects it — the QuickBooks stand-in in sandboxes/ behaves so): while the connection is
 * working, those tokens belong to the grant Duely shows and uses, and revoking them would cut it. When Duely shows
 * the company disconnected or needing reconnection, the sign-in re-created a grant at Intuit nobody in Duely can
 * see: it is revoked, with the sign-in's own token, never the connection's stored one, and a failure is logged
 * without the token.
 */
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/auth/sessions';
import { updateUser } from '../../src/auth/users';
import { Vault } from '../../src/auth/vault';
import { ManualClock } from '../../src/clock';
import { markDisconnected } from '../../src/db/queries/connections';
import { connections, users } from '../../src/db/schema';
import { createLogger } from '../../src/logger';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { intuitIdentity } from '../helpers/intuit-identity';
import { QB_ENV } from '../sync/helpers';

const TOKEN_HOST = 'https://oauth.platform.intuit.com';
const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
const REVOKE_HOST = 'https://developer.api.intuit.com';
const REVOKE_PATH = '/v2/oauth2/tokens/revoke';
const REALM = '7700000000000091';
const clock = new ManualClock('2026-11-27T10:00:00Z');
const intuit = intuitIdentity(QB_ENV.QUICKBOOKS_CLIENT_ID);

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});

let s: Services;
let app: FastifyInstance;
const t = suiteTestApp({
  clock,
  env: { ...QB_ENV, PUBLIC_URL: 'https://duely.example' },
  token: false,
  logger: createLogger('trace', sink),
});

/** Every token Duely asked Intuit to revoke, in order (the interceptor stays for the whole file). */
let revoked: string[] = [];
let revokeAnswer: { status: number; body: Record<string, unknown> } = { status: 200, body: {} };
function nockRevoke() {
  nock(REVOKE_HOST)
    .persist()
    .post(REVOKE_PATH, (body: { token?: string }) => {
      revoked.push(String(body.token));
      return true;
    })
    .reply(() => [revokeAnswer.status, revokeAnswer.body]);
}

beforeAll(async () => {
  ({ services: s, app } = t);
});
afterEach(() => {
  nock.cleanAll();
  revoked = [];
  revokeAnswer = { status: 200, body: {} };
});

const nonceCookie = (r: LightMyRequestResponse) =>
  String(r.headers['set-cookie'] ?? '')
    .split(';')[0]!
    .trim();
const sessionCookie = (r: LightMyRequestResponse) => r.cookies.find((c) => c.name === SESSION_COOKIE)?.value;
const connectionOf = async () =>
  (await s.db.select().from(connections).where(eq(connections.externalId, REALM)))[0]!;
const roleOf = async (r: LightMyRequestResponse) =>
  (await app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: sessionCookie(r)! } })).json()
    .role;
const vault = () => new Vault(s.config.APP_SECRET);

/** /login/intuit → Intuit → our callback, as `sub`, with tokens `at-<tag>` / `rt-<tag>`. */
async function signInAs(sub: string, email: string, tag: string) {
  intuit.nockJwks();
  intuit.nockUserInfo({ sub, email });
  nockRevoke();
  const start = await app.inject({ url: '/login/intuit' });
  const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
  nock(TOKEN_HOST)
    .post(TOKEN_PATH)
    .reply(200, {
      token_type: 'bearer',
      access_token: `at-${tag}`,
      refresh_token: `rt-${tag}`,
      expires_in: 3600,
      id_token: intuit.idToken({ sub, realmid: REALM }),
    });
  return app.inject({
    url: `/connect/quickbooks/callback?code=c-${tag}&state=${encodeURIComponent(state)}&realmId=${REALM}`,
    headers: { cookie: nonceCookie(start) },
  });
}

describe("a sign-in's tokens Duely does not keep", () => {
  beforeAll(async () => {
    intuit.nockCompanyInfo(REALM, 'Revoke Co');
    // Ada installs (admin); Vic signs in later as a viewer; Dan is a viewer Ada turned off.
    expect(await roleOf(await signInAs('u-ada', 'ada@revoke.example', 'ada-1'))).toBe('admin');
    expect(await roleOf(await signInAs('u-dan', 'dan@revoke.example', 'dan-0'))).toBe('viewer');
    const conn = await connectionOf();
    const [dan] = await s.db.select().from(users).where(eq(users.email, 'dan@revoke.example'));
    await updateUser(s.db, conn.tenantId, dan!.id, { status: 'disabled' }, clock.now());
    nock.cleanAll();
    revoked = [];
  });

  it('on a working connection: nothing is revoked (the tokens belong to the grant Duely uses)', async () => {
    const working = await connectionOf();
    const r = await signInAs('u-vic', 'vic@revoke.example', 'vic-1');
    expect(await roleOf(r)).toBe('viewer');
    expect((await signInAs('u-dan', 'dan@revoke.example', 'dan-1')).statusCode).toBe(403);
    expect(revoked).toEqual([]);
    expect(await connectionOf()).toEqual(working);
    expect(vault().open(working.credentials!)).toMatchObject({ refreshToken: 'rt-ada-1' });
  });

  it("disconnected in Duely: a viewer's sign-in is revoked at Intuit with the viewer's token; the connection stays as left", async () => {
    await markDisconnected(s.db, await connectionOf(), clock.now());
    const disconnected = await connectionOf();
    const r = await signInAs('u-vic', 'vic@revoke.example', 'vic-2');
    expect(r.statusCode).toBe(302);
    expect(await roleOf(r)).toBe('viewer');
    expect(revoked).toEqual(['rt-vic-2']);
    expect(await connectionOf()).toEqual(disconnected);
  });

  it("disconnected in Duely: a turned-off person's sign-in is refused and revoked too", async () => {
    const r = await signInAs('u-dan', 'dan@revoke.example', 'dan-2');
    expect(r.statusCode).toBe(403);
    expect(revoked).toEqual(['rt-dan-2']);
  });

  it("needs reconnecting (same company, stored tokens Intuit refuses): the viewer's token is revoked, never the stored one", async () => {
    // Ada revives it (her grant, nothing revoked), then Intuit stops honouring it.
    expect(await roleOf(await signInAs('u-ada', 'ada@revoke.example', 'ada-2'))).toBe('admin');
    expect(revoked).toEqual([]);
    const conn = await connectionOf();
    await s.db.update(connections).set({ status: 'reconnect_needed' }).where(eq(connections.id, conn.id));
    const stale = await connectionOf();
    const r = await signInAs('u-vic', 'vic@revoke.example', 'vic-3');
    expect(await roleOf(r)).toBe('viewer');
    expect(revoked).toEqual(['rt-vic-3']);
    expect(revoked).not.toContain('rt-ada-2');
    expect(revoked).not.toContain('at-ada-2');
    expect(await connectionOf()).toEqual(stale);
    expect(vault().open(stale.credentials!)).toMatchObject({ refreshToken: 'rt-ada-2' });
  });

  it('Intuit refusing the revoke: still signed in, and the log names the failure without the token', async () => {
    revokeAnswer = {
      status: 500,
      body: { error: 'server_error', error_description: 'could not revoke rt-vic-4' },
    };
    lines.length = 0;
    const r = await signInAs('u-vic', 'vic@revoke.example', 'vic-4');
    expect(r.statusCode).toBe(302);
    expect(await roleOf(r)).toBe('viewer');
    expect(revoked).toEqual(['rt-vic-4']);
    expect(lines.some((l) => l.includes('revoke') && l.includes('"level":40'))).toBe(true);
    expect(lines.filter((l) => l.includes('rt-vic-4') || l.includes('at-vic-4'))).toEqual([]);
  });
});
