/**
 * What the journal-entry suites (qbo-journal-entries*.test.ts) share: QuickBooks rows as the book keeps them, the
 * journal rows Duely holds, and the customer balances compared with the book's to the cent.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { customers } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import type { CustomerDetail } from '../../src/web/lib/types';
import { buildTimeline } from '../../src/web/pages/customer/customer-timeline';
import { type JournalLine, journalEntry as qboJournalEntry } from '../quickbooks/fixtures';
import { balanceMismatches, bookServices, dbBalances, seedConnection, tokensAt } from './helpers';
import type { QboBook } from './qbo-book';

export const ref = (value: string) => ({ value });
export const customer = (id: string, name: string) => ({
  Id: id,
  DisplayName: name,
  Active: true,
  PrimaryEmailAddr: { Address: `ap@${id}.example.com` },
});
export const invoice = (id: string, cust: string, total: number, balance = total) => ({
  Id: id,
  DocNumber: `INV-${id}`,
  TxnDate: '2026-09-01',
  DueDate: '2026-10-01',
  TotalAmt: total,
  Balance: balance,
  CustomerRef: ref(cust),
  EmailStatus: 'EmailSent',
});
export const journalEntry = (id: string, lines: JournalLine[]) =>
  qboJournalEntry(id, lines, {
    DocNumber: `JE-${id}`,
    TxnDate: '2026-10-20',
    CurrencyRef: { value: 'USD', name: 'United States Dollar' },
  });
export type Link = [type: 'Invoice' | 'CreditMemo' | 'JournalEntry', id: string, amount: number];
export const payment = (id: string, cust: string, total: number, links: Link[]) => ({
  Id: id,
  TxnDate: '2026-11-03',
  TotalAmt: total,
  UnappliedAmt: 0,
  CustomerRef: ref(cust),
  PrivateNote: 'Created by QB Online to link credits to charges.',
  Line: links.map(([TxnType, TxnId, Amount]) => ({ Amount, LinkedTxn: [{ TxnId, TxnType }] })),
});

/** The journal rows Duely holds: external id → [status, total, remaining, entry, number]. */
export async function journalCredits(s: Services, tenantId: string) {
  const rows = rowsOf<{
    external_id: string;
    status: string;
    total: number;
    remaining: number;
    je: string;
    number: string | null;
  }>(
    await s.db.execute(sql`
      select external_id, status, total_minor::int as total, remaining_minor::int as remaining,
             journal_entry_id as je, number
      from credit_memos where tenant_id = ${tenantId}::uuid and journal_entry_id is not null
      order by external_id`),
  );
  return Object.fromEntries(
    rows.map((r) => [r.external_id, [r.status, r.total, r.remaining, r.je, r.number]]),
  );
}

/**
 * Invoice balances, and customer balances as Duely holds them (open invoices less unapplied payments and what remains
 * of credits, plus what remains of journal debits), equal QuickBooks', to the cent.
 */
export async function expectNoDrift(s: Services, book: QboBook, tenantId: string) {
  expect(balanceMismatches(book.invoiceBalances(), await dbBalances(s, tenantId))).toEqual([]);
  const rows = rowsOf<{ ext: string; minor: string }>(
    await s.db.execute(sql`
      select c.external_id as ext,
        coalesce((select sum(i.balance_minor) from invoices i where i.customer_id = c.id and i.status = 'open'), 0)
        - coalesce((select sum(p.unapplied_minor) from payments p where p.customer_id = c.id and p.status = 'active'), 0)
        - coalesce((select sum(m.remaining_minor) from credit_memos m
                    where m.customer_id = c.id and m.status = 'active'), 0) as minor
      from customers c where c.tenant_id = ${tenantId}::uuid`),
  );
  const got = new Map(rows.map((r) => [r.ext, Number(r.minor)]));
  const truth = book.customerBalances();
  const ids = new Set([...truth.keys(), ...got.keys()]);
  expect(
    [...ids]
      .filter((id) => (truth.get(id) ?? 0) !== (got.get(id) ?? 0))
      .map((id) => `${id}: QuickBooks ${truth.get(id) ?? 0}, Duely ${got.get(id) ?? 0}`),
  ).toEqual([]);
}

/** The customer page's timeline from its ledger alone (no messages, promises or disputes). */
export function ledgerTimeline(customerId: string, body: CustomerDetail) {
  return buildTimeline({
    customerId,
    invoices: body.invoices,
    payments: body.payments,
    creditMemos: body.creditMemos,
    messages: [],
    promises: [],
    disputes: [],
    today: body.asOf,
  });
}

/**
 * A journal-entry suite's company and tenant: registers the beforeAll that starts a QuickBooks book at `start` with a
 * tenant connected to it (realm `realmId`, tokens valid 400 days) and the afterAll that stops both; the suite's own
 * beforeAll (registered after this call) fills the book. The fields are set once that first beforeAll ran.
 */
export function journalSuite(realmId: string, start: number) {
  const suite = {
    book: undefined as unknown as QboBook,
    s: undefined as unknown as Services,
    tenantId: '',
    tenantSlug: '',
    connectionId: '',
    /** One sync run (a minute and a half after the last), which must succeed. */
    async sync(extra: { full?: boolean } = {}) {
      suite.book.tick(90);
      const r = await runSync(suite.s, { connectionId: suite.connectionId, reason: 'test', ...extra });
      expect(r.status).toBe('succeeded');
      return r;
    },
    journalCredits: () => journalCredits(suite.s, suite.tenantId),
    expectNoDrift: () => expectNoDrift(suite.s, suite.book, suite.tenantId),
    /** Duely's id of the customer with this QuickBooks id. */
    async customerIdOf(externalId: string) {
      const [c] = await suite.s.db
        .select({ id: customers.id })
        .from(customers)
        .where(and(eq(customers.tenantId, suite.tenantId), eq(customers.externalId, externalId)));
      return c!.id;
    },
  };
  beforeAll(async () => {
    ({ book: suite.book, s: suite.s } = await bookServices(start, { queue: false }));
    const { tenant, connection } = await seedConnection(suite.s, {
      realmId,
      tokens: tokensAt(new Date(suite.book.clock), 400 * 86_400_000),
    });
    suite.tenantId = tenant.id;
    suite.tenantSlug = tenant.slug;
    suite.connectionId = connection.id;
  }, 120_000);
  afterAll(async () => {
    await suite.s?.close();
    await suite.book?.stop();
  });
  return suite;
}
