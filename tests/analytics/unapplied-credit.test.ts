/**
 * The dashboard's open receivables tie out to the ledger's A/R: QuickBooks' customer balances are open invoices less
 * unapplied payments and unapplied credit memos, and the dashboard shows both figures. Found by an outside audit
 * (s26-rt2): a 60-customer sandbox company showed open AR 150,858.58 where QuickBooks' customers' balances add up to
 * 148,386.21, the 2,472.37 of unapplied credit shown nowhere.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { computeAnalytics } from '../../src/analytics/dashboard';
import { isoDay } from '../../src/clock';
import type { Services } from '../../src/services';
import { sandboxServices, syncedSandboxTenant } from '../sync/helpers';

let sandbox: Sandbox;
let s: Services;
beforeAll(async () => {
  ({ sandbox, s } = await sandboxServices({ seed: 777, customers: 60, invoices: 1500 }, { queue: false }));
});
afterAll(async () => {
  await s?.close();
  await sandbox?.stop();
});

it("open AR less unapplied payments and credit memos equals QuickBooks' customer balances, to the cent", async () => {
  const { tenantId } = await syncedSandboxTenant(s, sandbox);
  const a = await computeAnalytics(s.db, { tenantId, currency: 'USD', today: isoDay(sandbox.now()) });
  const c = sandbox.company;
  const unappliedPayments = [...c.payments.values()].reduce((x, p) => x + p.unappliedMinor, 0);
  const openCredit = [...c.creditMemos.values()].reduce((x, m) => x + m.remainingMinor, 0);
  const ledgerAr = [...c.customers.values()].reduce((x, cu) => x + cu.balanceMinor, 0);
  expect(unappliedPayments + openCredit).toBeGreaterThan(0);
  expect(a.receivables.unappliedCreditMinor).toBe(unappliedPayments + openCredit);
  expect(a.receivables.openMinor - a.receivables.unappliedCreditMinor).toBe(ledgerAr);
});
