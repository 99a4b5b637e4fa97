/**
 * The CSV import reads plain files (no quotes, \n or \r\n lines) with a fast splitter; it must return exactly what
 * its record reader (records.ts, which reads any file and reports broken records) returns, line numbers included,
 * or decline (null) so that the record reader reads the file. The record reader itself reads well-formed files,
 * quoted values and all, as csv-parse does.
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { splitPlainCsv } from '../../connectors/csv/parse';
import { readRecords } from '../../connectors/csv/records';

/** What the record reader makes of a whole file, in splitPlainCsv's terms ('error' when a record is broken). */
function records(text: string): unknown {
  const read = readRecords(text.replace(/^\ufeff/, ''), 1, true, 1000);
  if (read.items.some((i) => 'broken' in i)) return 'error';
  return read.items.map((i) =>
    'record' in i ? { record: i.record.fields, info: { lines: i.record.line } } : null,
  );
}

function csvParse(text: string): unknown {
  try {
    const records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
      trim: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
    return records.map((r) => ({
      record: r.record,
      info: { lines: r.info.lines },
    }));
  } catch {
    return 'error';
  }
}

const cases = [
  'a,b,c\n1,2,3\n',
  'a,b,c\n1,2,3',
  '\ufeffa,b,c\r\n1,2,3\r\n4,5,6\r\n',
  'a,b,c\n\n1,2,3\n\n\n4,5,6\n',
  'a,b,c\r\n\r\n1,2,3\r\n',
  'a , b,c\n 1 ,\t2\t, 3 \n',
  'a,b,c\n1,,\n,,\n',
  'a,b,c\n1,2\n',
  'a,b,c\n1,2,3,4\n',
  'a,b,c\n1,"2",3\n',
  'a,b,c\n1,2\u00a0,3\n',
  'a,b,c\n1,\u3000x,3\n',
  'a,b,c\n1,Müller,3\n',
  'a,b,c\r\n1,2,3\n4,5,6\r\n',
  'a,b,c\n1,2,3\r',
  'a,b,c\n1,2\r,3\n',
  'a,b,c\n   \n1,2,3\n',
  '',
  '\n\n',
  'a\n1\n2\n',
  'a,b,c\n1,2,3\f\n',
];

describe('the plain-CSV splitter', () => {
  it.each(cases.map((c) => [JSON.stringify(c), c]))(
    'agrees with the record reader or declines: %s',
    (_name, text) => {
      const mine = splitPlainCsv(text);
      if (mine !== null) expect(mine).toEqual(records(text));
    },
  );

  it('reads the plain files it is meant for (it does not decline everything)', () => {
    expect(splitPlainCsv('a,b\r\n1, 2 \r\n\r\n3,4')).toEqual([
      { record: ['a', 'b'], info: { lines: 1 } },
      { record: ['1', '2'], info: { lines: 2 } },
      { record: ['3', '4'], info: { lines: 4 } },
    ]);
    expect(splitPlainCsv('a,b\n1,"2"\n')).toBeNull();
    expect(splitPlainCsv('a,b\n1\n')).toBeNull();
  });

  it('agrees with the record reader on random files of commas, spaces, tabs, line breaks, letters and non-ASCII', () => {
    let state = 17;
    const rand = (n: number) => {
      state = (state * 1664525 + 1013904223) >>> 0;
      return state % n;
    };
    const chars = ['a', 'b', '1', ' ', ' ', '\t', 'é', '\u00a0', '-', '.', '\f'];
    const field = () => {
      let f = '';
      for (let i = rand(5); i > 0; i--) f += chars[rand(chars.length)];
      return f;
    };
    let read = 0;
    for (let k = 0; k < 3000; k++) {
      const eol = rand(2) ? '\n' : '\r\n';
      let text = `x,y,z${eol}`;
      for (let r = rand(6); r > 0; r--) {
        const odd = rand(20);
        // Mostly well-formed rows; now and then an empty line, a short or long row, or the other line ending.
        if (odd === 0) text += eol;
        else if (odd === 1) text += `${field()},${field()}${eol}`;
        else if (odd === 2) text += `${field()},${field()},${field()},${field()}${eol}`;
        else text += `${field()},${field()},${field()}${odd === 3 ? (eol === '\n' ? '\r\n' : '\n') : eol}`;
      }
      if (rand(4) === 0) text = text.slice(0, -eol.length);
      const mine = splitPlainCsv(text);
      if (mine === null) continue;
      read++;
      expect(mine, JSON.stringify(text)).toEqual(records(text));
    }
    expect(read).toBeGreaterThan(100);
  });

  it('the record reader reads random well-formed quoted files as csv-parse does', () => {
    let state = 29;
    const rand = (n: number) => {
      state = (state * 1664525 + 1013904223) >>> 0;
      return state % n;
    };
    // Spreadsheets put non-breaking (U+00A0) and other Unicode spaces at a value's edge: trimmed like spaces.
    const chars = ['a', 'b', '1', ' ', ',', '"', '\n', '\r\n', 'é', '-', '\u00a0', '\u3000', '\t'];
    const edge = () => [' ', '', '\u00a0', '\t', '\u2009'][rand(5)]!;
    const field = () => {
      let f = '';
      for (let i = rand(6); i > 0; i--) f += chars[rand(chars.length)];
      // Quoted when it must be (or now and then anyway), its quotes doubled, blanks around it.
      return /[",\r\n]/.test(f) || rand(4) === 0 ? `${edge()}"${f.replaceAll('"', '""')}"${edge()}` : f;
    };
    let compared = 0;
    for (let k = 0; k < 3000; k++) {
      const eol = rand(2) ? '\n' : '\r\n';
      let text = `x,y,z${eol}`;
      for (let r = rand(6); r > 0; r--) text += `${field()},${field()},${field()}${eol}`;
      const theirs = csvParse(text);
      if (theirs === 'error') continue;
      compared++;
      const mine = records(text) as { record: string[] }[];
      expect(
        mine.map((r) => r.record),
        JSON.stringify(text),
      ).toEqual((theirs as { record: string[] }[]).map((r) => r.record));
    }
    expect(compared).toBeGreaterThan(800);
  });
});
