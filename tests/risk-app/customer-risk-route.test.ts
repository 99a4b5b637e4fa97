/**
 * GET /customers/:customer/risk: the stored score with its band, the history series the Customer page charts
 * (read back from the stored trend), and the reasons of the customer's scored invoices; scoped to its tenant.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueApiToken } from '../../src/auth/api-tokens';
import { fixedClock } from '../../src/clock';
import { customerRisk, customers, invoicePredictions } from '../../src/db/schema';
import { customerBand } from '../../src/risk/customer-risk';
import { customerReasons, customerRiskHistory } from '../../src/risk/customer-risk-history';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { suiteTestApp } from '../helpers/app';
import { ledgerCsv, synthetic } from './helpers';

describe('customerRiskHistory', () => {
  const asOf = new Date('2013-06-01T10:00:00Z');
  it('follows the habit score when the account score is the open debt’s', () => {
    expect(customerRiskHistory({ score: 90, habitScore: 40, trend30: 5, trend90: -12, asOf })).toEqual([
      { day: '2013-03-03', score: 52 },
      { day: '2013-05-02', score: 35 },
      { day: '2013-06-01', score: 40 },
    ]);
  });
  it('puts the doubtful open debt first among the reasons', () => {
    const debt = '$6,330 overdue 450+ days, <1% chance of collection within 90 days';
    expect(customerReasons([{ pLate: 1, reasons: ['already 600 days past due', 'a'] }], 5, debt)).toEqual([
      debt,
      'oldest overdue invoice already 600 days past due (about 20 months)',
      'a',
    ]);
  });
  it('reads 90 and 30 days back from the stored trend, oldest first', () => {
    expect(customerRiskHistory({ score: 40, trend30: 5, trend90: -12, asOf })).toEqual([
      { day: '2013-03-03', score: 52 },
      { day: '2013-05-02', score: 35 },
      { day: '2013-06-01', score: 40 },
    ]);
  });
  it('leaves out a day on which the customer had no invoices yet (null trend), and stays within 0–100', () => {
    expect(customerRiskHistory({ score: 3, trend30: 10, trend90: null, asOf })).toEqual([
      { day: '2013-05-02', score: 0 },
      { day: '2013-06-01', score: 3 },
    ]);
    expect(customerRiskHistory({ score: 7, trend30: null, trend90: null, asOf })).toEqual([
      { day: '2013-06-01', score: 7 },
    ]);
  });
  it('reasons: distinct, riskiest invoice first, capped', () => {
    const preds = [
      { pLate: 0.2, reasons: ['b', 'c'] },
      { pLate: 0.9, reasons: ['a', 'b'] },
      { pLate: 0.5, reasons: ['d', 'e', 'f'] },
    ];
    expect(customerReasons(preds)).toEqual(['a', 'b', 'd', 'e', 'f']);
    expect(customerReasons(preds, 3)).toEqual(['a', 'b', 'd']);
    expect(customerReasons([])).toEqual([]);
  });

  it("reasons: one line for the customer's overdue invoices, the oldest, not one unnamed 'already N days past due' per invoice", () => {
    // The demo's Northwind Motors: three invoices each said how late it was, none said which invoice.
    const preds = [
      {
        pLate: 1,
        reasons: ['already 699 days past due (about 2 years)', 'paid the last 6 invoices 23–65 days late'],
      },
      { pLate: 0.99, reasons: ['already 227 days past due', 'paid the last 6 invoices 23–65 days late'] },
      { pLate: 0.9, reasons: ['already 28 days past due', 'recent payments are slower'] },
    ];
    expect(customerReasons(preds)).toEqual([
      'oldest overdue invoice already 699 days past due (about 23 months)',
      'paid the last 6 invoices 23–65 days late',
      'recent payments are slower',
    ]);
    expect(customerReasons([{ pLate: 0.5, reasons: ['already 1 day past due'] }])).toEqual([
      'oldest overdue invoice already 1 day past due',
    ]);
  });
});

const NOW = '2013-06-01';
let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenantA: string;
let tenantB: string;

const testApp = suiteTestApp({ clock: fixedClock(NOW), token: 'operator' });
beforeAll(async () => {
  ({ services: s, app } = testApp);
  auth = testApp.auth;
  const csv = ledgerCsv(synthetic(12, 20, NOW));
  tenantA = (await importHistoryCsv(s.db, csv, { tenantName: 'Alpha', now: s.clock.now() })).tenant.id;
  tenantB = (await importHistoryCsv(s.db, csv, { tenantName: 'Beta', now: s.clock.now() })).tenant.id;
  await scoreTenant(s, tenantA);
  await scoreTenant(s, tenantB);
}, 120_000);

async function customerOf(tenantId: string, externalId: string) {
  const [c] = await s.db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, externalId)));
  return c!.id;
}

describe('GET /tenants/:tenant/customers/:customer/risk', () => {
  it('returns the score, its band, a history ending at the stored score and the invoices’ reasons', async () => {
    // A customer with open (scored) invoices, so it has reasons.
    const [scored] = await s.db
      .select({ customerId: invoicePredictions.customerId })
      .from(invoicePredictions)
      .where(eq(invoicePredictions.tenantId, tenantA))
      .limit(1);
    const id = scored!.customerId;
    const r = await app.inject({ url: `/api/v1/tenants/alpha/customers/${id}/risk`, headers: auth });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    const [stored] = await s.db.select().from(customerRisk).where(eq(customerRisk.customerId, id));
    expect(body.score).toBe(stored!.score);
    // The series is the payment habit's (the open debt is scored as of today only); the score is never below it.
    expect(body.history.at(-1)).toEqual({ day: '2013-06-01', score: stored!.habitScore });
    expect(stored!.score).toBe(Math.max(stored!.habitScore!, stored!.openDebtScore ?? 0));
    // 20 invoices over a year: every synthetic customer had invoices 30 and 90 days back.
    expect(body.history).toHaveLength(3);
    expect(body.history[0]).toEqual({ day: '2013-03-03', score: stored!.habitScore! - stored!.trend90! });
    expect(body.history[1]).toEqual({ day: '2013-05-02', score: stored!.habitScore! - stored!.trend30! });
    expect(body.band).toBe(customerBand(stored!.score / 100));
    const preds = await s.db
      .select({ reasons: invoicePredictions.reasons })
      .from(invoicePredictions)
      .where(eq(invoicePredictions.customerId, id));
    const all = preds.flatMap((p) => p.reasons);
    expect(body.reasons.length).toBeGreaterThan(0);
    for (const reason of body.reasons) expect(all).toContain(reason);
  });

  it('finds the customer by its external id too', async () => {
    const r = await app.inject({ url: '/api/v1/tenants/alpha/customers/C00003/risk', headers: auth });
    expect(r.statusCode).toBe(200);
    expect(r.json().customerExternalId).toBe('C00003');
    expect(r.json().customerId).toBe(await customerOf(tenantA, 'C00003'));
  });

  it('never serves another tenant’s customer: by uuid under the wrong tenant, or with a token of another tenant', async () => {
    const betaCustomer = await customerOf(tenantB, 'C00003');
    const wrong = await app.inject({
      url: `/api/v1/tenants/alpha/customers/${betaCustomer}/risk`,
      headers: auth,
    });
    expect(wrong.statusCode).toBe(404);
    const own = await app.inject({
      url: `/api/v1/tenants/beta/customers/${betaCustomer}/risk`,
      headers: auth,
    });
    expect(own.statusCode).toBe(200);
    expect(own.json().tenantId).toBe(tenantB);
    const alphaOnly = { authorization: `Bearer ${(await issueApiToken(s.db, 'alpha only', tenantA)).token}` };
    const forbidden = await app.inject({
      url: `/api/v1/tenants/beta/customers/${betaCustomer}/risk`,
      headers: alphaOnly,
    });
    expect(forbidden.statusCode).toBe(403);
  });

  it('answers "not scored" for a customer without a score, and 404 for no such customer', async () => {
    const id = await customerOf(tenantA, 'C00004');
    await s.db.delete(customerRisk).where(eq(customerRisk.customerId, id));
    const r = await app.inject({ url: `/api/v1/tenants/alpha/customers/${id}/risk`, headers: auth });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      customerId: id,
      customerExternalId: 'C00004',
      scored: false,
      score: null,
      band: null,
      history: [],
      reasons: [],
    });
    const scored = await app.inject({ url: '/api/v1/tenants/alpha/customers/C00003/risk', headers: auth });
    expect(scored.json().scored).toBe(true);
    const none = await app.inject({ url: '/api/v1/tenants/alpha/customers/NOPE/risk', headers: auth });
    expect(none.statusCode).toBe(404);
  });
});
