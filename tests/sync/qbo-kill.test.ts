/**
 * kill -9 of a real `duely sync` process in the middle of a full sync and in the middle of a CDC round (Postgres:
 * the killed process and this one share the database). The next run must resume and end with every invoice's and
 * every customer's balance equal to QuickBooks', nothing lost and nothing counted twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { usingPostgres } from '../helpers/db';
import { createTestServices } from '../helpers/services';
import { balanceMismatches, dbBalances, QB_ENV, readConnection, seedConnection, tokensAt } from './helpers';
import { QboBook } from './qbo-book';

const INVOICES = 2600;
let book: QboBook;
let s: Services;
let apiUrl = '';

beforeAll(async () => {
  if (!usingPostgres) return;
  book = new QboBook(Date.now());
  apiUrl = await book.start();
  s = await createTestServices({
    clock: { now: () => new Date() },
    env: { ...QB_ENV, QUICKBOOKS_API_URL: apiUrl },
    queue: false,
  });
});
afterAll(async () => {
  await s?.close();
  await book?.stop();
});

/** `duely sync --tenant NAME` in a child process on this test's database; killed with SIGKILL at `killAt`. */
function childSync(
  tenant: string,
  killAt: (n: number, request: string) => boolean,
  /** Awaited (the matching request held) before the kill. */
  before?: () => Promise<void>,
): Promise<string | null> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli.ts', 'sync', '--tenant', tenant],
    {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: s.dbh.url,
        APP_SECRET: s.config.APP_SECRET,
        DATA_DIR: s.config.DATA_DIR,
        LOG_LEVEL: 'silent',
        ...QB_ENV,
        QUICKBOOKS_API_URL: apiUrl,
      },
      stdio: 'ignore',
    },
  );
  let killing = false;
  book.onRequest = (n, request) => {
    if (killing) return 'hold';
    if (!killAt(n, request)) return undefined;
    killing = true;
    void (async () => {
      await before?.();
      child.kill('SIGKILL');
    })();
    return 'hold';
  };
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

async function customerDrift(tenantId: string): Promise<string[]> {
  const rows = rowsOf<{ ext: string; minor: string }>(
    await s.db.execute(sql`
      select c.external_id as ext,
        coalesce((select sum(i.balance_minor) from invoices i where i.customer_id = c.id and i.status = 'open'), 0)
        - coalesce((select sum(p.unapplied_minor) from payments p where p.customer_id = c.id and p.status = 'active'), 0)
        - coalesce((select sum(m.remaining_minor) from credit_memos m where m.customer_id = c.id and m.status = 'active'), 0)
        as minor
      from customers c where c.tenant_id = ${tenantId}::uuid`),
  );
  const truth = book.customerBalances();
  return rows
    .filter((r) => Number(r.minor) !== (truth.get(r.ext) ?? 0))
    .map((r) => `customer ${r.ext}: QuickBooks ${truth.get(r.ext)}, Duely ${r.minor}`);
}

/** Live journal credits: external id → remaining minor units. */
async function journalCredits(tenantId: string): Promise<Record<string, number>> {
  const rows = rowsOf<{ ext: string; minor: number }>(
    await s.db.execute(sql`
      select external_id as ext, remaining_minor::int as minor from credit_memos
      where tenant_id = ${tenantId}::uuid and journal_entry_id is not null and status = 'active'
      order by external_id`),
  );
  return Object.fromEntries(rows.map((r) => [r.ext, r.minor]));
}

async function doubleCounted(tenantId: string): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await s.db.execute(sql`
      select count(*)::int as n from invoices i
      where i.tenant_id = ${tenantId}::uuid and i.status in ('open', 'paid')
        and i.total_minor - i.balance_minor <>
            coalesce((select sum(a.amount_minor) from payment_allocations a where a.invoice_id = i.id), 0)`),
  );
  return row?.n ?? -1;
}

describe.skipIf(!usingPostgres)('a sync process killed with SIGKILL', () => {
  it('mid full sync, then mid CDC round: the next runs resume and converge to the cent', async () => {
    const { tenant, connection } = await seedConnection(s, {
      name: 'Killed Co',
      realmId: '777',
      tokens: tokensAt(new Date(), 400 * 86_400_000),
    });
    for (let c = 1; c <= 40; c++) book.put('Customer', { Id: String(c), DisplayName: `C${c}`, Active: true });
    for (let i = 1; i <= INVOICES; i++) {
      const id = String(1000 + i);
      const cust = String(1 + (i % 40));
      const paid = i % 3 === 0;
      book.put('Invoice', {
        Id: id,
        TxnDate: '2026-10-01',
        DueDate: '2026-10-31',
        TotalAmt: 100.25,
        Balance: paid ? 40 : 100.25,
        CustomerRef: { value: cust },
      });
      if (paid)
        book.put('Payment', {
          Id: String(10_000 + i),
          TxnDate: '2026-10-15',
          TotalAmt: 60.25,
          UnappliedAmt: 0,
          CustomerRef: { value: cust },
          Line: [{ Amount: 60.25, LinkedTxn: [{ TxnId: id, TxnType: 'Invoice' }] }],
        });
    }

    // Journal entries crediting A/R (write-offs) for customers 1-10, and "Receive payment" links of five of them to
    // an open invoice each: the credits' remaining amounts are derived by Duely, so they must converge too.
    book.put('Account', {
      Id: '4',
      Name: 'Accounts Receivable (A/R)',
      AccountType: 'Accounts Receivable',
      Active: true,
    });
    book.put('Account', { Id: '99', Name: 'Bad debts', AccountType: 'Expense', Active: true });
    const journalCredit = (id: string, cust: string, amount: number) =>
      book.put('JournalEntry', {
        Id: id,
        TxnDate: '2026-10-20',
        Line: [
          {
            Amount: amount,
            JournalEntryLineDetail: {
              PostingType: 'Credit',
              AccountRef: { value: '4' },
              Entity: { Type: 'Customer', EntityRef: { value: cust } },
            },
          },
          { Amount: amount, JournalEntryLineDetail: { PostingType: 'Debit', AccountRef: { value: '99' } } },
        ],
      });
    for (let c = 1; c <= 10; c++) journalCredit(String(500 + c), String(c), 25);
    for (let c = 1; c <= 5; c++) {
      // An unpaid invoice of customer c (cust = 1 + i % 40; every third invoice is partly paid).
      let i = c - 1 + 40;
      while (i % 3 === 0) i += 40;
      const id = String(1000 + i);
      book.edit('Invoice', id, { Balance: 75.25 });
      book.put('Payment', {
        Id: String(30_000 + c),
        TxnDate: '2026-10-21',
        TotalAmt: 0,
        UnappliedAmt: 0,
        CustomerRef: { value: String(c) },
        Line: [
          { Amount: 25, LinkedTxn: [{ TxnId: id, TxnType: 'Invoice' }] },
          { Amount: 25, LinkedTxn: [{ TxnId: String(500 + c), TxnType: 'JournalEntry' }] },
        ],
      });
    }

    // Killed when it asks for credit memos, once some invoices are committed: it reads PAGES_AHEAD pages ahead of
    // the one it writes, so at that request the invoices' pages may not be written yet; the request is held until a
    // page is (the others then being written or waiting).
    const signal = await childSync(
      tenant.slug,
      (_n, r) => r.includes('FROM CreditMemo'),
      async () => {
        for (let i = 0; i < 1_200 && (await dbBalances(s, tenant.id)).size === 0; i++)
          await new Promise((r) => setTimeout(r, 50));
      },
    );
    expect(signal).toBe('SIGKILL');
    expect((await readConnection(s, connection.id)).syncCursor).toMatchObject({ mode: 'full' });
    const writtenBeforeKill = (await dbBalances(s, tenant.id)).size;
    book.onRequest = null;
    const full = await runSync(s, { connectionId: connection.id, reason: 'test' });
    expect(full).toMatchObject({ status: 'succeeded', kind: 'full' });
    // It resumed: the killed run's committed page stays, and the next run read on from it.
    expect(writtenBeforeKill).toBeGreaterThan(0);
    expect(book.requests.filter((r) => r.includes("FROM Invoice WHERE Id > '")).length).toBeGreaterThan(1);
    expect(balanceMismatches(book.invoiceBalances(), await dbBalances(s, tenant.id))).toEqual([]);
    expect(await customerDrift(tenant.id)).toEqual([]);
    expect(await doubleCounted(tenant.id)).toBe(0);

    // 1,500 invoices paid in full at once: CDC saturates, splits and pages by query; killed mid-way.
    for (let i = 1; i <= 1500; i++) {
      const id = String(1000 + i);
      const cust = String(1 + (i % 40));
      const inv = book.get('Invoice', id);
      const pid = String(20_000 + i);
      book.put('Payment', {
        Id: pid,
        TxnDate: '2026-11-20',
        TotalAmt: Number(inv.Balance),
        UnappliedAmt: 0,
        CustomerRef: { value: cust },
        Line: [{ Amount: Number(inv.Balance), LinkedTxn: [{ TxnId: id, TxnType: 'Invoice' }] }],
      });
      book.edit('Invoice', id, { Balance: 0 });
    }
    // Meanwhile a new write-off for customer 20 and customer 10's is deleted: CDC brings the one and the tombstone.
    journalCredit('600', '20', 12.5);
    book.remove('JournalEntry', '510');
    let queries = 0;
    const killed = await childSync(tenant.slug, (_n, r) => r.startsWith('query') && ++queries === 3);
    expect(killed).toBe('SIGKILL');
    book.onRequest = null;
    const cdc = await runSync(s, { connectionId: connection.id, reason: 'test' });
    expect(cdc).toMatchObject({ status: 'succeeded', kind: 'incremental' });
    expect(balanceMismatches(book.invoiceBalances(), await dbBalances(s, tenant.id))).toEqual([]);
    expect(await customerDrift(tenant.id)).toEqual([]);
    // Customers 6-9 keep their whole write-off on account, 1-5 used theirs, 10's is gone, 20's is new.
    expect(await journalCredits(tenant.id)).toEqual({
      'JE:501:1': 0,
      'JE:502:2': 0,
      'JE:503:3': 0,
      'JE:504:4': 0,
      'JE:505:5': 0,
      'JE:506:6': 2500,
      'JE:507:7': 2500,
      'JE:508:8': 2500,
      'JE:509:9': 2500,
      'JE:600:20': 1250,
    });
    expect(await doubleCounted(tenant.id)).toBe(0);
  }, 240_000);
});
