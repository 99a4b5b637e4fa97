/**
 * NetSuite invoices under approval routing, from outside through the stand-in: an invoice Pending Approval (status
 * E) or Rejected (D) does not post (Oracle, "Transactional Impact for Workflow Based Invoice Approvals": non-posting
 * until approved, not in the customer payment queue), and SuiteQL prints its amount unpaid either as the total or not
 * at all. Neither may stop the sync, be chased or count in A/R; once approved (an edit: lastmodifieddate moves) the
 * next poll stores it open with its amount, and an approved (Open) invoice printed without the amount still stops
 * the sync naming it. Runs on PGlite and Postgres.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Customer, NetsuiteCompany, NetsuiteSandbox, type Txn } from '../../sandboxes/netsuite';
import { ManualClock } from '../../src/clock';
import { invoices } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { goLive, messagesOf } from '../dunning-engine/fixtures';
import { suiteTestApp } from '../helpers/app';
import { connectSandboxTenant, storedInvoices } from './fixtures';

let sandbox: NetsuiteSandbox;
let clock: ManualClock;
let s: Services;
let tenantId = '';
const tenantSlug = 'netsuite-approval';
let connectionId = '';
let customer: Customer;
/** E, amount printed as the total / printed as nothing; D, the same two ways. */
let pendingShown: Txn;
let pendingNull: Txn;
let rejectedShown: Txn;
let rejectedNull: Txn;
/** A posted invoice of the same customer, as overdue: the one that is chased. */
let posted: Txn;

const t = suiteTestApp(async () => {
  const company = NetsuiteCompany.generate({ seed: 31, customers: 4 });
  customer = [...company.customers.values()].find((c) => c.currency === 'USD') as Customer;
  // Overdue by three weeks: an invoice that posted would be chased now.
  posted = company.addInvoice(customer, 60_000, -21);
  pendingShown = company.addInvoicePendingApproval(customer, 50_000, -21);
  pendingNull = company.addInvoicePendingApproval(customer, 40_000, -21);
  rejectedShown = company.addInvoicePendingApproval(customer, 30_000, -21);
  rejectedNull = company.addInvoicePendingApproval(customer, 20_000, -21);
  company.decideApproval(rejectedShown.id, 'reject');
  company.decideApproval(rejectedNull.id, 'reject');
  company.nullUnpaid.add(pendingNull.id);
  company.nullUnpaid.add(rejectedNull.id);
  sandbox = new NetsuiteSandbox({ company });
  await sandbox.start();
  clock = new ManualClock(`${company.clock.replace(' ', 'T')}Z`);
  return { clock, env: { ...sandbox.env() }, token: 'test admin', sandbox };
}, 120_000);
beforeAll(async () => {
  s = t.services;
  ({ tenantId, connectionId } = await connectSandboxTenant(
    t.app,
    s.db,
    t.token,
    'NetSuite Approval',
    tenantSlug,
  ));
});

const co = () => sandbox.company;

const ours = () => storedInvoices(s.db, tenantId);

async function poll() {
  co().advance(5);
  clock.advance(5 * 60_000);
  return runSync(s, { connectionId, reason: 'schedule', pageSize: 7 });
}

/** The USD receivables the dashboard reports (its service: the route caches answers for a second). */
async function usdReceivables() {
  const a = await s.analytics.dashboard({
    tenantId,
    currency: 'USD',
    today: clock.now().toISOString().slice(0, 10),
    periodDays: 90,
  });
  return { openMinor: a.receivables.openMinor, openCount: a.receivables.openCount };
}

function truthUsd() {
  let openMinor = 0;
  let openCount = 0;
  for (const v of co().openBalances().values()) {
    if (v.status !== 'open' || v.currency !== 'USD') continue;
    openMinor += v.balanceMinor;
    openCount += 1;
  }
  return { openMinor, openCount };
}

/** Our invoice ids (uuid) of these NetSuite invoices. */
async function ourIds(...txns: Txn[]) {
  const rows = await s.db
    .select({ id: invoices.id })
    .from(invoices)
    .where(
      and(
        eq(invoices.tenantId, tenantId),
        inArray(
          invoices.externalId,
          txns.map((x) => String(x.id)),
        ),
      ),
    );
  return rows.map((r) => r.id);
}

/**
 * Invoices the dunning planner takes as owed this run: those its decisions list (chased, held, not due yet) and
 * those on a planned message.
 */
async function owedToPlanner(): Promise<Set<string>> {
  const { decisions } = await planTenant(s, tenantId);
  return new Set([
    ...decisions.flatMap((d) => d.invoices.map((i) => i.invoiceId)),
    ...(await messagesOf(s, tenantId)).flatMap((m) => m.invoiceIds),
  ]);
}

describe('NetSuite invoices pending approval or rejected', () => {
  it('the full sync reads them without stopping; stored void with nothing owed, out of A/R, never chased', async () => {
    const result = await runSync(s, { connectionId, reason: 'connect', pageSize: 7 });
    expect(result.error ?? null).toBeNull();
    expect(result.status).toBe('succeeded');
    const got = await ours();
    for (const x of [pendingShown, pendingNull, rejectedShown, rejectedNull])
      expect(got.get(String(x.id))).toEqual({ currency: 'USD', balanceMinor: 0, status: 'void' });
    expect(got).toEqual(co().openBalances());
    expect(await usdReceivables()).toEqual(truthUsd());

    await goLive(s, tenantId);
    const planned = await owedToPlanner();
    // The customer's overdue posted invoice is taken as owed; none of the four.
    for (const id of await ourIds(posted)) expect(planned.has(id)).toBe(true);
    for (const id of await ourIds(pendingShown, pendingNull, rejectedShown, rejectedNull))
      expect(planned.has(id)).toBe(false);
  });

  it('approved, the next poll stores it open with its amount (and a part payment on it is exact)', async () => {
    co().decideApproval(pendingNull.id, 'approve');
    // Approved, NetSuite prints its amount unpaid (it posted to A/R).
    co().nullUnpaid.delete(pendingNull.id);
    co().decideApproval(pendingShown.id, 'approve');
    expect((await poll()).status).toBe('succeeded');
    const got = await ours();
    expect(got.get(String(pendingNull.id))).toEqual({
      currency: 'USD',
      balanceMinor: 40_000,
      status: 'open',
    });
    expect(got.get(String(pendingShown.id))).toEqual({
      currency: 'USD',
      balanceMinor: 50_000,
      status: 'open',
    });
    expect(got).toEqual(co().openBalances());
    expect(await usdReceivables()).toEqual(truthUsd());

    co().addPayment(customer, 12_345, [{ invoice: pendingShown.id, amountMinor: 12_345 }]);
    expect((await poll()).status).toBe('succeeded');
    expect((await ours()).get(String(pendingShown.id))).toMatchObject({
      balanceMinor: 37_655,
      status: 'open',
    });
    expect(await ours()).toEqual(co().openBalances());

    // Now owed like any overdue invoice.
    const planned = await owedToPlanner();
    for (const id of await ourIds(pendingShown, pendingNull)) expect(planned.has(id)).toBe(true);
    for (const id of await ourIds(rejectedShown, rejectedNull)) expect(planned.has(id)).toBe(false);
  });

  it('an approved (Open) invoice printed without its amount unpaid still stops the sync naming it, balance kept', async () => {
    const inv = co().addInvoicePendingApproval(customer, 7_700, 30);
    co().nullUnpaid.add(inv.id);
    expect((await poll()).status).toBe('succeeded');
    expect((await ours()).get(String(inv.id))).toEqual({ currency: 'USD', balanceMinor: 0, status: 'void' });
    co().decideApproval(inv.id, 'approve');
    const failed = await poll();
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(inv.tranid);
    expect(failed.error).toContain('amount unpaid');
    // Not guessed open or paid: it stays as Duely last read it until NetSuite prints the amount.
    expect((await ours()).get(String(inv.id))).toEqual({ currency: 'USD', balanceMinor: 0, status: 'void' });
    co().nullUnpaid.delete(inv.id);
    expect((await poll()).status).toBe('succeeded');
    expect((await ours()).get(String(inv.id))).toEqual({
      currency: 'USD',
      balanceMinor: 7_700,
      status: 'open',
    });
    expect(await ours()).toEqual(co().openBalances());
  });
});
