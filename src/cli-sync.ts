/**
 * `duely sync --tenant NAME [--full]`: a connection's sync in the foreground with a progress bar on stderr (plain
 * lines when stderr is not a TTY). `duely demo`: the local sandbox company (src/demo.ts), connected through OAuth, kept running.
 */
import { parseArgs } from 'node:util';
import { registeredConnectors } from '../connectors';
import { ConnectorError } from '../connectors/errors';
import { parseClockDate } from './clock';
import { loadConfig } from './config';
import { connectionsOfTenant } from './db/queries/connections';
import { findTenant } from './db/queries/tenants';
import { formatMinor, type LedgerSummary, type ProviderDemo, providerDemos, startDemo } from './demo';
import { DEMO_PROVIDER } from './demo-company';
import { AppError } from './errors';
import { scoreAfterSync } from './jobs/sync-jobs';
import { createServices } from './services';
import { SYNC_KINDS, type SyncProgressEvent } from './sync/run-sync';

/** Where a company of each registered provider is connected (from the connector registry). */
const connectUrls = (publicUrl: string) =>
  registeredConnectors
    .filter((c) => c.connect?.methods.includes('oauth'))
    .map((c) => `${publicUrl}/connect/${c.provider}`)
    .join(' or ');

export class CliUsageError extends Error {}

function flags<O extends Record<string, { type: 'string' | 'boolean' }>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { now: { type: 'string' as const }, ...options }, strict: true })
      .values;
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
}

function env(now: string | boolean | undefined): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = { ...process.env };
  if (typeof now === 'string') {
    parseClockDate(now);
    e.DUELY_NOW = now;
  }
  return e;
}

const LABEL: Record<string, string> = {
  customers: 'customers',
  invoices: 'invoices',
  creditMemos: 'credit memos',
  payments: 'payments',
};

/** One status line: rows (pages) per entity, ✓ when done. */
export function progressLine(p: SyncProgressEvent): string {
  const parts = SYNC_KINDS.map((k) => {
    const e = p.progress.entities[k] ?? { pages: 0, rows: 0, done: false };
    return `${LABEL[k]} ${e.rows.toLocaleString('en-US')}${e.done ? ' ✓' : ` (${e.pages}p)`}`;
  });
  return `sync ${p.kind}: ${parts.join(' · ')}`;
}

/**
 * What `duely sync` prints for an error of the run: one line in the user's terms for provider and interruption
 * errors (retryable ones say the progress is kept), null for anything else (a bug: the stack is worth having).
 */
export function syncFailure(err: unknown, tenantSlug: string, run: { full?: boolean } = {}): AppError | null {
  // `--full` again would start the full sync over: what continues it is the command without it.
  const again = run.full
    ? `run \`duely sync --tenant ${tenantSlug}\` (without --full)`
    : 'run the command again';
  if (err instanceof ConnectorError) {
    const detail = [
      err.code,
      err.status ? `HTTP ${err.status}` : null,
      err.providerCode ? `code ${err.providerCode}` : null,
    ]
      .filter(Boolean)
      .join(', ');
    const next = err.retryable ? ` The pages synced so far are saved; ${again} later to continue.` : '';
    return new AppError(
      'sync_failed',
      `Sync of ${tenantSlug} stopped: ${err.userMessage} (${detail}).${next}`,
      502,
      {
        cause: err,
      },
    );
  }
  if (err instanceof AppError && err.code === 'aborted') {
    return new AppError(
      'sync_interrupted',
      `Sync of ${tenantSlug} interrupted; ${again} to continue where it stopped.`,
      503,
    );
  }
  return null;
}

export async function syncCommand(args: string[]): Promise<void> {
  const v = flags(args, { tenant: { type: 'string' }, full: { type: 'boolean' } });
  if (!v.tenant) throw new CliUsageError('sync needs --tenant NAME');
  const services = await createServices(loadConfig(env(v.now)));
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const tenant = await findTenant(services.db, v.tenant);
    if (!tenant) throw new AppError('not_found', `tenant ${v.tenant} not found`, 404);
    const rows = await connectionsOfTenant(services.db, tenant.id);
    const conn = rows.find((c) => c.status === 'active') ?? rows[0];
    if (!conn) {
      throw new AppError(
        'not_found',
        `tenant ${tenant.slug} has no ledger connection; connect one at ${connectUrls(services.config.PUBLIC_URL)}`,
        404,
      );
    }
    const tty = process.stderr.isTTY === true;
    const spin = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let frame = 0;
    const started = Date.now();
    const result = await services.sync
      .run({
        connectionId: conn.id,
        reason: 'cli',
        full: v.full === true,
        signal: controller.signal,
        onSynced: scoreAfterSync(services),
        onProgress: (p) => {
          const line = `${progressLine(p)} · ${((Date.now() - started) / 1000).toFixed(1)}s`;
          if (tty) {
            const width = process.stderr.columns ?? 120;
            process.stderr.write(`\r\x1b[2K${spin[frame++ % spin.length]} ${line}`.slice(0, width + 8));
          } else process.stderr.write(`${line}\n`);
        },
      })
      .catch((err: unknown) => {
        if (tty) process.stderr.write('\r\x1b[2K');
        throw syncFailure(err, tenant.slug, { full: v.full === true }) ?? err;
      });
    if (tty) process.stderr.write('\r\x1b[2K');
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (result.status === 'succeeded') {
      const st = result.stats;
      process.stdout.write(
        `Synced ${tenant.slug} (${result.kind}) in ${secs}s: ${st.customers ?? 0} customers, ${st.invoices ?? 0} invoices, ` +
          `${st.payments ?? 0} payments, ${st.creditMemos ?? 0} credit memos, ${st.deletions ?? 0} deletions written; ` +
          `${result.changedInvoices} invoices changed.\n`,
      );
      return;
    }
    if (result.status === 'reconnect_needed') {
      throw new AppError(
        'reconnect_needed',
        `The connection needs to be reconnected: ${services.config.PUBLIC_URL}/connect/${conn.provider}`,
        409,
      );
    }
    if (result.status === 'skipped') {
      // Disconnected before the run, or while it ran (then nothing read after the disconnect was written).
      const why = result.syncRunId
        ? (result.error ?? 'The connection was disconnected.')
        : `The connection is ${conn.status}.`;
      throw new AppError('disconnected', `Sync of ${tenant.slug} stopped: ${why}`, 409);
    }
    throw new AppError('sync_failed', `Sync failed: ${result.error ?? 'unknown error'}`, 502);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await services.close();
  }
}

function summaryLines(s: LedgerSummary): string {
  const open = Object.entries(s.openBalance)
    .map(([cur, minor]) => formatMinor(minor, cur))
    .join(' + ');
  return `${s.customers} customers, ${s.invoices} invoices, ${s.openInvoices} open, open balance ${open || '0'}`;
}

/** A one-time sign-in link to the demo's app (15 min), or '' when none can be issued (the token still works). */
async function demoSignInLink(demo: { url: string; services: ProviderDemo['services'] }): Promise<string> {
  try {
    const token = await demo.services.auth.sessions.issueLoginToken({
      tenantId: null,
      label: 'duely demo',
      now: demo.services.clock.now(),
    });
    return `${demo.url}/login?token=${token}`;
  } catch {
    // The settings app's sign-in is optional for the demo.
    return '';
  }
}

/**
 * What `npm run demo -- --provider <p>` prints once connected: the app with a sign-in link (it had none: the app
 * was out of reach in a browser), the admin token, the ledger, the stand-in.
 */
export async function providerDemoBanner(d: ProviderDemo): Promise<string> {
  const signIn = await demoSignInLink(d);
  const lines = [
    '',
    `Duely demo: ${d.providerName} stand-in account ${d.externalId} connected as tenant "${d.tenantSlug}"`,
    `  App:          ${d.url}`,
    ...(signIn ? [`  Sign in:      ${signIn}`] : []),
    `  Admin token:  ${d.adminToken}`,
    `  Ledger:       ${summaryLines(d.summary)}`,
    `  Stand-in:     ${d.sandboxUrl} (account clock ${d.sandboxClock()})`,
    `  Try:          curl -H "Authorization: Bearer ${d.adminToken}" "${d.url}/api/v1/tenants/${d.tenantSlug}/invoices?status=open&limit=5"`,
    `  ${d.changesNote}`,
    '  Ctrl-C stops the demo.',
    '',
  ];
  return `${lines.join('\n')}\n`;
}

export async function demoCommand(args: string[]): Promise<void> {
  const v = flags(args, {
    'advance-every': { type: 'string' },
    customers: { type: 'string' },
    invoices: { type: 'string' },
    seed: { type: 'string' },
    port: { type: 'string' },
    provider: { type: 'string' },
  });
  const num = (name: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new CliUsageError(`--${name} must be a number`);
    return n;
  };
  const e = env(v.now);
  if (typeof v.port === 'string') e.PORT = v.port;
  // The demo prints its own progress; request logs would drown it (LOG_LEVEL=info brings them back).
  e.LOG_LEVEL ??= 'warn';
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (typeof v.provider === 'string' && v.provider !== DEMO_PROVIDER.provider) {
    const start = providerDemos[v.provider];
    if (!start) {
      const known = [DEMO_PROVIDER.provider, ...Object.keys(providerDemos)].join(', ');
      throw new CliUsageError(`--provider must be one of: ${known}`);
    }
    const d = await start({
      env: e,
      advanceEverySeconds: num('advance-every', v['advance-every']),
      customers: num('customers', v.customers),
      seed: num('seed', v.seed),
      log,
    });
    process.stdout.write(await providerDemoBanner(d));
    const stopProvider = () => {
      d.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stopProvider);
    process.once('SIGTERM', stopProvider);
    return;
  }
  const demo = await startDemo({
    env: e,
    advanceEverySeconds: num('advance-every', v['advance-every']),
    customers: num('customers', v.customers),
    invoices: num('invoices', v.invoices),
    seed: num('seed', v.seed),
    log,
  });
  const signIn = await demoSignInLink(demo);
  const lines = [
    '',
    `Duely demo: ${DEMO_PROVIDER.name} sandbox company ${demo.sandbox.realmId} connected as tenant "${demo.tenantSlug}"`,
    `  App:          ${demo.url}`,
    ...(signIn ? [`  Sign in:      ${signIn}`] : []),
    `  Admin token:  ${demo.adminToken}`,
    `  Ledger:       ${summaryLines(demo.summary)}`,
    `  Sandbox:      ${demo.sandbox.url} (clock ${demo.sandbox.now().toISOString().slice(0, 10)})`,
    `  Try:          curl -H "Authorization: Bearer ${demo.adminToken}" "${demo.url}/api/v1/tenants/${demo.tenantSlug}/invoices?status=open&limit=5"`,
    v['advance-every']
      ? `  The sandbox advances one day every ${v['advance-every']} s: new invoices and payments arrive by webhook.`
      : `  Add --advance-every SECONDS to let days pass in ${DEMO_PROVIDER.name} (webhooks → incremental syncs).`,
    '  Ctrl-C stops the demo.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const shutdown = () => {
    demo.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
