/**
 * "A payer is never chased" for money settled by a journal entry: a bookkeeper credits Accounts Receivable for a
 * customer with a journal entry (a write-off, a contra against a vendor bill) and has not linked it to the invoice
 * yet. QuickBooks shows the customer's balance net of that credit while the invoice stays open. Through the real
 * sync against a QuickBooks company built row by row (qbo-book.ts: query, CDC, tombstones), Duely must hold the
 * credit on account, leave the invoice balance to QuickBooks, follow the $0 payment that later links the two, the
 * entry's edits and deletion — and the planner must not chase a customer the credit covers.
 */
import { and, eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { dunningTasks } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import type { CustomerDetail } from '../../src/web/lib/types';
import { goLive, messagesOf } from '../dunning-engine/fixtures';
import { buildTestApp } from '../helpers/app';
import type { JournalLine } from '../quickbooks/fixtures';
import { dbBalances } from './helpers';
import type { QboBook } from './qbo-book';
import { customer, invoice, journalEntry, journalSuite, ledgerTimeline, payment, ref } from './qbo-journal';

const START = Date.parse('2026-11-02T15:00:00.000Z');
let book: QboBook;
let s: Services;
let tenantId = '';
let tenantSlug = '';
let connectionId = '';

const suite = journalSuite('7701', START);
beforeAll(() => {
  ({ book, s, tenantId, tenantSlug, connectionId } = suite);
  // The chart of accounts: two A/R accounts (one made inactive since), an expense and a liability.
  book.put('Account', { Id: '84', Name: 'Accounts Receivable (A/R)', AccountType: 'Accounts Receivable' });
  book.put('Account', { Id: '85', Name: 'A/R - old', AccountType: 'Accounts Receivable', Active: false });
  book.put('Account', { Id: '90', Name: 'Bad debts', AccountType: 'Expense' });
  book.put('Account', { Id: '33', Name: 'Accounts Payable (A/P)', AccountType: 'Accounts Payable' });
  book.put('Customer', customer('1', 'Amy'));
  book.put('Customer', customer('2', 'Bob'));
  book.put('Customer', customer('3', 'Cara'));
  book.put('Customer', customer('4', 'Dan'));
  book.put('Invoice', invoice('10', '1', 500));
  book.put('Invoice', invoice('20', '2', 300));
  book.put('Invoice', invoice('30', '3', 80));
  book.put('Invoice', invoice('40', '4', 200));
  // Amy's invoice written off in full (not linked yet), through the A/R account made inactive since.
  book.put(
    'JournalEntry',
    journalEntry('900', [
      ['Debit', '90', 500],
      ['Credit', '85', 500, '1'],
    ]),
  );
  // A contra: Bob's A/R credited 100 against a vendor bill, Cara's 50; a line naming Bob on another account is not
  // A/R and changes nothing.
  book.put(
    'JournalEntry',
    journalEntry('901', [
      ['Credit', '84', 100, '2'],
      ['Credit', '84', 50, '3'],
      ['Debit', '33', 150],
      ['Credit', '90', 999, '2'],
      ['Debit', '90', 999],
    ]),
  );
}, 120_000);
const { sync, journalCredits, expectNoDrift, customerIdOf } = suite;

describe('journal entries crediting A/R, through the sync', () => {
  it('full sync: each A/R credit is credit on account; invoice balances stay QuickBooks’', async () => {
    await sync();
    expect(await journalCredits()).toEqual({
      'JE:900:1': ['active', 50000, 50000, '900', 'JE-900'],
      'JE:901:2': ['active', 10000, 10000, '901', 'JE-901'],
      'JE:901:3': ['active', 5000, 5000, '901', 'JE-901'],
    });
    const balances = await dbBalances(s, tenantId);
    expect(balances.get('10')).toBe(50000);
    await expectNoDrift();
  });

  it('the planner does not chase a customer the journal credit covers; partial credit shows, reminders go on', async () => {
    await goLive(s, tenantId);
    const r = await planTenant(s, tenantId);
    const amy = await customerIdOf('1');
    const bob = await customerIdOf('2');
    const dan = await customerIdOf('4');
    expect(r.decisions.find((d) => d.customerId === amy)?.code).toBe('credit_on_account');
    const messages = await messagesOf(s, tenantId);
    expect(messages.filter((m) => m.customerId === amy)).toEqual([]);
    const tasks = await s.db
      .select()
      .from(dunningTasks)
      .where(and(eq(dunningTasks.tenantId, tenantId), eq(dunningTasks.customerId, amy)));
    expect(tasks).toMatchObject([{ kind: 'review', status: 'open' }]);
    expect(tasks[0]?.talkingPoints).toMatchObject({
      creditOnAccount: { credits: [{ currency: 'USD', creditMinor: 50000 }] },
    });
    // Bob: 100 of credit against 300 open: still chased, and the reminder records the credit.
    const bobs = messages.filter((m) => m.customerId === bob);
    expect(bobs.length).toBeGreaterThan(0);
    expect((bobs[0]!.snapshot as { credits?: unknown }).credits).toEqual([
      { currency: 'USD', creditMinor: 10000 },
    ]);
    // Dan, no credit: chased as before.
    expect(messages.some((m) => m.customerId === dan)).toBe(true);
  });

  it('a $0 payment linking the entry to the invoice: invoice paid (QuickBooks’ balance), credit used up', async () => {
    book.put(
      'Payment',
      payment('950', '1', 0, [
        ['Invoice', '10', 500],
        ['JournalEntry', '900', 500],
      ]),
    );
    book.edit('Invoice', '10', { Balance: 0 });
    await sync();
    const balances = await dbBalances(s, tenantId);
    expect(balances.get('10')).toBe(0);
    expect((await journalCredits())['JE:900:1']).toEqual(['active', 50000, 0, '900', 'JE-900']);
    // The allocation names the journal credit, not cash from a $0 payment.
    const [line] = rowsOf<{ credit: string | null; minor: number }>(
      await s.db.execute(sql`
        select m.external_id as credit, a.amount_minor::int as minor
        from payment_allocations a join payments p on p.id = a.payment_id
        left join credit_memos m on m.id = a.credit_memo_id
        where p.tenant_id = ${tenantId}::uuid and p.external_id = '950'`),
    );
    expect(line).toEqual({ credit: 'JE:900:1', minor: 50000 });
    await expectNoDrift();
  });

  it('the customer page names the credit as the journal entry, with what remains of it', async ({
    onTestFinished,
  }) => {
    const { app, auth } = await buildTestApp({ services: s, keepServices: true, test: { onTestFinished } });
    const amy = await customerIdOf('1');
    const res = await app.inject({ url: `/api/v1/tenants/${tenantSlug}/customers/${amy}`, headers: auth });
    expect(res.statusCode).toBe(200);
    const body = res.json() as CustomerDetail;
    expect(body.creditMemos).toMatchObject([
      {
        externalId: 'JE:900:1',
        journalEntryId: '900',
        number: 'JE-900',
        totalMinor: 50000,
        remainingMinor: 0,
      },
    ]);
    const timeline = ledgerTimeline(amy, body);
    expect(timeline.map((e) => [e.title, e.status.label])).toEqual(
      expect.arrayContaining([
        ['Journal entry JE-900 credited the account', 'fully applied'],
        ['Journal entry credit applied', 'journal entry credit applied'],
      ]),
    );
  });

  /** Bob's invoice 20 paid 60 from his journal credit by a $0 linking payment: 40.00 of the credit remains. */
  async function linkBobsCredit(paymentId: string) {
    book.put(
      'Payment',
      payment(paymentId, '2', 0, [
        ['Invoice', '20', 60],
        ['JournalEntry', '901', 60],
      ]),
    );
    book.edit('Invoice', '20', { Balance: 240 });
    await sync();
    expect((await journalCredits())['JE:901:2']).toEqual(['active', 10000, 4000, '901', 'JE-901']);
  }

  it('part of a credit applied: what remains is total less the applied lines; unlinking gives it back', async () => {
    await linkBobsCredit('951');
    await expectNoDrift();
    // The bookkeeper deletes the linking payment: the credit is whole again.
    book.remove('Payment', '951');
    book.edit('Invoice', '20', { Balance: 300 });
    await sync();
    expect((await journalCredits())['JE:901:2']).toEqual(['active', 10000, 10000, '901', 'JE-901']);
    await expectNoDrift();
  });

  it('a linking payment moved to another customer gives the first customer its credit back', async () => {
    await linkBobsCredit('952');
    // Entered on the wrong customer: the bookkeeper moves it to Dan, where it pays 60 of his invoice. QuickBooks drops
    // its links to Bob's invoice and entry; Bob's credit is whole again.
    book.edit('Payment', '952', {
      CustomerRef: ref('4'),
      TotalAmt: 60,
      Line: [{ Amount: 60, LinkedTxn: [{ TxnId: '40', TxnType: 'Invoice' }] }],
    });
    book.edit('Invoice', '20', { Balance: 300 });
    book.edit('Invoice', '40', { Balance: 140 });
    await sync();
    expect((await journalCredits())['JE:901:2']).toEqual(['active', 10000, 10000, '901', 'JE-901']);
    await expectNoDrift();
    book.remove('Payment', '952');
    book.edit('Invoice', '40', { Balance: 200 });
    await sync();
    await expectNoDrift();
  });

  it("an entry edited to drop a customer's lines takes that customer's credit away", async () => {
    book.edit(
      'JournalEntry',
      '901',
      journalEntry('901', [
        ['Credit', '84', 50, '3'],
        ['Debit', '33', 50],
      ]),
    );
    await sync();
    const credits = await journalCredits();
    expect(credits['JE:901:2']?.[0]).toBe('deleted');
    expect(credits['JE:901:3']).toEqual(['active', 5000, 5000, '901', 'JE-901']);
    await expectNoDrift();
  });

  it('an entry deleted in QuickBooks (CDC tombstone): its credit is gone', async () => {
    book.remove('JournalEntry', '901');
    await sync();
    expect((await journalCredits())['JE:901:3']?.[0]).toBe('deleted');
    await expectNoDrift();
  });

  it('a full re-sync keeps live journal credits (the credit memo listing leaves them alone) and finds deleted entries', async () => {
    book.put(
      'JournalEntry',
      journalEntry('902', [
        ['Debit', '90', 25],
        ['Credit', '84', 25, '4'],
      ]),
    );
    await sync();
    expect((await journalCredits())['JE:902:4']?.[0]).toBe('active');
    // Deleted while no change feed watched: only the full read's listing can find it.
    book.remove('JournalEntry', '902');
    const stamp = async () =>
      rowsOf<{ at: string }>(
        await s.db.execute(sql`select updated_at::text as at from credit_memos
                               where tenant_id = ${tenantId}::uuid and external_id = 'JE:900:1'`),
      )[0]?.at;
    const before = await stamp();
    await sync({ full: true });
    // Not deleted by the credit memo listing and written back by the journal pages: never touched at all.
    expect(await stamp()).toBe(before);
    const credits = await journalCredits();
    expect(credits['JE:902:4']?.[0]).toBe('deleted');
    expect(credits['JE:900:1']).toEqual(['active', 50000, 0, '900', 'JE-900']);
    await expectNoDrift();
  });

  it('a debit to A/R by journal entry (an opening balance) is not an invoice and not chased, but is held and shown: no silent drift', async ({
    onTestFinished,
  }) => {
    book.put(
      'JournalEntry',
      journalEntry('904', [
        ['Debit', '84', 75, '3'],
        ['Credit', '90', 75],
      ]),
    );
    await sync();
    // Held as what the entry leaves on Cara's A/R: a negative journal row (a debit), never credit on account.
    expect((await journalCredits())['JE:904:3']).toEqual(['active', -7500, -7500, '904', 'JE-904']);
    const cara = await customerIdOf('3');
    const open = rowsOf<{ n: number }>(
      await s.db.execute(
        sql`select count(*)::int as n from invoices where customer_id = ${cara}::uuid and status = 'open'`,
      ),
    );
    expect(open[0]?.n).toBe(1);
    const { creditOnAccount } = await import('../../src/db/queries/credit-on-account');
    expect(
      (await creditOnAccount(s.db, { tenantId, asOf: '2026-12-31' })).filter((c) => c.customerId === cara),
    ).toEqual([]);
    // QuickBooks' balance for Cara (invoice 80 + entry 75) is Duely's invoices less credit plus the debit held.
    await expectNoDrift();
    // The customer page says so: the amount, the entry, and that Duely does not chase it.
    const { app, auth } = await buildTestApp({ services: s, keepServices: true, test: { onTestFinished } });
    const res = await app.inject({ url: `/api/v1/tenants/${tenantSlug}/customers/${cara}`, headers: auth });
    const body = res.json() as CustomerDetail;
    const timeline = ledgerTimeline(cara, body);
    expect(timeline.map((e) => [e.title, e.status.label])).toEqual(
      expect.arrayContaining([['Journal entry JE-904 debited the account', 'not chased by Duely']]),
    );
    // Edited (the amount) and then deleted: the row follows the entry, the balances stay QuickBooks'.
    book.edit(
      'JournalEntry',
      '904',
      journalEntry('904', [
        ['Debit', '84', 60, '3'],
        ['Credit', '90', 60],
      ]),
    );
    await sync();
    expect((await journalCredits())['JE:904:3']).toEqual(['active', -6000, -6000, '904', 'JE-904']);
    await expectNoDrift();
    // Cara pays her invoice and the entry's charge in one payment: the line linking the entry is not credit, so the
    // invoice is paid in cash (before, the debit row would have been applied as if it were credit), and it pays the
    // entry's debit: nothing is owed on it any more (tests/sync/qbo-journal-entries-debit-payments.test.ts).
    book.put(
      'Payment',
      payment('953', '3', 140, [
        ['Invoice', '30', 80],
        ['JournalEntry', '904', 60],
      ]),
    );
    book.edit('Invoice', '30', { Balance: 0 });
    await sync();
    const lines = rowsOf<{ credit: string | null }>(
      await s.db.execute(sql`
        select a.credit_memo_id as credit from payment_allocations a join payments p on p.id = a.payment_id
        where p.tenant_id = ${tenantId}::uuid and p.external_id = '953'`),
    );
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.credit === null)).toBe(true);
    expect((await journalCredits())['JE:904:3']).toEqual(['active', -6000, 0, '904', 'JE-904']);
    await expectNoDrift();
    book.remove('JournalEntry', '904');
    await sync();
    expect((await journalCredits())['JE:904:3']?.[0]).toBe('deleted');
    await expectNoDrift();
  });
});

describe('journal credits against saves of the same second', () => {
  async function syncNow() {
    const r = await runSync(s, { connectionId, reason: 'test' });
    expect(r.status).toBe('succeeded');
  }
  it("an entry edited to drop a customer's line and edited back within one second keeps the credit; an older save or the deleted entry's last save arriving late changes nothing", async () => {
    const lines = (withDan: boolean): JournalLine[] => [
      ['Credit', '84', 30, '3'],
      ...(withDan ? ([['Credit', '84', 20, '4']] as JournalLine[]) : []),
      ['Debit', '33', withDan ? 50 : 30],
    ];
    book.put('JournalEntry', journalEntry('903', lines(true)));
    await sync();
    expect((await journalCredits())['JE:903:4']?.[0]).toBe('active');
    book.tick();
    const dropped = book.edit('JournalEntry', '903', journalEntry('903', lines(false)));
    await syncNow();
    expect((await journalCredits())['JE:903:4']?.[0]).toBe('deleted');
    // The same second: Dan's line added back (a higher SyncToken, the same LastUpdatedTime).
    book.edit('JournalEntry', '903', journalEntry('903', lines(true)));
    await sync();
    expect((await journalCredits())['JE:903:4']?.[0]).toBe('active');
    await expectNoDrift();
    book.cdcExtra.JournalEntry = [dropped];
    await sync();
    expect((await journalCredits())['JE:903:4']?.[0]).toBe('active');
    await expectNoDrift();
    // Deleted in the second of its last save (a tombstone, no version): that save arriving late brings nothing back.
    book.tick();
    const last = book.edit('JournalEntry', '903', journalEntry('903', lines(true)));
    await syncNow();
    book.remove('JournalEntry', '903');
    await sync();
    book.cdcExtra.JournalEntry = [last];
    await sync();
    const credits = await journalCredits();
    expect([credits['JE:903:3']?.[0], credits['JE:903:4']?.[0]]).toEqual(['deleted', 'deleted']);
    await expectNoDrift();
  });
});
