import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  creditMemos,
  customers,
  invoices,
  paymentAllocations,
  payments,
  syncRuns,
  tenants,
} from '../../src/db/schema';
import type { Services } from '../../src/services';
import { CsvImportError, importHistoryCsv } from '../../src/sync/csv-import';
import { csv } from '../helpers/csv';
import { createTestServices } from '../helpers/services';

let s: Services;
const now = new Date('2013-07-01T00:00:00Z');

beforeAll(async () => {
  s = await createTestServices({ queue: false });
});
afterAll(async () => {
  await s?.close();
});

const ledger = [
  ['ACME', 'A1', '2013-01-02', '2013-02-01', '100.00', 'USD', '2013-01-30', 'email', 'US'],
  ['ACME', 'A2', '2013-02-02', '2013-03-04', '250.10', 'USD', '', 'email', 'US'],
  ['BETA', 'B1', '2013-03-01', '2013-03-31', '75.5', 'USD', '', 'print', 'DE'],
];

async function invoice(tenantId: string, externalId: string) {
  const [row] = await s.db
    .select()
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, externalId)));
  return row!;
}

describe('CSV import', () => {
  it('creates the tenant, customers, invoices with exact balances, and payments for paid invoices', async () => {
    const r = await importHistoryCsv(s.db, csv(ledger), { tenantName: 'Acme Books', now });
    expect(r.tenant.slug).toBe('acme-books');
    expect(r).toMatchObject({
      rows: 3,
      customers: 2,
      invoices: { inserted: 3, updated: 0, open: 2, paid: 1 },
    });
    const [t] = await s.db.select().from(tenants).where(eq(tenants.slug, 'acme-books'));
    expect(t!.source).toBe('csv');
    const a1 = await invoice(t!.id, 'A1');
    expect(a1).toMatchObject({ status: 'paid', balanceMinor: 0, totalMinor: 10000, paidDate: '2013-01-30' });
    const a2 = await invoice(t!.id, 'A2');
    expect(a2).toMatchObject({ status: 'open', balanceMinor: 25010, totalMinor: 25010, paidDate: null });
    expect((await invoice(t!.id, 'B1')).balanceMinor).toBe(7550);
    const allocs = await s.db
      .select()
      .from(paymentAllocations)
      .where(eq(paymentAllocations.invoiceId, a1.id));
    expect(allocs).toHaveLength(1);
    expect(allocs[0]).toMatchObject({ amountMinor: 10000, date: '2013-01-30' });
    const [acme] = await s.db.select().from(customers).where(eq(customers.externalId, 'ACME'));
    expect(acme).toMatchObject({ firstSeen: '2013-01-02', delivery: 'email', country: 'US' });
    const [run] = await s.db.select().from(syncRuns).where(eq(syncRuns.id, r.syncRunId));
    expect(run).toMatchObject({ kind: 'import', status: 'succeeded' });
  });

  it('re-importing a newer export marks invoices paid, is idempotent, and reverses a payment that disappeared', async () => {
    const newer = ledger.map((r) => [...r]);
    newer[1]![6] = '2013-03-20'; // A2 paid
    newer.push(['BETA', 'B2', '2013-04-01', '2013-05-01', '10', 'USD', '', 'print', 'DE']);
    const r = await importHistoryCsv(s.db, csv(newer), { tenantName: 'Acme Books', now });
    // Only A2 changed; A1 and B1 are as they were.
    expect(r.invoices).toMatchObject({ inserted: 1, updated: 1, unchanged: 2, paid: 2, open: 2 });
    const t = r.tenant.id;
    expect(await invoice(t, 'A2')).toMatchObject({ status: 'paid', balanceMinor: 0 });

    // The same file again changes nothing: no invoice reported as updated or handed on to be re-scored, no
    // duplicate payments or allocations.
    let changed: { count: number; ids: string[] } | undefined;
    const again = await importHistoryCsv(s.db, csv(newer), {
      tenantName: 'Acme Books',
      now,
      afterWrite: async (_tx, _r, c) => {
        changed = c;
      },
    });
    expect(again.invoices).toMatchObject({ inserted: 0, updated: 0, unchanged: 4 });
    expect(changed).toEqual({ count: 0, ids: [] });
    const [counts] = await s.db
      .select({
        payments: sql<number>`(select count(*) from payments where tenant_id = ${t})`.mapWith(Number),
        allocations: sql<number>`(select count(*) from payment_allocations where tenant_id = ${t})`.mapWith(
          Number,
        ),
        invoices: sql<number>`(select count(*) from invoices where tenant_id = ${t})`.mapWith(Number),
      })
      .from(sql`(select 1) x`);
    expect(counts).toEqual({ payments: 2, allocations: 2, invoices: 4 });

    // A later export shows A1 open again (payment reversed in the ledger).
    const reversed = newer.map((r) => [...r]);
    reversed[0]![6] = '';
    const r3 = await importHistoryCsv(s.db, csv(reversed), { tenantName: 'Acme Books', now });
    expect(r3.payments.reversed).toBe(1);
    const a1 = await invoice(t, 'A1');
    expect(a1).toMatchObject({ status: 'open', balanceMinor: 10000 });
    expect(
      await s.db.select().from(paymentAllocations).where(eq(paymentAllocations.invoiceId, a1.id)),
    ).toHaveLength(0);
    const [p] = await s.db.select().from(payments).where(eq(payments.externalId, 'csv-paid:A1'));
    expect(p!.status).toBe('deleted');
  });

  it('imports nothing from a file with any bad line, and says which', async () => {
    const bad = [
      ['GAMMA', 'G1', '2013-01-02', '2013-02-01', '5', 'USD', '', '', ''],
      ['GAMMA', 'G2', '2013-01-02', '2013-02-01', 'five', 'USD', '', '', ''],
    ];
    const err = await importHistoryCsv(s.db, csv(bad), { tenantName: 'Gamma', now }).catch((e) => e);
    expect(err).toBeInstanceOf(CsvImportError);
    expect(err.issues).toEqual([
      { line: 3, column: 'amount', message: '"five" is not a decimal amount in USD' },
    ]);
    expect(await s.db.select().from(tenants).where(eq(tenants.slug, 'gamma'))).toHaveLength(0);
    expect(await s.db.select().from(invoices).where(eq(invoices.externalId, 'G1'))).toHaveLength(0);
  });

  it('rolls back everything when a write fails mid-import', async () => {
    const err = await importHistoryCsv(
      s.db,
      csv([['D', 'D1', '2013-01-02', '2013-02-01', '5', 'USD', '', '', '']]),
      {
        tenantName: 'Delta',
        now,
        afterWrite: async () => {
          throw new Error('boom');
        },
      },
    ).catch((e) => e);
    expect(err.message).toBe('boom');
    expect(await s.db.select().from(tenants).where(eq(tenants.slug, 'delta'))).toHaveLength(0);
  });

  it('imports the credit note of a customer the file has no invoice for, as its warning says', async () => {
    const rows = [
      ['EPS', 'E1', '2013-01-02', '2013-02-01', '100.00', 'USD', '', '', ''],
      ['ZETA', 'CN-Z', '2013-01-05', '2013-01-05', '-40.00', 'USD', '', '', ''],
    ];
    const r = await importHistoryCsv(s.db, csv(rows), { tenantName: 'Epsilon', now });
    expect(r.warnings.map((w) => w.message)).toEqual([
      'amount -40.00 is negative: imported as a credit note, not as an invoice',
    ]);
    expect(r.creditNotes).toBe(1);
    const notes = await s.db
      .select()
      .from(creditMemos)
      .where(and(eq(creditMemos.tenantId, r.tenant.id), eq(creditMemos.externalId, 'csv-credit:CN-Z')));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ totalMinor: 4000, remainingMinor: 4000 });
  });

  it('keeps tenants apart: the same invoice id in two tenants is two invoices', async () => {
    const rows = [['ACME', 'A1', '2013-01-02', '2013-02-01', '999.99', 'USD', '', '', '']];
    await importHistoryCsv(s.db, csv(rows), { tenantName: 'Other Co', now });
    const acme = await s.db.select().from(invoices).where(eq(invoices.externalId, 'A1'));
    expect(acme.map((i) => i.totalMinor).sort()).toEqual([10000, 99999]);
  });
});
