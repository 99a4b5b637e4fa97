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

  it('imports a "no due date" placeholder (9999-12-31) with a warning naming the line', () => {
    const r = parseHistoryCsv(
      csv([
        ['C', 'I1', '2019-01-01', '2019-01-31', '10', 'USD', '', '', ''],
        ['C', 'I2', '2019-01-01', '9999-12-31', '10', 'USD', '', '', ''],
      ]),
    );
    expect(r.errors).toEqual([]);
    expect(r.rows.map((x) => x.dueDate)).toEqual(['2019-01-31', '9999-12-31']);
    expect(r.warnings).toEqual([
      expect.objectContaining({
        line: 3,
        column: 'due_date',
        message: expect.stringMatching(/never overdue/),
      }),
    ]);
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
    expect(parseHistoryCsv(`${HEADER}\nC,1,2013-01-01\n`).errors[0]).toEqual({
      line: 2,
      column: 'due_date',
      message: 'this row has 3 fields; the header has 9',
    });
    expect(parseHistoryCsv(`${HEADER}\nC,"1,2013-01-01\n`).errors[0]).toMatchObject({
      line: 2,
      column: 'invoice_id',
    });
    expect(parseHistoryCsv('').errors[0]?.message).toBe('the file is empty');
  });

  it('a semicolon- or tab-separated export is named as such, not as seven missing columns', () => {
    for (const [sep, name] of [
      [';', 'semicolons'],
      ['\t', 'tabs'],
    ] as const) {
      const text = `${HEADER.replaceAll(',', sep)}\n${['C1', 'I1', '2013-01-02', '2013-02-01', '10,00', 'USD', '', '', ''].join(sep)}\n`;
      expect(parseHistoryCsv(text).errors).toEqual([
        {
          line: 1,
          column: null,
          message: `the columns are separated by ${name}; Duely reads comma-separated CSV: save or export the file as "CSV (comma-separated)" and import it again`,
        },
      ]);
    }
  });

  it('an amount that is a number but not storable says why: too many decimals, too large, or a thousands separator', () => {
    const row = (id: string, amount: string, currency = 'USD') => [
      'C1',
      id,
      '2013-01-02',
      '2013-02-01',
      amount,
      currency,
      '',
      '',
      '',
    ];
    const r = parseHistoryCsv(
      csv([
        row('I1', '12.345'),
        row('I2', '1.5', 'JPY'),
        row('I3', '99999999999999.99'),
        row('I4', '"1,234.56"'),
        row('I5', '12.3400'),
      ]),
    );
    expect(r.errors.map((e) => e.message)).toEqual([
      '"12.345" has 3 decimal places; USD amounts have at most 2',
      '"1.5" has 1 decimal place; JPY amounts have none',
      '"99999999999999.99" is too large an amount',
      '"1,234.56" is not a decimal amount in USD (write amounts without thousands separators or currency signs, with a dot for decimals: 1234.56)',
    ]);
    expect(r.rows.map((x) => x.amountMinor)).toEqual([1234]);
  });

  it('a misspelt column is named next to the missing one', () => {
    const text = `${HEADER.replace('invoice_id', 'invoce_id')}\nC1,I1,2013-01-02,2013-02-01,10,USD,,,\n`;
    expect(parseHistoryCsv(text).errors).toEqual([
      {
        line: 1,
        column: 'invoice_id',
        message: 'missing column(s): invoice_id (columns not known to Duely in the header: invoce_id)',
      },
    ]);
  });
});

describe('hostile CSV files', () => {
  const good = (id: string) => ['C1', id, '2013-01-01', '2013-01-31', '10', 'USD', '', '', ''];
  const file = (...rows: string[][]) => csv(rows);

  it('refuses a Latin-1 file at the line and column of the first byte that is not UTF-8', () => {
    const latin1 = Buffer.from(
      file(good('I1'), good('I2'), [
        'Caf\u00e9 Noir',
        'I3',
        '2013-01-01',
        '2013-01-31',
        '1',
        'USD',
        '',
        '',
        '',
      ]),
      'latin1',
    );
    const r = parseHistoryCsv(latin1);
    expect(r.errors).toEqual([
      {
        line: 4,
        column: 'customer_id',
        message:
          'the file is not UTF-8 (byte 0xE9 here, the first such byte): export or save it as UTF-8 and upload it again',
      },
    ]);
    // The same text in UTF-8 is fine.
    expect(parseHistoryCsv(Buffer.from(latin1.toString('latin1'), 'utf8')).errors).toEqual([]);
  });

  it('bounds every field and never echoes a huge value', () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    const r = parseHistoryCsv(
      Buffer.from(file(good('I1'), ['C1', huge, '2013-01-01', '2013-01-31', '1', 'USD', '', '', ''])),
    );
    expect(r.errors).toEqual([
      {
        line: 3,
        column: 'invoice_id',
        message: 'invoice_id is 10,485,760 characters long; at most 200 are allowed',
      },
    ]);
    const long = 'y'.repeat(900);
    const refused = parseHistoryCsv(file(['C1', 'I1', long, '2013-01-31', '1', 'USD', '', '', ''])).errors[0];
    expect(refused).toMatchObject({ line: 2, column: 'invoice_date' });
    expect(refused?.message).toBe(`"${'y'.repeat(40)}…" is not a date (YYYY-MM-DD)`);
  });

  it('rejects a NUL character where it is', () => {
    const r = parseHistoryCsv(
      Buffer.from(file(good('I1'), ['C1', 'I\u00002', '2013-01-01', '2013-01-31', '1', 'USD', '', '', ''])),
    );
    expect(r.errors).toEqual([
      {
        line: 3,
        column: 'invoice_id',
        message: 'contains a NUL character; a CSV file is text (is this a spreadsheet or a UTF-16 file?)',
      },
    ]);
  });

  it('refuses a line break or control character inside an id (a quoted field may hold one), naming the row', () => {
    const text = `${HEADER}\n${good('I1').join(',')}\n"C2\r\nBcc: x@evil.example",I2,2013-01-01,2013-01-31,1,USD,,,\nC3,"I3\tx",2013-01-01,2013-01-31,1,USD,,,\n`;
    const r = parseHistoryCsv(text);
    const message = (c: string) =>
      `${c} contains a line break or another control character; ids must be one line of text`;
    expect(r.errors.map((e) => [e.column, e.message])).toEqual([
      ['customer_id', message('customer_id')],
      ['invoice_id', message('invoice_id')],
    ]);
    expect(r.rows.map((x) => x.invoiceId)).toEqual(['I1']);
  });

  it('names the line a record starts on, after quoted line breaks, with LF or CRLF line ends', () => {
    for (const eol of ['\n', '\r\n']) {
      // Line 2: an invoice date broken over lines 2–3 by a quoted line break; line 4 empty; 5: a bad amount.
      const rows = [
        HEADER,
        'C1,I1,"2013-01-01',
        '",2013-01-31,1,USD,,,',
        '',
        'C2,I2,2013-01-01,2013-01-31,x,USD,,,',
        'C3,I2,2013-01-01,2013-01-31,1,USD,,,',
      ];
      const r = parseHistoryCsv(`${rows.join(eol)}${eol}`);
      expect(
        r.errors.map((e) => [e.line, e.column]),
        JSON.stringify(eol),
      ).toEqual([
        [2, 'invoice_date'],
        [5, 'amount'],
        [6, 'invoice_id'],
      ]);
      expect(r.errors[2]!.message).toBe('invoice_id I2 already appears on line 5');
    }
  });

  it('reports an unterminated quote where the quoted value starts, not at the end of the file', () => {
    const text = `${HEADER}\n${good('I1').join(',')}\nC2,"I2,2013-01-01,2013-01-31,1,USD,,,\n${good('I3').join(',')}\n${good('I4').join(',')}\n`;
    expect(parseHistoryCsv(text).errors).toEqual([
      {
        line: 3,
        column: 'invoice_id',
        message: 'a quoted value starts here and is never closed (a missing closing ")',
      },
    ]);
  });

  it('every error of a hostile file names a line and a column', () => {
    const inputs: (string | Buffer)[] = [
      Buffer.from([0xff, 0xfe, 0x63, 0x00]),
      `${HEADER}\nC,1,2,3,4,5,6,7,8,9,10\n`,
      `${HEADER}\nC,x"y",2013-01-01,2013-01-31,1,USD,,,\n`,
      `${HEADER}\n"C,1\n`,
      Buffer.concat([
        Buffer.from(`${HEADER}\nC,`),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(',2013-01-01,2013-01-31,1,USD,,,\n'),
      ]),
    ];
    for (const input of inputs) {
      const [e] = parseHistoryCsv(input).errors;
      expect(e?.line, String(input)).toBeGreaterThanOrEqual(1);
      // A UTF-16 file (the first input) is wrong as a whole: its line is 1 and no column is named.
      if (input !== inputs[0]) expect(e?.column, String(input)).toBeTruthy();
      expect(e?.message.length).toBeLessThan(200);
    }
  });
});

describe('a broken file reports every problem, not only the first', () => {
  const good = (id: string) => `C1,${id},2013-01-01,2013-01-31,10,USD,,,`;

  it('reports each broken record with its line and what is wrong, and reads on at the next line', () => {
    const text = [
      HEADER,
      good('I1'),
      'C,I2,2013-01-01', // 3: too few fields
      'C,x"y",2013-01-01,2013-01-31,1,USD,,,', // 4: a quote inside an unquoted value
      'C,"I4"z,2013-01-01,2013-01-31,1,USD,,,', // 5: text after a closing quote
      'C,I5,2013-01-01,2013-01-31,12.345,67,USD,,,', // 6: a decimal comma splits the amount
      'C,"I6",2013-01-01,"2013-01-31', // 7–8: a quoted line break, one field too many
      '",1,USD,,,,x',
      good('I9').replace('10', 'ten'), // 9: a cell error after all that
      good('I10'),
    ].join('\n');
    const r = parseHistoryCsv(`${text}\n`);
    expect(r.errors).toEqual([
      { line: 3, column: 'due_date', message: 'this row has 3 fields; the header has 9' },
      {
        line: 4,
        column: 'invoice_id',
        message: 'a quote inside a value: quote the whole value and double the inner quote ("a ""b"" c")',
      },
      {
        line: 5,
        column: 'invoice_id',
        message: 'a quote inside a value: quote the whole value and double the inner quote ("a ""b"" c")',
      },
      {
        line: 6,
        column: 'column 10',
        message:
          'this row has 10 fields; the header has 9 (a comma inside a value, as in 1,234.56? quote the value: "1,234.56")',
      },
      {
        line: 7,
        column: 'column 10',
        message:
          'this row has 10 fields; the header has 9 (a quoted value runs from line 7 to line 8: a quote missing or one too many?)',
      },
      { line: 9, column: 'amount', message: '"ten" is not a decimal amount in USD' },
    ]);
    expect(r.errorCount).toBe(6);
    expect(r.rows.map((x) => [x.line, x.invoiceId])).toEqual([
      [2, 'I1'],
      [10, 'I10'],
    ]);
  });

  it('names where an unclosed quote opens and still checks the lines after it', () => {
    // Closed by nothing: the rest of the file would be one value.
    const short = parseHistoryCsv(
      `${HEADER}\n${good('I1')}\nC2,"I2,2013-01-01,2013-01-31,1,USD,,,\n${good('I3').replace('10', 'x')}\n${good('I4')}\n`,
    );
    expect(short.errors).toEqual([
      {
        line: 3,
        column: 'invoice_id',
        message: 'a quoted value starts here and is never closed (a missing closing ")',
      },
      { line: 4, column: 'amount', message: '"x" is not a decimal amount in USD' },
    ]);
    expect(short.rows.map((x) => x.invoiceId)).toEqual(['I1', 'I4']);
    // In a large file it is not read to the end: past 1,000 characters over a line break it is a missing quote.
    const later = Array.from({ length: 100 }, (_, i) => good(`J${i}`));
    later[80] = later[80]!.replace('2013-01-31', '2013-13-31');
    const long = parseHistoryCsv(`${HEADER}\nC2,"I2,2013-01-01,2013-01-31,1,USD,,,\n${later.join('\n')}\n`);
    expect(long.errors).toEqual([
      {
        line: 2,
        column: 'invoice_id',
        message:
          'a quoted value starts here and is not closed within 1,000 characters (no value is longer): a missing closing "?',
      },
      { line: 83, column: 'due_date', message: '"2013-13-31" is not a date (YYYY-MM-DD)' },
    ]);
    expect(long.rows).toHaveLength(99);
  });

  it('keeps the first 200 errors and counts them all', () => {
    const lines = Array.from({ length: 500 }, (_, i) =>
      i % 2 ? `C,I${i},2013-01-01` : good(`I${i}`).replace(',10,', ',x,'),
    );
    const r = parseHistoryCsv(`${HEADER}\n${lines.join('\n')}\n`);
    expect(r.errors).toHaveLength(200);
    expect(r.errorCount).toBe(500);
    expect(r.errors.at(-1)!.line).toBe(201);
  });

  it('a broken header line is the one problem reported (nothing after it can be read)', () => {
    expect(parseHistoryCsv(`customer_id,"invoice_id\n${good('I1')}\n`).errors).toEqual([
      {
        line: 1,
        column: 'invoice_id',
        message: 'a quoted value starts here and is never closed (a missing closing ")',
      },
    ]);
  });
});

describe('what messy exports contain', () => {
  it('skips rows of empty cells and accepts rows that stop before the optional columns', () => {
    const r = parseHistoryCsv(
      `${HEADER},notes\nC1,I1,2013-01-01,2013-01-31,10,USD,,email,US,hello\n,,,,,,,,,\nC1,I2,2013-01-01,2013-01-31,10,USD,2013-01-20\nC1,I3,2013-01-01,2013-01-31,10,USD\n`,
    );
    expect(r.errors).toEqual([
      { line: 5, column: 'paid_date', message: 'this row has 6 fields; the header has 10' },
    ]);
    expect(r.rows.map((x) => [x.line, x.invoiceId, x.paidDate, x.delivery])).toEqual([
      [2, 'I1', null, 'email'],
      [4, 'I2', '2013-01-20', null],
    ]);
  });

  it('reads a header in another case, with spaces or hyphens for underscores, in any order', () => {
    const r = parseHistoryCsv(
      '\ufeffInvoice ID,Customer-ID,AMOUNT,Currency,Invoice Date,Due Date,Paid Date\r\nI1,C1,10.50,usd,2013-01-01,2013-01-31,\r\n',
    );
    expect(r.errors).toEqual([]);
    expect(r.rows[0]).toMatchObject({
      customerId: 'C1',
      invoiceId: 'I1',
      amountMinor: 1050,
      currency: 'USD',
    });
  });

  it("drops a no-break space or other Unicode space at a value's edge, as around a quoted value", () => {
    const r = parseHistoryCsv(
      `${HEADER}\nC1\u00a0,\u00a0I1\u3000,2013-01-01 ,\u2009"2013-01-31"\u00a0,10.00\u00a0,USD,,,\n`,
    );
    expect(r.errors).toEqual([]);
    expect(r.rows[0]).toMatchObject({
      customerId: 'C1',
      invoiceId: 'I1',
      dueDate: '2013-01-31',
      amountMinor: 1000,
    });
  });

  it('names an Excel text formula (="00123") for what it is', () => {
    expect(parseHistoryCsv(`${HEADER}\nC1,="00123",2013-01-01,2013-01-31,10,USD,,,\n`).errors).toEqual([
      {
        line: 2,
        column: 'invoice_id',
        message:
          'a spreadsheet formula (="…"), not a value: export the values (in the spreadsheet, paste the column as values) and import again',
      },
    ]);
  });

  it('refuses a header naming a column twice instead of reading one of them', () => {
    const text = `customer_id,Invoice ID,invoice_date,due_date,amount,currency,paid_date,invoice_id\nC1,I1,2013-01-01,2013-01-31,10,USD,,INV-1\n`;
    expect(parseHistoryCsv(text).errors).toEqual([
      {
        line: 1,
        column: 'invoice_id',
        message:
          'the header has invoice_id twice (columns 2 and 8): keep the one Duely should read and remove or rename the other',
      },
    ]);
  });

  it('says what to write for an accounting negative and a date with a time', () => {
    const r = parseHistoryCsv(
      csv([
        ['C1', 'I1', '2013-01-01', '2013-01-31', '(12.00)', 'USD', '', '', ''],
        ['C1', 'I2', '2013-01-01 00:00:00', '2013-01-31T00:00:00Z', '12', 'USD', '2013-13-01 10:00', '', ''],
      ]),
    );
    expect(r.errors.map((e) => e.message)).toEqual([
      '"(12.00)" is not a decimal amount in USD (write a negative amount with a minus sign: -12.00)',
      '"2013-01-01 00:00:00" is a date and time; write the date alone (YYYY-MM-DD: 2013-01-01)',
      '"2013-01-31T00:00:00Z" is a date and time; write the date alone (YYYY-MM-DD: 2013-01-31)',
      '"2013-13-01 10:00" is not a date (YYYY-MM-DD)',
    ]);
  });

  it('a byte that is not UTF-8 or a NUL is reported once, first, and the rest of the file is still checked', () => {
    const input = Buffer.concat([
      Buffer.from(`${HEADER}\nC1,I1,2013-01-01,2013-01-31,ten,USD,,,\nCaf`),
      Buffer.from([0xe9]), // Latin-1 é
      Buffer.from(
        ',I2,2013-01-01,2013-01-31,1,USD,,,\nC3,I\u00003,2013-01-01,2013-01-31,1,USD,,,\nC4,I4,2013-01-01\n',
      ),
      Buffer.from('C5,I5,2013-01-01,2013-01-31,1,USD,,,\n'),
      Buffer.from([0xe9]),
      Buffer.from('\n'),
    ]);
    expect(parseHistoryCsv(input).errors).toEqual([
      {
        line: 3,
        column: 'customer_id',
        message:
          'the file is not UTF-8 (byte 0xE9 here, the first such byte): export or save it as UTF-8 and upload it again',
      },
      {
        line: 4,
        column: 'invoice_id',
        message: 'contains a NUL character; a CSV file is text (is this a spreadsheet or a UTF-16 file?)',
      },
      { line: 2, column: 'amount', message: '"ten" is not a decimal amount in USD' },
      { line: 5, column: 'due_date', message: 'this row has 3 fields; the header has 9' },
      { line: 7, column: 'invoice_id', message: 'this row has 1 field; the header has 9' },
    ]);
  });

  it('quotes a refused cell without its control characters (duely import prints messages to a terminal)', () => {
    const esc = '\u001b]0;owned\u0007\u001b[2J';
    const r = parseHistoryCsv(
      csv([['C1', 'I1', `"2013${esc}"`, '2013-01-31', `"1${esc}"`, `"US${esc}"`, '', `"e${esc}"`, '']]),
    );
    expect(r.errors.map((e) => e.column)).toEqual(['invoice_date', 'currency', 'delivery']);
    for (const e of r.errors) expect(e.message).not.toMatch(/\p{Cc}/u);
    expect(r.errors[0]!.message).toBe('"2013\\x1B]0;owned\\x07\\x1B[2J" is not a date (YYYY-MM-DD)');
    // A column the file's own header names.
    const ragged = parseHistoryCsv(`${HEADER},"x${esc}"\nC1,I1,2013-01-01\n`).errors;
    expect(ragged).toEqual([
      { line: 2, column: 'due_date', message: 'this row has 3 fields; the header has 10' },
    ]);
    const long = parseHistoryCsv(`${HEADER},"x${esc}"\nC1,I1,2013-01-01,2013-01-31,1,USD,,,,,,\n`).errors;
    expect(long[0]!.column).toBe('column 11');
    const extra = parseHistoryCsv(
      `${HEADER},"x${esc}"\nC1,I1,2013-01-01,2013-01-31,1,USD,,,,${'y'.repeat(1001)}\n`,
    );
    expect(extra.errors[0]!.column).toBe('x\\x1B]0;owned\\x07\\x1B[2j'); // header names are lower case
  });

  it('names the line of a NUL in a file whose lines end in CR alone (old Mac exports)', () => {
    const text = `${HEADER}\rC1,I1,2013-01-01,2013-01-31,10,USD,,,\rC1,I\u00002,2013-01-01,2013-01-31,10,USD,,,\r`;
    expect(parseHistoryCsv(text).errors).toEqual([
      {
        line: 3,
        column: 'invoice_id',
        message: 'contains a NUL character; a CSV file is text (is this a spreadsheet or a UTF-16 file?)',
      },
    ]);
  });

  it('names a UTF-16 file and a spreadsheet workbook for what they are', () => {
    const text = `${HEADER}\nC1,I1,2013-01-01,2013-01-31,10,USD,,,\n`;
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
    for (const input of [le, be]) {
      expect(parseHistoryCsv(input).errors).toEqual([
        {
          line: 1,
          column: null,
          message:
            'the file is UTF-16 (Excel\'s "Unicode Text"), not UTF-8: save it as "CSV UTF-8 (comma delimited)" and upload it again',
        },
      ]);
    }
    // Without its byte-order mark: NUL characters in the header line (never quoted back as a column's name).
    expect(parseHistoryCsv(Buffer.from(text, 'utf16le')).errors).toEqual([
      {
        line: 1,
        column: null,
        message:
          'contains a NUL character in the header line: a UTF-16 file or a spreadsheet, not CSV? save it as "CSV UTF-8 (comma delimited)" and upload that',
      },
    ]);
    const xlsx = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00]);
    expect(parseHistoryCsv(xlsx).errors).toEqual([
      {
        line: 1,
        column: null,
        message:
          'this is a zip file, such as an Excel workbook (.xlsx), not CSV: save it as "CSV UTF-8 (comma delimited)" and upload that',
      },
    ]);
  });
});
