/**
 * Review from outside of the NetSuite journal-entry sync (s35-rv2): shapes tests/netsuite/journal-entries.test.ts
 * does not try. After each change NetSuite users make, every customer's balance in Duely equals the stand-in's to the
 * minor unit in each currency: a duplicate customer merged into another (its journal lines, unapplied payments and
 * open credit memos move with it: before, those two stayed under the deleted customer and the kept one's balance was
 * higher in Duely than in NetSuite by them, its credit on account missing), an entry edited to move its A/R line to another customer, an entry in a currency other than the
 * customer's, a journal credit applied to an invoice through a zero payment and the payment deleted, a full
 * re-sync failing in the middle of the journal listing and resumed, and a worker dying in the middle of that listing
 * while entries are paid, deleted and added (in process, as tests/netsuite/red-team.test.ts), an entry on a customer
 * created while the poll read, a full re-sync racing a poll, a reclass between two A/R accounts of one customer with
 * its debit then paid, and a 429 on a full sync's journal listing. PGlite and Postgres.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Customer, NetsuiteCompany, NetsuiteSandbox } from '../../sandboxes/netsuite';
import { AR_ACCOUNT } from '../../sandboxes/netsuite/company';
import { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { suiteTestApp } from '../helpers/app';
import { connectSandboxTenant, ledgerBalances } from './fixtures';

const clock = new ManualClock('2026-04-01T08:00:00Z');
let sandbox: NetsuiteSandbox;
let s: Services;
let tenantId = '';
let connectionId = '';

const t = suiteTestApp(async () => {
  const company = NetsuiteCompany.generate({ seed: 31, customers: 10 });
  sandbox = new NetsuiteSandbox({ company });
  await sandbox.start();
  return { clock, env: { ...sandbox.env() }, token: 'test admin', sandbox };
}, 120_000);

const co = () => sandbox.company;
const customer = (currency: string, skip = 0) =>
  [...co().customers.values()].filter((c) => c.currency === currency)[skip] as Customer;

/** Every customer's balance in Duely (fixtures.ts ledgerBalances). */
const ourBalances = () => ledgerBalances(s.db, tenantId);

async function expectNoDrift() {
  expect(await ourBalances()).toEqual(co().customerBalances());
}

async function poll(options: { full?: boolean; resumeFull?: boolean } = {}) {
  co().advance(5);
  clock.advance(5 * 60_000);
  const result = await runSync(s, { connectionId, reason: 'schedule', pageSize: 5, ...options });
  expect(result.status, result.error ?? '').toBe('succeeded');
  return result;
}

async function quiet() {
  co().advance(180);
  clock.advance(180 * 60_000);
  await poll();
}

beforeAll(async () => {
  s = t.services;
  ({ tenantId, connectionId } = await connectSandboxTenant(
    t.app,
    s.db,
    t.token,
    'NetSuite JE2',
    'netsuite-je2',
  ));
  const first = await runSync(s, { connectionId, reason: 'connect', pageSize: 5 });
  expect(first.status, first.error ?? '').toBe('succeeded');
  await expectNoDrift();
}, 120_000);

describe('NetSuite journal entries: the ledger never drifts (review)', () => {
  it('an entry edited to move its A/R line to another customer', async () => {
    const [a, b] = [customer('USD'), customer('USD', 1)];
    await quiet();
    const je = co().addJournal('USD', [
      { account: AR_ACCOUNT, customer: a, debit: 7_700 },
      { account: 300, credit: 7_700 },
    ]);
    await poll();
    await expectNoDrift();
    await quiet();
    co().editJournal(je.id, [
      { account: AR_ACCOUNT, customer: b, debit: 7_700 },
      { account: 300, credit: 7_700 },
    ]);
    await poll();
    await expectNoDrift();
  });

  it('an entry in a currency other than the customer’s', async () => {
    const a = customer('USD', 2);
    await quiet();
    co().addJournal('EUR', [
      { account: AR_ACCOUNT, customer: a, credit: 4_321 },
      { account: 600, debit: 4_321 },
    ]);
    co().addJournal('EUR', [
      { account: AR_ACCOUNT, customer: a, debit: 10_000 },
      { account: 300, credit: 10_000 },
    ]);
    await poll();
    await expectNoDrift();
  });

  it('a journal credit used up on an invoice through a zero payment, then the payment deleted', async () => {
    const a = customer('USD', 3);
    await quiet();
    const inv = co().addInvoice(a, 9_000);
    const credit = co().addJournal('USD', [
      { account: 600, debit: 6_000 },
      { account: AR_ACCOUNT, customer: a, credit: 6_000 },
    ]);
    await poll();
    await expectNoDrift();
    await quiet();
    const pay = co().addJournalPayment(a, 0, {
      invoices: [{ invoice: inv.id, amountMinor: 6_000 }],
      journals: [{ journal: credit.id, line: 1, amountMinor: 6_000 }],
    });
    await poll();
    await expectNoDrift();
    await quiet();
    co().delete(pay.id);
    await poll();
    await expectNoDrift();
  });

  it('a duplicate customer merged into another: its journal lines, unapplied payments and open credit memos follow it', async () => {
    const [dup, kept] = [customer('USD', 1), customer('USD', 2)];
    await quiet();
    co().addJournal('USD', [
      { account: AR_ACCOUNT, customer: dup, debit: 3_333 },
      { account: 300, credit: 3_333 },
    ]);
    co().addJournal('USD', [
      { account: 600, debit: 1_111 },
      { account: AR_ACCOUNT, customer: dup, credit: 1_111 },
    ]);
    await poll();
    await expectNoDrift();
    await quiet();
    co().mergeCustomer(dup.id, kept.id);
    await poll();
    await expectNoDrift();
  });

  it('a full re-sync failing in the middle of its journal listing, then resumed', async () => {
    const a = customer('USD');
    await quiet();
    for (let i = 0; i < 12; i++)
      co().addJournal('USD', [
        { account: AR_ACCOUNT, customer: a, debit: 100 + i },
        { account: 300, credit: 100 + i },
      ]);
    await poll();
    await expectNoDrift();
    await quiet();
    const gone = [...co().txns.values()].filter((x) => x.type === 'Journal').slice(-3);
    for (const g of gone) co().delete(g.id);
    co().deleted.splice(-3);
    // Work goes on in NetSuite (the listing judges rows changed before the newest change it starts from).
    co().advance(24 * 60);
    clock.advance(24 * 60 * 60_000);
    co().addInvoice(a, 4_321);
    co().advance(120);
    clock.advance(120 * 60_000);
    const lines = (q: string) => q.startsWith('SELECT tl.transaction AS entry');
    let served = 0;
    sandbox.queryFailures.push({ match: (q) => lines(q) && ++served > 1, status: 500, times: 20 });
    co().advance(5);
    clock.advance(5 * 60_000);
    await expect(
      runSync(s, { connectionId, reason: 'schedule', pageSize: 5, full: true }),
    ).rejects.toMatchObject({ retryable: true });
    for (const f of sandbox.queryFailures) f.times = 0;
    // The job's retry (its data still asks for a full sync; src/jobs/sync-jobs.ts): the full sync resumes from its
    // cursor, in the middle of the journal listing, not from the customers.
    const asked = sandbox.queries.length;
    const resumed = await poll({ full: true, resumeFull: true });
    expect(resumed.kind).toBe('full');
    expect(sandbox.queries.slice(asked).filter((q) => q.startsWith('SELECT c.id'))).toEqual([]);
    await expectNoDrift();
  }, 60_000);

  it('a worker dying in the middle of the journal listing of a full sync while NetSuite changes: the resume is exact', async () => {
    const a = customer('USD', 3);
    await quiet();
    const entries = [...co().txns.values()].filter((x) => x.type === 'Journal' && !x.voided);
    const firstJe = entries[0] as (typeof entries)[number];
    const lastJe = entries.at(-1) as (typeof entries)[number];
    // Journal pages asked for (each asks for its entries' A/R lines): the crash comes on a page committed after one.
    let journalPages = 0;
    sandbox.queryFailures.push({
      match: (q) => {
        if (q.startsWith('SELECT tl.transaction AS entry')) journalPages++;
        return false;
      },
      status: 500,
      times: 1,
    });
    let afterPayments = 0;
    let crashed = false;
    await expect(
      runSync(s, {
        connectionId,
        reason: 'manual',
        full: true,
        pageSize: 5,
        onProgress: ({ progress }) => {
          if (crashed || journalPages === 0 || !progress) return;
          afterPayments++;
          if (afterPayments === 1) {
            // Meanwhile in NetSuite: an entry read already paid in part, one not read yet deleted, a new one.
            const line = firstJe.lines?.findIndex((l) => l.debitMinor > 0 && l.entity !== null) ?? -1;
            const owner = co().customers.get(firstJe.lines?.[line]?.entity ?? -1);
            if (line >= 0 && owner)
              co().addJournalPayment(owner, 50, {
                journals: [{ journal: firstJe.id, line, amountMinor: 50 }],
              });
            co().delete(lastJe.id);
            co().addJournal('USD', [
              { account: AR_ACCOUNT, customer: a, debit: 8_888 },
              { account: 300, credit: 8_888 },
            ]);
          }
          if (afterPayments === 2) {
            crashed = true;
            throw new Error('kill -9');
          }
        },
      }),
    ).rejects.toThrow('kill -9');
    sandbox.queryFailures.length = 0;
    // The job's retry: its data still asks for a full sync.
    const resumed = await poll({ full: true, resumeFull: true });
    expect(resumed.kind).toBe('full');
    // What changed while the full sync read is the first poll's (as after any full sync).
    await poll();
    await expectNoDrift();
  }, 60_000);

  it('an entry on a customer created while the poll read (after its customer query): no drift, the real customer kept', async () => {
    await quiet();
    let made: Customer | null = null;
    sandbox.queryFailures.push({
      match: (q) => {
        if (!made && q.includes("t.type = 'Journal'")) {
          made = co().addCustomer(customer('USD').subsidiary, 'USD');
          co().addJournal('USD', [
            { account: AR_ACCOUNT, customer: made, debit: 6_543 },
            { account: 300, credit: 6_543 },
          ]);
        }
        return false;
      },
      status: 500,
      times: 1,
    });
    await poll();
    sandbox.queryFailures.length = 0;
    expect(made).not.toBeNull();
    await poll();
    await expectNoDrift();
    const [row] = rowsOf<{ name: string }>(
      await s.db.execute(
        sql`select name from customers where tenant_id = ${tenantId}::uuid and external_id = ${String((made as unknown as Customer).id)}`,
      ),
    );
    expect(row?.name).toBe((made as unknown as Customer).companyname);
  });

  it('a full re-sync racing a poll: both end, and the ledger is NetSuite’s', async () => {
    await quiet();
    const a = customer('USD', 2);
    co().addJournal('USD', [
      { account: AR_ACCOUNT, customer: a, debit: 1_212 },
      { account: 300, credit: 1_212 },
    ]);
    co().advance(5);
    clock.advance(5 * 60_000);
    const results = await Promise.allSettled([
      runSync(s, { connectionId, reason: 'manual', pageSize: 5, full: true }),
      runSync(s, { connectionId, reason: 'schedule', pageSize: 5 }),
    ]);
    // One waits for the other (one sync per connection at a time), neither fails.
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.status : String(r.reason)))).toEqual([
      'succeeded',
      'succeeded',
    ]);
    await poll();
    await expectNoDrift();
  }, 60_000);

  it('a reclass between two A/R accounts for one customer, its debit line then paid: the unused credit line is credit', async () => {
    const a = customer('USD', 4);
    await quiet();
    const je = co().addJournal('USD', [
      { account: 120, customer: a, debit: 2_000 },
      { account: AR_ACCOUNT, customer: a, credit: 2_000 },
    ]);
    await poll();
    await expectNoDrift();
    await quiet();
    co().addJournalPayment(a, 2_000, { journals: [{ journal: je.id, line: 0, amountMinor: 2_000 }] });
    await poll();
    await expectNoDrift();
  });

  it('a 429 on the journal listing of a full sync is waited out', async () => {
    await quiet();
    const entries = (q: string) => q.includes("t.type = 'Journal'");
    sandbox.queryFailures.push({ match: entries, status: 429, times: 2 });
    const r = await poll({ full: true });
    expect(r.kind).toBe('full');
    expect(sandbox.queryFailures.every((f) => f.times === 0)).toBe(true);
    sandbox.queryFailures.length = 0;
    await poll();
    await expectNoDrift();
  }, 60_000);
});
