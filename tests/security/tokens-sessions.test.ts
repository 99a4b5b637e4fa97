/**
 * API tokens can be listed (never their secret or hash) and revoked, within the caller's reach only; a revoked
 * token stops working at once. Sessions end when idle, whatever their absolute expiry.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueApiToken } from '../../src/auth/api-tokens';
import { SESSION_IDLE_MS, SessionAuth } from '../../src/auth/sessions';
import { createUser } from '../../src/auth/users';
import { ManualClock } from '../../src/clock';
import { createTenant } from '../../src/db/queries/tenants';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';

const clock = new ManualClock('2026-11-27T10:00:00Z');
let s: Services;
let app: FastifyInstance;
let operator: string;
let a: { id: string; token: string; tokenId: string };
let b: { id: string; token: string; tokenId: string };

const testApp = suiteTestApp({ clock, token: 'operator' });
beforeAll(async () => {
  ({ services: s, app } = testApp);
  operator = testApp.token;
  const mk = async (name: string) => {
    const t = await createTenant(s.db, name, 'csv');
    const issued = await issueApiToken(s.db, `${name} script`, t.id);
    return { id: t.id, token: issued.token, tokenId: issued.id };
  };
  a = await mk('Alpha');
  b = await mk('Beta');
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('API tokens', () => {
  it('a tenant lists only its own tokens; the operator lists all; no secret or hash is ever shown', async () => {
    const mine = await app.inject({ url: '/api/v1/tokens', headers: as(a.token) });
    expect(mine.statusCode).toBe(200);
    expect(mine.json().items.map((t: { id: string }) => t.id)).toEqual([a.tokenId]);
    const all = await app.inject({ url: '/api/v1/tokens', headers: as(operator) });
    expect(all.json().items).toHaveLength(3);
    for (const body of [mine.body, all.body]) {
      expect(body).not.toMatch(/duely_|tokenHash|token_hash/);
    }
  });

  it('a tenant cannot revoke another tenant’s token (404, still works); its own revocation takes effect at once', async () => {
    const cross = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${b.tokenId}`,
      headers: as(a.token),
    });
    expect(cross.statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v1/tenants', headers: as(b.token) })).statusCode).toBe(200);

    const own = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${b.tokenId}`,
      headers: as(b.token),
    });
    expect(own.statusCode).toBe(200);
    expect(own.json().revokedAt).toBe(clock.now().toISOString());
    expect((await app.inject({ url: '/api/v1/tenants', headers: as(b.token) })).statusCode).toBe(401);
    // The operator sees it revoked; a second revocation keeps the first time.
    clock.advance(60_000);
    const again = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${b.tokenId}`,
      headers: as(operator),
    });
    expect(again.json().revokedAt).toBe(own.json().revokedAt);
  });

  it('only an admin lists a company’s tokens: a viewer’s or collector’s session is refused (403), an admin’s is not', async () => {
    const auth = new SessionAuth(s.db, s.config.APP_SECRET);
    const sessionOf = async (role: 'viewer' | 'collector' | 'admin') => {
      const person = await createUser(s.db, {
        tenantId: a.id,
        email: `${role}@alpha.example`,
        role,
        status: 'active',
      });
      const { token } = await auth.createSession({
        tenantId: a.id,
        userId: person.id,
        method: 'email_link',
        now: clock.now(),
      });
      return { cookie: `duely_session=${token}` };
    };
    for (const role of ['viewer', 'collector'] as const) {
      const r = await app.inject({ url: '/api/v1/tokens', headers: await sessionOf(role) });
      expect(r.statusCode, role).toBe(403);
      expect(r.body).not.toContain(a.tokenId);
    }
    const admin = await app.inject({ url: '/api/v1/tokens', headers: await sessionOf('admin') });
    expect(admin.statusCode).toBe(200);
    expect(admin.json().items.map((t: { id: string }) => t.id)).toContain(a.tokenId);
  });

  it('a malformed token id is a 400, not a 500', async () => {
    const res = await app.inject({
      method: 'DELETE',
      url: '/api/v1/tokens/not-a-uuid',
      headers: as(operator),
    });
    expect(res.statusCode).toBe(400);
  });
});

describe('other tenants', () => {
  it('a tenant principal cannot tell which other companies use Duely: a taken slug or id answers as a free one', async () => {
    // Slugs are company names ("acme-plumbing"): 403 for a taken one and 404 for a free one told any customer of
    // Duely who else is.
    const free = ['no-such-company', '00000000-0000-4000-8000-000000000000'];
    const taken = ['beta', b.id];
    const answers = async (ref: string) => {
      const list = await app.inject({ url: `/api/v1/tenants/${ref}/customers`, headers: as(a.token) });
      const upload = await app.inject({
        method: 'POST',
        url: `/api/v1/tenants/${ref}/imports`,
        headers: { ...as(a.token), 'content-type': 'text/csv' },
        payload: 'customer_id,invoice_id,invoice_date,due_date,amount,currency,paid_date\n',
      });
      return [list.statusCode, list.json().error.message, upload.statusCode, upload.json().error.message];
    };
    const expected = await answers(free[0]!);
    expect(expected[0]).toBe(403);
    for (const ref of [...free, ...taken]) expect(await answers(ref)).toEqual(expected);
    // The operator still learns that a tenant does not exist.
    const op = await app.inject({ url: '/api/v1/tenants/no-such-company/customers', headers: as(operator) });
    expect(op.statusCode).toBe(404);
  });
});

describe('sessions', () => {
  it('end after SESSION_IDLE_MS without use, and stay alive while used', async () => {
    const auth = new SessionAuth(s.db, s.config.APP_SECRET);
    const { token } = await auth.createSession({ tenantId: a.id, method: 'login_link', now: clock.now() });
    const cookie = { cookie: `duely_session=${token}` };
    // Used every hour for five hours: alive (the absolute lifetime is 12 h).
    for (let i = 0; i < 5; i++) {
      clock.advance(3_600_000);
      expect((await app.inject({ url: '/api/v1/session', headers: cookie })).statusCode).toBe(200);
    }
    clock.advance(SESSION_IDLE_MS + 60_000);
    const idle = await app.inject({ url: '/api/v1/session', headers: cookie });
    expect(idle.statusCode).toBe(401);
  });
});
