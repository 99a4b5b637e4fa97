/**
 * "The ledger never drifts" for NetSuite journal entries to A/R: an opening balance debited to a customer, credit on
 * account left unapplied, an entry moving balance between two customers, one in yen. Through the real sync against
 * the stand-in (full sync, then polls), every customer's balance in Duely (open invoices, less unapplied payments and
 * what remains of credits, plus what remains of journal debits) equals NetSuite's to the minor unit in each currency,
 * after the full sync and after each change NetSuite users make: a new entry, an edit, a payment of a journal debit,
 * a journal credit applied to an invoice later, a payment deleted, a void, a deletion, an entry deleted while nobody
 * watched (full re-sync listing); under a 429 and a 5xx in the middle of a poll (nothing lost, the re-read is
 * idempotent); with two accounting books (each A/R line printed twice); and for a connection polling from before
 * migration 0028. The customer page names them as QuickBooks' are ("Journal entry <number>"). PGlite and Postgres.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Customer, NetsuiteCompany, NetsuiteSandbox, type Txn } from '../../sandboxes/netsuite';
import { AR_ACCOUNT, isReceivable } from '../../sandboxes/netsuite/company';
import { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import type { CustomerDetail } from '../../src/web/lib/types';
import { buildTimeline, creditName } from '../../src/web/pages/customer/customer-timeline';
import { suiteTestApp } from '../helpers/app';
import { connectSandboxTenant, ledgerBalances } from './fixtures';

const clock = new ManualClock('2026-04-01T08:00:00Z');
let sandbox: NetsuiteSandbox;
let s: Services;
let tenantId = '';
let connectionId = '';

const t = suiteTestApp(async () => {
  const company = NetsuiteCompany.generate({ seed: 23, customers: 8 });
  sandbox = new NetsuiteSandbox({ company });
  await sandbox.start();
  return { clock, env: { ...sandbox.env() }, token: 'test admin', sandbox };
}, 120_000);

const co = () => sandbox.company;
const customer = (currency: string, skip = 0) =>
  [...co().customers.values()].filter((c) => c.currency === currency)[skip] as Customer;

/** Every customer's balance in Duely (fixtures.ts ledgerBalances). */
const ourBalances = () => ledgerBalances(s.db, tenantId);

/** The journal rows Duely holds: external id -> [status, total, remaining, number]. */
async function journalRows() {
  const rows = rowsOf<{
    id: string;
    status: string;
    total: number;
    remaining: number;
    number: string | null;
  }>(
    await s.db.execute(sql`
      select external_id as id, status, total_minor::int as total, remaining_minor::int as remaining, number
      from credit_memos where tenant_id = ${tenantId}::uuid and journal_entry_id is not null order by external_id`),
  );
  return Object.fromEntries(rows.map((r) => [r.id, [r.status, r.total, r.remaining, r.number]]));
}

/** What NetSuite says each journal row must be: per entry and customer, credits less debits and what remains. */
function journalTruth() {
  const out: Record<string, [string, number, number, string]> = {};
  for (const j of co().txns.values()) {
    if (j.type !== 'Journal' || j.voided) continue;
    const net = new Map<number, [number, number]>();
    for (const line of j.lines ?? []) {
      if (!isReceivable(line.account) || line.entity === null) continue;
      const sign = line.debitMinor > 0 ? -1 : 1;
      const [total, remaining] = net.get(line.entity) ?? [0, 0];
      net.set(line.entity, [
        total + sign * (line.debitMinor || line.creditMinor),
        remaining + sign * co().journalOpen(j, line),
      ]);
    }
    for (const [cust, [total, remaining]] of net)
      if (total !== 0 || remaining !== 0) out[`JE:${j.id}:${cust}`] = ['active', total, remaining, j.tranid];
  }
  return out;
}

async function expectNoDrift() {
  expect(await ourBalances()).toEqual(co().customerBalances());
  const live = Object.fromEntries(Object.entries(await journalRows()).filter(([, r]) => r[0] !== 'deleted'));
  expect(live).toEqual(journalTruth());
}

async function poll(options: { full?: boolean } = {}) {
  co().advance(5);
  clock.advance(5 * 60_000);
  const result = await runSync(s, { connectionId, reason: 'schedule', pageSize: 5, ...options });
  expect(result.status, result.error ?? '').toBe('succeeded');
  return result;
}

/** Well past the overlap: the next change is found by what it changed, not by re-reading recent changes. */
async function quiet() {
  co().advance(180);
  clock.advance(180 * 60_000);
  await poll();
}

let opening: Txn;
let onAccount: Txn;
let transfer: Txn;
let yen: Txn;
let unrelated: Txn;
let fee: Txn;
let amy: Customer;
let bob: Customer;
let cara: Customer;
let kenji: Customer;

beforeAll(async () => {
  s = t.services;
  amy = customer('USD');
  cara = customer('USD', 1);
  bob = customer('CAD');
  kenji = customer('JPY');
  // An opening balance keyed as a journal: A/R debited for Amy against equity.
  opening = co().addJournal('USD', [
    { account: AR_ACCOUNT, customer: amy, debit: 50_000 },
    { account: 300, credit: 50_000 },
  ]);
  // Bob's credit on account (a rebate), not applied to anything.
  onAccount = co().addJournal('CAD', [
    { account: 600, debit: 12_034 },
    { account: AR_ACCOUNT, customer: bob, credit: 12_034 },
  ]);
  // Balance moved from Cara to Amy, across two A/R accounts.
  transfer = co().addJournal('USD', [
    { account: 120, customer: amy, debit: 3_000 },
    { account: AR_ACCOUNT, customer: cara, credit: 3_000 },
  ]);
  // A yen credit: no minor unit.
  yen = co().addJournal('JPY', [
    { account: 600, debit: 7_000 },
    { account: AR_ACCOUNT, customer: kenji, credit: 7_000 },
  ]);
  // Lines on no A/R account: nobody's balance.
  unrelated = co().addJournal('USD', [
    { account: 600, debit: 9_900 },
    { account: 210, credit: 9_900 },
  ]);
  // Multi-Book: every accounting line is printed once per book (a line counts once).
  co().accountingBooks = 2;
  ({ tenantId, connectionId } = await connectSandboxTenant(
    t.app,
    s.db,
    t.token,
    'NetSuite JE',
    'netsuite-je',
  ));
  const first = await runSync(s, { connectionId, reason: 'connect', pageSize: 5 });
  expect(first.status, first.error ?? '').toBe('succeeded');
}, 120_000);

describe('NetSuite journal entries to A/R', () => {
  it('full sync: debits, credits on account and both sides of a transfer, to the cent in every currency', async () => {
    expect(await journalRows()).toEqual({
      [`JE:${opening.id}:${amy.id}`]: ['active', -50_000, -50_000, opening.tranid],
      [`JE:${onAccount.id}:${bob.id}`]: ['active', 12_034, 12_034, onAccount.tranid],
      [`JE:${transfer.id}:${amy.id}`]: ['active', -3_000, -3_000, transfer.tranid],
      [`JE:${transfer.id}:${cara.id}`]: ['active', 3_000, 3_000, transfer.tranid],
      [`JE:${yen.id}:${kenji.id}`]: ['active', 7_000, 7_000, yen.tranid],
    });
    expect(Object.keys(await journalRows()).some((k) => k.startsWith(`JE:${unrelated.id}:`))).toBe(false);
    await expectNoDrift();
  });

  it('a new entry and an edit that drops a customer’s line are read by the next poll', async () => {
    await quiet();
    fee = co().addJournal('USD', [
      { account: AR_ACCOUNT, customer: cara, debit: 2_500 },
      { account: 600, credit: 2_500 },
    ]);
    await poll();
    expect((await journalRows())[`JE:${fee.id}:${cara.id}`]).toEqual(['active', -2_500, -2_500, fee.tranid]);
    await expectNoDrift();
    await quiet();
    // The transfer keyed wrong: it was all Amy's (Cara's line goes, Amy's amount changes).
    co().editJournal(transfer.id, [
      { account: 120, customer: amy, debit: 4_000 },
      { account: 300, credit: 4_000 },
    ]);
    await poll();
    expect((await journalRows())[`JE:${transfer.id}:${cara.id}`]?.[0]).toBe('deleted');
    expect((await journalRows())[`JE:${transfer.id}:${amy.id}`]).toEqual([
      'active',
      -4_000,
      -4_000,
      transfer.tranid,
    ]);
    await expectNoDrift();
  });

  it('a payment of the journal debit (the entry itself unchanged) moves what remains owed', async () => {
    await quiet();
    const before = opening.lastmodified;
    const pay = co().addJournalPayment(amy, 20_000, {
      journals: [{ journal: opening.id, line: 0, amountMinor: 20_000 }],
    });
    expect(co().txns.get(opening.id)?.lastmodified).toBe(before);
    await poll();
    expect((await journalRows())[`JE:${opening.id}:${amy.id}`]).toEqual([
      'active',
      -50_000,
      -30_000,
      opening.tranid,
    ]);
    await expectNoDrift();
    // Deleted hours later: nothing links the debit any more, and it is owed in full again.
    await quiet();
    co().delete(pay.id);
    await poll();
    expect((await journalRows())[`JE:${opening.id}:${amy.id}`]).toEqual([
      'active',
      -50_000,
      -50_000,
      opening.tranid,
    ]);
    await expectNoDrift();
    // Paid in full: nothing is open on the entry any more, only the payment's link to the line names it.
    await quiet();
    co().addJournalPayment(cara, 2_500, { journals: [{ journal: fee.id, line: 0, amountMinor: 2_500 }] });
    await poll();
    expect((await journalRows())[`JE:${fee.id}:${cara.id}`]).toEqual(['active', -2_500, 0, fee.tranid]);
    await expectNoDrift();
  });

  it('a journal credit applied to an invoice later, through a zero payment: credit used, invoice paid down', async () => {
    await quiet();
    const inv = co().addInvoice(bob, 20_000);
    await poll();
    await quiet();
    co().addJournalPayment(bob, 0, {
      invoices: [{ invoice: inv.id, amountMinor: 10_000 }],
      journals: [{ journal: onAccount.id, line: 1, amountMinor: 10_000 }],
    });
    await poll();
    expect((await journalRows())[`JE:${onAccount.id}:${bob.id}`]).toEqual([
      'active',
      12_034,
      2_034,
      onAccount.tranid,
    ]);
    await expectNoDrift();
  });

  it('a 429 and a 5xx in the middle of a poll: waited out, nothing lost', async () => {
    await quiet();
    co().addJournalPayment(amy, 5_000, { journals: [{ journal: opening.id, line: 0, amountMinor: 5_000 }] });
    const lines = (q: string) => q.startsWith('SELECT tl.transaction AS entry');
    sandbox.queryFailures.push(
      { match: lines, status: 429, times: 1 },
      { match: lines, status: 503, times: 1 },
    );
    await poll();
    expect(sandbox.queryFailures.every((f) => f.times === 0)).toBe(true);
    expect((await journalRows())[`JE:${opening.id}:${amy.id}`]?.[2]).toBe(-45_000);
    await expectNoDrift();
  });

  it('a poll failing mid-round (5xx past the retries) loses nothing: the next one reads it all again', async () => {
    await quiet();
    co().addJournalPayment(amy, 5_000, { journals: [{ journal: opening.id, line: 0, amountMinor: 5_000 }] });
    const fee = co().addJournal('CAD', [
      { account: AR_ACCOUNT, customer: bob, debit: 999 },
      { account: 600, credit: 999 },
    ]);
    const lines = (q: string) => q.startsWith('SELECT tl.transaction AS entry');
    sandbox.queryFailures.push({ match: lines, status: 500, times: 5 });
    co().advance(5);
    clock.advance(5 * 60_000);
    // Retryable: the run gives up with the error, for the job to run it again (the cursor stays where it was).
    await expect(runSync(s, { connectionId, reason: 'schedule', pageSize: 5 })).rejects.toMatchObject({
      retryable: true,
    });
    await poll();
    expect((await journalRows())[`JE:${fee.id}:${bob.id}`]).toEqual(['active', -999, -999, fee.tranid]);
    expect((await journalRows())[`JE:${opening.id}:${amy.id}`]?.[2]).toBe(-40_000);
    await expectNoDrift();
    // Read again (the overlap re-reads it): idempotent.
    await poll();
    await expectNoDrift();
  }, 60_000);

  it('a payment of a journal debit moved to another customer: the first customer owes the debit again', async () => {
    await quiet();
    const pay = co().addJournalPayment(amy, 10_000, {
      journals: [{ journal: opening.id, line: 0, amountMinor: 10_000 }],
    });
    await poll();
    expect((await journalRows())[`JE:${opening.id}:${amy.id}`]?.[2]).toBe(-30_000);
    await quiet();
    // Entered on the wrong customer: moved to Cara, where it is unapplied money. Nothing Amy's changed.
    co().movePayment(pay.id, cara);
    await poll();
    expect((await journalRows())[`JE:${opening.id}:${amy.id}`]?.[2]).toBe(-40_000);
    await expectNoDrift();
  });

  it('a voided entry and a deleted one leave nothing on A/R', async () => {
    await quiet();
    co().void(yen.id);
    co().delete(transfer.id);
    await poll();
    const rows = await journalRows();
    expect(rows[`JE:${yen.id}:${kenji.id}`]?.[0]).toBe('deleted');
    expect(rows[`JE:${transfer.id}:${amy.id}`]?.[0]).toBe('deleted');
    await expectNoDrift();
  });

  it('an entry deleted while nobody watched is found missing by a full re-sync’s listing', async () => {
    await quiet();
    const lost = co().addJournal('USD', [
      { account: AR_ACCOUNT, customer: cara, credit: 1_500 },
      { account: 600, debit: 1_500 },
    ]);
    await poll();
    expect((await journalRows())[`JE:${lost.id}:${cara.id}`]?.[0]).toBe('active');
    // Deleted, and the DeletedRecord row lost to Duely (as when the polling cursor is older than its retention).
    co().delete(lost.id);
    co().deleted.pop();
    co().advance(24 * 60);
    clock.advance(24 * 60 * 60_000);
    // Work goes on in NetSuite meanwhile (the listing judges rows changed before the newest change it starts from).
    co().addInvoice(amy, 1_234);
    co().advance(120);
    clock.advance(120 * 60_000);
    await poll({ full: true });
    expect((await journalRows())[`JE:${lost.id}:${cara.id}`]?.[0]).toBe('deleted');
    await expectNoDrift();
  });

  it('the customer page names each row as its journal entry, with what remains', async () => {
    const [row] = rowsOf<{ id: string }>(
      await s.db.execute(
        sql`select id from customers where tenant_id = ${tenantId}::uuid and external_id = ${String(bob.id)}`,
      ),
    );
    const res = await t.app.inject({
      url: `/api/v1/tenants/netsuite-je/customers/${row!.id}`,
      headers: t.auth,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as CustomerDetail;
    const credit = body.creditMemos.find((m) => m.externalId === `JE:${onAccount.id}:${bob.id}`);
    expect(credit).toMatchObject({
      journalEntryId: String(onAccount.id),
      number: onAccount.tranid,
      remainingMinor: 2_034,
    });
    expect(creditName(credit!)).toBe(`Journal entry ${onAccount.tranid}`);
    const timeline = buildTimeline({
      customerId: row!.id,
      invoices: body.invoices,
      payments: body.payments,
      creditMemos: body.creditMemos,
      messages: [],
      promises: [],
      disputes: [],
      today: body.asOf,
    });
    expect(timeline.map((e) => e.title)).toContain(`Journal entry ${onAccount.tranid} credited the account`);
  });

  it('a connection polling before 0028 (entries never read): the migration makes its next sync a full one', async () => {
    // What the code before 0028 left: no journal row at all, a polling cursor.
    await s.db.execute(
      sql`delete from credit_memos where tenant_id = ${tenantId}::uuid and journal_entry_id is not null`,
    );
    const cursorOf = async () =>
      rowsOf<{ cursor: unknown }>(
        await s.db.execute(
          sql`select sync_cursor as cursor from connections where id = ${connectionId}::uuid`,
        ),
      )[0]!.cursor;
    expect(await cursorOf()).toMatchObject({ mode: 'incremental' });
    const migration = readFileSync(
      new URL('../../src/db/migrations/0028_netsuite_journal_remaining_at_source.sql', import.meta.url),
      'utf8',
    );
    // The column exists already here: only the statement that restarts NetSuite connections is replayed.
    const restart = migration.split('--> statement-breakpoint').find((x) => x.includes('UPDATE'));
    await s.db.execute(sql.raw(restart!));
    expect(await cursorOf()).toBeNull();
    const r = await poll();
    expect(r.kind).toBe('full');
    await expectNoDrift();
  });
});
