/**
 * CSV import throughput: a generated 100,000-invoice canonical CSV into a fresh database, rows/s and peak RSS, and
 * the reference measured in the same process: the same CSV loaded with COPY into a staging table, then plain
 * INSERT … SELECT into the same tables (customers, invoices, payments, payment_allocations) with the same
 * constraints and indexes, in a second fresh database. On Postgres COPY reads STDIN (postgres-js's writable stream),
 * on PGlite '/dev/blob'. The reference runs first (see below).
 * Run one database kind per process so peak RSS belongs to that run: `tsx bench/import.ts pglite|postgres [n]`.
 */
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Db } from '../src/db/client';
import { copyFrom } from '../src/db/copy';
import { ensureTenant } from '../src/db/queries/tenants';
import { importHistoryCsv } from '../src/sync/csv-import';
import { createBenchDb } from './bench-db';
import { generateLedgerCsv } from './ledger-csv';

/** The reference pipeline: COPY the raw file into staging, then set-based plain inserts; returns the rows loaded. */
async function copyReference(db: Db, content: Buffer): Promise<number> {
  return db.transaction(async (tx) => {
    const tenant = await ensureTenant(tx, 'reference', 'csv', { currency: 'USD' });
    const t = tenant.id;
    await tx.execute(sql`
      create temp table ref_stage (
        customer_id text not null, invoice_id text not null primary key, invoice_date date not null,
        due_date date not null, amount numeric not null, currency text not null, paid_date date,
        delivery text, country text, line int generated always as identity
      ) on commit drop`);
    await copyFrom(
      tx,
      'ref_stage (customer_id, invoice_id, invoice_date, due_date, amount, currency, paid_date, delivery, country)',
      'format csv, header true',
      [content],
    );
    await tx.execute(sql`analyze ref_stage`);
    await tx.execute(sql`
      insert into customers (tenant_id, external_id, name, first_seen, delivery, country)
      select ${t}::uuid, customer_id, customer_id, min(invoice_date),
             (array_agg(delivery order by line desc) filter (where delivery is not null))[1],
             (array_agg(country order by line desc) filter (where country is not null))[1]
      from ref_stage group by customer_id`);
    await tx.execute(sql`
      insert into invoices (tenant_id, customer_id, external_id, number, issue_date, due_date, currency, total_minor,
                            balance_minor, status, paid_date, delivery, source_updated_at)
      select ${t}::uuid, c.id, s.invoice_id, s.invoice_id, s.invoice_date, s.due_date, upper(s.currency),
             round(s.amount * 100)::bigint,
             case when s.paid_date is null then round(s.amount * 100)::bigint else 0 end,
             case when s.paid_date is null then 'open' else 'paid' end, s.paid_date, s.delivery, now()
      from ref_stage s join customers c on c.tenant_id = ${t}::uuid and c.external_id = s.customer_id`);
    await tx.execute(sql`
      insert into payments (tenant_id, customer_id, external_id, date, currency, amount_minor, unapplied_minor, status,
                            source_updated_at)
      select ${t}::uuid, c.id, 'csv-paid:' || s.invoice_id, s.paid_date, upper(s.currency),
             round(s.amount * 100)::bigint, 0, 'active', now()
      from ref_stage s join customers c on c.tenant_id = ${t}::uuid and c.external_id = s.customer_id
      where s.paid_date is not null`);
    await tx.execute(sql`
      insert into payment_allocations (tenant_id, payment_id, line_no, invoice_id, amount_minor, date)
      select ${t}::uuid, p.id, 0, i.id, round(s.amount * 100)::bigint, s.paid_date
      from ref_stage s
      join payments p on p.tenant_id = ${t}::uuid and p.external_id = 'csv-paid:' || s.invoice_id
      join invoices i on i.tenant_id = ${t}::uuid and i.external_id = s.invoice_id
      where s.paid_date is not null`);
    const [row] = await tx
      .execute<{ n: number }>(sql`select count(*)::int as n from invoices where tenant_id = ${t}::uuid`)
      .then((r) => (Array.isArray(r) ? r : (r as unknown as { rows: { n: number }[] }).rows));
    return Number(row?.n ?? 0);
  });
}

export async function benchImport(
  kind: 'pglite' | 'postgres',
  n = 100_000,
): Promise<Record<string, unknown>> {
  const content = Buffer.from(generateLedgerCsv(n));
  const now = new Date('2013-07-01');
  // The reference runs first: on PGlite the second database of the process runs next to the first one's memory, so
  // any such penalty falls on Duely's figure, never on the reference.
  const ref = await createBenchDb(kind);
  let refMs: number;
  let loaded: number;
  try {
    await ref.handle.migrate();
    const t0 = performance.now();
    loaded = await copyReference(ref.handle.db, content);
    refMs = performance.now() - t0;
  } finally {
    await ref.handle.close();
    await ref.dispose();
  }
  const duely = await createBenchDb(kind);
  let first: Awaited<ReturnType<typeof importHistoryCsv>>;
  let firstMs: number;
  let againMs: number;
  try {
    await duely.handle.migrate();
    const t1 = performance.now();
    first = await importHistoryCsv(duely.handle.db, content, { tenantName: 'bench', now });
    firstMs = performance.now() - t1;
    const t2 = performance.now();
    await importHistoryCsv(duely.handle.db, content, { tenantName: 'bench', now });
    againMs = performance.now() - t2;
  } finally {
    await duely.handle.close();
    await duely.dispose();
  }
  if (loaded !== first.rows) throw new Error(`reference loaded ${loaded} rows, Duely ${first.rows}`);
  const rate = Math.round(first.rows / (firstMs / 1000));
  const refRate = Math.round(first.rows / (refMs / 1000));
  const db = kind === 'pglite' ? 'PGlite' : 'Postgres';
  return {
    bench: `import ${kind}`,
    rows: first.rows,
    'first import rows/s': rate,
    're-import rows/s': Math.round(first.rows / (againMs / 1000)),
    'first import s': Math.round(firstMs) / 1000,
    'COPY reference rows/s': refRate,
    'COPY reference s': Math.round(refMs) / 1000,
    'peak RSS MiB': Math.round(process.resourceUsage().maxRSS / 1024),
    figures: [
      {
        figure: `CSV import, ${db}`,
        value: rate,
        unit: 'rows/s',
        reference:
          kind === 'pglite'
            ? 'COPY FROM blob + INSERT…SELECT into the same tables (same run)'
            : 'COPY FROM STDIN + INSERT…SELECT into the same tables (same run)',
        referenceValue: refRate,
        ratio: rate / refRate,
      },
    ],
  };
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  const kind = (process.argv[2] ?? 'pglite') as 'pglite' | 'postgres';
  const n = Number(process.argv[3] ?? 100_000);
  benchImport(kind, n).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
