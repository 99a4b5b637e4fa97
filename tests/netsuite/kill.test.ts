/**
 * kill -9 of a real `duely sync` process (services.sync.run with the worker's onSynced, as the sync job runs it)
 * syncing from the NetSuite stand-in over HTTP: killed in the middle of a full sync's invoice listing, its resume
 * killed in the middle of the journal-entry listing (read last), then in the middle of a poll round after payments,
 * a credit memo, a journal entry and deletions. NetSuite changes while the process is dead. Each kill lands at a
 * known point: a stand-in request is held (never answered) until the process reported the page before it committed
 * (its progress line on stderr), then the process is killed. After each resume: every customer's balance per currency
 * equals the stand-in's to the minor unit, every invoice's too, no application counted twice, no run left running,
 * and nothing changed while the process was dead is skipped. PGlite and Postgres: on PGlite the killed process's
 * data-directory lock must not keep the next process out.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTbaSecret } from '../../connectors/netsuite';
import { type Customer, NetsuiteCompany, NetsuiteSandbox } from '../../sandboxes/netsuite';
import { AR_ACCOUNT, type Txn } from '../../sandboxes/netsuite/company';
import { Vault } from '../../src/auth/vault';
import { createDb, type DbHandle, rowsOf } from '../../src/db/client';
import { ensureTenant } from '../../src/db/queries/tenants';
import { connections } from '../../src/db/schema';
import { createTestDatabase } from '../helpers/db';
import { ledgerBalances, storedInvoices } from './fixtures';

const APP_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const SLUG = 'killed-ns';
/** Invoices and journal entries to A/R: over 1,000 each (NetSuite's page), so each kind is read in two id ranges. */
const INVOICES = 1_300;
const ENTRIES = 1_050;

let sandbox: NetsuiteSandbox;
let database: { url?: string; drop(): Promise<void> };
/** Postgres: one handle for the whole file. PGlite: opened only while no sync process runs (one process at a time). */
let pg: DbHandle | null = null;
let dataDir = '';
let tenantId = '';
const co = () => sandbox.company;

async function withDb<T>(fn: (h: DbHandle) => Promise<T>): Promise<T> {
  if (pg) return fn(pg);
  const h = await createDb({ dataDir });
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}

/** The company: customers in four currencies, invoices (a third paid in part), credit memos, journal entries. */
function buildCompany(): NetsuiteCompany {
  const c = NetsuiteCompany.generate({ seed: 91, customers: 40 });
  const customers = [...c.customers.values()];
  for (let i = 0; i < INVOICES; i++) {
    const cust = customers[i % customers.length] as Customer;
    const inv = c.addInvoice(cust, 10_000 + ((i * 7919) % 90_000), 30);
    if (i % 3 === 0)
      c.addPayment(cust, inv.totalMinor, [{ invoice: inv.id, amountMinor: Math.ceil(inv.totalMinor / 2) }]);
    if (i % 97 === 0) {
      const cm = c.addCreditMemo(cust, 2_000);
      c.apply(cm.id, inv.id, 1_500);
    }
  }
  for (let i = 0; i < ENTRIES; i++) {
    const cust = customers[(i * 7) % customers.length] as Customer;
    const amount = 1_000 + i;
    if (i % 2 === 0)
      c.addJournal(cust.currency, [
        { account: AR_ACCOUNT, customer: cust, debit: amount },
        { account: 300, credit: amount },
      ]);
    else
      c.addJournal(cust.currency, [
        { account: 600, debit: amount },
        { account: AR_ACCOUNT, customer: cust, credit: amount },
      ]);
  }
  return c;
}

beforeAll(async () => {
  sandbox = new NetsuiteSandbox({ company: buildCompany(), concurrencyLimit: 10 });
  await sandbox.start();
  database = await createTestDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), 'duely-ns-kill-'));
  if (database.url) pg = await createDb({ url: database.url, max: 3 });
  await withDb(async (h) => {
    await h.migrate();
    const tenant = await ensureTenant(h.db, 'Killed NS', 'netsuite', { currency: 'USD' });
    const vault = new Vault(APP_SECRET);
    await h.db.insert(connections).values({
      tenantId: tenant.id,
      provider: 'netsuite',
      externalId: sandbox.accountId,
      credentials: vault.seal({
        accessToken: encodeTbaSecret({ tokenId: 'sandbox-token-id', tokenSecret: 'sandbox-token-secret' }),
        refreshToken: 'netsuite-tba',
        accessExpiresAt: new Date(Date.now() + 10 * 365 * 86_400_000).toISOString(),
        refreshExpiresAt: null,
      }),
      accessExpiresAt: new Date(Date.now() + 10 * 365 * 86_400_000),
      credentialsVersion: 1,
    });
    tenantId = tenant.id;
  });
}, 120_000);

/** Sync processes still running (a failed test's): killed before the stand-in stops. */
const running = new Set<ChildProcess>();

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await pg?.close();
  await database?.drop();
  await sandbox?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Run {
  /** The exit: a code, or the signal that ended it. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  stdout: () => string;
  child: ChildProcess;
}

/** `duely sync --tenant killed-ns` in a child process, on this file's database, against the stand-in. */
function syncProcess(): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'sync', '--tenant', SLUG], {
    env: {
      PATH: process.env.PATH,
      ...(database.url ? { DATABASE_URL: database.url } : {}),
      DATA_DIR: dataDir,
      APP_SECRET,
      LOG_LEVEL: 'silent',
      ...sandbox.env(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { exit, stderr: () => err, stdout: () => out, child };
}

/** A sync process run to its end: it must succeed. */
async function syncToEnd(): Promise<string> {
  sandbox.onQuery = null;
  const run = syncProcess();
  const { code, signal } = await run.exit;
  expect({ code, signal, err: run.stderr().split('\n').slice(-5).join('\n') }).toMatchObject({
    code: 0,
    signal: null,
  });
  return run.stdout();
}

/** One progress line (src/cli-sync.ts progressLine): rows per kind and whether the kind's listing is done. */
function progressLines(stderr: string): Array<Record<string, { rows: number; done: boolean }>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('sync '))
    .map((l) => {
      const kinds: Record<string, { rows: number; done: boolean }> = {};
      for (const m of l.matchAll(/(customers|invoices|credit memos|payments) ([\d,]+)( ✓)?/g))
        kinds[m[1] as string] = { rows: Number((m[2] as string).replaceAll(',', '')), done: Boolean(m[3]) };
      return kinds;
    });
}

/**
 * A sync process killed with SIGKILL: the queries `holdAt` accepts are held (the others answered: the sync reads
 * ahead, and a page before the held one may need them), and once `committed` is true of the process's progress lines
 * (pages it wrote), the process is killed. Returns the first query held.
 */
async function killedSync(
  holdAt: (q: string) => boolean,
  committed: (lines: ReturnType<typeof progressLines>) => boolean,
): Promise<{ held: string; pid: number }> {
  let held = '';
  sandbox.onQuery = (q) => {
    if (!holdAt(q)) return undefined;
    held ||= q;
    return 'hold';
  };
  const run = syncProcess();
  let exited = false;
  void run.exit.then(() => {
    exited = true;
  });
  try {
    for (let i = 0; !(held && committed(progressLines(run.stderr()))); i++) {
      if (exited || i > 3_000)
        throw new Error(
          `the sync process ${exited ? 'ended' : 'ran on'} before the kill point: ${run.stderr().slice(-800)}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    run.child.kill('SIGKILL');
  }
  expect((await run.exit).signal).toBe('SIGKILL');
  sandbox.onQuery = null;
  return { held, pid: run.child.pid as number };
}

/** The invoice query of a full-sync id range, or of a poll. */
const invoiceRows = (q: string) =>
  q.startsWith('SELECT t.id, t.type') && q.includes("t.type IN ('CustInvc')");
const journalRows = (q: string) => q.startsWith('SELECT t.id, t.type') && q.includes("t.type = 'Journal'");
/** Where a poll round starts: the `lastmodifieddate >=` of its first customer query. */
const sinceOf = (queries: string[]) =>
  /c\.lastmodifieddate >= TO_TIMESTAMP\('([^']+)'/.exec(
    queries.find((q) => q.startsWith('SELECT c.id')) ?? '',
  )?.[1];
/** `t.id > N` of a keyset query. */
const afterIdOf = (q: string) => /t\.id > (\d+)/.exec(q)?.[1] ?? null;

/** What the stand-in applied from each payment and credit memo to invoices (minor units), by its id. */
function standInApplications(): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of co().links) {
    if (l.previousline !== undefined) continue;
    const from = co().txns.get(l.nextdoc);
    if (from?.type !== 'CustPymt' && from?.type !== 'CustCred') continue;
    if (co().txns.get(l.previousdoc)?.type !== 'CustInvc') continue;
    out.set(String(l.nextdoc), (out.get(String(l.nextdoc)) ?? 0) + l.amountMinor);
  }
  return out;
}

/** What Duely's live payments and credit memos apply to invoices, by their NetSuite id. */
async function storedApplications(h: DbHandle): Promise<Map<string, number>> {
  const rows = rowsOf<{ doc: string; minor: string }>(
    await h.db.execute(sql`
      select coalesce(m.external_id, p.external_id) as doc, sum(a.amount_minor)::bigint as minor
      from payment_allocations a
        left join payments p on p.id = a.payment_id
        left join credit_memos m on m.id = a.credit_memo_id
      where a.tenant_id = ${tenantId}::uuid
        and coalesce(m.status, p.status) = 'active'
      group by 1`),
  );
  return new Map(rows.map((r) => [r.doc, Number(r.minor)]).filter(([, v]) => v !== 0) as [string, number][]);
}

/** The ledger equals the stand-in's: customer balances per currency, invoices, applications; no run left running. */
async function expectNoDrift(): Promise<void> {
  await withDb(async (h) => {
    expect(await ledgerBalances(h.db, tenantId)).toEqual(co().customerBalances());
    expect(await storedInvoices(h.db, tenantId)).toEqual(co().openBalances());
    expect(await storedApplications(h)).toEqual(standInApplications());
    const runs = rowsOf<{ status: string; n: number }>(
      await h.db.execute(
        sql`select status, count(*)::int as n from sync_runs where tenant_id = ${tenantId}::uuid group by status`,
      ),
    );
    expect(runs.find((r) => r.status === 'running')).toBeUndefined();
    const [latest] = rowsOf<{ status: string }>(
      await h.db.execute(
        sql`select status from sync_runs where tenant_id = ${tenantId}::uuid order by started_at desc limit 1`,
      ),
    );
    expect(latest?.status).toBe('succeeded');
  });
}

/** Time passes in NetSuite (a poll's window moves on). */
const later = (minutes = 5) => co().advance(minutes);
const customers = () => [...co().customers.values()];
const openInvoices = (of?: Customer) =>
  [...co().txns.values()].filter(
    (t) => t.type === 'CustInvc' && !t.voided && co().unpaid(t) > 0 && (!of || t.entity === of.id),
  );
const journals = () => [...co().txns.values()].filter((t) => t.type === 'Journal');

describe('a NetSuite sync process killed with SIGKILL', () => {
  it('mid invoice listing, mid journal-entry listing, mid poll: the next process resumes and nothing drifts', async () => {
    // 1. The first full sync, killed once an invoice page is committed (the next invoice range held).
    const first = await killedSync(
      (q) => invoiceRows(q) && afterIdOf(q) !== null,
      (lines) => lines.some((l) => (l.invoices?.rows ?? 0) > 0),
    );
    if (!pg) {
      // The killed process's lock is still there, naming it: the next process must see it is dead.
      const lock = path.join(dataDir, 'duely.lock');
      expect(existsSync(lock)).toBe(true);
      expect(JSON.parse(readFileSync(lock, 'utf8')).pid).toBe(first.pid);
    }
    // While it is dead, NetSuite changes: an invoice of the committed page voided, another paid, one deleted.
    const readFirst = [...co().txns.values()]
      .filter((t) => t.type === 'CustInvc' && Number(t.id) <= Number(afterIdOf(first.held)))
      .filter((t) => !t.voided && co().unpaid(t) > 0);
    const [voided, paid, deleted] = readFirst.slice(-3) as [Txn, Txn, Txn];
    later();
    const firstDeadChange = co().clock;
    co().void(voided.id);
    const payer = co().customers.get(paid.entity) as Customer;
    co().addPayment(payer, co().unpaid(paid), [{ invoice: paid.id, amountMinor: co().unpaid(paid) }]);
    co().delete(deleted.id);

    // 2. The next process resumes the full sync where the killed one stopped (no customer listing again, invoices
    // after the last committed id), and is killed once a journal-entry page is committed (the next range held).
    const queriesBefore = sandbox.queries.length;
    const second = await killedSync(
      (q) => journalRows(q) && afterIdOf(q) !== null,
      (lines) => {
        const paymentsDone = lines.findIndex((l) => l.payments?.done);
        const before = lines[paymentsDone]?.['credit memos']?.rows ?? 0;
        return (
          paymentsDone >= 0 && lines.slice(paymentsDone).some((l) => (l['credit memos']?.rows ?? 0) > before)
        );
      },
    );
    const resumed = sandbox.queries.slice(queriesBefore);
    expect(resumed.some((q) => q.startsWith('SELECT c.id'))).toBe(false);
    const firstInvoices = resumed.find(invoiceRows) ?? '';
    expect(Number(afterIdOf(firstInvoices))).toBeGreaterThan(0);
    // While it is dead: an entry of the committed page deleted, a debit of it paid in part, a new entry.
    const readEntries = journals().filter((t) => Number(t.id) <= Number(afterIdOf(second.held)));
    later();
    const gone = readEntries[1] as Txn;
    co().delete(gone.id);
    const debit = readEntries.find((t) => t.lines?.[0]?.debitMinor) as Txn;
    const debtor = co().customers.get(debit.lines?.[0]?.entity as number) as Customer;
    co().addJournalPayment(debtor, 500, { journals: [{ journal: debit.id, line: 0, amountMinor: 500 }] });
    const newcomer = customers()[3] as Customer;
    co().addJournal(newcomer.currency, [
      { account: AR_ACCOUNT, customer: newcomer, debit: 4_242 },
      { account: 300, credit: 4_242 },
    ]);

    // 3. The next process ends the full sync (resumed in the journal listing); the poll after it reads what changed
    // while the processes were dead.
    const queriesThird = sandbox.queries.length;
    expect(await syncToEnd()).toMatch(/\(full\)/);
    const third = sandbox.queries.slice(queriesThird);
    expect(third.some((q) => invoiceRows(q))).toBe(false);
    expect(Number(afterIdOf(third.find(journalRows) ?? ''))).toBeGreaterThan(0);
    later();
    const queriesPoll = sandbox.queries.length;
    expect(await syncToEnd()).toMatch(/\(incremental\)/);
    // The first poll starts before the first change made while a process was dead.
    expect(sinceOf(sandbox.queries.slice(queriesPoll)) ?? '').toMatch(/^\d{4}-/);
    expect((sinceOf(sandbox.queries.slice(queriesPoll)) ?? '') < firstDeadChange).toBe(true);
    await expectNoDrift();

    // 4. A poll killed after its first pages are committed (held: the invoices whose applications changed), after
    // payments applied, a credit memo, a journal entry and deletions.
    later(60);
    const [a, b, c] = customers().filter((x) => openInvoices(x).length >= 2) as [
      Customer,
      Customer,
      Customer,
    ];
    for (const inv of openInvoices(a).slice(0, 2))
      co().addPayment(a, co().unpaid(inv), [{ invoice: inv.id, amountMinor: co().unpaid(inv) }]);
    const partly = openInvoices(b)[0] as Txn;
    const unapplied = co().addPayment(b, co().unpaid(partly) + 1_000, [
      { invoice: partly.id, amountMinor: Math.floor(co().unpaid(partly) / 2) },
    ]);
    const memo = co().addCreditMemo(c, 3_000);
    co().apply(memo.id, (openInvoices(c)[0] as Txn).id, 2_000);
    co().addJournal(c.currency, [
      { account: 600, debit: 777 },
      { account: AR_ACCOUNT, customer: c, credit: 777 },
    ]);
    const paidBefore = [...co().txns.values()].find(
      (t) => t.type === 'CustPymt' && !t.voided && t.entity === c.id && co().unused(t) < t.totalMinor,
    ) as Txn;
    co().delete(paidBefore.id);
    co().delete((openInvoices(b).at(-1) as Txn).id);
    later();
    // Held: the round's DeletedRecord query. A round hands a page over once it has read the next one, so the pages
    // before the one whose read is held are committed (the payments among them).
    const queriesFourth = sandbox.queries.length;
    const fourth = await killedSync(
      (q) => q.startsWith('SELECT d.recordid'),
      (lines) => lines.some((l) => (l.payments?.rows ?? 0) > 0),
    );
    expect(fourth.held).toContain('DeletedRecord');
    const killedSince = sinceOf(sandbox.queries.slice(queriesFourth));
    expect(killedSince).toMatch(/^\d{4}-\d{2}-\d{2} /);
    // While it is dead: the unapplied payment the killed round wrote is deleted, an invoice of a is paid, an entry
    // is deleted and an invoice voided.
    later();
    co().delete(unapplied.id);
    const last = openInvoices(a)[0] as Txn;
    co().addPayment(a, co().unpaid(last), [{ invoice: last.id, amountMinor: co().unpaid(last) }]);
    co().delete((journals().at(-5) as Txn).id);
    co().void((openInvoices(c).at(-1) as Txn).id);

    // 5. The next process repeats the round from the killed one's cursor, with what changed meanwhile.
    later();
    const queriesFifth = sandbox.queries.length;
    expect(await syncToEnd()).toMatch(/\(incremental\)/);
    expect(sinceOf(sandbox.queries.slice(queriesFifth))).toBe(killedSince);
    await expectNoDrift();
    // The killed full sync's run was carried on by each next process to its end; the killed poll's was closed as
    // interrupted by the next one.
    const runs = await withDb(async (h) =>
      rowsOf<{ kind: string; status: string; error: string | null; resumed: boolean }>(
        await h.db.execute(sql`
          select kind, status, error, (source->>'resumed')::boolean as resumed from sync_runs
          where tenant_id = ${tenantId}::uuid order by started_at`),
      ),
    );
    expect(runs).toEqual([
      { kind: 'full', status: 'succeeded', error: null, resumed: true },
      { kind: 'incremental', status: 'succeeded', error: null, resumed: false },
      { kind: 'incremental', status: 'failed', error: 'interrupted', resumed: false },
      { kind: 'incremental', status: 'succeeded', error: null, resumed: false },
    ]);
  }, 240_000);
});
