/**
 * Credit on account nets a customer's open debt as of the scoring day, as dunning counts it at the same instant: a
 * credit memo or payment dated after the company's calendar day is not credit yet. The scoring took the UTC day of
 * the instant: in the evening in Los Angeles (already tomorrow in UTC), a payment dated the company's tomorrow
 * covered a customer's doubtful debt while its reminders, going by the company's day, still chased it.
 */
import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import { customerRisk, customers, invoices, payments, tenants } from '../../src/db/schema';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { suiteTestApp } from '../helpers/app';
import { demoLedger } from '../risk/demo-ledger';
import { ledgerCsv } from './helpers';

// 19:00 on Dec 1 in Los Angeles, 03:00 on Dec 2 in UTC.
const NOW = '2026-12-02T03:00:00Z';
let s: Services;
let tenant: string;
let c27: string;

const testApp = suiteTestApp({ clock: fixedClock(NOW), token: 'operator' });
beforeAll(async () => {
  ({ services: s } = testApp);
  const { rows } = demoLedger(new Date('2026-12-01T12:00:00Z'));
  tenant = (await importHistoryCsv(s.db, ledgerCsv(rows), { tenantName: 'Pacific', now: s.clock.now() }))
    .tenant.id;
  await s.db.update(tenants).set({ timezone: 'America/Los_Angeles' }).where(eq(tenants.id, tenant));
  [{ id: c27 }] = (await s.db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.tenantId, tenant), eq(customers.externalId, 'C27')))) as [{ id: string }];
}, 180_000);

async function openDebtScore() {
  const [r] = await s.db
    .select({ score: customerRisk.openDebtScore })
    .from(customerRisk)
    .where(eq(customerRisk.customerId, c27));
  return r!.score!;
}

async function scoredWithPaymentDated(date: string) {
  const open = await s.db
    .select({ balance: invoices.balanceMinor })
    .from(invoices)
    .where(and(eq(invoices.customerId, c27), eq(invoices.status, 'open')));
  const owed = open.reduce((sum, i) => sum + Number(i.balance), 0);
  await s.db.insert(payments).values({
    tenantId: tenant,
    customerId: c27,
    externalId: `unapplied-${date}`,
    date,
    currency: 'USD',
    amountMinor: owed,
    unappliedMinor: owed,
  });
  try {
    await scoreTenant(s, tenant);
    return await openDebtScore();
  } finally {
    await s.db.delete(payments).where(eq(payments.externalId, `unapplied-${date}`));
  }
}

describe("credit on account as of the company's day", () => {
  it("a payment dated the company's tomorrow (already today in UTC) does not cover the debt yet", async () => {
    await scoreTenant(s, tenant);
    const without = await openDebtScore();
    expect(without).toBeGreaterThan(50);
    // Dated the company's today: credit, all of the debt covered.
    expect(await scoredWithPaymentDated('2026-12-01')).toBe(0);
    // Dated Dec 2: the company's tomorrow, not credit yet (as the reminders count it).
    expect(await scoredWithPaymentDated('2026-12-02')).toBe(without);
  }, 180_000);
});
