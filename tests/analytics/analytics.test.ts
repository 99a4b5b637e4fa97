/**
 * Analytics against a hand-computed ledger, as of 2013-07-01 with a 90-day period (period start 2013-04-02).
 *
 *   inv  issued      due         amount  paid        today: status, days past due
 *   A1   2013-03-01  2013-03-31  100.00  2013-04-20  paid (open at period start)
 *   A2   2013-04-10  2013-05-10  200.00  —           open, 52  → 31–60
 *   A3   2013-06-01  2013-07-01  300.00  —           open, 0   → current
 *   B1   2013-02-15  2013-03-17  400.00  —           open, 106 → 90+
 *   B2   2013-05-01  2013-05-31   50.00  2013-05-20  paid after 19 days
 *   B3   2013-06-10  2013-06-20   80.00  —           open, 11  → 1–30
 *   C1   2013-03-20  2013-04-15   60.00  —           open, 77  → 61–90
 *   D1   2013-01-10  2013-02-09  500.00  2013-03-01  paid before the period
 *
 * AR 1040.00; current 300.00; credit sales in (04-02, 07-01]: A2+A3+B2+B3 = 630.00; AR at 04-02: A1+B1+C1 = 560.00.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { averageDaysDelinquent, cei, countbackDso, standardDso } from '../../src/analytics/ar-metrics';
import { computeAnalytics } from '../../src/analytics/dashboard';
import { dueDateForecast, predictedForecast } from '../../src/analytics/forecast';
import { issueApiToken } from '../../src/auth/api-tokens';
import { findTenant } from '../../src/db/queries/tenants';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

const rows = [
  ['ACME', 'A1', '2013-03-01', '2013-03-31', '100.00', 'USD', '2013-04-20', 'email', 'US'],
  ['ACME', 'A2', '2013-04-10', '2013-05-10', '200.00', 'USD', '', 'email', 'US'],
  ['ACME', 'A3', '2013-06-01', '2013-07-01', '300.00', 'USD', '', 'email', 'US'],
  ['BETA', 'B1', '2013-02-15', '2013-03-17', '400.00', 'USD', '', 'email', 'US'],
  ['BETA', 'B2', '2013-05-01', '2013-05-31', '50.00', 'USD', '2013-05-20', 'email', 'US'],
  ['BETA', 'B3', '2013-06-10', '2013-06-20', '80.00', 'USD', '', 'email', 'US'],
  ['CORP', 'C1', '2013-03-20', '2013-04-15', '60.00', 'USD', '', 'email', 'US'],
  ['DELTA', 'D1', '2013-01-10', '2013-02-09', '500.00', 'USD', '2013-03-01', 'email', 'US'],
];

let s: Services;
let app: FastifyInstance;
let admin: string;

const testApp = suiteTestApp({ token: 'test admin' });
beforeAll(async () => {
  ({ services: s, app } = testApp);
  admin = testApp.token;
  const up = await app.inject({
    method: 'POST',
    url: '/api/v1/tenants/acme/imports',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
    payload: csv(rows),
  });
  expect(up.statusCode).toBe(201);
});

describe('KPI formulas', () => {
  it('standard DSO, CEI and ADD follow their definitions', () => {
    expect(standardDso(104_000, 63_000, 90)).toBe(148.6);
    expect(standardDso(1, 0, 90)).toBeNull();
    expect(cei(56_000, 63_000, 104_000, 30_000)).toBe(16.9);
    expect(averageDaysDelinquent(104_000, 30_000, 63_000, 90)).toBe(105.7);
  });

  it('countback DSO walks back through daily sales and counts the last day fractionally', () => {
    const sales = [
      { day: '2013-06-30', minor: 100 },
      { day: '2013-06-28', minor: 400 },
    ];
    // 07-01: 0, 06-30: 100 (rest 150), 06-29: 0, 06-28: 150 of 400 → 3 + 0.375.
    expect(countbackDso('2013-07-01', 250, sales)).toEqual({ days: 3.4, capped: false });
    expect(countbackDso('2013-07-01', 0, sales)).toEqual({ days: 0, capped: false });
    expect(countbackDso('2013-07-01', 10_000, sales, 30)).toEqual({ days: 30, capped: true });
  });
});

describe('forecast', () => {
  it('naive: open balances by due week; past-due and beyond 13 weeks reported apart', () => {
    const f = dueDateForecast('2013-07-01', [
      { dueDate: '2013-06-30', minor: 5 },
      { dueDate: '2013-07-01', minor: 10 },
      { dueDate: '2013-07-07', minor: 20 },
      { dueDate: '2013-07-08', minor: 40 },
      { dueDate: '2013-09-29', minor: 80 }, // day 90: week 12
      { dueDate: '2013-09-30', minor: 160 }, // day 91: week 13 → later
    ]);
    expect(f.weeks).toHaveLength(13);
    expect(f.weeks[0]).toMatchObject({
      start: '2013-07-01',
      end: '2013-07-07',
      expectedMinor: 30,
      cumulativeMinor: 30,
    });
    expect(f.weeks[1]).toMatchObject({ expectedMinor: 40, cumulativeMinor: 70, lowMinor: 70, highMinor: 70 });
    expect(f.weeks[12]).toMatchObject({ expectedMinor: 80, cumulativeMinor: 150 });
    expect(f.pastDueMinor).toBe(5);
    expect(f.laterMinor).toBe(160);
  });

  it('predicted: expected by predicted date, cumulative band from P90 (low) and P10 (high) dates', () => {
    const f = predictedForecast(
      '2013-07-01',
      [
        { id: 'a', dueDate: '2013-06-01', balanceMinor: 100 },
        { id: 'b', dueDate: '2013-07-20', balanceMinor: 50 },
        { id: 'c', dueDate: '2013-06-15', balanceMinor: 7 }, // no prediction: past due → today
      ],
      [
        { invoiceId: 'a', predictedDate: '2013-07-10', p10Date: '2013-07-02', p90Date: '2013-07-30' },
        { invoiceId: 'b', predictedDate: '2013-07-20', p10Date: '2013-07-15', p90Date: '2013-12-01' },
      ],
    );
    expect(f.source).toBe('predicted');
    expect(f.weeks.map((w) => w.expectedMinor).slice(0, 3)).toEqual([7, 100, 50]);
    // high: a (07-02, week 0), b (07-15, week 2), c (week 0)
    expect(f.weeks.map((w) => w.highMinor).slice(0, 3)).toEqual([107, 107, 157]);
    // low: c week 0, a (07-30, week 4), b beyond 13 weeks never
    expect(f.weeks[3]!.lowMinor).toBe(7);
    expect(f.weeks[4]!.lowMinor).toBe(107);
    expect(f.weeks[12]!.lowMinor).toBe(107);
    expect(f.weeks[12]!.cumulativeMinor).toBe(157);
  });

  it('predicted: an overdue invoice with collection chances counts by expectation, the doubtful rest after 13 weeks', () => {
    const f = predictedForecast(
      '2013-07-01',
      [
        { id: 'old', dueDate: '2013-05-01', balanceMinor: 1_000 },
        { id: 'due', dueDate: '2013-07-20', balanceMinor: 50 },
      ],
      [
        // P(collected within 30 days) 0.3, within 90 days 0.6; P10 date in week 2, P90 date beyond the 13 weeks.
        {
          invoiceId: 'old',
          predictedDate: '2013-08-20',
          p10Date: '2013-07-15',
          p90Date: '2014-06-01',
          pCollect30: 0.3,
          pCollect90: 0.6,
        },
        { invoiceId: 'due', predictedDate: '2013-07-20', p10Date: '2013-07-15', p90Date: '2013-07-29' },
      ],
    );
    // 0.3 over the first 30 days, 0.3 over the next 60, at a constant hazard within each: front-loaded (80, 73, 68,
    // 62 in weeks 0–3; week 2 also holds the 50 due), week 4 49 (days 28–34). A straight line gave 70 a week.
    expect(f.weeks.map((w) => w.expectedMinor).slice(0, 5)).toEqual([80, 73, 118, 62, 49]);
    // By the end of day 90 the curve has collected 60 %; the other 40 % is neither in a week nor past due.
    expect(f.weeks[12]!.cumulativeMinor).toBe(600 + 50);
    expect(f.laterMinor).toBe(400);
    expect(f.doubtfulMinor).toBe(400);
    expect(f.pastDueMinor).toBe(0);
    // The band holds the expected line: the optimistic edge takes the whole balance from the P10 week on, the
    // pessimistic edge has nothing of it (its P90 date is beyond the 13 weeks).
    expect(f.weeks.map((w) => w.highMinor).slice(0, 3)).toEqual([80, 153, 1_050]);
    expect(f.weeks[12]!.lowMinor).toBe(50);
    for (const w of f.weeks) {
      expect(w.lowMinor).toBeLessThanOrEqual(w.cumulativeMinor);
      expect(w.cumulativeMinor).toBeLessThanOrEqual(w.highMinor);
    }
  });
});

describe('computeAnalytics on the ledger', () => {
  it('matches the hand-computed figures', async () => {
    const tenant = (await findTenant(s.db, 'acme'))!;
    const a = await computeAnalytics(s.db, { tenantId: tenant.id, currency: 'USD', today: '2013-07-01' });
    expect(a.receivables).toEqual({
      openMinor: 104_000,
      openCount: 5,
      currentMinor: 30_000,
      overdueMinor: 74_000,
      overdueCount: 4,
      periodStartMinor: 56_000,
      creditSalesMinor: 63_000,
      unappliedCreditMinor: 0,
    });
    expect(a.kpis).toEqual({
      dso: 148.6,
      // 06-10 (day 21) 80, 06-01 (30) 300, 05-01 (61) 50, 04-10 (82) 200, 03-20 (103) 60, 03-01 (122) 100:
      // 790 of 1040 used; 250 of B1's 400 on 02-15 (day 136) → 136.625.
      dsoCountback: 136.6,
      dsoCountbackCapped: false,
      cei: 16.9,
      averageDaysDelinquent: 105.7,
      // (80×11 + 200×52 + 60×77 + 400×106) / 740
      weightedDaysOverdue: 78.8,
    });
    expect(a.aging.map((b) => [b.key, b.count, b.amountMinor])).toEqual([
      ['current', 1, 30_000],
      ['1-30', 1, 8_000],
      ['31-60', 1, 20_000],
      ['61-90', 1, 6_000],
      ['90+', 1, 40_000],
    ]);
    // within 30: issued (03-03, 06-01] = C1, A2, B2, A3; only B2 (19 days) paid: 50 / 610.
    expect(a.collected.within30).toEqual({ amountShare: 0.082, countShare: 0.25, cohortCount: 4 });
    // within 60: issued (02-01, 05-02] = B1, A1, C1, A2, B2; A1 (50 days) and B2 paid: 150 / 810.
    expect(a.collected.within60).toEqual({ amountShare: 0.1852, countShare: 0.4, cohortCount: 5 });
    expect(a.revenueAtRisk).toEqual({
      overdueMinor: 74_000,
      highRiskMinor: null,
      highRiskCount: null,
      highRiskThreshold: 0.5,
      modelChange: null,
    });
    expect(a.forecast.source).toBe('due_date');
    expect(a.forecast.pastDueMinor).toBe(74_000);
    expect(a.forecast.weeks[0]!.expectedMinor).toBe(30_000);
    expect(a.forecast.weeks[12]!.cumulativeMinor).toBe(30_000);
    expect(a.otherCurrencyOpenInvoices).toBe(0);
  });

  it('uses predictions for the forecast and high-risk revenue when given', async () => {
    const tenant = (await findTenant(s.db, 'acme'))!;
    const plain = await computeAnalytics(s.db, { tenantId: tenant.id, currency: 'USD', today: '2013-07-01' });
    expect(plain.forecast.source).toBe('due_date');
    const { invoices } = await import('../../src/db/schema');
    const { eq } = await import('drizzle-orm');
    const open = await s.db.select().from(invoices).where(eq(invoices.status, 'open'));
    const b1 = open.find((i) => i.externalId === 'B1')!;
    const a = await computeAnalytics(s.db, {
      tenantId: tenant.id,
      currency: 'USD',
      today: '2013-07-01',
      predictions: [{ invoiceId: b1.id, predictedDate: '2013-08-15', pLate: 0.9 }],
    });
    expect(a.revenueAtRisk).toMatchObject({ highRiskMinor: 40_000, highRiskCount: 1 });
    expect(a.forecast.source).toBe('predicted');
    // The other overdue invoices fall back to today (week 0) along with A3 due today.
    expect(a.forecast.weeks[0]!.expectedMinor).toBe(30_000 + 8_000 + 20_000 + 6_000);
    expect(a.forecast.weeks[6]!.expectedMinor).toBe(40_000);
  });

  it('is an empty, null-safe result for a tenant without invoices in the currency', async () => {
    const tenant = (await findTenant(s.db, 'acme'))!;
    const a = await computeAnalytics(s.db, { tenantId: tenant.id, currency: 'EUR', today: '2013-07-01' });
    expect(a.kpis).toMatchObject({ dso: null, cei: null, averageDaysDelinquent: null, dsoCountback: 0 });
    expect(a.otherCurrencyOpenInvoices).toBe(5);
    // Per currency, for the Dashboard's Currency choice and its note's links.
    expect(a.otherCurrencies).toEqual([{ currency: 'USD', openInvoices: 5 }]);
  });
});

describe('GET /api/v1/tenants/:tenant/analytics', () => {
  it('answers the dashboard figures in the tenant currency', async () => {
    const r = await app.inject({
      url: '/api/v1/tenants/acme/analytics',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({
      asOf: '2013-07-01',
      currency: 'USD',
      periodDays: 90,
      kpis: { dso: 148.6, cei: 16.9 },
    });
    expect(body.forecast.weeks).toHaveLength(13);
  });

  it('takes a period, validates it, and is refreshed after an import', async () => {
    const r = await app.inject({
      url: '/api/v1/tenants/acme/analytics?period=30',
      headers: { authorization: `Bearer ${admin}` },
    });
    // Sales in (06-01, 07-01]: B3 80 → DSO 1040/80×30 = 390.
    expect(r.json().kpis.dso).toBe(390);
    const bad = await app.inject({
      url: '/api/v1/tenants/acme/analytics?period=0',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(bad.statusCode).toBe(400);
    const more = [...rows, ['ACME', 'A4', '2013-06-25', '2013-07-25', '20.00', 'USD', '', 'email', 'US']];
    await app.inject({
      method: 'POST',
      url: '/api/v1/tenants/acme/imports',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      payload: csv(more),
    });
    // The route re-reads its change marker at most once a second (elapsed time from the system clock): move the
    // system clock on instead of sleeping. Timers stay real.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 1_100 });
    try {
      const after = await app.inject({
        url: '/api/v1/tenants/acme/analytics?period=30',
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(after.json().receivables.openMinor).toBe(106_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps tenants apart', async () => {
    const other = await app.inject({
      method: 'POST',
      url: '/api/v1/tenants/other/imports',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      payload: csv([rows[0]!]),
    });
    expect(other.statusCode).toBe(201);
    const t = (await findTenant(s.db, 'other'))!;
    const token = (await issueApiToken(s.db, 'other only', t.id)).token;
    const denied = await app.inject({
      url: '/api/v1/tenants/acme/analytics',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(denied.statusCode).toBe(403);
    const own = await app.inject({
      url: '/api/v1/tenants/other/analytics',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(own.json().receivables.openMinor).toBe(0);
  });
});
