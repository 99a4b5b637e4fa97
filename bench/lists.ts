/**
 * The lists on 100,000 invoices (2,000 customers): each query the Invoices and Customers pages make, through the
 * app (`inject`, so routing, validation and serialization count), median and max of 5 runs after one warm-up.
 * `tsx bench/lists.ts pglite|postgres [n]`.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { issueApiToken } from '../src/auth/api-tokens';
import { fixedClock } from '../src/clock';
import { loadConfig } from '../src/config';
import { buildApp } from '../src/http/app';
import { createLogger } from '../src/logger';
import { createServices } from '../src/services';
import { importHistoryCsv } from '../src/sync/csv-import';
import { createBenchDb } from './bench-db';
import { generateLedgerCsv } from './ledger-csv';

const QUERIES: Record<string, string> = {
  'invoices open by due date': 'invoices?status=open&limit=50',
  'invoices all, -balance': 'invoices?sort=-balance&limit=50',
  'invoices all, -balance, page 2': 'invoices?sort=-balance&limit=50&cursor=$next',
  'invoices search customer id': 'invoices?q=C42&limit=50',
  'invoices overdue 31-60, -daysOverdue': 'invoices?aging=31-60&sort=-daysOverdue&limit=50',
  'invoices -lastReminder': 'invoices?status=open&sort=-lastReminder&limit=50',
  'invoices open csv (all rows)': 'invoices?status=open&format=csv',
  'customers by name': 'customers?limit=100',
  'customers -overdue': 'customers?sort=-overdue&limit=100',
  'customers search': 'customers?q=C1&limit=100',
};

const ms = (x: number) => Math.round(x * 10) / 10;

export async function benchLists(
  kind: 'pglite' | 'postgres',
  n = 100_000,
): Promise<Record<string, number | string>> {
  const { handle, dataDir, dispose } = await createBenchDb(kind);
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    APP_SECRET: randomBytes(32).toString('hex'),
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
    const { token } = await issueApiToken(services.db, 'bench');
    const app = await buildApp(services);
    const headers = { authorization: `Bearer ${token}` };
    const out: Record<string, number | string> = { bench: `lists ${kind}`, invoices: n };
    let next = '';
    for (const [label, q] of Object.entries(QUERIES)) {
      const url = `/api/v1/tenants/bench/${q.replace('$next', next)}`;
      const times: number[] = [];
      for (let i = 0; i < 6; i++) {
        const t0 = performance.now();
        const r = await app.inject({ url, headers });
        const dt = performance.now() - t0;
        if (r.statusCode !== 200) throw new Error(`${label}: ${r.statusCode} ${r.body.slice(0, 200)}`);
        if (i > 0) times.push(dt);
        if (label === 'invoices all, -balance') next = r.json().nextCursor ?? '';
      }
      times.sort((a, b) => a - b);
      out[`${label} median ms`] = ms(times[Math.floor(times.length / 2)]!);
    }
    out['peak RSS MiB'] = Math.round(process.resourceUsage().maxRSS / 1024);
    await app.close();
    return out;
  } finally {
    await services.close();
    await dispose();
  }
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  const kind = (process.argv[2] ?? 'pglite') as 'pglite' | 'postgres';
  benchLists(kind, process.argv[3] ? Number(process.argv[3]) : undefined).then((r) =>
    process.stdout.write(`${JSON.stringify(r)}\n`),
  );
}
