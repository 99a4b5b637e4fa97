/**
 * A CSV company's figures are as of its export's day under the real time (analytics ledgerDay: the dashboard, the
 * lists and the customer page). Its risk was still scored as of the clock: a 2019 export imported in December 2026
 * had every open invoice about 2,560 days overdue in its reasons and, since the account score also reads the open
 * debt's collection risk, every customer owing anything scored as doubtful debt (high, high-risk sequence) beside
 * a customer page saying "120 days overdue". Scoring is now as of the same day the figures are.
 *
 *   inv  issued      due         amount  paid         as of the export (2019-03-31)
 *   X1   2019-01-10  2019-02-09  100.00  2019-02-20   paid
 *   X2   2019-02-15  2019-03-17  200.00  —            14 days overdue
 *   X3   2019-03-01  2019-03-31  300.00  —            due that day
 *   X4   2018-11-01  2018-12-01  400.00  —            120 days overdue
 *   X5   2019-03-10  2019-04-09   50.00  2019-03-31  paid (the file's latest date)
 */
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock';
import { customerRisk, customers, invoicePredictions, tenants } from '../../src/db/schema';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

const rows = [
  ['ACME', 'X1', '2019-01-10', '2019-02-09', '100.00', 'USD', '2019-02-20', 'email', 'US'],
  ['ACME', 'X2', '2019-02-15', '2019-03-17', '200.00', 'USD', '', 'email', 'US'],
  ['BETA', 'X3', '2019-03-01', '2019-03-31', '300.00', 'USD', '', 'email', 'US'],
  ['BETA', 'X4', '2018-11-01', '2018-12-01', '400.00', 'USD', '', 'email', 'US'],
  ['CORP', 'X5', '2019-03-10', '2019-04-09', '50.00', 'USD', '2019-03-31', 'email', 'US'],
];

const realClockAt = (at: string): Clock => ({ now: () => new Date(at), real: true });
const fixedAt = (at: string): Clock => ({ now: () => new Date(at) });

async function importAndScore(t: ReturnType<typeof suiteTestApp>, slug: string, body: string) {
  const up = await t.app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${slug}/imports`,
    headers: { ...t.auth, 'content-type': 'text/csv' },
    payload: body,
  });
  expect(up.statusCode, up.body).toBe(201);
  const [tenant] = await t.services.db.select().from(tenants).where(eq(tenants.slug, slug));
  // What the risk-score job the import enqueued does.
  await t.services.risk.score(tenant!.id);
  return tenant!.id;
}

async function scoredDays(t: ReturnType<typeof suiteTestApp>, tenantId: string, externalId: string) {
  const [c] = await t.services.db
    .select({ asOf: customerRisk.asOf, reason: customerRisk.openDebtReason })
    .from(customerRisk)
    .innerJoin(customers, eq(customers.id, customerRisk.customerId))
    .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, externalId)));
  const preds = await t.services.db
    .select({ asOf: invoicePredictions.asOf })
    .from(invoicePredictions)
    .where(eq(invoicePredictions.tenantId, tenantId));
  return {
    customer: c!.asOf.toISOString().slice(0, 10),
    invoices: [...new Set(preds.map((p) => p.asOf.toISOString().slice(0, 10)))],
    reason: c!.reason,
  };
}

describe('a 2019 export imported in December 2026 (real time): scored as of the export', () => {
  const t = suiteTestApp({ clock: realClockAt('2026-12-07T09:00:00Z') });

  it('the customer and invoice scores are as of 2019-03-31, the day the customer page counts to', async () => {
    const tenantId = await importAndScore(t, 'acme', csv(rows));
    const s = await scoredDays(t, tenantId, 'BETA');
    expect(s).toMatchObject({ customer: '2019-03-31', invoices: ['2019-03-31'] });
    const page = await t.app.inject({ url: '/api/v1/tenants/acme/customers/BETA', headers: t.auth });
    expect(page.json().asOf).toBe(s.customer);
    const risk = await t.app.inject({ url: '/api/v1/tenants/acme/customers/BETA/risk', headers: t.auth });
    expect(risk.statusCode, risk.body).toBe(200);
    // X4 is 120 days overdue on that day, as the customer page says (it was "already 2,563 days past due").
    const reasons: string[] = risk.json().reasons;
    expect(reasons.join(' | ')).toMatch(/already 120 days past due/);
    expect(reasons.join(' | ')).not.toMatch(/\d,\d{3} days/);
    // The dashboard's 13 weeks from 2019-03-31 read the predictions: made as of 2026 (pay dates in 2026 and later)
    // the forecast expected 66.58 of the 900.00 open within them.
    const a = await t.app.inject({ url: '/api/v1/tenants/acme/analytics', headers: t.auth });
    const f = a.json().forecast;
    expect(f.source).toBe('predicted');
    const inWeeks = f.weeks.reduce((n: number, w: { expectedMinor: number }) => n + w.expectedMinor, 0);
    expect(inWeeks).toBeGreaterThan(30_000);
  });

  it('a row dated ahead does not move the day: scored as of the latest date up to today', async () => {
    const tenantId = await importAndScore(
      t,
      'ahead',
      csv([
        ['DELTA', 'Z0', '2026-09-01', '2026-10-01', '20.00', 'USD', '', '', ''],
        ['DELTA', 'Z2', '2026-10-15', '2026-11-14', '30.00', 'USD', '2026-11-30', '', ''],
        ['DELTA', 'Z1', '2026-12-20', '2027-01-19', '10.00', 'USD', '', '', ''],
      ]),
    );
    expect((await scoredDays(t, tenantId, 'DELTA')).customer).toBe('2026-11-30');
  });
});

describe('under a clock someone set (--now, tests)', () => {
  const t = suiteTestApp({ clock: fixedAt('2026-12-07T09:00:00Z') });

  it("an export is scored as of the clock's day, as its figures are", async () => {
    const tenantId = await importAndScore(t, 'acme', csv(rows));
    expect((await scoredDays(t, tenantId, 'BETA')).customer).toBe('2026-12-07');
  });
});
