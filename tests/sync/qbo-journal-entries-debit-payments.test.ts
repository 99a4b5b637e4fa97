/**
 * "The ledger never drifts" for a charge booked by journal entry: a bookkeeper debits Accounts Receivable for a
 * customer (an opening balance, a charge) and the customer pays it later. QuickBooks records the payment with a line
 * linking the entry (TxnType "JournalEntry", as for a journal credit applied) and shows the customer's balance as
 * invoices + the entry's debit − what the payments linked to it. Through the real sync against a QuickBooks company
 * built row by row (qbo-book.ts), Duely must hold what is still owed on the entry to the cent — partly paid, paid,
 * the payment voided or deleted, the payment read before the entry — while open A/R, aging and what dunning chases
 * stay the invoices' (the debit is not chased, the payment is no credit on account), and a payment line linking an
 * entry that credits A/R still applies that credit.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { creditOnAccount } from '../../src/db/queries/credit-on-account';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import type { CustomerDetail } from '../../src/web/lib/types';
import { goLive, messagesOf } from '../dunning-engine/fixtures';
import { buildTestApp } from '../helpers/app';
import { dbBalances } from './helpers';
import type { QboBook } from './qbo-book';
import {
  customer,
  invoice,
  journalEntry,
  journalSuite,
  type Link,
  ledgerTimeline,
  payment as linkingPayment,
} from './qbo-journal';

const START = Date.parse('2026-11-02T15:00:00.000Z');
const TODAY = '2026-11-02';
let book: QboBook;
let s: Services;
let tenantId = '';
let tenantSlug = '';
let connectionId = '';

/** A customer's payment (money received), its lines linking what it pays. */
const payment = (id: string, cust: string, total: number, links: Link[]) => ({
  ...linkingPayment(id, cust, total, links),
  PrivateNote: null,
});

const suite = journalSuite('7702', START);
beforeAll(() => {
  ({ book, s, tenantId, tenantSlug, connectionId } = suite);
  book.put('Account', { Id: '84', Name: 'Accounts Receivable (A/R)', AccountType: 'Accounts Receivable' });
  book.put('Account', { Id: '30', Name: 'Opening Balance Equity', AccountType: 'Equity' });
  book.put('Account', { Id: '90', Name: 'Bad debts', AccountType: 'Expense' });
  book.put('Customer', customer('1', 'Cara'));
  book.put('Customer', customer('2', 'Dan'));
  book.put('Customer', customer('3', 'Eve'));
  book.put('Invoice', invoice('10', '1', 80));
  book.put('Invoice', invoice('20', '2', 200));
  book.put('Invoice', invoice('30', '3', 120));
  // Cara's opening balance, booked as a journal entry debiting her A/R: 500 owed on no invoice.
  book.put(
    'JournalEntry',
    journalEntry('900', [
      ['Debit', '84', 500, '1'],
      ['Credit', '30', 500],
    ]),
  );
  // Dan's A/R credited 40 (a write-off): credit on account, as before.
  book.put(
    'JournalEntry',
    journalEntry('901', [
      ['Credit', '84', 40, '2'],
      ['Debit', '90', 40],
    ]),
  );
}, 120_000);
const { sync, journalCredits, expectNoDrift, customerIdOf } = suite;

/** Open A/R and aging on the dashboard are the book's open invoices, to the cent; credit on account is `credit`. */
async function expectReceivablesAsBook(credit: number) {
  const open = [...book.invoiceBalances().values()].reduce((a, b) => a + b, 0);
  const d = await s.analytics.dashboard({ tenantId, currency: 'USD', today: TODAY, periodDays: 90 });
  expect(d.receivables.openMinor).toBe(open);
  expect(d.aging.reduce((sum, b) => sum + b.amountMinor, 0)).toBe(open);
  expect(d.receivables.unappliedCreditMinor).toBe(credit);
}

async function customerPage(customerId: string, onTestFinished: TestContext['onTestFinished']) {
  const { app, auth } = await buildTestApp({ services: s, keepServices: true, test: { onTestFinished } });
  const res = await app.inject({
    url: `/api/v1/tenants/${tenantSlug}/customers/${customerId}`,
    headers: auth,
  });
  expect(res.statusCode).toBe(200);
  const body = res.json() as CustomerDetail;
  const timeline = ledgerTimeline(customerId, body);
  const debit = timeline.find((e) => e.title === 'Journal entry JE-900 debited the account');
  return { body, debit, timeline };
}

describe('payments applied to a journal entry debiting A/R, through the sync', () => {
  it('full sync: the debit is held whole, the credit as credit on account', async () => {
    await sync();
    expect(await journalCredits()).toEqual({
      'JE:900:1': ['active', -50000, -50000, '900', 'JE-900'],
      'JE:901:2': ['active', 4000, 4000, '901', 'JE-901'],
    });
    await expectNoDrift();
  });

  it('a payment of 200 linked to the entry: 300 still owed on it; open A/R, aging and dunning stay the invoices’', async ({
    onTestFinished,
  }) => {
    book.put('Payment', payment('950', '1', 200, [['JournalEntry', '900', 200]]));
    await sync();
    expect((await journalCredits())['JE:900:1']).toEqual(['active', -50000, -30000, '900', 'JE-900']);
    // QuickBooks: Cara owes 80 (invoice) + 500 − 200 = 380.
    expect(book.customerBalances().get('1')).toBe(38000);
    await expectNoDrift();
    // The payment paid the entry, not an invoice: invoice balances, open A/R and aging are unchanged, and it is no
    // credit on account (only Dan's journal credit is).
    expect((await dbBalances(s, tenantId)).get('10')).toBe(8000);
    await expectReceivablesAsBook(4000);
    const cara = await customerIdOf('1');
    expect(
      (await creditOnAccount(s.db, { tenantId, asOf: TODAY })).filter((c) => c.customerId === cara),
    ).toEqual([]);
    // Dunning chases Cara's open invoice, all 80 of it; not the entry, and nothing is taken off for the payment.
    await goLive(s, tenantId);
    const r = await planTenant(s, tenantId);
    expect(r.decisions.find((d) => d.customerId === cara)?.code).not.toBe('credit_on_account');
    const caras = (await messagesOf(s, tenantId)).filter((m) => m.customerId === cara);
    expect(caras.length).toBeGreaterThan(0);
    for (const m of caras) {
      const listed = (m.snapshot as { invoices: { openBalanceMinor: number }[] }).invoices;
      expect(listed.reduce((sum, i) => sum + i.openBalanceMinor, 0)).toBe(8000);
    }
    // The customer page: 300.00 still owed of the entry's 500.00, 200.00 paid; not chased.
    const { body, debit, timeline } = await customerPage(cara, onTestFinished);
    expect(body.creditMemos.find((c) => c.externalId === 'JE:900:1')).toMatchObject({
      totalMinor: -50000,
      remainingMinor: -30000,
    });
    expect(debit?.status.label).toBe('not chased by Duely');
    expect(debit?.detail).toContain('$200.00 paid, $300.00 still owed');
    expect(timeline.find((e) => e.title === 'Payment 950 received')?.detail).toBe(
      'Applied to Journal entry JE-900 $200.00',
    );
  });

  it('the rest paid with her invoice in one payment: nothing owed on the entry, the page says paid', async ({
    onTestFinished,
  }) => {
    book.put(
      'Payment',
      payment('951', '1', 380, [
        ['Invoice', '10', 80],
        ['JournalEntry', '900', 300],
      ]),
    );
    book.edit('Invoice', '10', { Balance: 0 });
    await sync();
    expect((await journalCredits())['JE:900:1']).toEqual(['active', -50000, 0, '900', 'JE-900']);
    expect(book.customerBalances().get('1')).toBe(0);
    await expectNoDrift();
    await expectReceivablesAsBook(4000);
    // The invoice line is money, not credit (the entry is a debit, nothing to apply).
    const lines = rowsOf<{ credit: string | null; minor: number }>(
      await s.db.execute(sql`
        select a.credit_memo_id as credit, a.amount_minor::int as minor
        from payment_allocations a join payments p on p.id = a.payment_id
        where p.tenant_id = ${tenantId}::uuid and p.external_id = '951'`),
    );
    expect(lines.reduce((sum, l) => sum + l.minor, 0)).toBe(8000);
    expect(lines.every((l) => l.credit === null)).toBe(true);
    const { debit } = await customerPage(await customerIdOf('1'), onTestFinished);
    expect(debit?.status.label).toBe('paid');
  });

  it('a re-sync (CDC, then full) changes nothing', async () => {
    const stamp = async () =>
      rowsOf<{ at: string }>(
        await s.db.execute(sql`select updated_at::text as at from credit_memos
                               where tenant_id = ${tenantId}::uuid and external_id = 'JE:900:1'`),
      )[0]?.at;
    const before = await stamp();
    await sync();
    await sync({ full: true });
    expect(await stamp()).toBe(before);
    expect((await journalCredits())['JE:900:1']).toEqual(['active', -50000, 0, '900', 'JE-900']);
    await expectNoDrift();
  });

  it('the second payment voided, the first deleted: the entry is owed again, step by step', async () => {
    book.put('Payment', {
      ...payment('951', '1', 0, [
        ['Invoice', '10', 0],
        ['JournalEntry', '900', 0],
      ]),
      PrivateNote: 'Voided',
    });
    book.edit('Invoice', '10', { Balance: 80 });
    await sync();
    expect((await journalCredits())['JE:900:1']).toEqual(['active', -50000, -30000, '900', 'JE-900']);
    await expectNoDrift();
    book.remove('Payment', '950');
    await sync();
    expect((await journalCredits())['JE:900:1']).toEqual(['active', -50000, -50000, '900', 'JE-900']);
    await expectNoDrift();
    await expectReceivablesAsBook(4000);
  });

  it('a payment line linking an entry that credits A/R still applies its credit', async () => {
    book.put(
      'Payment',
      linkingPayment('952', '2', 0, [
        ['Invoice', '20', 40],
        ['JournalEntry', '901', 40],
      ]),
    );
    book.edit('Invoice', '20', { Balance: 160 });
    await sync();
    expect((await journalCredits())['JE:901:2']).toEqual(['active', 4000, 0, '901', 'JE-901']);
    const [line] = rowsOf<{ credit: string | null; minor: number }>(
      await s.db.execute(sql`
        select m.external_id as credit, a.amount_minor::int as minor
        from payment_allocations a join payments p on p.id = a.payment_id
        left join credit_memos m on m.id = a.credit_memo_id
        where p.tenant_id = ${tenantId}::uuid and p.external_id = '952'`),
    );
    expect(line).toEqual({ credit: 'JE:901:2', minor: 4000 });
    await expectNoDrift();
    await expectReceivablesAsBook(0);
  });

  it('a journal credit applied to a journal debit ($0 payment, no invoice): both are used up, to the cent', async () => {
    book.put(
      'JournalEntry',
      journalEntry('904', [
        ['Debit', '84', 30.25, '3'],
        ['Credit', '30', 30.25],
      ]),
    );
    book.put(
      'JournalEntry',
      journalEntry('905', [
        ['Credit', '84', 45, '3'],
        ['Debit', '90', 45],
      ]),
    );
    book.put(
      'Payment',
      linkingPayment('955', '3', 0, [
        ['JournalEntry', '904', 30.25],
        ['JournalEntry', '905', 30.25],
      ]),
    );
    await sync();
    const credits = await journalCredits();
    expect(credits['JE:904:3']).toEqual(['active', -3025, 0, '904', 'JE-904']);
    expect(credits['JE:905:3']).toEqual(['active', 4500, 1475, '905', 'JE-905']);
    await expectNoDrift();
  });

  it('an entry and the payment of it read in one sync', async () => {
    book.put(
      'JournalEntry',
      journalEntry('902', [
        ['Debit', '84', 64.35, '3'],
        ['Credit', '30', 64.35],
      ]),
    );
    book.put('Payment', payment('953', '3', 64.35, [['JournalEntry', '902', 64.35]]));
    await sync();
    expect((await journalCredits())['JE:902:3']).toEqual(['active', -6435, 0, '902', 'JE-902']);
    await expectNoDrift();
  });

  it('a payment read before its entry (created while a full sync read payments): the entry arrives paid by CDC', async () => {
    // The bookkeeper books Dan's charge and receives part of it while the full sync is past journal entries.
    let added = false;
    book.onRequest = (_n, request) => {
      if (added || !request.startsWith('query SELECT * FROM Payment')) return undefined;
      added = true;
      book.put(
        'JournalEntry',
        journalEntry('903', [
          ['Debit', '84', 70, '2'],
          ['Credit', '30', 70],
        ]),
      );
      book.put('Payment', payment('954', '2', 45.5, [['JournalEntry', '903', 45.5]]));
      return undefined;
    };
    await sync({ full: true });
    book.onRequest = null;
    expect(added).toBe(true);
    expect((await journalCredits())['JE:903:2']).toBeUndefined();
    await sync();
    expect((await journalCredits())['JE:903:2']).toEqual(['active', -7000, -2450, '903', 'JE-903']);
    await expectNoDrift();
    // The entry edited to 50: what is owed follows it (50 − 45.50).
    book.edit(
      'JournalEntry',
      '903',
      journalEntry('903', [
        ['Debit', '84', 50, '2'],
        ['Credit', '30', 50],
      ]),
    );
    await sync();
    expect((await journalCredits())['JE:903:2']).toEqual(['active', -5000, -450, '903', 'JE-903']);
    await expectNoDrift();
  });

  it('a ledger stored before 0026 (payments without journal_applied): 0027 makes the next sync a full one, which subtracts them', async () => {
    // What the code before 0026 left: no payment knows what it paid on an entry, every debit owed whole.
    await s.db.execute(sql`update payments set journal_applied = null where tenant_id = ${tenantId}::uuid`);
    await s.db.execute(sql`
      update credit_memos set remaining_minor = total_minor
      where tenant_id = ${tenantId}::uuid and journal_entry_id is not null and total_minor < 0`);
    expect((await journalCredits())['JE:903:2']).toEqual(['active', -5000, -5000, '903', 'JE-903']);
    const cursorOf = async () =>
      rowsOf<{ cursor: unknown }>(
        await s.db.execute(
          sql`select sync_cursor as cursor from connections where id = ${connectionId}::uuid`,
        ),
      )[0]!.cursor;
    expect(await cursorOf()).not.toBeNull();
    const migration = readFileSync(
      new URL('../../src/db/migrations/0027_qbo_full_sync_for_journal_debits.sql', import.meta.url),
      'utf8',
    );
    await s.db.execute(sql.raw(migration));
    expect(await cursorOf()).toBeNull();
    const r = await sync();
    expect(r.kind).toBe('full');
    expect((await journalCredits())['JE:903:2']).toEqual(['active', -5000, -450, '903', 'JE-903']);
    await expectNoDrift();
  });
});
