/**
 * Rate limits (@fastify/rate-limit) for sign-in, failed credentials and webhooks, per client address, with small
 * limits so the tests reach them. The limits follow the matched route, so an encoded path shares the budget.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { suiteTestApp } from '../helpers/app';

let app: FastifyInstance;
let token: string;

const testApp = suiteTestApp({
  env: {
    RATE_LIMIT_SIGN_IN: '3',
    RATE_LIMIT_AUTH_FAILURES: '3',
    RATE_LIMIT_WEBHOOKS: '2',
    RESEND_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  },
  token: 'operator',
});
beforeAll(async () => {
  app = testApp.app;
  token = testApp.token;
}, 120_000);

const from = (remoteAddress: string) => ({ remoteAddress });

describe('rate limits', () => {
  it('sign-in: the fourth request a minute from one address gets 429, encoded paths included', async () => {
    const a = from('198.51.100.1');
    for (let i = 0; i < 3; i++) expect((await app.inject({ url: '/login', ...a })).statusCode).toBe(200);
    const over = await app.inject({ url: '/%6Cogin', ...a });
    expect(over.statusCode).toBe(429);
    expect(over.json().error.code).toBe('rate_limited');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect((await app.inject({ method: 'POST', url: '/login', ...a })).statusCode).toBe(429);
    // Another address, and other routes, are not affected.
    expect((await app.inject({ url: '/login', ...from('198.51.100.2') })).statusCode).toBe(200);
    expect((await app.inject({ url: '/health', ...a })).statusCode).toBe(200);
  });

  it('failed credentials: after 3 rejected tokens an address gets 429 for credentialed requests, even valid ones', async () => {
    const a = from('198.51.100.3');
    const bad = { authorization: 'Bearer duely_guess' };
    for (let i = 0; i < 3; i++)
      expect((await app.inject({ url: '/api/v1/tenants', headers: bad, ...a })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v1/tenants', headers: bad, ...a })).statusCode).toBe(429);
    const valid = { authorization: `Bearer ${token}` };
    expect((await app.inject({ url: '/api/v1/tenants', headers: valid, ...a })).statusCode).toBe(429);
    // Bad session cookies count the same way, and are held the same way.
    const cookie = { cookie: 'duely_session=dll_guess.guess' };
    expect((await app.inject({ url: '/api/v1/session', headers: cookie, ...a })).statusCode).toBe(429);
    // The same valid token from another address works; successes never count.
    const b = from('198.51.100.4');
    for (let i = 0; i < 5; i++)
      expect((await app.inject({ url: '/api/v1/tenants', headers: valid, ...b })).statusCode).toBe(200);
    // A held address still reaches public pages without credentials.
    expect((await app.inject({ url: '/health', ...a })).statusCode).toBe(200);
  });

  it('a session that ended (signed out, expired, its person disabled) is not a guess: a tab still polling with it does not hold its address', async () => {
    const a = from('198.51.100.6');
    const s = testApp.services;
    const { token: ended, session } = await new SessionAuth(s.db, s.config.APP_SECRET).createSession({
      tenantId: null,
      method: 'login_link',
      now: s.clock.now(),
    });
    await s.auth.sessions.revokeSession(session.id, s.clock.now());
    // The Connections page polls every second while a sync runs: a minute of it after the session ended.
    const cookie = { cookie: `${SESSION_COOKIE}=${ended}` };
    for (let i = 0; i < 10; i++)
      expect((await app.inject({ url: '/api/v1/tenants', headers: cookie, ...a })).statusCode).toBe(401);
    // The colleague behind the same address (an office NAT) still works; so does signing in again.
    const valid = { authorization: `Bearer ${token}` };
    expect((await app.inject({ url: '/api/v1/tenants', headers: valid, ...a })).statusCode).toBe(200);
    // Unknown cookies are still guesses and are held as before.
    for (let i = 0; i < 3; i++) {
      const guess = { cookie: `${SESSION_COOKIE}=dss_guess${i}` };
      expect((await app.inject({ url: '/api/v1/session', headers: guess, ...a })).statusCode).toBe(401);
    }
    expect((await app.inject({ url: '/api/v1/tenants', headers: valid, ...a })).statusCode).toBe(429);
  });

  it('webhooks: the third delivery a minute from one address gets 429', async () => {
    const a = from('198.51.100.5');
    const post = () =>
      app.inject({
        method: 'POST',
        url: '/webhooks/resend',
        payload: '{}',
        headers: { 'content-type': 'application/json' },
        ...a,
      });
    expect((await post()).statusCode).toBe(401);
    expect((await post()).statusCode).toBe(401);
    expect((await post()).statusCode).toBe(429);
  });
});
