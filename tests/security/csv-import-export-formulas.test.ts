/**
 * CSV formula injection through an upload: ids a hostile file brings in (`=HYPERLINK(…)`, `@SUM(…)`, `+…`, `-…`,
 * full-width `＝…`) come back out of the invoice and customer lists' CSV exports as inert text behind a quote.
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { suiteTestApp } from '../helpers/app';
import { HEADER } from '../helpers/csv';

const t = suiteTestApp({ token: 'test admin' });
const FORMULA = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
const hostile = [
  '=HYPERLINK("http://evil.example","click")',
  "=cmd|' /C calc'!A0",
  '@SUM(1+1)',
  '+1+1',
  '-2+3',
  '\uFF1D1+1',
];
const q = (v: string) => `"${v.replaceAll('"', '""')}"`;

describe('an uploaded CSV with formula ids, exported back', () => {
  it('every id comes back as text behind a quote in the invoices and customers CSV', async () => {
    const rows = hostile.map(
      (v, i) => `${q(v)},${q(`${v}#${i}`)},2013-05-0${i + 1},2013-06-01,${i + 1}0.00,USD,,email,US`,
    );
    const up = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tenants/formulas/imports',
      headers: { ...t.auth, 'content-type': 'text/csv' },
      payload: `${HEADER}\n${rows.join('\n')}\n`,
    });
    expect(up.statusCode, up.body).toBe(201);
    for (const list of ['invoices', 'customers']) {
      const r = await t.app.inject({
        url: `/api/v1/tenants/formulas/${list}?format=csv`,
        headers: t.auth,
      });
      expect(r.statusCode).toBe(200);
      const cells = parse(r.body.replace(/^\uFEFF/, ''), { columns: true }) as Record<string, string>[];
      expect(cells).toHaveLength(hostile.length);
      const all = cells.flatMap((row) => Object.values(row));
      // Each hostile id is there, neutralised; no other cell starts a formula (numbers do not start with one).
      for (const v of hostile) expect(all, `${list}: ${v}`).toContain(`'${v}`);
      for (const value of all) {
        if (!/^-?\d+(\.\d+)?$/.test(value)) expect(value, list).not.toMatch(FORMULA);
      }
    }
  });
});
