/**
 * Red team of NetSuite polling against drift the ledger tests did not cover, from outside: the stand-in is edited
 * the way NetSuite users correct records (an invoice re-opened after being paid, its currency or customer changed,
 * a payment moved to the customer it belonged to, a record deleted and keyed again under the same number), and after
 * each poll every invoice's balance, currency and status must match the stand-in to the minor unit, and its
 * customer too. Runs on PGlite and Postgres.
 */
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Customer, NetsuiteCompany, NetsuiteSandbox, type Txn } from '../../sandboxes/netsuite';
import { ManualClock } from '../../src/clock';
import { customers, invoices } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { suiteTestApp } from '../helpers/app';
import { connectSandboxTenant } from './fixtures';

const clock = new ManualClock('2026-04-01T08:00:00Z');
let sandbox: NetsuiteSandbox;
let s: Services;
let tenantId = '';
let connectionId = '';

const t = suiteTestApp(async () => {
  sandbox = new NetsuiteSandbox({ company: NetsuiteCompany.generate({ seed: 11, customers: 8 }) });
  await sandbox.start();
  return { clock, env: { ...sandbox.env() }, token: 'test admin', sandbox };
});
beforeAll(async () => {
  s = t.services;
  ({ tenantId, connectionId } = await connectSandboxTenant(
    t.app,
    s.db,
    t.token,
    'NetSuite Drift',
    'netsuite-drift',
  ));
  const first = await runSync(s, { connectionId, reason: 'connect', pageSize: 7 });
  expect(first.status).toBe('succeeded');
});

const co = () => sandbox.company;

/** Every live invoice as Duely holds it: balance, currency, status and the customer's NetSuite id. */
async function ours() {
  const rows = await s.db
    .select({
      id: invoices.externalId,
      currency: invoices.currency,
      balanceMinor: invoices.balanceMinor,
      status: invoices.status,
      customer: customers.externalId,
    })
    .from(invoices)
    .innerJoin(customers, eq(customers.id, invoices.customerId))
    .where(eq(invoices.tenantId, tenantId));
  return new Map(
    rows
      .filter((r) => r.status !== 'deleted')
      .map((r) => [
        r.id,
        { currency: r.currency, balanceMinor: r.balanceMinor, status: r.status, customer: r.customer },
      ]),
  );
}

function truth() {
  const out = new Map<string, { currency: string; balanceMinor: number; status: string; customer: string }>();
  for (const [id, b] of co().openBalances())
    out.set(id, { ...b, customer: String((co().txns.get(Number(id)) as Txn).entity) });
  return out;
}

async function poll() {
  co().advance(5);
  clock.advance(5 * 60_000);
  const result = await runSync(s, { connectionId, reason: 'schedule', pageSize: 7 });
  expect(result.status, result.error ?? '').toBe('succeeded');
}

/** Well past the overlap: nothing changed before is still being re-read for recent changes. */
async function quiet() {
  co().advance(180);
  clock.advance(180 * 60_000);
  await poll();
}

async function expectExact() {
  expect(await ours()).toEqual(truth());
}

const openInvoices = (currency?: string) =>
  [...co().txns.values()].filter(
    (x) => x.type === 'CustInvc' && co().unpaid(x) > 300 && (!currency || x.currency === currency),
  );
const customerOf = (inv: Txn) => co().customers.get(inv.entity) as Customer;
const touch = (x: { lastmodified: string }) => {
  co().advance(1);
  x.lastmodified = co().clock;
};

describe('NetSuite red team: drift in the incremental path', () => {
  it('starts exact', async () => {
    await poll();
    await expectExact();
  });

  it('an invoice paid in full, re-opened hours later by un-applying the payment, is open again', async () => {
    const inv = openInvoices('USD')[0] as Txn;
    const p = co().addPayment(customerOf(inv), co().unpaid(inv), [
      { invoice: inv.id, amountMinor: co().unpaid(inv) },
    ]);
    await poll();
    await expectExact();
    expect((await ours()).get(String(inv.id))?.status).toBe('paid');
    await quiet();
    co().unapply(p.id, inv.id);
    await poll();
    await expectExact();
    expect((await ours()).get(String(inv.id))?.status).toBe('open');
  });

  it("a payment keyed against the wrong customer, moved to the right one: the first customer's invoice is open again", async () => {
    const inv = openInvoices('EUR')[0] as Txn;
    const wrong = customerOf(inv);
    const right = [...co().customers.values()].find(
      (c) => c.id !== wrong.id && c.currency === wrong.currency,
    ) as Customer;
    expect(right).toBeDefined();
    const p = co().addPayment(wrong, 321, [{ invoice: inv.id, amountMinor: 321 }]);
    await poll();
    await expectExact();
    await quiet();
    // Edit the payment, change its customer: its applications to the first customer's invoices go.
    co().links = co().links.filter((l) => l.nextdoc !== p.id);
    p.entity = right.id;
    touch(p);
    await poll();
    await expectExact();
  });

  it("an invoice's currency changed (no payment applied yet), re-expressed in the new currency", async () => {
    const inv = [...co().txns.values()].find(
      (x) =>
        x.type === 'CustInvc' &&
        !x.voided &&
        x.currency === 'USD' &&
        co().unpaid(x) === x.totalMinor &&
        !co().links.some((l) => l.previousdoc === x.id),
    ) as Txn;
    expect(inv).toBeDefined();
    await quiet();
    inv.currency = 'CAD';
    inv.totalMinor = Math.round(inv.totalMinor * 1.37);
    touch(inv);
    await poll();
    await expectExact();
  });

  it('an invoice moved to another customer (its customer field edited)', async () => {
    const inv = [...co().txns.values()].find(
      (x) =>
        x.type === 'CustInvc' &&
        !x.voided &&
        co().unpaid(x) > 0 &&
        !co().links.some((l) => l.previousdoc === x.id),
    ) as Txn;
    const other = [...co().customers.values()].find((c) => c.id !== inv.entity) as Customer;
    await quiet();
    inv.entity = other.id;
    touch(inv);
    await poll();
    await expectExact();
  });

  it('an invoice deleted and keyed again under the same number (a new internal id)', async () => {
    const inv = openInvoices('USD')[1] as Txn;
    await quiet();
    co().delete(inv.id);
    const again = co().addInvoice(customerOf(inv), inv.totalMinor + 500);
    again.tranid = inv.tranid;
    await poll();
    await expectExact();
    const rows = await s.db
      .select({ id: invoices.externalId, number: invoices.number, status: invoices.status })
      .from(invoices)
      .where(eq(invoices.number, inv.tranid));
    expect(rows.map((r) => [r.id, r.status]).sort()).toEqual(
      [
        [String(inv.id), 'deleted'],
        [String(again.id), 'open'],
      ].sort(),
    );
  });

  it("a customer's subsidiary and currency changed: its invoices are untouched and exact", async () => {
    const c = [...co().customers.values()].find((x) => x.subsidiary === 2) as Customer;
    await quiet();
    c.subsidiary = 1;
    c.currency = 'USD';
    touch(c);
    await poll();
    await expectExact();
    const [row] = await s.db
      .select({ currency: customers.currency })
      .from(customers)
      .where(eq(customers.externalId, String(c.id)));
    expect(row?.currency).toBe('USD');
  });

  it('a credit memo applied, then deleted hours later: the invoice is open again', async () => {
    const inv = openInvoices('JPY')[0] as Txn;
    const cm = co().addCreditMemo(customerOf(inv), 1000);
    co().apply(cm.id, inv.id, 1000);
    await poll();
    await expectExact();
    await quiet();
    co().delete(cm.id);
    await poll();
    await expectExact();
  });

  it('a journal crediting A/R applied to an invoice (in full) hours after the last change: the invoice is paid', async () => {
    const inv = openInvoices('CAD')[0] as Txn;
    await quiet();
    co().addJournalCredit(customerOf(inv), [{ invoice: inv.id, amountMinor: co().unpaid(inv) }]);
    await poll();
    await expectExact();
    expect((await ours()).get(String(inv.id))?.status).toBe('paid');
  });

  it('after all that, a fresh poll is exact', async () => {
    await quiet();
    await expectExact();
  });
});
