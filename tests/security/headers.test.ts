/**
 * Security headers on every HTML response, not only the settings app's: QuickBooks pages, the unsubscribe page,
 * error pages and a stored email opened as HTML (sandboxed). nosniff on every response; HSTS only when
 * PUBLIC_URL is https.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { messagesOf, setup } from '../dunning-engine/fixtures';
import { buildTestApp, suiteTestApp } from '../helpers/app';

let s: Services;
let app: FastifyInstance;
let tenantId: string;
let auth: { authorization: string };

const t = suiteTestApp(async () => {
  ({ s, tenantId } = await setup());
  return { services: s, token: 'operator' };
}, 120_000);
beforeAll(() => {
  ({ app, auth } = t);
});

function expectHtmlHeaders(r: { headers: Record<string, unknown> }, what: string) {
  expect(String(r.headers['content-type']), what).toMatch(/^text\/html/);
  expect(String(r.headers['content-security-policy']), what).toMatch(/default-src 'self'.*frame-ancestors/);
  expect(r.headers['x-content-type-options'], what).toBe('nosniff');
  expect(r.headers['referrer-policy'], what).toBe('same-origin');
}

describe('HTML responses', () => {
  it('QuickBooks pages, the unsubscribe page and the sign-in page carry CSP, nosniff and a referrer policy', async () => {
    const pages = {
      'QuickBooks callback error': await app.inject({ url: '/connect/quickbooks/callback' }),
      'QuickBooks launch in a frame': await app.inject({
        url: '/connect/quickbooks/launch',
        headers: { 'sec-fetch-dest': 'iframe' },
      }),
      'unsubscribe (invalid link)': await app.inject({ url: '/u/not-a-token' }),
      'unsubscribe POST (invalid link)': await app.inject({ method: 'POST', url: '/u/not-a-token' }),
      'sign-in': await app.inject({ url: '/login' }),
    };
    for (const [what, r] of Object.entries(pages)) expectHtmlHeaders(r, what);
  });

  it('a stored email opened as HTML runs sandboxed with no scripts', async () => {
    await planTenant(s, tenantId);
    const [m] = await messagesOf(s, tenantId);
    const r = await app.inject({
      url: `/api/v1/tenants/${tenantId}/dunning/messages/${m!.id}/rendered?format=html`,
      headers: auth,
    });
    expect(r.statusCode).toBe(200);
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/(^|; )sandbox($|;)/);
    expect(csp).not.toContain('script-src');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('JSON gets nosniff; HSTS only when PUBLIC_URL is https', async (ctx) => {
    const health = await app.inject({ url: '/health' });
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(health.headers['strict-transport-security']).toBeUndefined();
    const { app: secure } = await buildTestApp({
      test: ctx,
      env: { PUBLIC_URL: 'https://duely.example' },
      queue: false,
      token: false,
    });
    const r = await secure.inject({ url: '/login' });
    expect(r.headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);
    expect(
      (await secure.inject({ url: '/api/v1/session' })).headers['strict-transport-security'],
    ).toBeDefined();
  }, 120_000); // builds a second app on fresh services
});
