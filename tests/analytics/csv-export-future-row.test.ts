/**
 * A CSV company's figures are as of its export's day under the real time: the file's latest date, never after
 * today (analytics ledgerDay). One row dated ahead (a typo, 2091 for 2019, or an invoice billed in advance) made the
 * latest date the future, so the whole 2019 export was aged to today again (every open invoice 90+ days, no DSO),
 * as before the export's day was read. The day an export is as of is its latest date not after the day it is
 * imported (an export cannot be made later than it is uploaded); only a file dated wholly ahead keeps its latest.
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

const realClockAt = (at: string): Clock => ({ now: () => new Date(at), real: true });

const rows = [
  ['ACME', 'X1', '2019-01-10', '2019-02-09', '100.00', 'USD', '2019-02-20', 'email', 'US'],
  ['ACME', 'X2', '2019-02-15', '2019-03-17', '200.00', 'USD', '', 'email', 'US'],
  ['BETA', 'X3', '2019-03-20', '2019-04-19', '300.00', 'USD', '', 'email', 'US'],
  // 2091 for 2019: a typo the importer accepts (a valid date).
  ['BETA', 'X9', '2091-03-20', '2091-04-19', '25.00', 'USD', '', 'email', 'US'],
];

async function importInto(t: ReturnType<typeof suiteTestApp>, tenant: string, body: string) {
  const up = await t.app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${tenant}/imports`,
    headers: { ...t.auth, 'content-type': 'text/csv' },
    payload: body,
  });
  expect(up.statusCode, up.body).toBe(201);
  return up.json();
}

describe('an export with a row dated ahead (real time, December 2026)', () => {
  const t = suiteTestApp({ clock: realClockAt('2026-12-07T09:00:00Z') });

  it('is as of its latest date up to today, not aged to today by the row ahead', async () => {
    expect((await importInto(t, 'acme', csv(rows))).asOf).toBe('2019-03-20');
    const r = await t.app.inject({ url: '/api/v1/tenants/acme/analytics', headers: t.auth });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ asOf: '2019-03-20', exportDay: '2019-03-20' });
    // X2 is 3 days overdue that day (1–30), X3 not yet due; the row dated 2091 is not a receivable yet.
    const aging = Object.fromEntries(
      r.json().aging.map((b: { key: string; amountMinor: number }) => [b.key, b.amountMinor]),
    );
    expect(aging).toMatchObject({ current: 30_000, '1-30': 20_000, '90+': 0 });
  });

  it('a file dated wholly ahead keeps its latest date, and is as of today', async () => {
    const up = await importInto(
      t,
      'ahead',
      csv([['DELTA', 'Z1', '2026-12-20', '2027-01-19', '10.00', 'USD', '', '', '']]),
    );
    expect(up.asOf).toBe('2026-12-20');
    const r = await t.app.inject({ url: '/api/v1/tenants/ahead/analytics', headers: t.auth });
    expect(r.json()).toMatchObject({ asOf: '2026-12-07', exportDay: '2026-12-20' });
  });
});
