/**
 * Analytics under load with an external load generator (issue 18: p99 ≤ 50 ms at 100 concurrent clients on 100k
 * invoices). This process only prepares the data: a fresh database (PGlite directory or Postgres database) with a
 * 100,000-invoice tenant imported from the synthetic ledger (bench/ledger-csv.ts) and an API token. Then, as
 * separate processes:
 *   - the real server: `node bin/duely.js serve --port 0` (what `npm start` runs; role all unless BENCH_ROLE is set),
 *     NODE_ENV=production, DUELY_NOW=2013-07-01 (the ledger's business date);
 *   - the load generator (bench/load-gen.mjs, plain Node, keep-alive node:http): `concurrency` closed-loop clients,
 *     a warm-up, then a fixed measured window, in two phases:
 *       analytics  GET …/analytics?period=30|90|180|365 (the dashboard's period switcher)
 *       dashboard  the five requests one Dashboard page load makes (analytics, sync-runs, dunning/today,
 *                  customer-risk, customers?sort=-risk)
 * Also reported: the uncached computation (the first request after a sync pays it), measured in this process
 * before the server starts.
 * `tsx bench/analytics.ts pglite|postgres [n] [concurrency] [seconds]`: one JSON line.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { computeAnalytics } from '../src/analytics/dashboard';
import { issueApiToken } from '../src/auth/api-tokens';
import { fixedClock } from '../src/clock';
import { loadConfig } from '../src/config';
import { findTenant } from '../src/db/queries/tenants';
import { createLogger } from '../src/logger';
import { createServices } from '../src/services';
import { importHistoryCsv } from '../src/sync/csv-import';
import { createBenchDb } from './bench-db';
import { generateLedgerCsv } from './ledger-csv';
import { cpuSecondsOf, memOf, NODE_FLAGS, ROOT } from './proc';

const execFileP = promisify(execFile);
const TODAY = '2013-07-01';
const ms = (x: number) => Math.round(x * 100) / 100;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

const api = (resource: string) => `/api/v1/tenants/bench/${resource}`;
const PHASES: Record<string, string[]> = {
  analytics: [30, 90, 180, 365].map((p) => api(`analytics?period=${p}`)),
  dashboard: [
    api('analytics?period=90'),
    api('sync-runs'),
    api('dunning/today'),
    api('customer-risk'),
    api('customers?sort=-risk&minRisk=0&limit=5'),
  ],
};

interface LoadResult {
  requests: number;
  errors: number;
  'requests/s': number;
  'p50 ms': number;
  'p90 ms': number;
  'p99 ms': number;
  'max ms': number;
  paths: Record<string, Omit<LoadResult, 'paths' | 'firstErrors'> & { 'response bytes': number }>;
  firstErrors: string[];
}

async function startServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, path.join(ROOT, 'bin/duely.js'), 'serve', '--port', '0'],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      const m = /App:\s+http:\/\/[^:\s]+:(\d+)/.exec(out);
      if (m && /Sign in[^\n]*\n/.test(out)) resolve(Number(m[1]));
    });
    child.stderr!.on('data', (b: Buffer) => (out += b));
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out.slice(-800)}`)));
    setTimeout(() => reject(new Error(`serve not up after 180 s: ${out.slice(-800)}`)), 180_000);
  });
  return { child, port };
}

async function stopServer(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function load(opts: {
  port: number;
  token: string;
  paths: string[];
  concurrency: number;
  warmupSeconds: number;
  seconds: number;
}): Promise<LoadResult> {
  const { stdout } = await execFileP(
    process.execPath,
    [path.join(import.meta.dirname, 'load-gen.mjs'), JSON.stringify(opts)],
    { maxBuffer: 16 * 1024 * 1024, timeout: (opts.warmupSeconds + opts.seconds + 120) * 1000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadResult;
}

export async function benchAnalytics(
  kind: 'pglite' | 'postgres',
  n = 100_000,
  concurrency = 100,
  seconds = 10,
): Promise<Record<string, unknown>> {
  const { handle, dataDir: dir, dispose: dropDb } = await createBenchDb(kind);
  const appSecret = randomBytes(32).toString('hex');
  const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, APP_SECRET: appSecret, PORT: '0' });
  const services = await createServices(config, {
    dbh: handle,
    clock: fixedClock(TODAY),
    logger: createLogger('silent'),
    queue: false,
  });
  let closed = false;
  let server: ChildProcess | null = null;
  try {
    await importHistoryCsv(services.db, Buffer.from(generateLedgerCsv(n)), {
      tenantName: 'bench',
      now: new Date(TODAY),
    });
    const tenant = (await findTenant(services.db, 'bench'))!;
    // The computation itself, uncached (what the first request after a sync pays).
    const cold: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await computeAnalytics(services.db, { tenantId: tenant.id, currency: 'USD', today: TODAY });
      cold.push(performance.now() - t0);
    }
    cold.sort((a, b) => a - b);
    const { token } = await issueApiToken(services.db, 'bench');
    const url = kind === 'postgres' ? handle.url : undefined;
    // The server opens the database itself (PGlite: the directory lock must be free).
    await services.close();
    closed = true;

    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (k.startsWith('VITEST') || k === 'DATABASE_URL' || k.startsWith('DUELY_')) continue;
      env[k] = v;
    }
    Object.assign(env, {
      NODE_ENV: process.env.NODE_ENV ?? 'production',
      LOG_LEVEL: 'warn',
      DATA_DIR: dir,
      APP_SECRET: appSecret,
      DUELY_NOW: TODAY,
      DUELY_ROLE: process.env.BENCH_ROLE ?? 'all',
      ...(url ? { DATABASE_URL: url } : {}),
      // e.g. BENCH_SERVER_NODE_OPTIONS=--cpu-prof to profile the server under load.
      ...(process.env.BENCH_SERVER_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS }
        : {}),
    });
    const started = await startServer(env);
    server = started.child;
    const result: Record<string, unknown> = {
      bench: `analytics ${kind} (external server + load generator)`,
      invoices: n,
      concurrency,
      'measured s': seconds,
      role: env.DUELY_ROLE,
      'uncached compute median ms': ms(cold[2]!),
    };
    // Every path answered once before any load (the first analytics request per period computes; that cost is the
    // uncached compute above), so the warm-up and the measured window see the steady state.
    const primeStart = performance.now();
    for (const p of new Set(Object.values(PHASES).flat())) {
      const r = await fetch(`http://127.0.0.1:${started.port}${p}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`priming ${p}: ${r.status}`);
    }
    result['priming (each path once) s'] = ms((performance.now() - primeStart) / 1000);
    for (const [phase, paths] of Object.entries(PHASES)) {
      // Server CPU over the whole phase (warm-up included) ÷ the requests it served: a figure the shared machine's
      // load disturbs far less than latency.
      const cpu0 = cpuSecondsOf(server.pid!) ?? 0;
      const r = await load({ port: started.port, token, paths, concurrency, warmupSeconds: 3, seconds });
      const cpu = (cpuSecondsOf(server.pid!) ?? 0) - cpu0;
      result[`${phase} requests/s`] = r['requests/s'];
      result[`${phase} p50 ms`] = r['p50 ms'];
      result[`${phase} p90 ms`] = r['p90 ms'];
      result[`${phase} p99 ms`] = r['p99 ms'];
      result[`${phase} max ms`] = r['max ms'];
      result[`${phase} errors`] = r.errors;
      result[`${phase} server CPU ms/request`] = ms((cpu * 1000) / r.requests / ((seconds + 3) / seconds));
      if (r.firstErrors.length > 0) result[`${phase} first errors`] = r.firstErrors.join('; ');
      result[`${phase} p99 ms, response bytes by path`] = Object.fromEntries(
        Object.entries(r.paths).map(([p, s]) => [
          p.replace('/api/v1/tenants/bench/', ''),
          [s['p99 ms'], s['response bytes']],
        ]),
      );
    }
    result['server RSS after load MiB'] = Math.round(memOf(server.pid!)?.rss ?? 0);
    return result;
  } finally {
    if (server) await stopServer(server);
    if (!closed) await services.close();
    await dropDb();
  }
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  const kind = (process.argv[2] ?? 'pglite') as 'pglite' | 'postgres';
  const [n, c, s] = [process.argv[3], process.argv[4], process.argv[5]].map((v) =>
    v ? Number(v) : undefined,
  );
  benchAnalytics(kind, n, c, s).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
