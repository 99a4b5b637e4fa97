/**
 * QuickBooks sync throughput: a full sync of an n-invoice sandbox company into a fresh database through run-sync
 * (tokens, client, pages, set-based writes, cursor + progress per page). Sandbox generation is excluded. The sandbox
 * serves from a child process (bench/sandbox-process.ts): real QuickBooks is a remote server, so rendering its JSON
 * is not our CPU; everything on our side (HTTP, JSON parsing, mapping, writes, cursor and progress) stays in the
 * timed process. QuickBooks itself allows 500 requests/min per realm at up to 1,000 rows each: ~8,300 entities/s is
 * the ceiling a real realm could feed us.
 * `tsx bench/quickbooks-sync.ts pglite|postgres [n]` prints one JSON line.
 */
import { randomBytes } from 'node:crypto';

import path from 'node:path';
import { connectors } from '../connectors';
import { Vault } from '../src/auth/vault';
import { loadConfig } from '../src/config';
import { ensureTenant } from '../src/db/queries/tenants';
import { connections } from '../src/db/schema';
import { createLogger } from '../src/logger';
import { createServices } from '../src/services';
import { toStoredTokens } from '../src/sync/connection-tokens';
import { runSync } from '../src/sync/run-sync';
import { backendCpu, createBenchDb } from './bench-db';
import { PgliteProxy } from './pglite-worker';
import { startProfile } from './proc';
import { startSandboxProcess } from './sandbox-process';

const seconds = (u: NodeJS.CpuUsage) => Math.round(((u.user + u.system) / 1e6) * 100) / 100;

export const QBO_REALM_CEILING_ENTITIES_PER_S = Math.round((500 * 1000) / 60);

export async function benchQuickbooksSync(
  kind: 'pglite' | 'postgres',
  n = 20_000,
): Promise<Record<string, number | string>> {
  const clientId = 'bench-client';
  const clientSecret = 'bench-secret';
  const sandbox = await startSandboxProcess({
    seed: 7,
    now: new Date('2026-11-27T18:00:00.000Z'),
    customers: Math.max(50, Math.round(n / 33)),
    invoices: n,
    verifierToken: 'bench-verifier',
    clientId,
    clientSecret,
  });
  const { handle, dataDir, dispose: dropDb } = await createBenchDb(kind);
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    APP_SECRET: randomBytes(32).toString('base64url'),
    QUICKBOOKS_CLIENT_ID: clientId,
    QUICKBOOKS_CLIENT_SECRET: clientSecret,
    ...sandbox.config,
  });
  const services = await createServices(config, {
    dbh: handle,
    queue: false,
    clock: { now: () => sandbox.now },
    logger: createLogger('silent'),
  });
  try {
    // Connect the way the callback does (code exchange → sealed tokens), outside the timing.
    const qb = connectors.quickbooks;
    const redirectUri = 'http://127.0.0.1:9/callback';
    const consent = await fetch(
      qb.oauth.buildAuthorizeUrl({
        authorizeUrl: sandbox.config.QUICKBOOKS_AUTHORIZE_URL,
        clientId,
        redirectUri,
        state: 's',
      }),
      { redirect: 'manual' },
    );
    const cb = qb.oauth.parseCallback(
      Object.fromEntries(new URL(consent.headers.get('location') ?? '').searchParams),
    );
    if (!cb.ok) throw new Error('sandbox authorize failed');
    const tokens = toStoredTokens(
      await qb.oauth.exchangeCode({
        tokenUrl: sandbox.config.QUICKBOOKS_TOKEN_URL,
        clientId,
        clientSecret,
        code: cb.code,
        redirectUri,
      }),
      sandbox.now,
    );
    const tenant = await ensureTenant(services.db, 'bench', 'quickbooks');
    const [conn] = await services.db
      .insert(connections)
      .values({
        tenantId: tenant.id,
        provider: 'quickbooks',
        externalId: sandbox.realmId,
        credentials: new Vault(config.APP_SECRET).seal(tokens),
        accessExpiresAt: new Date(tokens.accessExpiresAt),
      })
      .returning({ id: connections.id });

    const profile = await startProfile();
    const backends0 = kind === 'postgres' ? await backendCpu(services.db) : null;
    const proxy = handle.pglite instanceof PgliteProxy ? handle.pglite : null;
    const dbThread0 = await proxy?.threadCpuUsage();
    const mainThread0 = process.threadCpuUsage();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const first = await runSync(services, { connectionId: conn!.id, reason: 'bench' });
    const firstS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const mainThread = process.threadCpuUsage(mainThread0);
    const dbThread1 = await proxy?.threadCpuUsage();
    const backends = backends0 ? await backendCpu(services.db, backends0) : null;
    await profile?.stop();
    if (first.status !== 'succeeded') throw new Error(`sync ${first.status}: ${first.error}`);
    const t1 = performance.now();
    const again = await runSync(services, { connectionId: conn!.id, reason: 'bench', full: true });
    const againS = (performance.now() - t1) / 1000;
    const { customers, invoices, payments, creditMemos } = sandbox.counts;
    const entities = customers + invoices + payments + creditMemos;
    const perS = entities / firstS;
    return {
      bench: `quickbooks-sync ${kind}`,
      invoices: n,
      entities,
      pages: first.stats.pages ?? 0,
      'full sync s': Math.round(firstS * 100) / 100,
      'invoices/s': Math.round(n / firstS),
      'entities/s': Math.round(perS),
      'QBO realm ceiling entities/s': QBO_REALM_CEILING_ENTITIES_PER_S,
      'vs ceiling': `${(perS / QBO_REALM_CEILING_ENTITIES_PER_S).toFixed(2)}x`,
      // CPU seconds of the timed sync: steadier than wall time on a loaded machine. Node includes PGlite's engine.
      'sync CPU s (node)': Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
      // With PGlite on its own thread, each thread's share: the busier one bounds the sync's wall time.
      'sync CPU s (main thread)': seconds(mainThread),
      ...(dbThread0 && dbThread1
        ? {
            'sync CPU s (database thread)': seconds({
              user: dbThread1.user - dbThread0.user,
              system: dbThread1.system - dbThread0.system,
            }),
          }
        : {}),
      ...(backends ? { 'sync CPU s (postgres backends)': Math.round(backends.total * 100) / 100 } : {}),
      'unchanged re-sync entities/s': Math.round(entities / againS),
      'unchanged re-sync changed invoices': again.changedInvoices,
      'peak RSS MiB': Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await services.close();
    await sandbox.stop();
    await dropDb();
  }
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  const kind = (process.argv[2] ?? 'pglite') as 'pglite' | 'postgres';
  const n = Number(process.argv[3] ?? 20_000);
  benchQuickbooksSync(kind, n).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
