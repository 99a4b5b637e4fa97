/**
 * The ledger's per-row write cost is its indexes and foreign keys (issue 18: every synced invoice pays one insert
 * per index). Two guards on the migrated schema:
 * - every foreign-key column a customer or tenant delete cascades through, and that the customer page and the
 *   customer list filter on, leads some index (else each cascaded parent row scans the child table);
 * - invoices carries ONE index leading with customer_id: migration 0018 dropped (customer_id, issue_date), which no
 *   product query's plan used on a 100k-invoice tenant ((customer_id, status, due_date) serves them all) and which
 *   cost ~1–3 % of a PGlite sync's CPU (measured under load; within noise of zero on some pairs).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';

let s: Services;

beforeAll(async () => {
  const { createTestServices } = await import('../helpers/services');
  s = await createTestServices({ queue: false });
});
afterAll(async () => {
  await s?.close();
});

/** Index name → its key columns in order, for the ledger tables of the current schema. */
async function indexColumns(): Promise<{ table: string; index: string; columns: string[] }[]> {
  const rows = rowsOf<{ table: string; index: string; columns: string[] | string }>(
    await s.db.execute(sql`
      select t.relname as table, i.relname as index,
             array(select a.attname from unnest(x.indkey) with ordinality k(attnum, n)
                   left join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
                   order by k.n)::text[] as columns
      from pg_index x
      join pg_class t on t.oid = x.indrelid
      join pg_class i on i.oid = x.indexrelid
      where t.relnamespace = current_schema()::regnamespace
        and t.relname in ('customers', 'invoices', 'payments', 'credit_memos', 'payment_allocations')`),
  );
  // postgres-js returns text[] as an array, PGlite too; a string form ('{a,b}') is split for safety.
  return rows.map((r) => ({
    ...r,
    columns: Array.isArray(r.columns) ? r.columns : r.columns.replace(/[{}]/g, '').split(','),
  }));
}

describe('ledger indexes', () => {
  it('lead with every foreign-key column a delete cascades through', async () => {
    const idx = await indexColumns();
    const leads = (table: string, column: string) =>
      idx.some((i) => i.table === table && i.columns[0] === column);
    for (const [table, column] of [
      ['customers', 'tenant_id'],
      ['invoices', 'customer_id'],
      ['payments', 'customer_id'],
      ['payment_allocations', 'invoice_id'],
      ['payment_allocations', 'payment_id'],
      ['credit_memos', 'customer_id'],
      ['payment_allocations', 'credit_memo_id'],
    ] as const) {
      expect(leads(table, column), `${table}.${column}`).toBe(true);
    }
  });

  it('keep one index on invoices leading with customer_id', async () => {
    const idx = await indexColumns();
    const byCustomer = idx.filter((i) => i.table === 'invoices' && i.columns[0] === 'customer_id');
    expect(byCustomer.map((i) => [i.index, i.columns])).toEqual([
      ['invoices_customer_status_idx', ['customer_id', 'status', 'due_date']],
    ]);
  });
});
