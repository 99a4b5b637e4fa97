/**
 * Analytics under load: 100,000 imported invoices, the app listening on 127.0.0.1, and a bounded loopback load
 * generator (20 concurrent clients for 10 s) on GET /api/v1/tenants/bench/analytics. Reports request latency
 * p50/p99 (target p99 ≤ 50 ms) after one warm-up request and, separately, the uncached computation time, since
 * the route caches per ledger version. `tsx bench/analytics.ts pglite|postgres [n] [concurrency] [seconds]`.
 */
import { randomBytes } from 'node:crypto';

import { Worker } from 'node:worker_threads';

import path from 'node:path';
import { computeAnalytics } from '../src/analytics/dashboard';
import { issueApiToken } from '../src/auth/api-tokens';
import { fixedClock } from '../src/clock';
import { loadConfig } from '../src/config';
import { findTenant } from '../src/db/queries/tenants';
import { buildApp } from '../src/http/app';
import { createLogger } from '../src/logger';
import { createServices } from '../src/services';
import { importHistoryCsv } from '../src/sync/csv-import';
import { generateLedgerCsv } from './ledger-csv';
import { createBenchDb } from './bench-db';

/** The worker's code: `concurrency` keep-alive clients looping for `seconds`, reporting each latency. */
const LOAD_WORKER = `
const http = require('node:http');
const { parentPort, workerData: w } = require('node:worker_threads');
const agent = new http.Agent({ keepAlive: true, maxSockets: w.concurrency });
const get = () => new Promise((resolve, reject) => {
  const req = http.get({ host: '127.0.0.1', port: w.port, path: w.path, agent,
    headers: { authorization: 'Bearer ' + w.token } }, (res) => {
    res.on('data', () => {});
    res.on('end', () => resolve(res.statusCode));
  });
  req.on('error', reject);
});
(async () => {
  const latencies = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + w.seconds * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      if ((await get()) !== 200) errors++;
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: w.concurrency }, client));
  agent.destroy();
  parentPort.postMessage({ latencies, errors, elapsed: (performance.now() - started) / 1000 });
})();
`;

function runLoad(w: { port: number; token: string; concurrency: number; seconds: number }) {
  return new Promise<{ latencies: number[]; errors: number; elapsed: number }>((resolve, reject) => {
    const worker = new Worker(LOAD_WORKER, {
      eval: true,
      workerData: { ...w, path: '/api/v1/tenants/bench/analytics' },
    });
    worker.once('message', (m) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const ms = (x: number) => Math.round(x * 100) / 100;

export async function benchAnalytics(
  kind: 'pglite' | 'postgres',
  n = 100_000,
  concurrency = 20,
  seconds = 10,
): Promise<Record<string, number | string>> {
  const { handle, dataDir: dir, dispose: dropDb } = await createBenchDb(kind);
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: dir,
    APP_SECRET: randomBytes(32).toString('hex'),
    PORT: '0',
  });
  const services = await createServices(config, {
    dbh: handle,
    clock: fixedClock('2013-07-01'),
    logger: createLogger('silent'),
    queue: false,
  });
  try {
    await importHistoryCsv(services.db, Buffer.from(generateLedgerCsv(n)), {
      tenantName: 'bench',
      now: new Date('2013-07-01'),
    });
    const tenant = (await findTenant(services.db, 'bench'))!;

    // The computation itself, uncached (what the first request after a sync pays).
    const cold: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await computeAnalytics(services.db, { tenantId: tenant.id, currency: 'USD', today: '2013-07-01' });
      cold.push(performance.now() - t0);
    }
    cold.sort((a, b) => a - b);

    const { token } = await issueApiToken(services.db, 'bench');
    const app = await buildApp(services);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    // One warm-up request fills the route's cache; the cold cost is reported above as the uncached compute.
    const warm = await app.inject({
      url: '/api/v1/tenants/bench/analytics',
      headers: { authorization: `Bearer ${token}` },
    });
    if (warm.statusCode !== 200) throw new Error(`warm-up failed: ${warm.statusCode} ${warm.body}`);
    // The load generator runs in a worker thread (its own event loop, free to use another core) with node:http
    // keep-alive clients, so the figures are the server's rather than the client's.
    const { latencies, errors, elapsed } = await runLoad({ port, token, concurrency, seconds });
    await app.close();
    latencies.sort((a, b) => a - b);
    return {
      bench: `analytics ${kind}`,
      invoices: n,
      concurrency,
      requests: latencies.length,
      errors,
      'requests/s': Math.round(latencies.length / elapsed),
      'p50 ms': ms(quantile(latencies, 0.5)),
      'p99 ms': ms(quantile(latencies, 0.99)),
      'max ms': ms(latencies.at(-1) ?? 0),
      'uncached compute median ms': ms(quantile(cold, 0.5)),
      'peak RSS MiB': Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await services.close();
    await dropDb();
  }
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  const kind = (process.argv[2] ?? 'pglite') as 'pglite' | 'postgres';
  const [n, c, s] = [process.argv[3], process.argv[4], process.argv[5]].map((v) =>
    v ? Number(v) : undefined,
  );
  benchAnalytics(kind, n, c, s).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
