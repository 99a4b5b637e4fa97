/**
 * Real exports (SAP, NetSuite…) carry prepayments, credit notes, many payment terms and several currencies. They
 * import with warnings that name the line; only what cannot be understood refuses the file.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHistoryCsv } from '../../connectors/csv/parse';
import { creditMemos, invoices, tenants } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { CsvImportError, importHistoryCsv } from '../../src/sync/csv-import';
import { csv } from '../helpers/csv';
import { createTestServices } from '../helpers/services';

/** A small SAP-like export: net 0 … net 90, USD and CAD, a prepayment, a credit note and a zero line. */
const exportRows = [
  ['140104', '9001', '2019-01-02', '2019-01-12', '1500.00', 'USD', '2019-01-15', '', ''], // net 10
  ['140104', '9002', '2019-01-05', '2019-01-05', '80.00', 'USD', '2019-01-03', '', ''], // paid before issue
  ['200769', '9003', '2019-01-07', '2019-04-07', '9000.50', 'CAD', '', '', ''], // net 90, CAD
  ['200769', '9004', '2019-01-08', '2019-02-07', '-120.00', 'CAD', '', '', ''], // credit note
  ['140104', '9005', '2019-01-09', '2019-01-19', '0.00', 'USD', '2019-01-20', '', ''], // zero
  ['140104', '9006', '2019-01-10', '2019-01-09', '55.00', 'USD', '', '', ''], // due before issue
  ['310001', '9007', '2019-01-11', '2019-02-25', '700.00', 'USD', '2019-02-20', '', ''], // net 45
];

describe('parsing a real export', () => {
  it('accepts prepayments, credit notes, zero lines, odd due dates and two currencies with warnings naming the line', () => {
    const r = parseHistoryCsv(csv(exportRows));
    expect(r.errors).toEqual([]);
    expect(r.rows.map((x) => x.invoiceId)).toEqual(['9001', '9002', '9003', '9006', '9007']);
    expect(r.rows.find((x) => x.invoiceId === '9002')).toMatchObject({
      paidDate: '2019-01-03',
      invoiceDate: '2019-01-05',
    });
    expect(r.credits.map((x) => [x.invoiceId, x.amountMinor])).toEqual([
      ['9004', 12000],
      ['9005', 0],
    ]);
    const byLine = Object.fromEntries(r.warnings.map((w) => [w.line, w]));
    expect(byLine[3]).toMatchObject({ column: 'paid_date' });
    expect(byLine[3]!.message).toMatch(/prepayment/);
    expect(byLine[5]).toMatchObject({ column: 'amount' });
    expect(byLine[5]!.message).toMatch(/credit note/);
    expect(byLine[6]!.message).toMatch(/zero/);
    expect(byLine[7]).toMatchObject({ column: 'due_date' });
    // The second currency is named once, at its first line.
    expect(r.warnings.filter((w) => w.column === 'currency')).toEqual([
      expect.objectContaining({ line: 4, column: 'currency' }),
    ]);
    expect(r.warningCount).toBe(r.warnings.length);
  });

  it('still refuses what cannot be understood', () => {
    const r = parseHistoryCsv(
      csv([...exportRows, ['1', '9008', '2019-13-01', '2019-01-31', '5', 'USD', '', '', '']]),
    );
    expect(r.errors).toEqual([expect.objectContaining({ line: 9, column: 'invoice_date' })]);
  });
});

describe('importing a real export', () => {
  let s: Services;
  beforeAll(async () => {
    s = await createTestServices({ queue: false });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('imports every invoice, keeps each currency, stores the credit note and reports the warnings', async () => {
    const r = await importHistoryCsv(s.db, csv(exportRows), {
      tenantName: 'Food Distribution',
      now: new Date('2019-09-01T00:00:00Z'),
    });
    expect(r.rows).toBe(5);
    expect(r.invoices).toMatchObject({ inserted: 5, open: 2, paid: 3 });
    expect(r.creditNotes).toBe(1);
    const [tenant] = await s.db.select().from(tenants).where(eq(tenants.id, r.tenant.id));
    expect(tenant!.currency).toBe('USD'); // most invoices are in USD
    expect(r.warningCount).toBe(5);
    expect(r.warnings.map((w) => w.line).sort()).toEqual([3, 4, 5, 6, 7]);
    const rows = await s.db.select().from(invoices).where(eq(invoices.tenantId, r.tenant.id));
    expect(rows.find((i) => i.externalId === '9002')).toMatchObject({
      status: 'paid',
      paidDate: '2019-01-03',
    });
    expect(rows.find((i) => i.externalId === '9003')).toMatchObject({
      currency: 'CAD',
      balanceMinor: 900050,
    });
    const [memo] = await s.db
      .select()
      .from(creditMemos)
      .where(and(eq(creditMemos.tenantId, r.tenant.id), eq(creditMemos.externalId, 'csv-credit:9004')));
    expect(memo).toMatchObject({ totalMinor: 12000, remainingMinor: 12000, currency: 'CAD' });
    // A re-import of the same export is idempotent: nothing new, nothing changed.
    const again = await importHistoryCsv(s.db, csv(exportRows), {
      tenantName: 'Food Distribution',
      now: new Date('2019-09-02T00:00:00Z'),
    });
    expect(again.invoices).toMatchObject({ inserted: 0, updated: 0, unchanged: 5 });
    expect(await s.db.select().from(creditMemos).where(eq(creditMemos.tenantId, r.tenant.id))).toHaveLength(
      1,
    );
  });

  it('refuses a file whose only trouble is an unreadable date, importing nothing', async () => {
    const err = await importHistoryCsv(
      s.db,
      csv([['X', 'X1', '2019-02-30', '2019-03-01', '1', 'USD', '', '', '']]),
      { tenantName: 'Broken', now: new Date('2019-09-01T00:00:00Z') },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(CsvImportError);
  });
});
