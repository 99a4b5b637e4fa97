/**
 * `npm run bench`: every benchmark, each in its own process (so its peak RSS is its own), printed as a table.
 * Postgres figures need the local server (BENCH_DATABASE_URL, else DATABASE_URL, else postgres@127.0.0.1/postgres);
 * when it is not reachable those rows say so. `npm run bench -- import` runs only the names given.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface Bench {
  name: string;
  file: string;
  args: string[];
}

const benches: Bench[] = [
  { name: 'import', file: 'import.ts', args: ['pglite', '100000'] },
  { name: 'import', file: 'import.ts', args: ['postgres', '100000'] },
  { name: 'analytics', file: 'analytics.ts', args: ['pglite', '100000'] },
  { name: 'analytics', file: 'analytics.ts', args: ['postgres', '100000'] },
  // The Invoices and Customers lists (search, sort, keyset pages, totals, CSV) on 100k invoices (bench/lists.ts).
  { name: 'lists', file: 'lists.ts', args: ['pglite', '100000'] },
  { name: 'lists', file: 'lists.ts', args: ['postgres', '100000'] },
  // Scoring 100k open invoices (features + ONNX + reasons) and training on 100k rows.
  { name: 'risk', file: 'risk.ts', args: [] },
  // The QuickBooks connector alone: full-sync iterators over a 100k-invoice sandbox company, no database.
  { name: 'quickbooks-fetch', file: 'quickbooks.ts', args: ['100000'] },
  // benchDunning: plan + render 10k overdue customers (bench/dunning.ts prints one JSON line).
  { name: 'dunning', file: 'dunning.ts', args: ['10000'] },
  // Full QuickBooks sync of a 20k-invoice sandbox company through run-sync (bench/quickbooks-sync.ts).
  { name: 'quickbooks-sync', file: 'quickbooks-sync.ts', args: ['pglite', '20000'] },
  { name: 'quickbooks-sync', file: 'quickbooks-sync.ts', args: ['postgres', '20000'] },
  // Full NetSuite sync of a 5k-invoice stand-in account (TBA, SuiteQL) through run-sync, and the connector alone.
  { name: 'netsuite', file: 'netsuite-sync.ts', args: ['pglite', '5000'] },
  { name: 'netsuite', file: 'netsuite-sync.ts', args: ['postgres', '5000'] },
];

async function main() {
  const only = process.argv.slice(2);
  if (only.includes('--list')) {
    for (const b of benches) process.stdout.write(`${b.name} ${b.args.join(' ')}\n`);
    return;
  }
  const selected = benches.filter((b) => only.length === 0 || only.includes(b.name));
  for (const b of selected) {
    const label = `${b.name} ${b.args.join(' ')}`;
    process.stdout.write(`\n# ${label}\n`);
    try {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', path.join(import.meta.dirname, b.file), ...b.args],
        {
          maxBuffer: 16 * 1024 * 1024,
          timeout: 15 * 60_000,
        },
      );
      const line = stdout.trim().split('\n').at(-1) ?? '{}';
      for (const [k, v] of Object.entries(JSON.parse(line) as Record<string, unknown>)) {
        process.stdout.write(`  ${k.padEnd(34)} ${v}\n`);
      }
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      process.stdout.write(`  failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-3).join(' | ')}\n`);
    }
  }
}

main();
