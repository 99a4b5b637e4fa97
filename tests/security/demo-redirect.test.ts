/**
 * The demo company's consent page (/connect/quickbooks/demo/authorize) redirects only to Duely's own callback: any
 * other redirect_uri answers 400 with no code issued, like Intuit with an unregistered redirect URI. The sandbox
 * behind it refuses unregistered redirect URIs on its own too.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { createServices, type Services } from '../../src/services';
import { createTestDb } from '../helpers/db';

let s: Services;
let app: FastifyInstance;

beforeAll(async () => {
  const config = loadConfig({
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'duely-redirect-')),
    APP_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    LOG_LEVEL: 'silent',
  });
  s = await createServices(config, {
    dbh: await createTestDb(),
    clock: fixedClock('2026-11-27'),
    logger: createLogger('silent'),
    queue: false,
    demoCompany: { customers: 3, invoices: 10 },
  });
  app = await buildApp(s);
}, 120_000);
afterAll(async () => {
  await app?.close();
  await s?.close();
});

/** The authorize URL Duely itself builds, with `edit` applied to its query. */
async function authorizeUrl(edit: (q: URLSearchParams) => void = () => {}) {
  const start = await app.inject({ url: '/connect/quickbooks' });
  const url = new URL(String(start.headers.location));
  edit(url.searchParams);
  return `${url.pathname}?${url.searchParams.toString()}`;
}

describe('demo consent page', () => {
  it('redirects to the configured callback with a code', async () => {
    const r = await app.inject({ url: await authorizeUrl() });
    expect(r.statusCode).toBe(302);
    const back = new URL(String(r.headers.location));
    expect(`${back.origin}${back.pathname}`).toBe(`${s.config.PUBLIC_URL}/connect/quickbooks/callback`);
    expect(back.searchParams.get('code')).toBeTruthy();
  });

  it('refuses any other redirect_uri: 400, no redirect, no code', async () => {
    const callback = `${s.config.PUBLIC_URL}/connect/quickbooks/callback`;
    const hostile = [
      'https://evil.example/steal',
      `${callback}@evil.example`,
      `${callback}/../../elsewhere`,
      `${s.config.PUBLIC_URL}/`,
      `//evil.example${new URL(callback).pathname}`,
    ];
    for (const uri of hostile) {
      const r = await app.inject({ url: await authorizeUrl((q) => q.set('redirect_uri', uri)) });
      expect(r.statusCode, uri).toBe(400);
      expect(r.headers.location, uri).toBeUndefined();
      expect(r.body).not.toMatch(/sbx-code/);
    }
    // A second redirect_uri next to the right one is refused as well.
    const twice = await app.inject({
      url: await authorizeUrl((q) => q.append('redirect_uri', 'https://evil.example/')),
    });
    expect(twice.statusCode).toBe(400);
    const none = await app.inject({ url: await authorizeUrl((q) => q.delete('redirect_uri')) });
    expect(none.statusCode).toBe(400);
  });

  it('the sandbox itself refuses an unregistered redirect_uri', async () => {
    const q = new URL(`http://x${await authorizeUrl()}`).searchParams;
    q.set('redirect_uri', 'https://evil.example/steal');
    const r = await fetch(`${s.demoCompany!.sandbox.url}/connect/oauth2?${q}`, { redirect: 'manual' });
    expect(r.status).toBe(400);
    expect(r.headers.get('location')).toBeNull();
  });
});
