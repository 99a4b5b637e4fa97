/**
 * The customer list's money columns are in one currency: a customer who owes 100.00 USD and 50.00 CAD does not owe
 * "150.00 USD". Found by an outside audit of the dashboard figures against the ledger (s26-rt2).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

const rows = [
  ['ACME', 'A1', '2026-10-01', '2026-10-31', '100.00', 'USD', '', 'email', 'US'],
  ['ACME', 'A2', '2026-11-01', '2026-12-01', '50.00', 'CAD', '', 'email', 'CA'],
  ['MAPLE', 'M1', '2026-11-20', '2026-12-20', '70.00', 'CAD', '', 'email', 'CA'],
  ['BETA', 'B0', '2026-09-01', '2026-10-01', '10.00', 'USD', '2026-09-20', 'email', 'US'],
  ['BETA', 'B1', '2026-11-25', '2026-12-25', '20.00', 'USD', '', 'email', 'US'],
];

const t = suiteTestApp({ token: 'test admin', clock: { now: () => new Date('2026-12-06T12:00:00Z') } });
const get = async (url: string) => {
  const r = await t.app.inject({ method: 'GET', url, headers: t.auth });
  expect(r.statusCode, r.body).toBe(200);
  return r;
};

beforeAll(async () => {
  const up = await t.app.inject({
    method: 'POST',
    url: '/api/v1/tenants/acme/imports',
    headers: { ...t.auth, 'content-type': 'text/csv' },
    payload: csv(rows),
  });
  expect(up.statusCode, up.body).toBe(201);
});

describe('customer list per currency', () => {
  it("sums only the tenant currency's invoices by default, and another currency on request", async () => {
    const usd = (await get('/api/v1/tenants/acme/customers?sort=name')).json();
    expect(usd.currency).toBe('USD');
    const by = (j: { items: { externalId: string; openBalanceMinor: number; overdueMinor: number }[] }) =>
      Object.fromEntries(j.items.map((c) => [c.externalId, [c.openBalanceMinor, c.overdueMinor]]));
    expect(by(usd)).toEqual({ ACME: [10_000, 10_000], BETA: [2_000, 0], MAPLE: [0, 0] });
    expect(usd.totals).toEqual({ openBalanceMinor: 12_000, overdueMinor: 10_000 });
    // The same figures as the dashboard's open receivables in that currency.
    const a = (await get('/api/v1/tenants/acme/analytics')).json();
    expect(a.receivables.openMinor).toBe(usd.totals.openBalanceMinor);

    const cad = (await get('/api/v1/tenants/acme/customers?sort=name&currency=CAD')).json();
    expect(cad.currency).toBe('CAD');
    expect(by(cad)).toEqual({ ACME: [5_000, 5_000], BETA: [0, 0], MAPLE: [7_000, 0] });
    // A row whose figures leave out debt in another currency says which ("$0.00" beside 1 open invoice read as paid).
    const others = (j: { items: { externalId: string; otherCurrencies: string[] }[] }) =>
      Object.fromEntries(j.items.map((c) => [c.externalId, c.otherCurrencies]));
    expect(others(usd)).toEqual({ ACME: ['CAD'], BETA: [], MAPLE: ['CAD'] });
    expect(others(cad)).toEqual({ ACME: ['USD'], BETA: ['USD'], MAPLE: [] });
    expect(cad.totals).toEqual({ openBalanceMinor: 12_000, overdueMinor: 5_000 });

    // "Only customers with an open balance" still finds a customer whose debt is all in another currency.
    const openOnly = (await get('/api/v1/tenants/acme/customers?open=true')).json();
    expect(openOnly.items.map((c: { externalId: string }) => c.externalId).sort()).toEqual([
      'ACME',
      'BETA',
      'MAPLE',
    ]);

    const file = (await get('/api/v1/tenants/acme/customers?format=csv&sort=name&currency=CAD')).body;
    expect(file).toContain('Open balance (CAD)');
    expect(file.split('\n').find((l) => l.startsWith('ACME'))).toContain('50.00');
  });
});
