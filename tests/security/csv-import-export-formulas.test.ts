/**
 * CSV formula injection through an upload: ids a hostile file brings in (`=HYPERLINK(…)`, `@SUM(…)`, `+…`, `-…`,
 * full-width `＝…`) come back out of the invoice and customer lists' CSV exports as inert text behind a quote; and
 * so does a formula after a semicolon (`Acme;=1+1;`), which Excel set to a semicolon list separator (German, French,
 * Dutch… locales, where these exports are opened) reads as a cell of its own.
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

describe('a formula after a semicolon, exported back', () => {
  it('stays text in a spreadsheet that splits the lines at semicolons', async () => {
    // Each value is one cell for a comma-separated reader; Excel with a semicolon list separator splits the line at
    // every `;` (quotes opened mid-field do not protect it), so `=1+1` became a live cell of its own.
    const hostile = [
      'Acme;=1+1;',
      'Bolt; =HYPERLINK(CHAR(104)&CHAR(116));x',
      'Cog;"=2+2";',
      'Dyn;@SUM(1);',
      'Eel;-3+4;',
      'Fir;\uFF1D5+5;',
    ];
    const rows = hostile.map(
      (v, i) => `${q(v)},${q(`INV;=${i}+1;`)},2013-05-0${i + 1},2013-06-01,${i + 1}0.00,USD,,email,US`,
    );
    const up = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tenants/semicolons/imports',
      headers: { ...t.auth, 'content-type': 'text/csv' },
      payload: `${HEADER}\n${rows.join('\n')}\n`,
    });
    expect(up.statusCode, up.body).toBe(201);
    for (const list of ['invoices', 'customers']) {
      const r = await t.app.inject({
        url: `/api/v1/tenants/semicolons/${list}?format=csv`,
        headers: t.auth,
      });
      expect(r.statusCode).toBe(200);
      const body = r.body.replace(/^\uFEFF/, '');
      // The comma reading keeps every value, apart from the guard's quote.
      const cells = parse(body, { columns: true }) as Record<string, string>[];
      const all = cells.flatMap((row) => Object.values(row));
      for (const v of hostile)
        expect(all.some((c) => c.replaceAll("'", '') === v.replaceAll("'", ''))).toBe(true);
      // The semicolon reading: every cell after a `;` (leading blanks and quotes aside) starts no formula.
      for (const line of body.split('\r\n').filter(Boolean)) {
        for (const cell of line.split(';').slice(1)) {
          expect(cell.replace(/^[\s"]+/, ''), `${list}: ${line}`).not.toMatch(FORMULA);
        }
      }
    }
  });
});
