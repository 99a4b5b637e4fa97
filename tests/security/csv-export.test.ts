/**
 * CSV formula injection: ids typed into a ledger (`=HYPERLINK(…)`, `=cmd|…`, `@SUM(…)`) come out of
 * `duely predictions --format csv` as inert text, while numbers, negative ones included, stay numbers.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../../connectors/csv/write';
import { fixedClock } from '../../src/clock';
import { formatPredictions, PREDICTION_COLUMNS, predictionRows } from '../../src/risk/cli-commands';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { createTestServices } from '../helpers/services';

const FORMULA = /^[=+\-@\t\r]/;

describe('csvCell', () => {
  it('prefixes formula-leading text with a quote and quotes what RFC 4180 needs', () => {
    expect(csvCell('=HYPERLINK("http://evil.example","x")')).toBe(
      `"'=HYPERLINK(""http://evil.example"",""x"")"`,
    );
    expect(csvCell("=cmd|' /C calc'!A0")).toBe("'=cmd|' /C calc'!A0");
    expect(csvCell('@SUM(1+1)')).toBe("'@SUM(1+1)");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell('＝1+1')).toBe("'＝1+1");
    expect(csvCell('INV-1001')).toBe('INV-1001');
    expect(csvCell('a,b')).toBe('"a,b"');
    // A formula after a `;` is a cell of its own where Excel's list separator is `;`.
    expect(csvCell('Acme;=1+1;')).toBe("Acme;'=1+1;");
    expect(csvCell('Acme; @SUM(1);x')).toBe("Acme;' @SUM(1);x");
    expect(csvCell('a;b')).toBe('a;b');
  });

  it('leaves numbers as numbers, negative ones included', () => {
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell(0)).toBe('0');
    expect(csvCell(null)).toBe('');
    expect(toCsv(['a', 'b'] as const, [{ a: -1, b: '-1' }])).toBe("a,b\n-1,'-1\n");
  });
});

describe('duely predictions --format csv', () => {
  let s: Services;
  let tenantId: string;
  const hostile = {
    customer: "=cmd|' /C calc'!A0",
    customer2: '@SUM(1+1)',
    invoice: '=HYPERLINK("http://evil.example","click")',
    invoice2: '+1+1',
  };

  beforeAll(async () => {
    s = await createTestServices({ clock: fixedClock('2013-06-01') });
    const q = (v: string) => `"${v.replaceAll('"', '""')}"`;
    const lines = ['customer_id,invoice_id,invoice_date,due_date,amount,currency,paid_date,delivery,country'];
    for (let m = 0; m < 6; m++) {
      const month = String(m + 1).padStart(2, '0');
      lines.push(
        `${q(hostile.customer)},H${m},2012-${month}-01,2012-${month}-28,100.00,USD,2012-${month}-27,email,US`,
      );
      lines.push(
        `${q(hostile.customer2)},G${m},2012-${month}-01,2012-${month}-28,50.00,USD,2012-${month}-27,email,US`,
      );
    }
    lines.push(`${q(hostile.customer)},${q(hostile.invoice)},2013-04-01,2013-05-01,300.00,USD,,email,US`);
    lines.push(`${q(hostile.customer2)},${q(hostile.invoice2)},2013-05-01,2013-06-20,80.00,USD,,email,US`);
    const r = await importHistoryCsv(s.db, `${lines.join('\n')}\n`, {
      tenantName: 'Hostile',
      now: s.clock.now(),
    });
    tenantId = r.tenant.id;
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it('writes no live formula, and the hostile ids survive as text behind a quote', async () => {
    const rows = await predictionRows(s, tenantId, {});
    expect(rows).toHaveLength(2);
    const out = formatPredictions(rows, 'csv');
    const cells = parse(out, { columns: true }) as Record<string, string>[];
    expect(Object.keys(cells[0]!)).toEqual([...PREDICTION_COLUMNS]);
    for (const row of cells) {
      for (const [column, value] of Object.entries(row)) {
        const numeric = typeof rows[0]![column as keyof (typeof rows)[0]] === 'number';
        if (!numeric) expect(value, `${column}: ${value}`).not.toMatch(FORMULA);
      }
    }
    const ids = cells.map((c) => c.invoice_id).sort();
    expect(ids).toEqual([`'${hostile.invoice2}`, `'${hostile.invoice}`].sort());
    expect(cells.map((c) => c.customer_id).sort()).toEqual(
      [`'${hostile.customer}`, `'${hostile.customer2}`].sort(),
    );
    // Numbers stay numbers: the p_late column parses as a number.
    for (const row of cells) expect(Number.isFinite(Number(row.p_late))).toBe(true);
  });
});
