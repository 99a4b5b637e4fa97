/**
 * An old CSV export imported today is a ledger of then: an invoice paid since is still open in it. The dashboard
 * said "As of <today>" and aged a 2019 export by seven years (every open invoice 90+ days, no sales in any recent
 * period); its figures are now as of the export's day (its latest invoice, payment or credit date), named in the
 * answer, and the lists and the customer page count days overdue to the same day, so an aging bucket's drill-down
 * lists what the bucket holds. Under a clock someone set (DUELY_NOW / --now, tests) everything stays as of that day.
 *
 *   inv  issued      due         amount  paid         as of the export (2019-03-31)
 *   X1   2019-01-10  2019-02-09  100.00  2019-02-20   paid
 *   X2   2019-02-15  2019-03-17  200.00  —            14 days overdue → 1–30
 *   X3   2019-03-01  2019-03-31  300.00  —            due that day → current
 *   X4   2018-11-01  2018-12-01  400.00  —            120 days overdue → 90+
 *   X5   2019-03-10  2019-04-09   50.00  2019-03-31  paid (the file's latest date)
 */
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock';
import { syncRuns } from '../../src/db/schema';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

const rows = [
  ['ACME', 'X1', '2019-01-10', '2019-02-09', '100.00', 'USD', '2019-02-20', 'email', 'US'],
  ['ACME', 'X2', '2019-02-15', '2019-03-17', '200.00', 'USD', '', 'email', 'US'],
  ['BETA', 'X3', '2019-03-01', '2019-03-31', '300.00', 'USD', '', 'email', 'US'],
  ['BETA', 'X4', '2018-11-01', '2018-12-01', '400.00', 'USD', '', 'email', 'US'],
  ['CORP', 'X5', '2019-03-10', '2019-04-09', '50.00', 'USD', '2019-03-31', 'email', 'US'],
];

/** The real time, stood in at a known instant (the system clock, as `duely serve` without --now runs). */
const realClockAt = (at: string): Clock => ({ now: () => new Date(at), real: true });

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

const get = async (t: ReturnType<typeof suiteTestApp>, url: string) => {
  const r = await t.app.inject({ url, headers: t.auth });
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
};

describe('a 2019 export imported in December 2026 (real time)', () => {
  const t = suiteTestApp({ clock: realClockAt('2026-12-07T09:00:00Z') });

  it('the dashboard is as of the export, aging and DSO counted to that day', async () => {
    expect((await importInto(t, 'acme', csv(rows))).asOf).toBe('2019-03-31');
    const a = await get(t, '/api/v1/tenants/acme/analytics');
    expect(a.asOf).toBe('2019-03-31');
    expect(a.exportDay).toBe('2019-03-31');
    expect(
      Object.fromEntries(a.aging.map((b: { key: string; amountMinor: number }) => [b.key, b.amountMinor])),
    ).toEqual({
      current: 30_000,
      '1-30': 20_000,
      '31-60': 0,
      '61-90': 0,
      '90+': 40_000,
    });
    // Sales in the 90 days to 2019-03-31: X1, X2, X3, X5 (650.00); open 900.00 → DSO 124.6 days (as of 2026 there
    // were no sales in the period and no DSO).
    expect(a.receivables.creditSalesMinor).toBe(65_000);
    expect(a.kpis.dso).toBe(124.6);
  });

  it("the lists and the customer page count days overdue to the export's day", async () => {
    const list = await get(t, '/api/v1/tenants/acme/invoices?status=open&aging=1-30');
    expect(list.asOf).toBe('2019-03-31');
    expect(
      list.items.map((i: { externalId: string; daysOverdue: number }) => [i.externalId, i.daysOverdue]),
    ).toEqual([['X2', 14]]);
    const customer = await get(t, '/api/v1/tenants/acme/customers/BETA');
    expect(customer.asOf).toBe('2019-03-31');
    expect(
      customer.invoices.map((i: { externalId: string; daysOverdue: number }) => [
        i.externalId,
        i.daysOverdue,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['X3', 0],
        ['X4', 120],
      ]),
    );
  });

  it('an import from before the day was recorded: the latest date in the ledger', async () => {
    await t.services.db.update(syncRuns).set({ source: sql`${syncRuns.source} - 'asOf'` });
    const runs = await t.services.db.select().from(syncRuns).where(eq(syncRuns.kind, 'import'));
    expect(runs.every((r) => !('asOf' in r.source))).toBe(true);
    // A new answer (the cached one is keyed on the import runs).
    await t.services.db.update(syncRuns).set({ finishedAt: new Date('2026-12-07T09:00:01Z') });
    const a = await get(t, '/api/v1/tenants/acme/analytics?period=30');
    expect(a).toMatchObject({ asOf: '2019-03-31', exportDay: '2019-03-31' });
  });

  it('a newer export moves the day; one dated after today is as of today', async () => {
    await importInto(
      t,
      'acme',
      csv([...rows, ['CORP', 'X6', '2026-12-01', '2026-12-31', '70.00', 'USD', '', 'email', 'US']]),
    );
    expect((await get(t, '/api/v1/tenants/acme/analytics')).asOf).toBe('2026-12-01');
    await importInto(
      t,
      'ahead',
      csv([['DELTA', 'Z1', '2026-12-20', '2027-01-19', '10.00', 'USD', '', '', '']]),
    );
    expect(await get(t, '/api/v1/tenants/ahead/analytics')).toMatchObject({
      asOf: '2026-12-07',
      exportDay: '2026-12-20',
    });
  });
});

describe('under a clock someone set (--now, tests)', () => {
  const t = suiteTestApp(); // fixed at 2013-07-01

  it('the figures are as of that day, the export named nowhere', async () => {
    await importInto(t, 'acme', csv(rows));
    const a = await get(t, '/api/v1/tenants/acme/analytics');
    expect(a).toMatchObject({ asOf: '2013-07-01', exportDay: null });
  });
});
