/**
 * A customer's risk as a controller reads it, "how risky is this account": on the demo company a customer who pays
 * its new invoices on time but owes thousands overdue for almost two years, never collected, is not "low, 2/100".
 * The stored score is the worse of the payment habit (a typical new invoice's lateness) and the open debt's
 * collection risk (the share of the open balance not expected to be collected within 90 days); the band follows it,
 * and the first reason names the debt with its amount, age and chance of collection.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import { customerRisk, customers, invoices, payments } from '../../src/db/schema';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { suiteTestApp } from '../helpers/app';
import { demoLedger } from '../risk/demo-ledger';
import { ledgerCsv } from './helpers';

const NOW = '2026-12-01T12:00:00Z';
let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: string;

const testApp = suiteTestApp({ clock: fixedClock(NOW), token: 'operator' });
beforeAll(async () => {
  ({ services: s, app } = testApp);
  auth = testApp.auth;
  const { rows } = demoLedger(new Date(NOW));
  tenant = (await importHistoryCsv(s.db, ledgerCsv(rows), { tenantName: 'Demo', now: s.clock.now() })).tenant
    .id;
  await scoreTenant(s, tenant);
}, 180_000);

async function stored(externalId: string) {
  const [row] = await s.db
    .select({ risk: customerRisk })
    .from(customerRisk)
    .innerJoin(customers, eq(customers.id, customerRisk.customerId))
    .where(and(eq(customers.tenantId, tenant), eq(customers.externalId, externalId)));
  return row!.risk;
}

describe('customer risk reflects open debt unlikely to be collected', () => {
  it('an on-time payer owing thousands overdue for over a year, never collected, is high risk, and the reason says why', async () => {
    // C27 in the demo company: pays new invoices on time (habit ≈ 2/100) and owes thousands overdue 450–680 days.
    const r = await app.inject({ url: '/api/v1/tenants/demo/customers/C27/risk', headers: auth });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.habitScore).toBeLessThan(5);
    expect(body.openDebtScore).toBeGreaterThan(50);
    expect(body.score).toBe(Math.max(body.habitScore, body.openDebtScore));
    expect(body.band).toBe('high');
    // "$6,330 overdue 450+ days, <1% chance of collection within 90 days" (the CSV carries no partial payments).
    const said = /^\$([\d,]+) overdue (\d+)\+ days, (<1|\d)% chance of collection within 90 days$/.exec(
      body.reasons[0],
    );
    expect(said, body.reasons[0]).not.toBeNull();
    expect(Number(said![1]!.replaceAll(',', ''))).toBeGreaterThan(4000);
    expect(Number(said![2])).toBeGreaterThan(365);
    // The trend and its chart stay on the payment habit, the one series known 30 and 90 days back.
    expect(body.history.at(-1).score).toBe(body.habitScore);
  });

  it('the customer list ranks it by the account score, not the habit alone', async () => {
    const row = await stored('C27');
    expect(row.score).toBeGreaterThanOrEqual(33);
    const list = await app.inject({
      url: '/api/v1/tenants/demo/customers?sort=-risk&open=true&limit=40',
      headers: auth,
    });
    expect(list.statusCode).toBe(200);
    const ids = list.json().items.map((c: { externalId: string }) => c.externalId);
    expect(ids).toContain('C27');
  });

  it('"Customers at risk" ranks by risk score × open balance: the big doubtful debts before the small write-offs', async () => {
    const top = await app.inject({
      url: '/api/v1/tenants/demo/customers?sort=-atRisk&minRisk=1&open=true&limit=5',
      headers: auth,
    });
    expect(top.statusCode).toBe(200);
    const items: { riskScore: number; openBalanceMinor: number }[] = top.json().items;
    expect(items).toHaveLength(5);
    const exposure = items.map((c) => c.riskScore * c.openBalanceMinor);
    expect(exposure).toEqual([...exposure].sort((a, b) => b - a));
    // By score alone the first five are customers owing $400–$1,500, all of it doubtful, at 99–100; here each owes
    // thousands.
    for (const c of items) expect(c.openBalanceMinor).toBeGreaterThan(500_000);
    const byScore = await app.inject({
      url: '/api/v1/tenants/demo/customers?sort=-risk&minRisk=1&open=true&limit=5',
      headers: auth,
    });
    expect(byScore.json().items.some((c: { openBalanceMinor: number }) => c.openBalanceMinor < 200_000)).toBe(
      true,
    );
  });

  it('a customer with nothing open keeps its habit score', async () => {
    const all = await s.db.select().from(customerRisk).where(eq(customerRisk.tenantId, tenant));
    const noDebt = all.filter((r) => r.openDebtScore === null);
    expect(noDebt.length).toBeGreaterThan(0);
    for (const r of noDebt) expect(r.score).toBe(r.habitScore);
    for (const r of all) expect(r.score).toBe(Math.max(r.habitScore!, r.openDebtScore ?? 0));
  });
});

describe('credit on account nets the open debt', () => {
  it('an unapplied payment of 90 % of what it owes lowers the score, and the reason says so', async () => {
    const [c] = await s.db
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.tenantId, tenant), eq(customers.externalId, 'C27')));
    const before = await stored('C27');
    const open = await s.db
      .select({ balance: invoices.balanceMinor, currency: invoices.currency })
      .from(invoices)
      .where(and(eq(invoices.customerId, c!.id), eq(invoices.status, 'open')));
    const owed = open.reduce((sum, i) => sum + Number(i.balance), 0);
    expect(new Set(open.map((i) => i.currency))).toEqual(new Set(['USD']));
    // A payment received and not yet applied to any invoice: 90 % of what the customer owes.
    const credit = Math.round(owed * 0.9);
    await s.db.insert(payments).values({
      tenantId: tenant,
      customerId: c!.id,
      externalId: 'unapplied-C27',
      date: '2026-11-20',
      currency: 'USD',
      amountMinor: credit,
      unappliedMinor: credit,
    });
    try {
      await scoreTenant(s, tenant);
      const after = await stored('C27');
      expect(before.openDebtScore).toBeGreaterThan(50);
      // At most the 10 % not covered, all of it doubtful.
      expect(after.openDebtScore).toBeLessThanOrEqual(10);
      expect(after.score).toBe(Math.max(after.habitScore!, after.openDebtScore!));
      const r = await app.inject({ url: '/api/v1/tenants/demo/customers/C27/risk', headers: auth });
      expect(r.json().band).not.toBe('high');
      // Applied to the oldest invoices first, it covers all of the doubtful debt (what remains is younger): credit to
      // apply, not debt to chase.
      expect(r.json().reasons[0]).toMatch(
        /^\$[\d,]+ credit on account covers the \$[\d,]+ overdue \d+\+ days$/,
      );
    } finally {
      await s.db.delete(payments).where(eq(payments.externalId, 'unapplied-C27'));
    }
  }, 180_000);
});

describe('credit on account of a job billed with its parent', () => {
  it("the parent's unapplied payment covers the job's doubtful debt (the payer's credit, as reminders count it)", async () => {
    const idOf = async (externalId: string) =>
      (
        await s.db
          .select({ id: customers.id })
          .from(customers)
          .where(and(eq(customers.tenantId, tenant), eq(customers.externalId, externalId)))
      )[0]!.id;
    const [job, parent] = [await idOf('C27'), await idOf('C28')];
    const owedBy = async (id: string) =>
      (
        await s.db
          .select({ balance: invoices.balanceMinor })
          .from(invoices)
          .where(and(eq(invoices.customerId, id), eq(invoices.status, 'open')))
      ).reduce((sum, i) => sum + Number(i.balance), 0);
    // Enough for everything the two owe, held by the parent.
    const credit = (await owedBy(job)) + (await owedBy(parent));
    await s.db
      .update(customers)
      .set({ billWithParent: true, parentExternalId: 'C28' })
      .where(eq(customers.id, job));
    await s.db.insert(payments).values({
      tenantId: tenant,
      customerId: parent,
      externalId: 'unapplied-C28',
      date: '2026-11-20',
      currency: 'USD',
      amountMinor: credit,
      unappliedMinor: credit,
    });
    try {
      await scoreTenant(s, tenant);
      const r = await stored('C27');
      expect(r.openDebtScore).toBe(0);
      expect(r.openDebtReason).toMatch(/^\$[\d,]+ credit on account covers the \$[\d,]+ overdue \d+\+ days$/);
      expect((await stored('C28')).openDebtScore ?? 0).toBe(0);
    } finally {
      await s.db.delete(payments).where(eq(payments.externalId, 'unapplied-C28'));
      await s.db
        .update(customers)
        .set({ billWithParent: false, parentExternalId: null })
        .where(eq(customers.id, job));
    }
  }, 180_000);
});

describe('"Customers at risk" across currencies', () => {
  it('a CAD debtor among USD ones is ranked among the CAD balances, below the USD list, not dropped at $0', async () => {
    const first = await app.inject({ url: '/api/v1/tenants/demo/customers-at-risk?limit=5', headers: auth });
    expect(first.statusCode).toBe(200);
    expect(first.json().currency).toBe('USD');
    expect(first.json().groups.map((g: { currency: string }) => g.currency)).toEqual(['USD']);
    const [top] = first.json().groups[0].items;
    // The riskiest exposure of the company owes in CAD instead (its open invoices re-issued in CAD).
    const open = and(eq(invoices.customerId, top.id), eq(invoices.status, 'open'));
    await s.db.update(invoices).set({ currency: 'CAD' }).where(open);
    try {
      // What the card read before: one list in the company's currency, where the CAD debtor's balance is 0.
      const usdOnly = await app.inject({
        url: '/api/v1/tenants/demo/customers?sort=-atRisk&minRisk=1&open=true&limit=5',
        headers: auth,
      });
      expect(usdOnly.json().items.map((c: { id: string }) => c.id)).not.toContain(top.id);
      const r = await app.inject({ url: '/api/v1/tenants/demo/customers-at-risk?limit=5', headers: auth });
      const groups: {
        currency: string;
        total: number;
        items: { id: string; riskScore: number; openBalanceMinor: number }[];
      }[] = r.json().groups;
      // The company's currency first, then the other one, labelled by its code.
      expect(groups.map((g) => g.currency)).toEqual(['USD', 'CAD']);
      expect(groups[0]!.items.map((c) => c.id)).not.toContain(top.id);
      expect(groups[1]).toMatchObject({
        total: 1,
        items: [{ id: top.id, openBalanceMinor: top.openBalanceMinor }],
      });
      for (const g of groups) {
        const exposure = g.items.map((c) => c.riskScore * c.openBalanceMinor);
        expect(exposure).toEqual([...exposure].sort((a, b) => b - a));
        for (const c of g.items) expect(c.openBalanceMinor).toBeGreaterThan(0);
      }
      expect(groups[0]!.items).toHaveLength(5);
      expect(groups[0]!.total).toBeGreaterThan(5);
    } finally {
      await s.db.update(invoices).set({ currency: 'USD' }).where(open);
    }
  });
});
