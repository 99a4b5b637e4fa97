/**
 * CSV import throughput: a generated 100,000-invoice canonical CSV into a fresh database, rows/s and peak RSS.
 * Run one database kind per process so peak RSS belongs to that run: `tsx bench/import.ts pglite|postgres [n]`.
 */
import path from 'node:path';
import { importHistoryCsv } from '../src/sync/csv-import';
import { createBenchDb } from './bench-db';
import { generateLedgerCsv } from './ledger-csv';

export async function benchImport(
  kind: 'pglite' | 'postgres',
  n = 100_000,
): Promise<Record<string, number | string>> {
  const content = Buffer.from(generateLedgerCsv(n));
  const { handle, dispose } = await createBenchDb(kind);
  try {
    await handle.migrate();
    const t0 = performance.now();
    const first = await importHistoryCsv(handle.db, content, {
      tenantName: 'bench',
      now: new Date('2013-07-01'),
    });
    const firstMs = performance.now() - t0;
    const t1 = performance.now();
    await importHistoryCsv(handle.db, content, { tenantName: 'bench', now: new Date('2013-07-01') });
    const againMs = performance.now() - t1;
    return {
      bench: `import ${kind}`,
      rows: first.rows,
      'first import rows/s': Math.round(first.rows / (firstMs / 1000)),
      're-import rows/s': Math.round(first.rows / (againMs / 1000)),
      'first import s': Math.round(firstMs) / 1000,
      'peak RSS MiB': Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await handle.close();
    await dispose();
  }
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  const kind = (process.argv[2] ?? 'pglite') as 'pglite' | 'postgres';
  const n = Number(process.argv[3] ?? 100_000);
  benchImport(kind, n).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
