/**
 * The external load generator of bench/analytics.ts: plain Node (no tsx, no project code), its own process, so the
 * figures are the server's and not the load generator's. `concurrency` closed-loop clients on keep-alive
 * node:http connections (one socket each) request `paths` round-robin (each client starts at a different path):
 * for `warmupSeconds` unmeasured, then for `seconds` measured (a request counts when it starts inside the window).
 *
 *   node bench/load-gen.mjs '{"port":3000,"token":"…","paths":["/api/v1/…"],"concurrency":100,"warmupSeconds":3,"seconds":10}'
 *
 * Prints one JSON line: requests, errors (non-2xx or socket errors), requests/s, p50/p90/p99/max in ms, overall and
 * per path.
 */
import http from 'node:http';

const w = JSON.parse(process.argv[2] ?? '{}');
const agent = new http.Agent({ keepAlive: true, maxSockets: w.concurrency, maxFreeSockets: w.concurrency });
const headers = { authorization: `Bearer ${w.token}`, accept: 'application/json' };

const get = (path) =>
  new Promise((resolve) => {
    const req = http.get({ host: w.host ?? '127.0.0.1', port: w.port, path, agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (b) => (bytes += b.length));
      res.on('end', () => resolve([res.statusCode ?? 0, bytes]));
      res.on('error', () => resolve([0, 0]));
    });
    req.on('error', () => resolve([0, 0]));
  });

const perPath = new Map(w.paths.map((p) => [p, { latencies: [], errors: 0, bytes: 0 }]));
const firstErrors = [];
const t0 = performance.now();
const measureFrom = t0 + w.warmupSeconds * 1000;
const measureTo = measureFrom + w.seconds * 1000;

async function client(i) {
  let k = i;
  while (true) {
    const started = performance.now();
    if (started >= measureTo) return;
    const path = w.paths[k++ % w.paths.length];
    const [status, bytes] = await get(path);
    const took = performance.now() - started;
    if (started < measureFrom) continue;
    const s = perPath.get(path);
    s.latencies.push(took);
    s.bytes = bytes;
    if (status < 200 || status >= 300) {
      s.errors++;
      if (firstErrors.length < 5) firstErrors.push(`${status} ${path}`);
    }
  }
}

await Promise.all(Array.from({ length: w.concurrency }, (_, i) => client(i)));
agent.destroy();

const q = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const r2 = (x) => Math.round(x * 100) / 100;
const summary = (latencies, errors, bytes) => {
  const s = [...latencies].sort((a, b) => a - b);
  return {
    requests: s.length,
    errors,
    'requests/s': Math.round(s.length / w.seconds),
    'p50 ms': r2(q(s, 0.5)),
    'p90 ms': r2(q(s, 0.9)),
    'p99 ms': r2(q(s, 0.99)),
    'max ms': r2(s.at(-1) ?? 0),
    ...(bytes === undefined ? {} : { 'response bytes': bytes }),
  };
};
const all = [...perPath.values()];
const out = {
  ...summary(
    all.flatMap((s) => s.latencies),
    all.reduce((n, s) => n + s.errors, 0),
  ),
  paths: Object.fromEntries([...perPath].map(([p, s]) => [p, summary(s.latencies, s.errors, s.bytes)])),
  firstErrors,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
