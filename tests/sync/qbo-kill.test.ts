/**
 * kill -9 of a real sync process in the middle of a full sync, in the middle of a CDC round, and between a full sync's
 * last page and its `succeeded` mark. The next run must resume and end with every invoice's and every customer's
 * balance equal to QuickBooks', nothing lost and nothing counted twice, and find what was deleted meanwhile.
 * PGlite and Postgres: on PGlite the database lives in a data directory this file opens only while no sync process
 * runs (one process at a time), and the killed process's data-directory lock must not keep the next one out.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { rowsOf } from '../../src/db/client';
import { createLogger } from '../../src/logger';
import { createServices, type Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { createTestDatabase } from '../helpers/db';
import { balanceMismatches, dbBalances, QB_ENV, readConnection, seedConnection, tokensAt } from './helpers';
import { QboBook } from './qbo-book';

const INVOICES = 2600;
const APP_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';
let book: QboBook;
/** This file's services: on PGlite open only while no sync process runs (openServices / closeServices). */
let s: Services;
let apiUrl = '';
let database: { url?: string; drop(): Promise<void> };
let dataDir = '';

/** The environment of this file's services and of its sync processes. */
const env = (): Record<string, string> => ({
  ...(database.url ? { DATABASE_URL: database.url } : {}),
  DATA_DIR: dataDir,
  APP_SECRET,
  LOG_LEVEL: 'silent',
  ...QB_ENV,
  QUICKBOOKS_API_URL: apiUrl,
});

async function openServices(): Promise<void> {
  s = await createServices(loadConfig({ NODE_ENV: 'test', ...env() }), {
    clock: { now: () => new Date() },
    logger: createLogger('silent'),
    queue: false,
  });
}

beforeAll(async () => {
  book = new QboBook(Date.now());
  apiUrl = await book.start();
  database = await createTestDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), 'duely-qbo-kill-'));
  await openServices();
}, 120_000);
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await s?.close();
  await database?.drop();
  await book?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Sync processes still running (a failed test's): killed before the book stops. */
const running = new Set<ChildProcess>();

/** Rows per kind in the process's progress lines (src/cli-sync.ts progressLine): the pages it committed. */
function committedRows(stderr: string, kind: 'invoices' | 'payments'): number {
  let rows = 0;
  for (const line of stderr.split('\n').filter((l) => l.startsWith('sync '))) {
    const m = new RegExp(`${kind} ([\\d,]+)`).exec(line);
    if (m) rows = Math.max(rows, Number((m[1] as string).replaceAll(',', '')));
  }
  return rows;
}

/**
 * A sync process on this file's database (PGlite: this file's handle closed while it runs, reopened after). `args`:
 * `duely sync --tenant NAME` by default.
 */
async function syncProcess(
  args: string[],
  watch: (child: ChildProcess, stderr: () => string) => void = () => {},
): Promise<{
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
  pid: number;
  /** PGlite: the pid the data directory's lock names once the process ended (before this file reopens it). */
  lockPid: number | null;
}> {
  if (!database.url) await s.close();
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      env: { PATH: process.env.PATH, ...env() },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    running.add(child);
    let err = '';
    child.stderr?.on('data', (d) => {
      err += String(d);
    });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    watch(child, () => err);
    const { code, signal } = await exit;
    running.delete(child);
    const lock = path.join(dataDir, 'duely.lock');
    const lockPid = existsSync(lock) ? Number(JSON.parse(readFileSync(lock, 'utf8')).pid) : null;
    return { code, signal, stderr: err, pid: child.pid as number, lockPid };
  } finally {
    book.onRequest = null;
    if (!database.url) await openServices();
  }
}

/**
 * `duely sync --tenant NAME` killed with SIGKILL at `killAt` (the matching request held, as every one after it), once
 * `ready` is true of its stderr (the progress lines of the pages it committed).
 */
function childSync(
  tenant: string,
  killAt: (n: number, request: string) => boolean,
  ready: (stderr: string) => boolean = () => true,
) {
  return syncProcess(['src/cli.ts', 'sync', '--tenant', tenant], (child, stderr) => {
    let killing = false;
    book.onRequest = (n, request) => {
      if (killing) return 'hold';
      if (!killAt(n, request)) return undefined;
      killing = true;
      void (async () => {
        for (let i = 0; i < 2_400 && !ready(stderr()) && child.exitCode === null; i++)
          await new Promise((r) => setTimeout(r, 50));
        child.kill('SIGKILL');
      })();
      return 'hold';
    };
  });
}

/** The killed process's data-directory lock was left, naming it (PGlite): the next process had to take it over. */
function expectStaleLock(run: { pid: number; lockPid: number | null }): void {
  if (!database.url) expect(run.lockPid).toBe(run.pid);
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

describe('a sync process killed with SIGKILL', () => {
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
    const first = await childSync(
      tenant.slug,
      (_n, r) => r.includes('FROM CreditMemo'),
      (stderr) => committedRows(stderr, 'invoices') > 0,
    );
    expect(first.signal).toBe('SIGKILL');
    expectStaleLock(first);
    expect((await readConnection(s, connection.id)).syncCursor).toMatchObject({ mode: 'full' });
    const writtenBeforeKill = (await dbBalances(s, tenant.id)).size;
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
    expect(killed.signal).toBe('SIGKILL');
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

  it("between a full sync's last page and its succeeded mark: the next run ends exact and finds what was deleted meanwhile", async () => {
    // A company of its own: a book of its own, this file's services pointed at it.
    await book.stop();
    book = new QboBook(Date.now());
    apiUrl = await book.start();
    await s.close();
    await openServices();
    const { tenant, connection } = await seedConnection(s, {
      name: 'Killed Late Co',
      realmId: '778',
      tokens: tokensAt(new Date(), 400 * 86_400_000),
    });
    for (let c = 1; c <= 6; c++) book.put('Customer', { Id: String(c), DisplayName: `L${c}`, Active: true });
    const invoice = (i: number) =>
      book.put('Invoice', {
        Id: String(1000 + i),
        TxnDate: '2026-10-01',
        DueDate: '2026-10-31',
        TotalAmt: 200.5,
        Balance: 200.5,
        CustomerRef: { value: String(1 + (i % 6)) },
      });
    for (let i = 1; i <= 30; i++) invoice(i);
    // Customer 2's payment of invoices 1001 and 1007 in full and 50.00 of 1013, 10.00 left unapplied.
    book.put('Payment', {
      Id: '900',
      TxnDate: '2026-10-15',
      TotalAmt: 461,
      UnappliedAmt: 10,
      CustomerRef: { value: '2' },
      Line: [
        { Amount: 200.5, LinkedTxn: [{ TxnId: '1001', TxnType: 'Invoice' }] },
        { Amount: 200.5, LinkedTxn: [{ TxnId: '1007', TxnType: 'Invoice' }] },
        { Amount: 50, LinkedTxn: [{ TxnId: '1013', TxnType: 'Invoice' }] },
      ],
    });
    book.edit('Invoice', '1001', { Balance: 0 });
    book.edit('Invoice', '1007', { Balance: 0 });
    book.edit('Invoice', '1013', { Balance: 150.5 });
    book.put('CreditMemo', {
      Id: '950',
      TxnDate: '2026-10-16',
      TotalAmt: 40,
      RemainingCredit: 40,
      Balance: 40,
      CustomerRef: { value: '3' },
    });

    // Killed by itself right after the page that ends the full sync committed (tests/sync/sync-child.ts).
    const killed = await syncProcess(['tests/sync/sync-child.ts', connection.id]);
    expect(killed.signal).toBe('SIGKILL');
    expectStaleLock(killed);
    // Every page is in: the cursor left full mode, the ledger is QuickBooks', the run was never marked.
    expect((await readConnection(s, connection.id)).syncCursor).toMatchObject({ mode: 'cdc' });
    expect(balanceMismatches(book.invoiceBalances(), await dbBalances(s, tenant.id))).toEqual([]);
    const runsOf = async () =>
      rowsOf<{ kind: string; status: string; error: string | null }>(
        await s.db.execute(sql`
          select kind, status, error from sync_runs where tenant_id = ${tenant.id}::uuid order by started_at`),
      );
    expect(await runsOf()).toEqual([{ kind: 'full', status: 'running', error: null }]);

    // While it is dead: the payment of three invoices deleted (they are open again), an invoice and the credit memo
    // deleted, a new invoice.
    book.tick(120);
    book.remove('Payment', '900');
    for (const id of ['1001', '1007', '1013']) book.edit('Invoice', id, { Balance: 200.5 });
    book.remove('Invoice', '1030');
    book.remove('CreditMemo', '950');
    invoice(31);
    book.tick(5);

    const next = await runSync(s, { connectionId: connection.id, reason: 'test' });
    expect(next).toMatchObject({ status: 'succeeded', kind: 'incremental' });
    expect(balanceMismatches(book.invoiceBalances(), await dbBalances(s, tenant.id))).toEqual([]);
    expect(await customerDrift(tenant.id)).toEqual([]);
    expect(await doubleCounted(tenant.id)).toBe(0);
    const status = async (table: 'invoices' | 'payments' | 'credit_memos', ext: string) =>
      rowsOf<{ status: string }>(
        await s.db.execute(
          sql`select status from ${sql.identifier(table)} where tenant_id = ${tenant.id}::uuid and external_id = ${ext}`,
        ),
      )[0]?.status;
    expect(await status('invoices', '1030')).toBe('deleted');
    expect(await status('payments', '900')).toBe('deleted');
    expect(await status('credit_memos', '950')).toBe('deleted');
    expect(await status('invoices', '1031')).toBe('open');
    // The killed full sync had written every page: its run is closed as succeeded, not as interrupted.
    expect(await runsOf()).toEqual([
      { kind: 'full', status: 'succeeded', error: null },
      { kind: 'incremental', status: 'succeeded', error: null },
    ]);
  }, 120_000);
});
