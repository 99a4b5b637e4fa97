/**
 * Red team, session 36: an outside reviewer's findings, each a test that failed before its fix.
 *
 * 1. One Duely company holds one company's books. The ledger is keyed by (tenant, the provider's id), and QuickBooks
 *    ids are small counters ("58", "130") that every company reuses, so a second company attached to a tenant that
 *    already holds one writes its customers and invoices over the first's: one company's invoices end up under the
 *    other's customer "58", with that customer's email, and reminders go out so (a third party reads another
 *    company's invoices), while everyone in the tenant sees both companies' books. Before, an admin of a connected
 *    tenant who picked another company on Intuit's consent page (the Connections page still offers "Connect to
 *    QuickBooks"), or typed another NetSuite account into the credential form, attached it to their tenant. CSV
 *    uploads into a synced tenant were already refused for the same reason.
 * 2. "Your email" (POST /api/v1/session/email) mails a confirmation link from Duely's sender, with the company's
 *    name and the person's, to any address a person under a placeholder gives (anyone Sign in with Intuit lets in
 *    without a verified email gets one, and keeps it as long as they confirm nothing). It was bounded per address
 *    only (3 in 15 minutes), so one such person mailed every address of a list: Duely's sender as a spam relay for a
 *    company name of the sender's choosing. Invitations have a daily bound for this reason; this now has its own.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OWN_EMAIL_CONFIRMATIONS_PER_DAY } from '../../src/auth/account-mail';
import { CSRF_HEADER, SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { connectAdminEmail, createUser } from '../../src/auth/users';
import { ManualClock } from '../../src/clock';
import { createTenant } from '../../src/db/queries/tenants';
import { accountEmails, connections } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { intuitIdentity } from '../helpers/intuit-identity';
import { QB_ENV } from '../sync/helpers';

const TOKEN_HOST = 'https://oauth.platform.intuit.com';
const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
/** The grant a refused connect made at Intuit is nobody's in Duely: revoked with its own refresh token. */
const expectRevoke = (realm: string) =>
  nock('https://developer.api.intuit.com')
    .post('/v2/oauth2/tokens/revoke', (b: { token?: string }) => b.token === `rt-${realm}`)
    .reply(200, {});
const clock = new ManualClock('2026-12-07T10:00:00Z');
const intuit = intuitIdentity(QB_ENV.QUICKBOOKS_CLIENT_ID);
let s: Services;
let app: FastifyInstance;

const testApp = suiteTestApp({
  clock,
  env: { ...QB_ENV, PUBLIC_URL: 'https://duely.example' },
  token: 'operator',
});
beforeAll(() => {
  ({ services: s, app } = testApp);
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

const cookieOf = (res: { headers: Record<string, unknown> }) => {
  const raw = res.headers['set-cookie'];
  return String(Array.isArray(raw) ? raw[0] : (raw ?? '')).split(';')[0] ?? '';
};

/** An admin of a new tenant (source `source`), signed in: their session cookie. */
async function adminOf(name: string, source: string) {
  const tenant = await createTenant(s.db, name, source);
  const admin = await createUser(s.db, {
    tenantId: tenant.id,
    email: `admin@${tenant.slug}.example`,
    role: 'admin',
    status: 'active',
  });
  const { token } = await new SessionAuth(s.db, s.config.APP_SECRET).createSession({
    tenantId: tenant.id,
    userId: admin.id,
    method: 'email_link',
    now: clock.now(),
  });
  return { tenant, cookie: `${SESSION_COOKIE}=${token}` };
}

/** The admin's connect, Intuit's consent for `realm` (its ID token proves it), and the callback. */
async function connectAs(cookie: string, realm: string) {
  const start = await app.inject({ url: '/connect/quickbooks', headers: { cookie } });
  expect(start.statusCode).toBe(302);
  const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
  intuit.nockJwks();
  nock(TOKEN_HOST)
    .post(TOKEN_PATH)
    .reply(200, {
      token_type: 'bearer',
      access_token: `at-${realm}`,
      refresh_token: `rt-${realm}`,
      expires_in: 3600,
      id_token: intuit.idToken({ sub: 'bookkeeper', realmid: realm }),
    });
  return app.inject({
    url: `/connect/quickbooks/callback?code=c-${realm}&state=${encodeURIComponent(state)}&realmId=${realm}`,
    headers: { cookie: `${cookieOf(start)}; ${cookie}` },
  });
}

const connectionsOf = (tenantId: string) =>
  s.db.select().from(connections).where(eq(connections.tenantId, tenantId)).orderBy(connections.createdAt);

describe('one tenant, one company', () => {
  it("an admin connecting a second company to their tenant is refused: the first company's books stay its own", async () => {
    const { tenant, cookie } = await adminOf('Bookkeeper Client One', 'quickbooks');
    const first = await connectAs(cookie, '5550001');
    expect(first.statusCode).toBe(302);
    const [conn] = await connectionsOf(tenant.id);
    expect(conn).toMatchObject({ externalId: '5550001', status: 'active' });

    // The same bookkeeper, at Intuit's consent page, picks another client's company.
    const revoked = expectRevoke('5550002');
    const second = await connectAs(cookie, '5550002');
    expect(second.statusCode).toBe(409);
    expect(second.headers['content-type']).toMatch(/text\/html/);
    expect(second.body).toContain('already holds the books of');
    expect(await s.db.select().from(connections).where(eq(connections.externalId, '5550002'))).toEqual([]);
    expect((await connectionsOf(tenant.id)).map((c) => c.externalId)).toEqual(['5550001']);
    expect(revoked.isDone()).toBe(true);

    // Its own company reconnects as before (renewed on the same connection).
    const again = await connectAs(cookie, '5550001');
    expect(again.statusCode).toBe(302);
    const [renewed] = await connectionsOf(tenant.id);
    expect([renewed!.id, renewed!.credentialsVersion]).toEqual([conn!.id, conn!.credentialsVersion + 1]);

    // Disconnected, its rows are still in the tenant: another company is refused all the same.
    await s.db.update(connections).set({ status: 'disconnected' }).where(eq(connections.id, conn!.id));
    expectRevoke('5550003');
    expect((await connectAs(cookie, '5550003')).statusCode).toBe(409);
    expect(await s.db.select().from(connections).where(eq(connections.externalId, '5550003'))).toEqual([]);
  });

  it('a CSV company connects its one ledger (a supported flow), and no company after it', async () => {
    // A company that began with a file and connects its ledger later (README, Sync, "Deletions": its imported rows
    // are kept) was refused here for a while; the rule is about a second COMPANY, and a CSV company holds none yet
    // (tests/security/connect-same-company.test.ts).
    const { tenant, cookie } = await adminOf('Spreadsheet Books', 'csv');
    expect((await connectAs(cookie, '5550010')).statusCode).toBe(302);
    expectRevoke('5550011');
    const res = await connectAs(cookie, '5550011');
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('already holds the books of QuickBooks company 5550010');
    expect((await connectionsOf(tenant.id)).map((c) => c.externalId)).toEqual(['5550010']);
  });

  it('the credential form (POST …/connections) attaches through the same rule', async () => {
    const { tenant } = await adminOf('Netsuite Holder', 'netsuite');
    const enqueued: string[] = [];
    const attach = (externalId: string) =>
      s.sync.connect.attach(
        async (id) => {
          enqueued.push(id);
          return null;
        },
        {
          provider: 'netsuite',
          externalId,
          tokens: {
            accessToken: `at-${externalId}`,
            refreshToken: `rt-${externalId}`,
            tokenType: 'bearer',
            expiresIn: 3600,
            refreshTokenExpiresIn: null,
            idToken: null,
          },
          boundTenant: tenant.id,
          companyName: null,
        },
      );
    const first = await attach('1111111');
    expect(first && 'connectionId' in first).toBe(true);
    const second = await attach('2222222');
    expect(second).toEqual({
      refused: 'tenant_holds_other_books',
      holds: { provider: 'netsuite', externalId: '1111111' },
    });
    const rows = await s.db
      .select()
      .from(connections)
      .where(and(eq(connections.tenantId, tenant.id), eq(connections.provider, 'netsuite')));
    expect(rows.map((c) => c.externalId)).toEqual(['1111111']);
    expect(enqueued).toHaveLength(1);
  });
});

describe('"your email" is no mail relay', () => {
  /** A person under a placeholder address, signed in: cookie and CSRF token. */
  async function placeholderPerson(company: string, n: number) {
    const tenant = await createTenant(s.db, company, 'netsuite');
    const me = await createUser(s.db, {
      tenantId: tenant.id,
      email: connectAdminEmail('netsuite', `99${n}`),
      role: 'viewer',
      status: 'active',
    });
    // A session of the clock's now (asked again a day later, the first has ended).
    const signIn = async () => {
      const { token } = await new SessionAuth(s.db, s.config.APP_SECRET).createSession({
        tenantId: tenant.id,
        userId: me.id,
        method: 'connect',
        now: clock.now(),
      });
      const me2 = await app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: token } });
      return { token, csrf: me2.json().csrfToken as string };
    };
    let session: Awaited<ReturnType<typeof signIn>> | null = null;
    let at = 0;
    return async (email: string) => {
      if (!session || at !== clock.now().getTime()) {
        session = await signIn();
        at = clock.now().getTime();
      }
      const { token, csrf } = session;
      return app.inject({
        method: 'POST',
        url: '/api/v1/session/email',
        cookies: { [SESSION_COOKIE]: token },
        headers: { [CSRF_HEADER]: csrf },
        payload: { email },
      });
    };
  }
  const mailsTo = async (domain: string) =>
    (await s.db.select().from(accountEmails)).filter((m) => m.toAddress.endsWith(`@${domain}`));

  it('one person mails at most OWN_EMAIL_CONFIRMATIONS_PER_DAY addresses a day, also when asked at once', async () => {
    const ask = await placeholderPerson('Totally Legit Prizes Inc', 1);
    const first = await ask('typo@list.example');
    expect(first.statusCode).toBe(202);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ask(`recipient-${i}@list.example`)),
    );
    const codes = answers.map((a) => a.statusCode);
    expect(codes.filter((c) => c === 202)).toHaveLength(OWN_EMAIL_CONFIRMATIONS_PER_DAY - 1);
    expect(codes.filter((c) => c === 429)).toHaveLength(20 - (OWN_EMAIL_CONFIRMATIONS_PER_DAY - 1));
    expect(answers.find((a) => a.statusCode === 429)!.json().error.message).toMatch(/tomorrow/);
    expect(await mailsTo('list.example')).toHaveLength(OWN_EMAIL_CONFIRMATIONS_PER_DAY);

    // A day later they may ask again; another person is not held by this one's count.
    const other = await placeholderPerson('Another Co', 2);
    expect((await other('colleague@other.example')).statusCode).toBe(202);
    clock.advance(24 * 3600_000 + 1);
    expect((await ask('right@list.example')).statusCode).toBe(202);
  });
});
