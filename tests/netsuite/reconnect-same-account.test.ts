/**
 * One NetSuite account is one company whatever form its id is typed or sent back in (`1234567_SB1`, `1234567-sb1`,
 * `1234567_sb1`: connectors/netsuite/config.ts realmAccountId, ../shared/vendor/netsuite/protocol.json
 * accountIdForms): a tenant holding it reconnects it with new credentials, through the form or OAuth 2.0, and is
 * never told it "already holds the books of" that same account (attachCompany's tenant_holds_other_books). Against
 * the local stand-in; PGlite and Postgres.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { NetsuiteCompany, NetsuiteSandbox } from '../../sandboxes/netsuite';
import { SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { createUser } from '../../src/auth/users';
import { ManualClock } from '../../src/clock';
import { ensureTenant } from '../../src/db/queries/tenants';
import { connections } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';

const clock = new ManualClock('2026-04-01T08:00:00Z');
let sandbox: NetsuiteSandbox;
let s: Services;
let app: FastifyInstance;
let bearer = '';
let tenantId = '';
let slug = '';
let adminCookie = '';

const t = suiteTestApp(async () => {
  sandbox = new NetsuiteSandbox({ company: NetsuiteCompany.generate({ seed: 5, customers: 3 }) });
  await sandbox.start();
  return { clock, env: { ...sandbox.env(), PUBLIC_URL: 'https://duely.example' }, token: 'ops', sandbox };
});
beforeAll(async () => {
  ({ services: s, app, token: bearer } = t);
  const tenant = await ensureTenant(s.db, 'One Account Co', 'netsuite');
  tenantId = tenant.id;
  slug = tenant.slug;
  const admin = await createUser(s.db, {
    tenantId,
    email: 'admin@one-account.example',
    role: 'admin',
    status: 'active',
  });
  const { token } = await new SessionAuth(s.db, s.config.APP_SECRET).createSession({
    tenantId,
    userId: admin.id,
    method: 'email_link',
    now: clock.now(),
  });
  adminCookie = `${SESSION_COOKIE}=${token}`;
});

const connectWithForm = (accountId: string, tokenId: string, tokenSecret: string) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${slug}/connections`,
    headers: { authorization: `Bearer ${bearer}` },
    payload: { provider: 'netsuite', accountId, auth: { type: 'tba', tokenId, tokenSecret } },
  });
const held = () => s.db.select().from(connections).where(eq(connections.tenantId, tenantId));

describe('the same NetSuite account again, in any of its id forms', () => {
  it('new token-based credentials for the account typed as 1234567-sb1: the same connection renewed', async () => {
    const first = await connectWithForm('1234567_SB1', 'sandbox-token-id', 'sandbox-token-secret');
    expect(first.statusCode, first.body).toBe(201);
    const [conn] = await held();
    expect(conn?.externalId).toBe('1234567_SB1');

    // The token is revoked in NetSuite; the admin makes a new one and types the account as its URLs spell it.
    await s.db.update(connections).set({ status: 'reconnect_needed' }).where(eq(connections.id, conn!.id));
    delete sandbox.options.tokens['sandbox-token-id'];
    sandbox.options.tokens['new-token-id'] = 'new-token-secret';
    const again = await connectWithForm('1234567-sb1', 'new-token-id', 'new-token-secret');
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json()).toMatchObject({ externalId: '1234567_SB1', reattached: true });
    expect((await held()).map((c) => [c.id, c.status])).toEqual([[conn!.id, 'active']]);
  });

  it('an OAuth 2.0 reconnect whose callback names the account in another case: the same connection', async () => {
    const [before] = await held();
    const start = await app.inject({
      url: '/connect/netsuite?account=1234567-sb1',
      headers: { cookie: adminCookie },
    });
    expect(start.statusCode).toBe(302);
    const consent = await fetch(new URL(String(start.headers.location)), { redirect: 'manual' });
    const back = new URL(String(consent.headers.get('location')));
    back.searchParams.set('company', '1234567_sb1');
    const nonce = String(start.headers['set-cookie']).split(';')[0]!;
    const done = await app.inject({
      url: back.pathname + back.search,
      headers: { cookie: `${nonce}; ${adminCookie}` },
    });
    expect(done.statusCode, done.body).toBe(302);
    expect((await held()).map((c) => [c.id, c.externalId, c.credentialsVersion])).toEqual([
      [before!.id, '1234567_SB1', before!.credentialsVersion + 1],
    ]);
  });
});
