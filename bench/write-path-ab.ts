/**
 * Research tool (issue 18, not part of `npm run bench`): a paired A/B of the sync write path
 * (src/db/queries/ledger-write.ts) that stays readable on a loaded machine, where whole-bench CPU seconds of the same
 * code swing ±20 % between runs. One database, two tenants: the same synthetic pages (customers, then n invoices
 * in 1,000-row pages, then n payments with one allocation line for two invoices in three) are written for tenant A
 * by the other checkout's ledger-write.ts and for tenant B by this one's, alternating page by page (who goes first
 * alternates too), each page in its own transaction with its listing ids (recordListingIds, preparePage,
 * writePage; a checkout that has settlePaidDates defers paid dates to the last page's transaction, as a full sync
 * does). Prints CPU and wall seconds per side and new/base for the first write and for an unchanged replay (on
 * Postgres also the backends' CPU), then checks both tenants hold the same rows. The first write passes writePage
 * `insertOnly` (every row is new; on PGlite with `keysPerPage`), as sync/run-sync.ts does for a full sync into an
 * empty ledger; a checkout without it ignores the option.
 * `tsx bench/write-path-ab.ts <other checkout>/src/db/queries/ledger-write.ts [pglite|postgres] [n=20000]`
 */
import { sql } from 'drizzle-orm';
import type { SyncPage } from '../connectors/types';
import { type Db, rowsOf, type Tx } from '../src/db/client';
import * as NEW from '../src/db/queries/ledger-write';
import { ensureTenant } from '../src/db/queries/tenants';
import { createBenchDb } from './bench-db';
import { cpuSecondsOf } from './proc';

type WritePath = Pick<typeof NEW, 'preparePage' | 'writePage' | 'recordListingIds'> &
  Partial<Pick<typeof NEW, 'settlePaidDates'>>;

const [baseFile, kindArg, nArg] = process.argv.slice(2);
if (!baseFile)
  throw new Error('usage: tsx bench/write-path-ab.ts <base ledger-write.ts> [pglite|postgres] [n]');
const BASE = (await import(baseFile)) as WritePath;
const kind = (kindArg ?? 'pglite') as 'pglite' | 'postgres';
const n = Number(nArg ?? 20_000);
const PER_PAGE = 1000;
const T = '2026-11-01T10:00:00.000Z';

function pages(): SyncPage<unknown>[] {
  const nCust = Math.round(n / 33);
  const blank = (): SyncPage<unknown> => ({
    customers: [],
    invoices: [],
    payments: [],
    creditMemos: [],
    deletions: { customers: [], invoices: [], payments: [], creditMemos: [] },
    cursor: {},
  });
  const out: SyncPage<unknown>[] = [
    {
      ...blank(),
      customers: Array.from({ length: nCust }, (_, k) => ({
        externalId: `C${k}`,
        name: `Customer ${k}`,
        emails: [`ap${k}@example.com`],
        timezone: 'UTC',
        country: 'US',
        delivery: 'email' as const,
        currency: 'USD',
        sourceUpdatedAt: T,
      })),
    },
  ];
  for (let p = 0; p < n / PER_PAGE; p++) {
    const invoices = Array.from({ length: PER_PAGE }, (_, j) => {
      const k = p * PER_PAGE + j;
      const paid = k % 3 !== 0;
      return {
        externalId: `I${k}`,
        customerExternalId: `C${k % nCust}`,
        number: `INV-${k}`,
        issueDate: '2026-01-02',
        dueDate: '2026-02-01',
        currency: 'USD',
        totalMinor: 10_000 + k,
        balanceMinor: paid ? 0 : 10_000 + k,
        status: paid ? ('paid' as const) : ('open' as const),
        paidDate: null,
        payLink: `https://pay.example/${k}`,
        billEmail: null,
        delivery: null,
        sourceUpdatedAt: `2026-0${1 + (k % 8)}-1${k % 10}T10:00:00.000Z`,
      };
    });
    out.push({ ...blank(), invoices, seen: { invoices: invoices.map((i) => i.externalId) } });
  }
  for (let p = 0; p < n / PER_PAGE; p++) {
    const payments = Array.from({ length: PER_PAGE }, (_, j) => {
      const k = p * PER_PAGE + j;
      return {
        externalId: `P${k}`,
        customerExternalId: `C${k % nCust}`,
        date: `2026-0${1 + (k % 9)}-0${1 + (k % 9)}`,
        currency: 'USD',
        amountMinor: 10_000 + k,
        unappliedMinor: 0,
        status: 'active' as const,
        allocations: k % 3 !== 0 ? [{ invoiceExternalId: `I${k}`, amountMinor: 10_000 + k }] : [],
        sourceUpdatedAt: T,
      };
    });
    out.push({ ...blank(), payments, seen: { payments: payments.map((x) => x.externalId) } });
  }
  return out;
}

const { handle, dispose } = await createBenchDb(kind);
await handle.migrate();
const db: Db = handle.db;

/** CPU seconds so far of this database's Postgres backends (0 on PGlite: its engine is this process). */
async function backendsCpu(): Promise<number> {
  if (kind !== 'postgres') return 0;
  const rows = rowsOf<{ pid: number }>(
    await db.execute(sql`select pid from pg_stat_activity where datname = current_database()`),
  );
  return rows.reduce((sum, r) => sum + (cpuSecondsOf(r.pid) ?? 0), 0);
}

async function side(tenant: string) {
  const t = await ensureTenant(db, tenant, 'quickbooks');
  const [c] = rowsOf<{ id: string }>(
    await db.execute(
      sql`insert into connections (tenant_id, provider, external_id) values (${t.id}::uuid, 'quickbooks', ${tenant})
          returning id`,
    ),
  );
  return { tenantId: t.id, connectionId: c!.id };
}
const sides = {
  base: { ...(await side('ab-base')), mod: BASE },
  new: { ...(await side('ab-new')), mod: NEW },
};
const now = new Date('2026-11-27T10:00:00Z');
const all = pages();

for (const round of ['first write', 'unchanged replay']) {
  const sum = { base: { cpu: 0, wall: 0, be: 0 }, new: { cpu: 0, wall: 0, be: 0 } };
  for (let i = 0; i < all.length; i++) {
    const page = all[i]!;
    const order =
      (i + (round === 'first write' ? 0 : 1)) % 2 === 0
        ? (['base', 'new'] as const)
        : (['new', 'base'] as const);
    for (const name of order) {
      const s = sides[name];
      const be0 = await backendsCpu();
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      // A checkout with settlePaidDates writes the pages as a full sync does (sync/run-sync.ts): paid dates deferred,
      // then settled in the last page's transaction.
      const settle = s.mod.settlePaidDates;
      await db.transaction(async (tx: Tx) => {
        const prepared = s.mod.preparePage(page);
        await s.mod.recordListingIds(tx, { connectionId: s.connectionId, page });
        await s.mod.writePage(tx, s.tenantId, page, now, prepared, {
          deferPaidDates: settle !== undefined,
          // A checkout with InsertOnly inserts a first write's rows as a full sync into an empty ledger does.
          ...(round === 'first write'
            ? { insertOnly: { invoices: true, payments: true, keysPerPage: kind === 'pglite' } }
            : {}),
        });
        if (settle && i === all.length - 1) await settle(tx, s.tenantId);
      });
      const c = process.cpuUsage(c0);
      sum[name].wall += (performance.now() - w0) / 1000;
      sum[name].cpu += (c.user + c.system) / 1e6;
      sum[name].be += (await backendsCpu()) - be0;
    }
  }
  const f = (x: number) => x.toFixed(3);
  const r = (k: 'cpu' | 'wall' | 'be') =>
    `${f(sum.base[k])} → ${f(sum.new[k])} s (${f(sum.new[k] / sum.base[k])})`;
  console.log(
    `${round}: node CPU ${r('cpu')}, wall ${r('wall')}${kind === 'postgres' ? `, backends CPU ${r('be')}` : ''}`,
  );
}

// Both tenants must hold the same ledger.
const digest = async (tenantId: string) =>
  JSON.stringify(
    rowsOf(
      await db.execute(sql`
        select (select md5(string_agg(concat_ws('|', i.external_id, c.external_id, c.first_seen, i.status,
                           i.balance_minor, i.paid_date, i.pay_link), ',' order by i.external_id))
                from invoices i join customers c on c.id = i.customer_id where i.tenant_id = ${tenantId}::uuid) as invoices,
               (select md5(string_agg(concat_ws('|', p.external_id, a.line_no, i.external_id, a.amount_minor, a.date),
                           ',' order by p.external_id, a.line_no))
                from payment_allocations a join payments p on p.id = a.payment_id join invoices i on i.id = a.invoice_id
                where p.tenant_id = ${tenantId}::uuid) as allocations,
               (select count(*) from payments where tenant_id = ${tenantId}::uuid) as payments`),
    ),
  );
const [a, b] = [await digest(sides.base.tenantId), await digest(sides.new.tenantId)];
console.log(a === b ? 'same rows for both tenants' : `DIFFERENT rows: ${a} vs ${b}`);
await handle.close();
await dispose();
