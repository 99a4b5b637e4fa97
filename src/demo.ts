/**
 * `duely demo`: the local QuickBooks sandbox in-process, Duely pointed at it, and a company connected through the
 * same OAuth flow a real one uses (driven server-side with a cookie jar). Also the pieces the end-to-end test uses.
 */
import path from 'node:path';
import { addDays } from '../connectors/dates';
import { formatMoney } from '../connectors/money';
import type { Sandbox } from '../sandboxes/quickbooks';
import { fixedClock, isoDay, parseClockDate } from './clock';
import { type Config, loadConfig } from './config';
import { connectionByExternalId } from './db/queries/connection-lookup';
import { newestRunExcept } from './db/queries/connections';
import { ledgerCounts } from './db/queries/ledger';
import { tenantById } from './db/queries/tenants';
import type { syncRuns } from './db/schema';
import { AppError } from './errors';
import { type RunningServer, startServer } from './server';
import { createServices, type Services } from './services';

type SyncRunRow = typeof syncRuns.$inferSelect;

/**
 * Walks GET /connect/quickbooks → the provider's authorize page (auto-approving in the sandbox) → our callback,
 * carrying the nonce cookie like a browser would. Resolves when the callback redirected to '/'.
 */
export async function connectQuickbooksViaOAuth(appUrl: string): Promise<void> {
  const jar = new Map<string, string>();
  const remember = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair?.indexOf('=') ?? -1;
      if (pair && i > 0) jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
  };
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const start = await fetch(`${appUrl}/connect/quickbooks`, { redirect: 'manual' });
  remember(start);
  const authorize = start.headers.get('location');
  if (start.status !== 302 || !authorize) {
    throw new AppError(
      'connect_failed',
      `GET /connect/quickbooks answered ${start.status}: ${await start.text()}`,
      502,
    );
  }
  const consent = await fetch(authorize, { redirect: 'manual' });
  const callback = consent.headers.get('location');
  if (consent.status !== 302 || !callback) {
    throw new AppError('connect_failed', `the authorize page answered ${consent.status}`, 502);
  }
  // Only our own app gets the cookie.
  const sameOrigin = new URL(callback).origin === new URL(appUrl).origin;
  const done = await fetch(callback, {
    redirect: 'manual',
    headers: sameOrigin ? { cookie: cookieHeader() } : {},
  });
  // The app answers with a redirect into itself: '/connections' for a new company (its first sync), '/' otherwise,
  // either naming the company (?company=<slug>).
  const landing = done.headers.get('location');
  if (done.status !== 302 || !landing || !['/', '/connections'].includes(new URL(landing, appUrl).pathname)) {
    throw new AppError(
      'connect_failed',
      `the OAuth callback answered ${done.status}: ${await done.text()}`,
      502,
    );
  }
}

/**
 * Polls the connection's sync runs until the newest one other than `exclude` (runs seen before) finishes, or the
 * timeout passes.
 */
export async function waitForSync(
  services: Services,
  connectionId: string,
  opts: {
    exclude?: string[];
    timeoutMs?: number;
    onProgress?: (run: SyncRunRow) => void;
    signal?: AbortSignal;
  } = {},
): Promise<SyncRunRow> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5 * 60_000);
  for (;;) {
    const run = await newestRunExcept(services.db, connectionId, opts.exclude);
    if (run) {
      opts.onProgress?.(run);
      if (run.status !== 'running') return run;
    }
    if (Date.now() > deadline) throw new AppError('timeout', 'the sync did not finish in time', 504);
    if (opts.signal?.aborted) throw new AppError('aborted', 'stopped waiting', 503);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface LedgerSummary {
  customers: number;
  invoices: number;
  openInvoices: number;
  /** Open balance per currency, in minor units. */
  openBalance: Record<string, number>;
}

export async function ledgerSummary(services: Services, tenantId: string): Promise<LedgerSummary> {
  const { counts, balances } = await ledgerCounts(services.db, tenantId);
  return {
    customers: counts?.customers ?? 0,
    invoices: counts?.invoices ?? 0,
    openInvoices: counts?.open ?? 0,
    openBalance: Object.fromEntries(balances.map((b) => [b.currency, Number(b.minor)])),
  };
}

/** Minor units in the currency's own precision (JPY has none: its minor unit is the yen). */
export const formatMinor = (minor: number, currency: string) => formatMoney(minor, currency);

export interface DemoOptions {
  env?: Record<string, string | undefined>;
  customers?: number;
  invoices?: number;
  seed?: number;
  /** Advance the sandbox clock by one day every this many seconds (new invoices, payments, webhooks). */
  advanceEverySeconds?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface RunningDemo {
  url: string;
  adminToken: string;
  sandbox: Sandbox;
  services: Services;
  server: RunningServer;
  tenantSlug: string;
  connectionId: string;
  summary: LedgerSummary;
  stop(): Promise<void>;
}

/** Starts sandbox + Duely, connects through OAuth, waits for the initial sync. */
export async function startDemo(opts: DemoOptions = {}): Promise<RunningDemo> {
  const log = opts.log ?? (() => {});
  const env = { ...(opts.env ?? process.env) };
  const base = loadConfig(env);
  // The demo keeps its own embedded database, fresh on every run, so it never touches the user's data.
  const dataDir = env.DATABASE_URL ? base.DATA_DIR : path.join(base.DATA_DIR, 'demo');
  if (!env.DATABASE_URL) {
    const { rmSync } = await import('node:fs');
    rmSync(path.join(dataDir, 'pglite'), { recursive: true, force: true });
  }
  const publicUrl = base.PUBLIC_URL;
  log(
    `Generating the sandbox company (${opts.customers ?? 150} customers, ${opts.invoices ?? 5000} invoices)…`,
  );
  let services: Services | null = null;
  let server: RunningServer | null = null;
  let timer: NodeJS.Timeout | null = null;
  const stop = async () => {
    if (timer) clearInterval(timer);
    await server?.stop();
    if (!server) await services?.close();
  };
  try {
    // The demo company of `duely serve` (src/demo-company.ts), always on here, whatever credentials are set.
    const config: Config = loadConfig({
      ...env,
      DATA_DIR: dataDir,
      DUELY_NOW: undefined,
      PUBLIC_URL: publicUrl,
      DUELY_ROLE: 'all',
      QUICKBOOKS_DEMO: 'on',
    });
    // One clock for both sides: the sandbox's, so "days pass" for Duely exactly when they pass in QuickBooks.
    // The sandbox's history ends at DUELY_NOW (noon UTC) when set; its clock then moves only when days are advanced.
    services = await createServices(config, {
      clock: base.DUELY_NOW ? fixedClock(new Date(`${base.DUELY_NOW}T12:00:00Z`)) : undefined,
      schedule: true,
      demoCompany: {
        customers: opts.customers,
        invoices: opts.invoices,
        seed: opts.seed,
        useSandboxClock: true,
      },
    });
    const sandbox = services.demoCompany?.sandbox;
    if (!sandbox) throw new AppError('demo_failed', 'the demo company did not start', 500);
    server = await startServer(services, 'all');
    const url = server.url ?? publicUrl;
    const adminToken = server.firstToken ?? (await services.auth.issueApiToken('demo')).token;
    log(`Connecting QuickBooks through ${url}/connect/quickbooks (OAuth with the sandbox)…`);
    await connectQuickbooksViaOAuth(url);
    const conn = await connectionByExternalId(services.db, 'quickbooks', sandbox.realmId);
    if (!conn) throw new AppError('connect_failed', 'the connection was not stored', 500);
    let last = '';
    const run = await waitForSync(services, conn.id, {
      onProgress: (r) => {
        const line = Object.entries(r.progress.entities)
          .map(([k, e]) => `${k} ${e.rows}${e.done ? ' ✓' : ''}`)
          .join(', ');
        if (line !== last) log(`  initial sync: ${line}`);
        last = line;
      },
    });
    if (run.status !== 'succeeded') {
      throw new AppError('sync_failed', `the initial sync failed: ${run.error ?? 'unknown error'}`, 502);
    }
    const tenant = await tenantById(services.db, conn.tenantId);
    const summary = await ledgerSummary(services, conn.tenantId);
    if (opts.advanceEverySeconds && opts.advanceEverySeconds > 0) {
      let busy = false;
      timer = setInterval(() => {
        if (busy) return;
        busy = true;
        sandbox
          .advance(1)
          .then((r) =>
            log(
              `Sandbox advanced to ${sandbox.now().toISOString().slice(0, 10)}: ${r.changes.length} changes` +
                (r.webhook ? `, webhook ${r.webhook.status ?? r.webhook.error}` : ''),
            ),
          )
          .catch((err: Error) => log(`sandbox advance failed: ${err.message}`))
          .finally(() => {
            busy = false;
          });
      }, opts.advanceEverySeconds * 1000);
      timer.unref();
    }
    return {
      url,
      adminToken,
      sandbox,
      services,
      server,
      tenantSlug: tenant?.slug ?? '',
      connectionId: conn.id,
      summary,
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** A demo of another registered provider's stand-in (`npm run demo -- --provider netsuite`). */
export interface ProviderDemo {
  url: string;
  adminToken: string;
  provider: string;
  providerName: string;
  externalId: string;
  sandboxUrl: string;
  sandboxClock: () => string;
  services: Services;
  tenantSlug: string;
  connectionId: string;
  summary: LedgerSummary;
  /** How changes reach Duely in this demo. */
  changesNote: string;
  stop(): Promise<void>;
}

/**
 * The NetSuite stand-in (sandboxes/netsuite) in-process, Duely pointed at it, and its account connected the way an
 * admin does it: Token-Based Authentication through the credential connect (connect-flow), then the first sync.
 * Days pass in the stand-in every `advanceEverySeconds`; the poll cron (NETSUITE_POLL_MINUTES=1 here) picks them up.
 */
async function startNetsuiteDemo(opts: DemoOptions): Promise<ProviderDemo> {
  const log = opts.log ?? (() => {});
  const { startNetsuiteSandbox } = await import('../sandboxes/netsuite/run');
  const { syncConnectionJob } = await import('./jobs/sync-jobs');
  const env = { ...(opts.env ?? process.env) };
  const base = loadConfig(env);
  const dataDir = env.DATABASE_URL ? base.DATA_DIR : path.join(base.DATA_DIR, 'demo-netsuite');
  if (!env.DATABASE_URL) {
    const { rmSync } = await import('node:fs');
    rmSync(path.join(dataDir, 'pglite'), { recursive: true, force: true });
  }
  log(`Generating the NetSuite stand-in account (${opts.customers ?? 24} customers, 4 subsidiaries)…`);
  const ns = await startNetsuiteSandbox({
    // With --now / DUELY_NOW the account's 20 days of history end that day (Duely runs on the account clock).
    start: base.DUELY_NOW ? `${addDays(isoDay(parseClockDate(base.DUELY_NOW)), -20)} 08:00:00` : undefined,
    seed: opts.seed,
    customers: opts.customers,
    dayEverySeconds: opts.advanceEverySeconds,
  });
  let services: Services | null = null;
  let server: RunningServer | null = null;
  const stop = async () => {
    await server?.stop();
    if (!server) await services?.close();
    await ns.stop();
  };
  try {
    const config = loadConfig({
      ...env,
      ...ns.env,
      NETSUITE_POLL_MINUTES: env.NETSUITE_POLL_MINUTES ?? '1',
      DATA_DIR: dataDir,
      DUELY_ROLE: 'all',
      QUICKBOOKS_DEMO: 'off',
    });
    // One clock for both sides, as in the QuickBooks demo: the account's (its wall time, read as UTC like every
    // NetSuite time Duely stores). On the machine's clock the stand-in's April invoices were months overdue, every
    // first reminder a catch-up, and days passing in NetSuite never passed for Duely.
    const company = ns.sandbox.company;
    services = await createServices(config, {
      schedule: true,
      clock: { now: () => company.now },
    });
    server = await startServer(services, 'all');
    const url = server.url ?? config.PUBLIC_URL;
    const adminToken = server.firstToken ?? (await services.auth.issueApiToken('demo')).token;
    log(`Connecting NetSuite account ${ns.sandbox.accountId} with Token-Based Authentication…`);
    const s = services;
    const outcome = await s.sync.connect.withCredentials(
      (connectionId, reason, tx) =>
        s.queue.send(syncConnectionJob, { connectionId, reason }, tx ? { tx } : undefined),
      {
        provider: 'netsuite',
        fields: {
          accountId: ns.sandbox.accountId,
          type: 'tba',
          tokenId: 'sandbox-token-id',
          tokenSecret: 'sandbox-token-secret',
        },
        tenantId: null,
      },
    );
    if (!outcome.ok) throw new AppError('connect_failed', `NetSuite refused: ${outcome.message}`, 502);
    let last = '';
    const run = await waitForSync(services, outcome.connectionId, {
      onProgress: (r) => {
        const line = Object.entries(r.progress.entities)
          .map(([k, e]) => `${k} ${e.rows}${e.done ? ' ✓' : ''}`)
          .join(', ');
        if (line !== last) log(`  initial sync: ${line}`);
        last = line;
      },
    });
    if (run.status !== 'succeeded') {
      throw new AppError('sync_failed', `the initial sync failed: ${run.error ?? 'unknown error'}`, 502);
    }
    return {
      url,
      adminToken,
      provider: 'netsuite',
      providerName: 'NetSuite',
      externalId: outcome.externalId,
      sandboxUrl: ns.sandbox.url,
      sandboxClock: () => ns.sandbox.company.clock,
      services,
      tenantSlug: outcome.tenantSlug,
      connectionId: outcome.connectionId,
      summary: await ledgerSummary(services, outcome.tenantId),
      changesNote: opts.advanceEverySeconds
        ? `A NetSuite business day passes every ${opts.advanceEverySeconds} s; Duely polls every ${config.NETSUITE_POLL_MINUTES} min.`
        : `Add --advance-every SECONDS to let days pass in NetSuite (Duely polls every ${config.NETSUITE_POLL_MINUTES} min).`,
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** Demos of providers other than the built-in demo company's, by provider. */
export const providerDemos: Record<string, (opts: DemoOptions) => Promise<ProviderDemo>> = {
  netsuite: startNetsuiteDemo,
};
