import { describe, expect, it } from 'vitest';
import { type CsvColumn, textCell, toCsv } from '../../src/http/csv-export';

describe('CSV export', () => {
  it('prefixes text cells that a spreadsheet would run as a formula, and only those', () => {
    // The full-width forms too, as the CLI's CSV writer (connectors/csv/write.ts) already neutralises them.
    for (const start of ['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']) {
      expect(textCell(`${start}1+1`).replace(/^"/, '').startsWith(`'${start}`)).toBe(true);
    }
    expect(textCell('Acme')).toBe('Acme');
    expect(textCell("O'Brien")).toBe("O'Brien");
  });

  it('quotes commas, quotes and line breaks; numbers stay numbers, even negative', () => {
    const cols: CsvColumn<{ name: string; amount: string }>[] = [
      { header: 'Name', value: (r) => r.name },
      { header: 'Amount', kind: 'number', value: (r) => r.amount },
    ];
    expect(
      toCsv(cols, [
        { name: 'Smith, "Jo"', amount: '-12.50' },
        { name: 'line\nbreak', amount: '=1+1' },
      ]),
    ).toBe('Name,Amount\r\n"Smith, ""Jo""",-12.50\r\n"line\nbreak",\'=1+1\r\n');
  });
});
