import { describe, expect, it } from 'vitest';
import { parseHistoryCsv } from '../../connectors/csv/parse';
import { csv, HEADER } from '../helpers/csv';

describe('canonical CSV parsing', () => {
  it('reads a good file, with optional columns, extra columns ignored, BOM and CRLF tolerated', () => {
    const text = `\ufeff${HEADER},notes\r\nC1,I1,2013-01-02,2013-02-01,1234.50,usd,2013-01-20,email,US,hello\r\nC1,I2,2013-01-05,2013-02-04,7,USD,,print,US,\r\n`;
    const r = parseHistoryCsv(text);
    expect(r.errors).toEqual([]);
    expect(r.rows).toHaveLength(2);
    expect(r.rows[0]).toMatchObject({
      invoiceId: 'I1',
      amountMinor: 123450,
      currency: 'USD',
      paidDate: '2013-01-20',
      delivery: 'email',
    });
    expect(r.rows[1]).toMatchObject({
      invoiceId: 'I2',
      amountMinor: 700,
      paidDate: null,
      delivery: 'print',
      line: 3,
    });
  });

  it('works without the optional columns', () => {
    const r = parseHistoryCsv(
      'customer_id,invoice_id,invoice_date,due_date,amount,currency,paid_date\nC,1,2013-01-01,2013-01-31,10,EUR,\n',
    );
    expect(r.errors).toEqual([]);
    expect(r.rows[0]).toMatchObject({ delivery: null, country: null, currency: 'EUR' });
  });

  it.each([
    ['empty customer', ['', 'I', '2013-01-01', '2013-01-31', '1', 'USD', '', '', ''], 'customer_id'],
    ['impossible date', ['C', 'I', '2013-02-30', '2013-03-31', '1', 'USD', '', '', ''], 'invoice_date'],
    ['text amount', ['C', 'I', '2013-01-01', '2013-01-31', 'ten', 'USD', '', '', ''], 'amount'],
    ['too many decimals', ['C', 'I', '2013-01-01', '2013-01-31', '1.005', 'USD', '', '', ''], 'amount'],
    ['unknown currency', ['C', 'I', '2013-01-01', '2013-01-31', '1', 'XXQ', '', '', ''], 'currency'],
    ['bad paid date', ['C', 'I', '2013-01-10', '2013-01-31', '1', 'USD', '01/02/2013', '', ''], 'paid_date'],
    ['bad delivery', ['C', 'I', '2013-01-10', '2013-01-31', '1', 'USD', '', 'fax', ''], 'delivery'],
  ])('reports %s with its line and column', (_name, cells, column) => {
    const r = parseHistoryCsv(csv([['OK', 'I0', '2013-01-01', '2013-01-31', '1', 'USD', '', '', ''], cells]));
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ line: 3, column });
  });

  it('rejects a duplicate invoice id, naming the first line', () => {
    const r = parseHistoryCsv(
      csv([
        ['C', 'I1', '2013-01-01', '2013-01-31', '1', 'USD', '', '', ''],
        ['C', 'I1', '2013-01-02', '2013-02-01', '2', 'USD', '', '', ''],
      ]),
    );
    expect(r.errors).toEqual([
      { line: 3, column: 'invoice_id', message: 'invoice_id I1 already appears on line 2' },
    ]);
  });

  it('reports a missing column, a ragged row and an unclosed quote', () => {
    expect(parseHistoryCsv('customer_id,invoice_id\nC,1\n').errors[0]).toMatchObject({
      line: 1,
      column: 'invoice_date',
    });
    expect(parseHistoryCsv(`${HEADER}\nC,1,2013-01-01\n`).errors[0]?.message).toMatch(/malformed CSV/);
    expect(parseHistoryCsv(`${HEADER}\nC,"1,2013-01-01\n`).errors[0]).toMatchObject({ line: 2 });
    expect(parseHistoryCsv('').errors[0]?.message).toBe('the file is empty');
  });
});
