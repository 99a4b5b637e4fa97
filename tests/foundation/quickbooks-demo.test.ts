/**
 * QUICKBOOKS_DEMO: which QuickBooks a configuration asks for (pure), whether createServices runs the demo company,
 * and what GET /api/v1/integrations tells the settings app (operators without a tenant included).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inArray } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { connectors } from '../../connectors';
import { fixedClock } from '../../src/clock';
import { type Config, loadConfig } from '../../src/config';
import type { DbHandle } from '../../src/db/client';
import { ensureTenant } from '../../src/db/queries/tenants';
import { connections } from '../../src/db/schema';
import { quickbooksSetup } from '../../src/demo-company';
import { createLogger } from '../../src/logger';
import { createServices, type Services } from '../../src/services';
import { buildTestApp } from '../helpers/app';
import { createTestDb } from '../helpers/db';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'duely-qbdemo-'));
const config = (env: Record<string, string> = {}): Config =>
  loadConfig({
    DATA_DIR: tmp(),
    APP_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    LOG_LEVEL: 'silent',
    ...env,
  });
const CREDS = { QUICKBOOKS_CLIENT_ID: 'real-id', QUICKBOOKS_CLIENT_SECRET: 'real-secret' };

describe('quickbooksSetup (QUICKBOOKS_DEMO)', () => {
  it('defaults to auto: the demo company without credentials, the real app with them', () => {
    expect(config().QUICKBOOKS_DEMO).toBe('auto');
    expect(quickbooksSetup(config())).toEqual({ mode: 'demo', note: null });
    expect(quickbooksSetup(config(CREDS))).toEqual({ mode: 'live', note: null });
  });

  it('off disables the demo company; on uses it even with credentials (and says they are ignored)', () => {
    const off = quickbooksSetup(config({ QUICKBOOKS_DEMO: 'off' }));
    expect(off.mode).toBe('unconfigured');
    expect(off.note).toMatch(/QUICKBOOKS_CLIENT_ID/);
    expect(quickbooksSetup(config({ QUICKBOOKS_DEMO: 'off', ...CREDS })).mode).toBe('live');
    const on = quickbooksSetup(config({ QUICKBOOKS_DEMO: 'on', ...CREDS }));
    expect(on.mode).toBe('demo');
    expect(on.note).toMatch(/ignored/);
    expect(() => config({ QUICKBOOKS_DEMO: 'maybe' })).toThrow(/QUICKBOOKS_DEMO/);
  });

  it('auto runs the demo company only on a local address: on a public one every visitor would sign in as its admin', () => {
    // Anyone who opens /connect/quickbooks or /login/intuit signs in as the sandbox's one user, the demo tenant's
    // admin (who can invite any address and send reminders through MAIL_FROM): not on a server the internet reaches.
    for (const url of ['https://duely.example.com', 'http://10.0.0.5:3000', 'http://0.0.0.0.example:3000']) {
      const s = quickbooksSetup(config({ PUBLIC_URL: url }));
      expect(s.mode).toBe('unconfigured');
      expect(s.note).toMatch(/QUICKBOOKS_CLIENT_ID/);
      expect(s.note).toMatch(/QUICKBOOKS_DEMO=on/);
    }
    for (const url of ['http://localhost:3000', 'http://127.0.0.1:3190', 'http://[::1]:3000']) {
      expect(quickbooksSetup(config({ PUBLIC_URL: url }))).toEqual({ mode: 'demo', note: null });
    }
    // HOST=0.0.0.0 (a container) keeps the local default PUBLIC_URL, http://localhost:PORT.
    expect(quickbooksSetup(config({ HOST: '0.0.0.0' })).mode).toBe('demo');
    // on: the operator's explicit choice, with the warning.
    const on = quickbooksSetup(config({ QUICKBOOKS_DEMO: 'on', PUBLIC_URL: 'https://duely.example.com' }));
    expect(on.mode).toBe('demo');
    expect(on.note).toMatch(/admin/);
  });

  it('needs the single-process role: split web/worker processes get no demo company, with the reason', () => {
    for (const role of ['web', 'worker']) {
      const s = quickbooksSetup(config({ DUELY_ROLE: role }));
      expect(s.mode).toBe('unconfigured');
      expect(s.note).toMatch(/single-process/);
    }
    expect(quickbooksSetup(config({ DUELY_ROLE: 'web', ...CREDS })).mode).toBe('live');
  });

  it('an id without a secret is not a live app', () => {
    const s = quickbooksSetup(config({ QUICKBOOKS_CLIENT_ID: 'id-only' }));
    expect(s).toMatchObject({ mode: 'unconfigured' });
    expect(s.note).toMatch(/QUICKBOOKS_CLIENT_SECRET/);
  });
});

describe('the demo company in createServices and GET /api/v1/integrations', () => {
  // One database for all (a PGlite boots in seconds); each Services stops only its own sandbox.
  let dbh: DbHandle | null = null;
  const started: Services[] = [];
  const services = async (env: Record<string, string>, demo: boolean) => {
    dbh ??= await createTestDb();
    const s = await createServices(config(env), {
      dbh,
      clock: fixedClock('2026-11-27'),
      logger: createLogger('silent'),
      queue: false,
      ...(demo ? { demoCompany: { customers: 5, invoices: 20 } } : {}),
    });
    started.push(s);
    return s;
  };
  const integrations = async (s: Services) => {
    // An operator token: no tenant, like a brand-new user's session. The suite closes the services itself.
    const { app, auth, close } = await buildTestApp({ services: s, keepServices: true, token: 'operator' });
    try {
      const res = await app.inject({ method: 'GET', url: '/api/v1/integrations', headers: auth });
      expect(res.statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/api/v1/integrations' })).statusCode).toBe(401);
      return res.json().quickbooks;
    } finally {
      await close();
    }
  };
  afterAll(async () => {
    for (const s of started) await s.demoCompany?.stop();
    await dbh?.close();
  });

  it('without credentials, `duely serve` runs the sandbox and points the connector at it', async () => {
    const s = await services({}, true);
    const demo = s.demoCompany;
    expect(demo).not.toBeNull();
    expect(s.config.QUICKBOOKS_DEMO).toBe('on');
    expect(s.config.QUICKBOOKS_CLIENT_ID).toMatch(/^demo-/);
    const endpoints = connectors.quickbooks.oauth.endpoints(s.config);
    // The browser's consent page is Duely's own (the sandbox's loopback port may be out of a remote browser's reach).
    expect(endpoints.authorizeUrl).toBe(`${s.config.PUBLIC_URL}/connect/quickbooks/demo/authorize`);
    expect(endpoints.tokenUrl.startsWith(demo!.sandbox.url)).toBe(true);
    expect(endpoints.apiBaseUrl).toBe(demo!.sandbox.url);
    expect(demo!.sandbox.company.customers.size).toBe(5);
    expect(await integrations(s)).toMatchObject({
      mode: 'demo',
      connectUrl: '/connect/quickbooks',
      demo: { realmId: demo!.sandbox.realmId, customers: 5, invoices: 20 },
      note: null,
    });
    // The sandbox answers on its URL until the services close.
    expect((await fetch(`${demo!.sandbox.url}/nope`)).status).toBe(404);
  });

  it("the demo's consent page is served by Duely and answers with the redirect to the callback", async (ctx) => {
    const s = await services({}, true);
    const { app } = await buildTestApp({ test: ctx, services: s, keepServices: true, token: false });
    const start = await app.inject({ url: '/connect/quickbooks' });
    const authorize = new URL(String(start.headers.location));
    expect(authorize.origin + authorize.pathname).toBe(
      `${s.config.PUBLIC_URL}/connect/quickbooks/demo/authorize`,
    );
    const consent = await app.inject({ url: authorize.pathname + authorize.search });
    expect(consent.statusCode).toBe(302);
    const back = new URL(String(consent.headers.location));
    expect(back.origin + back.pathname).toBe(`${s.config.PUBLIC_URL}/connect/quickbooks/callback`);
    expect(back.searchParams.get('realmId')).toBe(s.demoCompany!.sandbox.realmId);
    expect(back.searchParams.get('state')).toBe(authorize.searchParams.get('state'));
    expect(back.searchParams.get('code')).toMatch(/^sbx-code-/);
    // A server without the demo company has no such page.
    const live = await services(CREDS, true);
    const { app: liveApp } = await buildTestApp({
      test: ctx,
      services: live,
      keepServices: true,
      token: false,
    });
    expect((await liveApp.inject({ url: '/connect/quickbooks/demo/authorize?client_id=x' })).statusCode).toBe(
      404,
    );
  });

  it('with credentials: live, no sandbox', async () => {
    const s = await services(CREDS, true);
    expect(s.demoCompany).toBeNull();
    expect(s.config.QUICKBOOKS_CLIENT_ID).toBe('real-id');
    expect(await integrations(s)).toMatchObject({
      mode: 'live',
      connectUrl: '/connect/quickbooks',
      demo: null,
    });
  });

  it('QUICKBOOKS_DEMO=off, a web-only process, or a command that does not run it: unconfigured, with the reason', async () => {
    const off = await services({ QUICKBOOKS_DEMO: 'off' }, true);
    expect(off.demoCompany).toBeNull();
    expect(await integrations(off)).toMatchObject({ mode: 'unconfigured', connectUrl: null });
    const web = await services({ DUELY_ROLE: 'web' }, true);
    expect(web.demoCompany).toBeNull();
    expect((await integrations(web)).note).toMatch(/single-process/);
    const oneShot = await services({}, false);
    expect(oneShot.demoCompany).toBeNull();
    expect(await integrations(oneShot)).toMatchObject({ mode: 'unconfigured', demo: null });
  });

  it('after a restart the demo connection asks to reconnect at once, not "Active" until a sync fails', async () => {
    const first = await services({}, true);
    const realm = first.demoCompany!.sandbox.realmId;
    const tenant = await ensureTenant(first.db, 'Demo restart Co', 'quickbooks');
    const other = await ensureTenant(first.db, 'Real Co', 'quickbooks');
    await first.db.insert(connections).values([
      { tenantId: tenant.id, provider: 'quickbooks', externalId: realm, status: 'active' },
      { tenantId: other.id, provider: 'quickbooks', externalId: 'not-the-demo', status: 'active' },
    ]);
    // A restart: the same generated company comes back under the same realm id, in a sandbox that never issued its
    // tokens (the first one keeps running here; the suite stops it).
    const again = await services({}, true);
    expect(again.demoCompany!.sandbox.realmId).toBe(realm);
    const rows = await again.db
      .select()
      .from(connections)
      .where(inArray(connections.tenantId, [tenant.id, other.id]));
    expect(rows.find((r) => r.externalId === realm)).toMatchObject({
      status: 'reconnect_needed',
      statusReason: 'the demo company started afresh with the server',
    });
    expect(rows.find((r) => r.externalId === 'not-the-demo')).toMatchObject({
      status: 'active',
      statusReason: null,
    });
  });

  it('close() stops the sandbox', async () => {
    const s = await createServices(config(), {
      dbh: await createTestDb(),
      clock: fixedClock('2026-11-27'),
      logger: createLogger('silent'),
      queue: false,
      demoCompany: { customers: 5, invoices: 20 },
    });
    const url = s.demoCompany!.sandbox.url;
    await s.close();
    await expect(fetch(`${url}/nope`)).rejects.toThrow();
  });
});
