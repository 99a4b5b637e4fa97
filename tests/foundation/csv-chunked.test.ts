/**
 * The CSV reader takes a file a chunk at a time (a large import never holds the whole file). Wherever the chunks
 * and the pieces of bytes happen to end, in a quoted value, a CRLF or a UTF-8 sequence, it must report exactly what
 * reading the whole file at once reports: the same rows, lines, errors and warnings.
 */
import { describe, expect, it } from 'vitest';
import { parseHistoryCsv } from '../../connectors/csv/parse';
import { HEADER } from '../helpers/csv';

const WHOLE = { chunkChars: 1e9, pieceSize: 1e9 };

function rows(n: number, cell: (i: number) => string[] | null = () => null): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      (
        cell(i) ?? [
          i % 3 === 0 ? `"Müller, ${i % 7} GmbH"` : `C${i % 7}`,
          `I${i}`,
          '2013-01-02',
          '2013-02-01',
          i % 11 === 0 ? '-12.50' : `${(i * 7.31).toFixed(2)}`,
          i % 13 === 0 ? 'EUR' : 'USD',
          i % 2 ? '2013-03-01' : '',
          'email',
          i % 5 ? '日本' : 'DE',
        ]
      ).join(','),
    );
  }
  return out;
}

const file = (lines: string[], eol = '\n') => `${[HEADER, ...lines].join(eol)}${eol}`;

const inputs: Record<string, string | Buffer> = {
  'good, LF': file(rows(300)),
  'good, CRLF with a BOM': `\ufeff${file(rows(300), '\r\n')}`,
  'good, CR only': file(rows(300), '\r'),
  'leading empty lines': `\n\n\n${file(rows(50))}`,
  'quoted line breaks and doubled quotes': file(
    rows(200, (i) =>
      i % 17 === 4
        ? [`C1`, `I${i}`, '"2013-01-02"', '2013-02-01', '1', 'USD', '', '', '"a ""quoted""\r\nplace\n"']
        : null,
    ),
  ),
  'errors, warnings and duplicates across chunks': file(
    rows(300, (i) =>
      i === 40
        ? ['C', 'I7', '2013-01-02', '2013-02-01', 'five', 'USD', '', '', '']
        : i === 90
          ? ['C', 'I7', 'x', '2013-02-01', '5', 'USD', '', '', '']
          : i === 120
            ? ['C', 'I40', '2013-01-02', '2012-02-01', '5', 'USD', '2012-01-01', '', '']
            : i === 250
              ? ['', 'I251', '2013-01-02', '2013-02-01', '5', 'USD', '', 'fax', '']
              : null,
    ),
  ),
  'more than 200 errors': file(
    rows(600, (i) =>
      i % 2 ? ['C', `I${i - (i % 4)}`, '2013-01-02', '2013-02-01', 'x', 'USD', '', '', ''] : null,
    ),
  ),
  'a ragged row after field errors': file(
    rows(300, (i) =>
      i === 20 ? ['C', 'I20', 'x', '', '', '', '', '', ''] : i === 260 ? ['C', 'I260'] : null,
    ),
  ),
  'an unclosed quote late in the file': `${file(rows(250))}C,"I9,2013-01-02,2013-02-01,1,USD,,,\n${Array.from({ length: 30 }, (_, i) => `C,J${i},2013-01-02,2013-02-01,1,USD,,,`).join('\n')}\n`,
  'a missing column and a ragged row': `customer_id,invoice_id\n${Array.from({ length: 200 }, (_, i) => `C,${i}`).join('\n')}\nC\n`,
  semicolons: `customer_id;invoice_id\n${Array.from({ length: 200 }, (_, i) => `C;${i}`).join('\n')}\n`,
  'not UTF-8 late, after a NUL and field errors': Buffer.concat([
    Buffer.from(file(rows(200, (i) => (i === 10 ? ['C', 'I10', 'x', '', '', '', '', '', ''] : null)))),
    Buffer.from('C,I\u0000x,2013-01-02,2013-02-01,1,USD,,,\n'),
    Buffer.from(file(rows(100)).slice(HEADER.length + 1)),
    Buffer.from('C,'),
    Buffer.from([0xc3, 0x28]),
    Buffer.from(',2013-01-01,2013-01-31,1,USD,,,\n'),
  ]),
  'a NUL late': Buffer.from(`${file(rows(250))}C,"I\u0000",2013-01-02,2013-02-01,1,USD,,,\n`),
  'cut in a UTF-8 sequence at the end': Buffer.concat([
    Buffer.from(file(rows(100))),
    Buffer.from([0xe6, 0x97]),
  ]),
  'every kind of broken record, then more rows': file([
    ...rows(40),
    'C,I2,2013-01-01',
    'C,x"y",2013-01-01,2013-01-31,1,USD,,,',
    'C,"I4"z,2013-01-01,2013-01-31,1,USD,,,',
    'C,"I5',
    'x",2013-01-01,2013-01-31,1,USD,,,',
    'C,"I6",2013-01-01,"2013-01-31',
    '",1,USD,,,,extra',
    ',,,,,,,,',
    'C,I7,2013-01-01,2013-01-31,12.345,67,USD,,,',
    'C,I8,2013-01-01,2013-01-31,1,USD,',
    ...rows(40).map((l) => l.replace(/,I(\d+),/, ',K$1,')),
    'C,"I9,2013-01-01,2013-01-31,1,USD,,,',
  ]),
  'a quote left open with more than 1,000 characters after it': file([
    ...rows(20),
    'C,"I9,2013-01-01,2013-01-31,1,USD,,,',
    ...rows(60).map((l) => l.replace(/,I(\d+),/, ',K$1,')),
  ]),
  'more than 200 ragged and broken rows': file(
    rows(700, (i) => (i % 3 === 0 ? ['C', `I${i}`, '2013-01-02'] : i % 3 === 1 ? ['C', `"I${i}"x`] : null)),
  ),
  'a long value': file(
    rows(100, (i) =>
      i === 60 ? ['C', 'y'.repeat(5000), '2013-01-02', '2013-02-01', '1', 'USD', '', '', ''] : null,
    ),
  ),
};

describe('reading a CSV file a chunk at a time', () => {
  it.each(Object.entries(inputs))('reports what reading it whole reports: %s', (_name, input) => {
    const whole = parseHistoryCsv(input, WHOLE);
    for (const chunkChars of [1, 100, 997, 4096]) {
      for (const pieceSize of [1, 7, 1000]) {
        if (chunkChars === 1 && pieceSize === 1) continue; // one check per character: slow, and covered by (1, 7)
        expect(parseHistoryCsv(input, { chunkChars, pieceSize }), `${chunkChars}/${pieceSize}`).toEqual(
          whole,
        );
      }
    }
  });

  it('reads every row of a good file with its line, in order', () => {
    const r = parseHistoryCsv(inputs['quoted line breaks and doubled quotes']!, {
      chunkChars: 100,
      pieceSize: 7,
    });
    expect(r.errors).toEqual([]);
    expect(r.rows.length + r.credits.length).toBe(200);
    // Line 2 + i, two more after each record with two quoted line breaks in it (I4 before I21, I21 before I23).
    const quoted = r.rows.find((x) => x.invoiceId === 'I21')!;
    expect(quoted).toMatchObject({
      line: 2 + 21 + 2,
      country: 'a "quoted"\r\nplace\n',
      invoiceDate: '2013-01-02',
    });
    expect(r.rows.find((x) => x.invoiceId === 'I23')!.line).toBe(2 + 23 + 4);
  });

  it('names the line of an error deep in the file, whatever the chunk', () => {
    const r = parseHistoryCsv(inputs['a ragged row after field errors']!, { chunkChars: 100, pieceSize: 7 });
    // The ragged row is reported in its place among the cells' errors, not instead of them.
    expect(r.errors.map((e) => [e.line, e.column])).toEqual([
      [22, 'invoice_date'],
      [22, 'due_date'],
      [22, 'currency'],
      [262, 'invoice_date'],
    ]);
    expect(r.errors[3]!.message).toBe('this row has 2 fields; the header has 9');
    const u = parseHistoryCsv(inputs['an unclosed quote late in the file']!, {
      chunkChars: 100,
      pieceSize: 7,
    });
    // The quote opened on line 252 would hold the 30 lines after it (over 1,000 characters): they are read as rows.
    expect(u.errors).toEqual([
      {
        line: 252,
        column: 'invoice_id',
        message:
          'a quoted value starts here and is not closed within 1,000 characters (no value is longer): a missing closing "?',
      },
    ]);
    expect(u.rows.filter((x) => x.invoiceId.startsWith('J'))).toHaveLength(30);
    const b = parseHistoryCsv(inputs['not UTF-8 late, after a NUL and field errors']!, {
      chunkChars: 100,
      pieceSize: 7,
    });
    // The NUL and the first byte that is not UTF-8 first, each once, then the lines' errors from the top.
    expect(b.errors.slice(0, 3)).toEqual([
      {
        line: 202,
        column: 'invoice_id',
        message: 'contains a NUL character; a CSV file is text (is this a spreadsheet or a UTF-16 file?)',
      },
      {
        line: 303,
        column: 'invoice_id',
        message:
          'the file is not UTF-8 (byte 0xC3 here, the first such byte): export or save it as UTF-8 and upload it again',
      },
      { line: 12, column: 'invoice_date', message: '"x" is not a date (YYYY-MM-DD)' },
    ]);
  });
});
