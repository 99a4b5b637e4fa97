/**
 * A large import (`duely import` of several years of history) reads its file as a stream, a chunk at a time: the
 * rows go to the database's staging table as they are read, so memory holds about one chunk whatever the size of
 * the file, and the import stays all-or-nothing (a bad line anywhere, a repeated id in another chunk, imports
 * nothing). Chunks are made small here (`chunkChars`) so that a small file spans many.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseHistoryCsv } from '../../connectors/csv/parse';
import { creditMemos, customers, invoices, payments, tenants } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { CsvImportError, importHistoryCsv } from '../../src/sync/csv-import';
import { HEADER } from '../helpers/csv';
import { createTestServices } from '../helpers/services';

/** Rows handed to the database so far (every call of the staging write), counted as the importer makes them. */
const staged = vi.hoisted(() => ({ rows: 0 }));
vi.mock('../../src/db/queries/csv-import', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/db/queries/csv-import')>();
  return {
    ...mod,
    stageCsvRows: (
      tx: Parameters<typeof mod.stageCsvRows>[0],
      batch: Parameters<typeof mod.stageCsvRows>[1],
    ) => {
      staged.rows += batch.rows.length + batch.credits.length;
      return mod.stageCsvRows(tx, batch);
    },
  };
});

let s: Services;
const now = new Date('2013-07-01T00:00:00Z');

beforeAll(async () => {
  s = await createTestServices({ queue: false });
});
afterAll(async () => {
  await s?.close();
});

/** Line i of a ledger: quoted names with commas, non-ASCII text, paid and open invoices, some credit notes. */
function line(i: number, eol = '\n'): string {
  const cells = [
    i % 4 === 0 ? `"Müller, ${i % 9} GmbH"` : `C${i % 9}`,
    `INV-${i}`,
    `2013-0${1 + (i % 6)}-1${i % 10}`,
    `2013-0${2 + (i % 6)}-1${i % 10}`,
    i % 50 === 7 ? `-${(i % 97) + 1}.25` : `${((i * 37) % 5000) + 1}.${String(i % 100).padStart(2, '0')}`,
    i % 40 === 3 ? 'EUR' : 'USD',
    i % 3 === 0 ? '' : `2013-0${3 + (i % 6)}-0${1 + (i % 9)}`,
    i % 2 ? 'email' : 'print',
    i % 5 ? '日本' : 'DE',
  ];
  return `${cells.join(',')}${eol}`;
}

function text(n: number, eol = '\n'): string {
  let out = `${HEADER}${eol}`;
  for (let i = 0; i < n; i++) out += line(i, eol);
  return out;
}

/** The file as a stream of odd-sized byte pieces (cut inside UTF-8 sequences and CRLFs), counting what was read. */
function streamOf(content: string, pieceBytes = 333) {
  const bytes = Buffer.from(content);
  const read = { bytes: 0, rows: 0 };
  async function* pieces() {
    for (let i = 0; i < bytes.length; i += pieceBytes) {
      const piece = bytes.subarray(i, i + pieceBytes);
      read.bytes += piece.length;
      read.rows = bytes.subarray(0, read.bytes).toString('latin1').split('\n').length - 2;
      yield piece;
    }
  }
  return { pieces: pieces(), read };
}

async function ledgerOf(tenantId: string) {
  const inv = await s.db
    .select({
      id: invoices.externalId,
      customer: customers.externalId,
      issue: invoices.issueDate,
      due: invoices.dueDate,
      currency: invoices.currency,
      total: invoices.totalMinor,
      balance: invoices.balanceMinor,
      status: invoices.status,
      paid: invoices.paidDate,
      delivery: invoices.delivery,
    })
    .from(invoices)
    .innerJoin(customers, eq(customers.id, invoices.customerId))
    .where(eq(invoices.tenantId, tenantId))
    .orderBy(invoices.externalId);
  const pay = await s.db
    .select({
      id: payments.externalId,
      amount: payments.amountMinor,
      date: payments.date,
      status: payments.status,
    })
    .from(payments)
    .where(eq(payments.tenantId, tenantId))
    .orderBy(payments.externalId);
  const notes = await s.db
    .select({
      id: creditMemos.externalId,
      total: creditMemos.totalMinor,
      remaining: creditMemos.remainingMinor,
    })
    .from(creditMemos)
    .where(eq(creditMemos.tenantId, tenantId))
    .orderBy(creditMemos.externalId);
  const cust = await s.db
    .select({ id: customers.externalId, first: customers.firstSeen, country: customers.country })
    .from(customers)
    .where(eq(customers.tenantId, tenantId))
    .orderBy(customers.externalId);
  return { inv, pay, notes, cust };
}

describe('CSV import of a stream', () => {
  it('hands the rows to the database while it reads, never more than about a chunk behind the stream', async () => {
    const n = 3000;
    const content = text(n);
    const { pieces, read } = streamOf(content, 500);
    let behind = 0;
    staged.rows = 0;
    async function* watched() {
      for await (const piece of pieces) {
        behind = Math.max(behind, read.rows - staged.rows);
        yield piece;
      }
    }
    const chunkChars = 8 * 1024; // about 120 rows
    const r = await importHistoryCsv(s.db, watched(), { tenantName: 'Streamed', now, chunkChars });
    const parsed = parseHistoryCsv(content);
    expect(r.rows).toBe(parsed.rows.length);
    expect(r.creditNotes).toBe(parsed.credits.length);
    expect(staged.rows).toBe(n);
    // A chunk being parsed, one being staged and the piece in hand: a few hundred rows, never the file's 3,000.
    expect(behind).toBeGreaterThan(0);
    expect(behind).toBeLessThan(400);
  });

  it('stores exactly what importing the whole file at once stores, and re-importing the stream changes nothing', async () => {
    const content = text(1200, '\r\n');
    const whole = await importHistoryCsv(s.db, Buffer.from(content), { tenantName: 'Whole Co', now });
    const streamed = await importHistoryCsv(s.db, streamOf(content, 77).pieces, {
      tenantName: 'Stream Co',
      now,
      chunkChars: 2000,
    });
    const { tenant: _a, syncRunId: _b, ...wholeResult } = whole;
    const { tenant: _c, syncRunId: _d, ...streamedResult } = streamed;
    expect(streamedResult).toEqual(wholeResult);
    expect(streamed.sha256).toBe(whole.sha256);
    expect(await ledgerOf(streamed.tenant.id)).toEqual(await ledgerOf(whole.tenant.id));
    const paidInvoices = (await ledgerOf(whole.tenant.id)).inv.filter((i) => i.status === 'paid').length;
    expect(paidInvoices).toBe(whole.invoices.paid);
    expect(whole.creditNotes).toBeGreaterThan(0);

    let changed: { count: number; ids: string[] } | undefined;
    const again = await importHistoryCsv(s.db, streamOf(content, 1001).pieces, {
      tenantName: 'Stream Co',
      now,
      chunkChars: 2000,
      afterWrite: async (_tx, _r, c) => {
        changed = c;
      },
    });
    expect(again.invoices).toMatchObject({ inserted: 0, updated: 0, unchanged: whole.rows });
    expect(changed).toEqual({ count: 0, ids: [] });
  });

  it('refuses a file whose invoice ids repeat in other chunks, naming both lines, and imports nothing', async () => {
    const lines = text(400).split('\n');
    // Line 300 repeats line 12's id; line 350 repeats the id of line 200, itself refused (a bad amount).
    lines[199] = lines[199]!.replace(/,(-?[\d.]+),(USD|EUR),/, ',12;5,$2,');
    lines[299] = lines[299]!.replace('INV-298', 'INV-10');
    lines[349] = lines[349]!.replace('INV-348', 'INV-198');
    const content = lines.join('\n');
    const err = await importHistoryCsv(s.db, streamOf(content).pieces, {
      tenantName: 'Twice',
      now,
      chunkChars: 1000,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(CsvImportError);
    // What reading the whole file in memory reports, word for word.
    expect(err.issues).toEqual(parseHistoryCsv(content).errors);
    expect(err.issues.map((i: { line: number; column: string }) => [i.line, i.column])).toEqual([
      [200, 'amount'],
      [300, 'invoice_id'],
      [350, 'invoice_id'],
    ]);
    expect(err.issues[1].message).toBe('invoice_id INV-10 already appears on line 12');
    expect(await s.db.select().from(tenants).where(eq(tenants.slug, 'twice'))).toHaveLength(0);
  });

  it('refuses a file whose only fault is an id repeated in another chunk, and imports nothing', async () => {
    const lines = text(300).split('\n');
    lines[250] = lines[250]!.replace('INV-249,', 'INV-3,');
    const content = lines.join('\n');
    const err = await importHistoryCsv(s.db, streamOf(content).pieces, {
      tenantName: 'Once',
      now,
      chunkChars: 1000,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(CsvImportError);
    expect(err.issues).toEqual([
      { line: 251, column: 'invoice_id', message: 'invoice_id INV-3 already appears on line 5' },
    ]);
    expect(await s.db.select().from(tenants).where(eq(tenants.slug, 'once'))).toHaveLength(0);
    // The same transaction goes on after the refused key: a good file imports on the same connection.
    const ok = await importHistoryCsv(s.db, text(300), { tenantName: 'Once', now });
    expect(ok.rows).toBe(parseHistoryCsv(text(300)).rows.length);
  });

  it('imports nothing when the stream breaks halfway, and the next import goes on', async () => {
    const { pieces } = streamOf(text(600), 400);
    async function* broken() {
      let n = 0;
      for await (const piece of pieces) {
        if (++n === 60) throw new Error('disk gone');
        yield piece;
      }
    }
    const err = await importHistoryCsv(s.db, broken(), { tenantName: 'Broken', now, chunkChars: 2000 }).catch(
      (e) => e,
    );
    expect(err.message).toBe('disk gone');
    expect(await s.db.select().from(tenants).where(eq(tenants.slug, 'broken'))).toHaveLength(0);
    expect((await importHistoryCsv(s.db, text(10), { tenantName: 'Broken', now })).invoices.inserted).toBe(
      parseHistoryCsv(text(10)).rows.length,
    );
  });

  it('lists the first 200 errors as reading the whole file does and counts them all, repeated ids in their place', async () => {
    const lines = text(900).split('\n');
    for (let i = 10; i < 900; i += 3) lines[i] = lines[i]!.replace(`INV-${i - 1},`, `INV-${i - 2},`);
    for (let i = 11; i < 900; i += 6) lines[i] = lines[i]!.replace(/,(\d{4}-\d\d-\d\d),/, ',someday,');
    const content = lines.join('\n');
    const err = await importHistoryCsv(s.db, Buffer.from(content), {
      tenantName: 'Many',
      now,
      chunkChars: 3000,
    }).catch((e) => e);
    const expected = parseHistoryCsv(content);
    expect(expected.errors.length).toBeGreaterThanOrEqual(200);
    expect(err.issues).toEqual(expected.errors);
    // Every error is counted, the ones past the first 200 too (repeated ids found by the database among them).
    expect(expected.errorCount).toBeGreaterThan(400);
    expect(err.total).toBe(expected.errorCount);
  });

  it('keeps the first 200 warnings in full and counts every one by kind', async () => {
    // Every due date (the fourth field, after a quoted name or not) before its invoice date.
    const content = text(450)
      .split('\n')
      .map((l, i) => (i === 0 ? l : l.replace(/^((?:"[^"]*"|[^,]*),[^,]*,[^,]*,)[^,]*/, '$12012-01-01')))
      .join('\n');
    const r = await importHistoryCsv(s.db, streamOf(content).pieces, {
      tenantName: 'Warned',
      now,
      chunkChars: 1500,
    });
    const credits = Array.from({ length: 450 }, (_, i) => i).filter((i) => i % 50 === 7).length;
    expect(r.warningsByColumn).toEqual({ due_date: 450, amount: credits, currency: 1 });
    expect(r.warningCount).toBe(450 + credits + 1);
    expect(r.warnings).toHaveLength(200);
    expect(r.warnings[0]).toEqual({
      line: 2,
      column: 'due_date',
      message: 'due date 2012-01-01 is before the invoice date 2013-01-10; imported as is',
    });
  });

  it('hands on the count of changed invoices and the first thousand ids, not one id per invoice', async () => {
    let changed: { count: number; ids: string[] } | undefined;
    await importHistoryCsv(s.db, text(1500), {
      tenantName: 'Counted',
      now,
      afterWrite: async (_tx, _r, c) => {
        changed = c;
      },
    });
    expect(changed!.count).toBe(parseHistoryCsv(text(1500)).rows.length);
    expect(changed!.ids).toHaveLength(1000);
    const [t] = await s.db.select().from(tenants).where(eq(tenants.slug, 'counted'));
    const [found] = await s.db
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(invoices)
      .where(and(eq(invoices.tenantId, t!.id), inArray(invoices.id, changed!.ids)));
    expect(found!.n).toBe(1000);
  });
});
