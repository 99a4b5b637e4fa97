/**
 * A broken CSV, uploaded or imported from outside: every problem of the file comes back in one answer (structural
 * ones among the cells', by line, the first 200 listed and all counted), and nothing of it is written, whether the
 * tenant is new or already holds a ledger. Two imports of one tenant at once both land, neither duplicating the other.
 */
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { findTenant } from '../../src/db/queries/tenants';
import { customers, invoices } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { CsvImportError, importHistoryCsv } from '../../src/sync/csv-import';
import { suiteTestApp } from '../helpers/app';
import { HEADER } from '../helpers/csv';

const testApp = suiteTestApp({ token: 'test admin' });
let s: Services;
beforeAll(() => {
  s = testApp.services;
});
const now = new Date('2013-07-01T00:00:00Z');

const good = (id: string, amount = '10', customer = 'C1') =>
  `${customer},${id},2013-01-01,2013-01-31,${amount},USD,,,`;

async function upload(tenant: string, body: string) {
  return testApp.app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${tenant}/imports`,
    headers: { ...testApp.auth, 'content-type': 'text/csv' },
    payload: body,
  });
}

async function invoiceAmounts(tenantId: string) {
  const rows = await s.db
    .select({ id: invoices.externalId, total: invoices.totalMinor })
    .from(invoices)
    .where(eq(invoices.tenantId, tenantId));
  return Object.fromEntries(rows.map((r) => [r.id, Number(r.total)]));
}

describe('a broken CSV', () => {
  it('answers one 422 with every problem by line, the first 200 listed and all counted, and writes nothing', async () => {
    const lines = [HEADER, good('I1')];
    // 3: an unclosed quote that would swallow the file; then 300 rows, every third ragged, every third a bad cell,
    // every third a repeat of I1.
    lines.push('C2,"I2,2013-01-01,2013-01-31,1,USD,,,');
    for (let i = 0; i < 300; i++) {
      lines.push(i % 3 === 0 ? `C,R${i},2013-01-01` : i % 3 === 1 ? good(`B${i}`, 'ten') : good('I1'));
    }
    const r = await upload('broken-new', `${lines.join('\n')}\n`);
    expect(r.statusCode).toBe(422);
    const error = r.json().error;
    expect(error.code).toBe('invalid_csv');
    expect(error.message).toMatch(
      /^The file was not imported: 301 errors; the first 200 are listed \(line 3, column invoice_id: a quoted value starts here and is not closed within 1,000 characters/,
    );
    expect(error.details).toHaveLength(200);
    // The count the page shows ("… and 101 more") without parsing the message.
    expect(error.total).toBe(301);
    expect(error.details.slice(0, 4)).toEqual([
      {
        line: 3,
        column: 'invoice_id',
        message:
          'a quoted value starts here and is not closed within 1,000 characters (no value is longer): a missing closing "?',
      },
      { line: 4, column: 'due_date', message: 'this row has 3 fields; the header has 9' },
      { line: 5, column: 'amount', message: '"ten" is not a decimal amount in USD' },
      { line: 6, column: 'invoice_id', message: 'invoice_id I1 already appears on line 2' },
    ]);
    expect(await findTenant(s.db, 'broken-new')).toBeNull();
  });

  it('a NUL or a byte that is not UTF-8 past the header is reported first, with every other problem', async () => {
    const body = Buffer.concat([
      Buffer.from(`${HEADER}\n${good('N1')}\nC2,N2,2013-01-01,2013-01-31,1,USD,,,U\u0000S\n`),
      Buffer.from(`${good('N3', 'ten')}\nC\u00e9,N4,2013-01-01,2013-01-31,1,USD,,,\n`, 'latin1'),
      Buffer.from(`${good('N1')}\n`),
    ]);
    const r = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/tenants/bytes/imports',
      headers: { ...testApp.auth, 'content-type': 'text/csv' },
      payload: body,
    });
    expect(r.statusCode).toBe(422);
    expect(r.json().error.details).toEqual([
      {
        line: 3,
        column: 'country',
        message: 'contains a NUL character; a CSV file is text (is this a spreadsheet or a UTF-16 file?)',
      },
      {
        line: 5,
        column: 'customer_id',
        message:
          'the file is not UTF-8 (byte 0xE9 here, the first such byte): export or save it as UTF-8 and upload it again',
      },
      { line: 4, column: 'amount', message: '"ten" is not a decimal amount in USD' },
      { line: 6, column: 'invoice_id', message: 'invoice_id N1 already appears on line 2' },
    ]);
    expect(await findTenant(s.db, 'bytes')).toBeNull();
  });

  it('leaves an existing ledger exactly as it was when a newer file has errors', async () => {
    const first = await upload('kept', `${[HEADER, good('K1'), good('K2')].join('\n')}\n`);
    expect(first.statusCode).toBe(201);
    const tenant = (await findTenant(s.db, 'kept'))!;
    const before = await invoiceAmounts(tenant.id);
    // The newer export changes K1 and adds K3, but one row is broken.
    const r = await upload(
      'kept',
      `${[HEADER, good('K1', '99'), 'C1,"K2"x,,,,,,,', good('K3')].join('\n')}\n`,
    );
    expect(r.statusCode).toBe(422);
    expect(r.json().error.total).toBe(1);
    expect(r.json().error.details).toEqual([
      {
        line: 3,
        column: 'invoice_id',
        message: 'a quote inside a value: quote the whole value and double the inner quote ("a ""b"" c")',
      },
    ]);
    expect(await invoiceAmounts(tenant.id)).toEqual(before);
  });

  it('two imports of one new tenant at once both land, each customer and invoice once', async () => {
    const a = `${[HEADER, good('P1', '10', 'SHARED'), good('P2', '20', 'A')].join('\n')}\n`;
    const b = `${[HEADER, good('P2', '25', 'A'), good('P3', '30', 'SHARED')].join('\n')}\n`;
    const results = await Promise.allSettled([
      importHistoryCsv(s.db, a, { tenantName: 'Twice', now }),
      importHistoryCsv(s.db, b, { tenantName: 'Twice', now }),
    ]);
    expect(results.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled']);
    const tenant = (await findTenant(s.db, 'twice'))!;
    const amounts = await invoiceAmounts(tenant.id);
    expect(Object.keys(amounts).sort()).toEqual(['P1', 'P2', 'P3']);
    // P2 is as the import that committed last has it.
    expect([2000, 2500]).toContain(amounts.P2);
    const names = await s.db
      .select({ id: customers.externalId })
      .from(customers)
      .where(eq(customers.tenantId, tenant.id));
    expect(names.map((c) => c.id).sort()).toEqual(['A', 'SHARED']);
  });

  it('an upload of another media type says what to send, whatever the type', async () => {
    for (const type of ['application/octet-stream', 'application/vnd.ms-excel', 'text/plain']) {
      const r = await testApp.app.inject({
        method: 'POST',
        url: '/api/v1/tenants/typed/imports',
        headers: { ...testApp.auth, 'content-type': type },
        payload: `${HEADER}\n${good('T1')}\n`,
      });
      expect(r.statusCode, type).toBe(415);
      expect(r.json().error, type).toEqual({
        code: 'unsupported_media_type',
        message: 'send the CSV as text/csv or as multipart/form-data',
      });
    }
    expect(await findTenant(s.db, 'typed')).toBeNull();
  });

  it('the error counts what it does not list', () => {
    const e = new CsvImportError([{ line: 2, column: 'amount', message: 'x' }], 1234);
    expect(e.message).toBe(
      'The file was not imported: 1,234 errors; the first 1 are listed (line 2, column amount: x; …)',
    );
  });
});
