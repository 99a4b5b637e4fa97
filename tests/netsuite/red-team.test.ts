/**
 * Red team of the NetSuite path, from outside: connect to the stand-in, sync, then change the ledger the way
 * NetSuite users do (partial and multi-invoice payments, an unapplied payment applied later, credit memos, deleted
 * and voided payments, an invoice edited after a part payment, foreign currencies, a change at the poll's clock
 * second, a customer merged) and check every balance against the stand-in to the minor unit after each poll.
 * Runs on PGlite and Postgres.
 */
import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Customer, NetsuiteCompany, NetsuiteSandbox, type Txn } from '../../sandboxes/netsuite';
import { ManualClock } from '../../src/clock';
import { connections, customers, invoices, payments } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { refreshInvoicesLive } from '../../src/sync/live-refresh';
import { runSync } from '../../src/sync/run-sync';
import { suiteTestApp } from '../helpers/app';
import { connectSandboxTenant, storedInvoices } from './fixtures';

const clock = new ManualClock('2026-04-01T08:00:00Z');
let sandbox: NetsuiteSandbox;
let s: Services;
let tenantId = '';
let connectionId = '';

const t = suiteTestApp(async () => {
  sandbox = new NetsuiteSandbox({ company: NetsuiteCompany.generate({ seed: 7, customers: 8 }) });
  await sandbox.start();
  return { clock, env: { ...sandbox.env() }, token: 'test admin', sandbox };
});
beforeAll(async () => {
  s = t.services;
  ({ tenantId, connectionId } = await connectSandboxTenant(
    t.app,
    s.db,
    t.token,
    'NetSuite Red',
    'netsuite-red',
  ));
});

const co = () => sandbox.company;

const ours = () => storedInvoices(s.db, tenantId);

async function poll() {
  co().advance(5);
  clock.advance(5 * 60_000);
  const result = await runSync(s, { connectionId, reason: 'schedule', pageSize: 7 });
  expect(result.status).toBe('succeeded');
}

async function expectExact() {
  expect(await ours()).toEqual(co().openBalances());
}

const openInvoices = (currency?: string) =>
  [...co().txns.values()].filter(
    (x) => x.type === 'CustInvc' && co().unpaid(x) > 300 && (!currency || x.currency === currency),
  );
const customerOf = (inv: Txn) => co().customers.get(inv.entity) as Customer;

describe('NetSuite red team: ledger changes, balances to the minor unit', () => {
  it('full sync is exact', async () => {
    const result = await runSync(s, { connectionId, reason: 'connect', pageSize: 7 });
    expect(result.status).toBe('succeeded');
    await expectExact();
  });

  it('a partial payment of a EUR invoice', async () => {
    const inv = openInvoices('EUR')[0] as Txn;
    co().addPayment(customerOf(inv), 101, [{ invoice: inv.id, amountMinor: 101 }]);
    await poll();
    await expectExact();
  });

  it('one payment applied to two invoices of one customer (JPY)', async () => {
    const inv = openInvoices('JPY')[0] as Txn;
    const other = openInvoices('JPY').find((x) => x.entity === inv.entity && x.id !== inv.id);
    const second = other ?? co().addInvoice(customerOf(inv), 12_300);
    co().addPayment(customerOf(inv), 500, [
      { invoice: inv.id, amountMinor: 200 },
      { invoice: second.id, amountMinor: 300 },
    ]);
    await poll();
    await expectExact();
  });

  it('an unapplied payment, applied two polls later', async () => {
    const inv = openInvoices('USD')[0] as Txn;
    const p = co().addPayment(customerOf(inv), 250, []);
    await poll();
    await expectExact();
    await poll();
    co().apply(p.id, inv.id, 250);
    await poll();
    await expectExact();
  });

  it('a credit memo applied, then part un-applied', async () => {
    const inv = openInvoices('CAD')[0] as Txn;
    const cm = co().addCreditMemo({ ...customerOf(inv), currency: inv.currency }, 400);
    co().apply(cm.id, inv.id, 400);
    await poll();
    await expectExact();
    co().unapply(cm.id, inv.id);
    await poll();
    await expectExact();
  });

  it('a payment deleted and another voided', async () => {
    const a = openInvoices('USD')[1] as Txn;
    const b = openInvoices('EUR')[1] as Txn;
    const pa = co().addPayment(customerOf(a), 150, [{ invoice: a.id, amountMinor: 150 }]);
    const pb = co().addPayment(customerOf(b), 170, [{ invoice: b.id, amountMinor: 170 }]);
    await poll();
    await expectExact();
    co().delete(pa.id);
    co().void(pb.id);
    await poll();
    await expectExact();
  });

  it('an invoice edited after being partly paid (total raised)', async () => {
    const inv = openInvoices('USD')[2] as Txn;
    co().addPayment(customerOf(inv), 120, [{ invoice: inv.id, amountMinor: 120 }]);
    await poll();
    inv.totalMinor += 999;
    co().advance(1);
    inv.lastmodified = co().clock;
    await poll();
    await expectExact();
  });

  it('a payment stamped in the very second the last poll read the clock is read by the next poll', async () => {
    await poll();
    const inv = openInvoices('USD')[3] as Txn;
    // No advance: lastmodified equals the clock the previous poll read.
    const p = co().addPayment(customerOf(inv), 77, []);
    p.lastmodified = co().clock;
    co().links.push({ previousdoc: inv.id, nextdoc: p.id, amountMinor: 77 });
    await poll();
    await expectExact();
  });

  it('a customer merged into another: its open invoices follow it, the balance stays exact', async () => {
    const inv = openInvoices('USD').find((x) => customerOf(x).currency === 'USD') as Txn;
    const from = customerOf(inv);
    const into = [...co().customers.values()].find(
      (c) => c.id !== from.id && c.currency === from.currency && c.subsidiary === from.subsidiary,
    ) as Customer;
    expect(into).toBeDefined();
    // Well past the overlap: nothing of either customer is still being re-read for recent changes.
    co().advance(180);
    clock.advance(180 * 60_000);
    await poll();
    co().mergeCustomer(from.id, into.id);
    await poll();
    await expectExact();
    const [row] = await s.db
      .select({ customer: customers.externalId })
      .from(invoices)
      .innerJoin(customers, eq(customers.id, invoices.customerId))
      .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, String(inv.id))));
    expect(row?.customer).toBe(String(into.id));
  });

  it('a deposit applied to an invoice, then un-applied by editing the deposit application', async () => {
    // Well past the overlap, so nothing else of this customer is being re-read anyway.
    co().advance(180);
    clock.advance(180 * 60_000);
    await poll();
    const inv = openInvoices('EUR')[2] as Txn;
    const dep = co().addDepositApplication(customerOf(inv), [{ invoice: inv.id, amountMinor: 250 }]);
    await poll();
    await expectExact();
    co().advance(180);
    clock.advance(180 * 60_000);
    await poll();
    co().unapply(dep.id, inv.id);
    await poll();
    await expectExact();
  });

  it('a hostile row (an invoice dated year 0) stops the sync naming the invoice; corrected, the next poll is exact', async () => {
    const inv = openInvoices('USD')[0] as Txn;
    const trandate = inv.trandate;
    inv.trandate = '0000-01-01';
    co().advance(1);
    inv.lastmodified = co().clock;
    co().advance(5);
    clock.advance(5 * 60_000);
    const failed = await runSync(s, { connectionId, reason: 'schedule', pageSize: 7 });
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(inv.tranid);
    inv.trandate = trandate;
    await poll();
    await expectExact();
  });

  it('an amount unpaid NetSuite leaves out (NULL) on an open invoice stops the sync naming it, never marks it paid', async () => {
    await poll();
    const [inv] = openInvoices('USD') as [Txn];
    const paid = [...co().txns.values()].find(
      (x) => x.type === 'CustInvc' && !x.voided && co().unpaid(x) === 0,
    ) as Txn;
    const before = (await ours()).get(String(inv.id));
    expect(before?.status).toBe('open');
    // Both edited (so a poll reads them) and both printed without foreignamountunpaid.
    co().nullUnpaid.add(inv.id);
    co().nullUnpaid.add(paid.id);
    co().advance(1);
    inv.lastmodified = co().clock;
    paid.lastmodified = co().clock;
    co().advance(5);
    clock.advance(5 * 60_000);
    const failed = await runSync(s, { connectionId, reason: 'schedule', pageSize: 7 });
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(inv.tranid);
    expect(failed.error).toContain('amount unpaid');
    // Still open, still owed: the debtor is chased as before.
    expect((await ours()).get(String(inv.id))).toEqual(before);
    // NetSuite answers the column again: the next poll is exact (and the paid invoice, status Paid In Full, was
    // never a problem).
    co().nullUnpaid.delete(inv.id);
    await poll();
    await expectExact();
    co().nullUnpaid.delete(paid.id);
  });

  it('SYSDATE three hours ahead of the zone changes are stamped in: no poll starts after a change it has not read', async () => {
    // Whether SuiteQL prints SYSDATE and lastmodifieddate in one zone is not documented. Before, each round started
    // at SYSDATE − 65 min, i.e. about two hours after the newest change it had read, and every change in between was
    // missed until a full sync.
    co().sysdateSkewMinutes = 180;
    try {
      await poll();
      await expectExact();
      for (const cents of [31, 32, 33]) {
        const inv = openInvoices('USD')[0] as Txn;
        co().addPayment(customerOf(inv), cents, [{ invoice: inv.id, amountMinor: cents }]);
        await poll();
        await expectExact();
      }
      // A deletion is stamped the same way and read the same way.
      const inv = openInvoices('USD')[0] as Txn;
      const p = co().addPayment(customerOf(inv), 44, [{ invoice: inv.id, amountMinor: 44 }]);
      await poll();
      await expectExact();
      co().delete(p.id);
      await poll();
      await expectExact();
    } finally {
      co().sysdateSkewMinutes = 0;
    }
  });

  it('SYSDATE three hours ahead during a full sync: the first poll reads what changed while the full sync read', async () => {
    // Before, a full sync handed over to polling at SYSDATE − 65 min as it began: with SYSDATE three hours ahead,
    // about two hours after anything it read, so an invoice voided meanwhile, after the full sync had read it, was
    // never read by a poll (until the next full sync) and stayed open. The sync also runs for over an hour here,
    // with a later change read at its end: where polling starts may not follow that newest change read either.
    co().sysdateSkewMinutes = 180;
    try {
      const [a, b] = openInvoices('USD') as [Txn, Txn];
      let changed = false;
      const result = await runSync(s, {
        connectionId,
        reason: 'manual',
        full: true,
        pageSize: 7,
        onProgress: ({ progress }) => {
          // Credit memos are read after every invoice: `a` and `b` were read as they were.
          if (changed || (progress.entities.creditMemos?.rows ?? 0) === 0) return;
          changed = true;
          co().void(a.id);
          co().advance(120);
          clock.advance(120 * 60_000);
          co().addPayment(customerOf(b), 62, [{ invoice: b.id, amountMinor: 62 }]);
        },
      });
      expect(result.status).toBe('succeeded');
      expect(changed).toBe(true);
      await poll();
      await expectExact();
    } finally {
      co().sysdateSkewMinutes = 0;
    }
  });

  it('after all that, a fresh poll changes nothing and the connection is active', async () => {
    await poll();
    await expectExact();
    const [conn] = await s.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(conn?.status).toBe('active');
  });
});

describe('NetSuite red team: faults lose nothing', () => {
  /** Rows per NetSuite id in our tables (a duplicate would show as 2). */
  async function rowCounts() {
    const inv = await s.db
      .select({ id: invoices.externalId })
      .from(invoices)
      .where(eq(invoices.tenantId, tenantId));
    const pay = await s.db
      .select({ id: payments.externalId })
      .from(payments)
      .where(eq(payments.tenantId, tenantId));
    return {
      invoices: inv.length,
      distinctInvoices: new Set(inv.map((r) => r.id)).size,
      payments: pay.length,
    };
  }

  /** After a killed sync: minutes later the next run resumes it; it succeeds, a poll after it is exact, no row twice. */
  async function resumeExact() {
    co().advance(5);
    clock.advance(10 * 60_000);
    const resumed = await runSync(s, { connectionId, reason: 'schedule', pageSize: 7 });
    expect(resumed.status).toBe('succeeded');
    await poll();
    await expectExact();
    const counts = await rowCounts();
    expect(counts.invoices).toBe(counts.distinctInvoices);
    return counts;
  }

  it('a worker dying mid full sync (after 3 pages) while NetSuite changes: the resumed sync is exact, no row twice', async () => {
    const inv = openInvoices('USD')[0] as Txn;
    let pages = 0;
    await expect(
      runSync(s, {
        connectionId,
        reason: 'manual',
        full: true,
        pageSize: 7,
        onProgress: () => {
          pages++;
          if (pages === 2) {
            // Meanwhile in NetSuite: a payment on an invoice already read, an invoice deleted, a new invoice.
            co().addPayment(customerOf(inv), 90, [{ invoice: inv.id, amountMinor: 90 }]);
            co().delete((openInvoices('EUR')[0] as Txn).id);
            co().addInvoice(customerOf(inv), 4321);
          }
          if (pages === 3) throw new Error('kill -9');
        },
      }),
    ).rejects.toThrow('kill -9');
    const counts = await resumeExact();
    const truthInvoices = [...co().txns.values()].filter((x) => x.type === 'CustInvc').length;
    const deletedInvoices = co().deleted.filter((d) => d.recordtypeid === 'invoice').length;
    expect(counts.invoices).toBeLessThanOrEqual(truthInvoices + deletedInvoices);
  });

  it('a worker dying right after the page that completes the invoice listing: the resumed sync starts at the next kind and is exact', async () => {
    // The invoice listing's last page also completes it (deletions found missing) and hands the cursor to credit
    // memos, in one transaction: a crash just after it must neither read the invoices again nor lose that listing.
    const inv = openInvoices('USD')[0] as Txn;
    let crashed = false;
    await expect(
      runSync(s, {
        connectionId,
        reason: 'manual',
        full: true,
        pageSize: 7,
        onProgress: ({ progress }) => {
          if (progress.entities.invoices?.rows === 7) {
            // Meanwhile in NetSuite: an invoice deleted before the listing reached it, a payment on one read.
            co().delete((openInvoices('EUR').at(-1) as Txn).id);
            co().addPayment(customerOf(inv), 45, [{ invoice: inv.id, amountMinor: 45 }]);
          }
          if (!crashed && progress.entities.invoices?.done) {
            crashed = true;
            throw new Error('kill -9');
          }
        },
      }),
    ).rejects.toThrow('kill -9');
    const [conn] = await s.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(conn?.syncCursor).toMatchObject({ mode: 'full', kind: 'creditMemos', afterId: null });
    await resumeExact();
  });

  it('a worker dying mid poll round: the next round repeats it and is exact', async () => {
    const a = openInvoices('CAD')[0] as Txn;
    const b = openInvoices('JPY')[0] as Txn;
    co().addPayment(customerOf(a), 55, [{ invoice: a.id, amountMinor: 55 }]);
    co().addPayment(customerOf(b), 700, [{ invoice: b.id, amountMinor: 700 }]);
    co().advance(5);
    clock.advance(5 * 60_000);
    let pages = 0;
    await expect(
      runSync(s, {
        connectionId,
        reason: 'schedule',
        pageSize: 1,
        onProgress: () => {
          if (++pages === 2) throw new Error('kill -9');
        },
      }),
    ).rejects.toThrow('kill -9');
    await poll();
    await expectExact();
  });

  it('the TBA token revoked mid sync: reconnect needed with the Login Audit Trail named; a new token resumes exact', async () => {
    const inv = openInvoices('USD')[1] as Txn;
    co().addPayment(customerOf(inv), 33, [{ invoice: inv.id, amountMinor: 33 }]);
    co().advance(5);
    clock.advance(5 * 60_000);
    let pages = 0;
    const result = await runSync(s, {
      connectionId,
      reason: 'schedule',
      pageSize: 1,
      onProgress: () => {
        if (++pages === 1) delete sandbox.options.tokens['sandbox-token-id'];
      },
    });
    expect(result.status).toBe('reconnect_needed');
    const [conn] = await s.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(conn?.status).toBe('reconnect_needed');
    co().addPayment(customerOf(inv), 44, [{ invoice: inv.id, amountMinor: 44 }]);
    sandbox.options.tokens['new-token-id'] = 'new-token-secret';
    const tenant = await s.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(tenant).toHaveLength(1);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tenants/netsuite-red/connections',
      headers: { authorization: `Bearer ${t.token}` },
      payload: {
        provider: 'netsuite',
        accountId: '1234567_SB1',
        auth: { type: 'tba', tokenId: 'new-token-id', tokenSecret: 'new-token-secret' },
      },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ id: connectionId, status: 'active' });
    await poll();
    await expectExact();
  });
});

describe('NetSuite red team: the live re-read before a send sees what NetSuite shows now', () => {
  async function row(inv: Txn) {
    const [r] = await s.db
      .select({ id: invoices.id, balanceMinor: invoices.balanceMinor, status: invoices.status })
      .from(invoices)
      .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, String(inv.id))));
    return r!;
  }

  it('closed by a credit memo, voided, or deleted since the last poll: the re-read says paid, void, deleted', async () => {
    await poll();
    const [a, b, c] = openInvoices('USD') as [Txn, Txn, Txn];
    const cm = co().addCreditMemo(customerOf(a), co().unpaid(a));
    co().apply(cm.id, a.id, co().unpaid(a));
    co().void(b.id);
    co().delete(c.id);
    const ids = [(await row(a)).id, (await row(b)).id, (await row(c)).id];
    expect((await row(a)).status).toBe('open');
    const [conn] = await s.db.select().from(connections).where(eq(connections.id, connectionId));
    await refreshInvoicesLive(s, conn!, ids);
    expect(await row(a)).toMatchObject({ status: 'paid', balanceMinor: 0 });
    expect(await row(b)).toMatchObject({ status: 'void', balanceMinor: 0 });
    expect(await row(c)).toMatchObject({ status: 'deleted', balanceMinor: 0 });
  });
});
