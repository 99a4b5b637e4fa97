/**
 * Migration 0034: a CSV company that connected its ledger under stop 37 code had its file's rows renamed `csv:<id>`
 * at the connect and left open until the ledger's first full listing ended (it marked them deleted). Its first sync
 * cut off part way left them open beside the ledger's rows that sync had written, and the Customers list and the
 * Dashboard counted the same debts twice. The migration marks them deleted as a connect now does
 * (releaseImportedRows): afterwards every customer's open invoices and balance are the ledger's rows' alone, the rows
 * themselves stay (history), and a CSV company's own rows — whose ids may begin `csv:` too — are not touched.
 */
import { readFileSync } from 'node:fs';
import { and, eq, like, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { computeAnalytics } from '../../src/analytics/dashboard';
import { rowsOf } from '../../src/db/client';
import { createTenant, setTenantSource } from '../../src/db/queries/tenants';
import { connections, invoices } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { runSync } from '../../src/sync/run-sync';
import { buildTestApp, type TestApp } from '../helpers/app';
import { csv } from '../helpers/csv';
import { sandboxLedgerExport, sandboxServices, sandboxTokens } from './helpers';

const apps: TestApp[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
});

interface CustomerItem {
  externalId: string;
  openInvoices: number;
  openBalanceMinor: number;
}

async function migrate0034(s: Services) {
  const migration = readFileSync(
    new URL('../../src/db/migrations/0034_released_csv_rows.sql', import.meta.url),
    'utf8',
  );
  for (const statement of migration.split('--> statement-breakpoint')) await s.db.execute(sql.raw(statement));
}

/**
 * Every ledger row of a tenant, whole, in a fixed order (what "untouched" compares); `ledgerOnly`: only the rows the
 * ledger wrote (not the file's `csv:` ones).
 */
async function ledgerRowsOf(s: Services, tenantId: string, ledgerOnly = false) {
  const out: Record<string, unknown[]> = {};
  const tables = ['customers', 'invoices', 'payments', 'credit_memos'];
  for (const table of ledgerOnly ? tables : [...tables, 'payment_allocations'])
    out[table] = rowsOf(
      await s.db.execute(
        sql`select * from ${sql.raw(table)} where tenant_id = ${tenantId}::uuid
          ${ledgerOnly ? sql`and external_id not like 'csv:%'` : sql``} order by id`,
      ),
    );
  return out;
}

/**
 * Per customer with open invoices: how many and their balance, from every open invoice of the tenant, or (`ledgerOnly`)
 * from the rows the ledger wrote only.
 */
async function owing(s: Services, tenantId: string, ledgerOnly = false) {
  const rows = rowsOf<{ external_id: string; n: number; minor: number }>(
    await s.db.execute(sql`
      select c.external_id, count(*)::int as n, sum(i.balance_minor)::float8 as minor
      from invoices i join customers c on c.id = i.customer_id
      where i.tenant_id = ${tenantId}::uuid and i.status = 'open'
        ${ledgerOnly ? sql`and i.external_id not like 'csv:%'` : sql``}
      group by c.external_id`),
  );
  return new Map(rows.map((r) => [r.external_id, { n: Number(r.n), minor: Number(r.minor) }]));
}

describe('migration 0034: a company that connected its ledger before stop 38, its first full sync cut off', () => {
  it("leaves each customer owing what the ledger's rows say, and leaves a CSV company alone", async () => {
    const { sandbox, s } = await sandboxServices(
      { seed: 3801, customers: 6, invoices: 120 },
      { queue: false },
    );
    const t = await buildTestApp({ services: s, sandbox });
    apps.push(t);

    // A CSV company still taking uploads, whose own file uses ids that begin `csv:` (any text is a file's id).
    const csvCompany = await createTenant(s.db, 'Still On Files', 'csv');
    await importHistoryCsv(
      s.db,
      csv([
        ['csv:7', 'csv:9', '2026-09-01', '2026-10-01', '300.00', 'USD', '', 'email', 'US'],
        ['csv:7', 'csv:10', '2026-08-01', '2026-09-01', '200.00', 'USD', '2026-09-05', 'email', 'US'],
        ['csv:7', 'CN-7', '2026-09-15', '2026-09-15', '-25.00', 'USD', '', 'email', 'US'],
      ]),
      { tenantName: 'ignored', tenantId: csvCompany.id, now: sandbox.now() },
    );
    const csvCompanyBefore = await ledgerRowsOf(s, csvCompany.id);
    expect(csvCompanyBefore.invoices?.length).toBe(2);

    // The company that connected: its upload (copies of the ledger's invoices under the file's ids, one the ledger
    // lacks, a credit note, payments of the paid ones) …
    const tenant = await createTenant(s.db, 'Began With A File', 'csv');
    await importHistoryCsv(
      s.db,
      sandboxLedgerExport(sandbox, [
        ['CSV-ONLY', 'OLD-1', '2026-09-01', '2026-10-01', '500.00', 'USD', '', 'email', 'US'],
        ['CSV-ONLY', 'CN-1', '2026-09-15', '2026-09-15', '-40.00', 'USD', '', 'email', 'US'],
      ]),
      { tenantName: 'ignored', tenantId: tenant.id, now: new Date(sandbox.now().getTime() - 7 * 86_400_000) },
    );
    // … then the connect as stop 37 code left it: the source the provider, the file's rows renamed `csv:<id>`
    // without their upload times, still open; and the connection.
    await s.db.transaction(async (tx) => {
      await setTenantSource(tx, tenant.id, 'quickbooks', sandbox.now());
      for (const table of ['customers', 'invoices', 'payments', 'credit_memos'])
        await tx.execute(sql`
          update ${sql.raw(table)} set external_id = 'csv:' || external_id, source_updated_at = null,
            source_version = null
          where tenant_id = ${tenant.id}::uuid`);
    });
    const { realmId, tokens } = await sandboxTokens(sandbox, sandbox.now());
    const [conn] = await s.db
      .insert(connections)
      .values({
        tenantId: tenant.id,
        provider: 'quickbooks',
        externalId: realmId,
        credentials: s.vault.seal(tokens),
        accessExpiresAt: new Date(tokens.accessExpiresAt),
        credentialsVersion: 1,
      })
      .returning({ id: connections.id });
    // Its first full sync: after four written pages QuickBooks refuses every token (the grant revoked).
    let pages = 0;
    const cut = await runSync(s, {
      connectionId: conn!.id,
      pageSize: 10,
      onProgress: () => {
        if (++pages === 4) sandbox.failNext(1_000, 401);
      },
    });
    sandbox.failNext(0);
    expect(cut).toMatchObject({ status: 'reconnect_needed', kind: 'full' });

    const get = async <T>(slug: string, url: string): Promise<T> => {
      const res = await t.app.inject({ url: `/api/v1/tenants/${slug}${url}`, headers: t.auth });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as T;
    };
    const owingListed = async () => {
      const list = await get<{ items: CustomerItem[]; totals: { openBalanceMinor: number } }>(
        tenant.slug,
        '/customers?open=true&limit=500',
      );
      return {
        byCustomer: new Map(
          list.items.map((c) => [c.externalId, { n: c.openInvoices, minor: c.openBalanceMinor }]),
        ),
        totalMinor: list.totals.openBalanceMinor,
      };
    };

    // The state the migration repairs: some of the ledger's open invoices written, the file's copies open beside them
    // (their customers may be marked deleted already: the cut-off sync's customer listing ended and swept them).
    const expected = await owing(s, tenant.id, true);
    expect(expected.size).toBeGreaterThan(0);
    const expectedMinor = [...expected.values()].reduce((n, c) => n + c.minor, 0);
    const expectedCount = [...expected.values()].reduce((n, c) => n + c.n, 0);
    expect(
      [...(await owing(s, tenant.id)).keys()].filter((id) => id.startsWith('csv:')).length,
    ).toBeGreaterThan(0);
    // The Dashboard's figures, computed afresh (the route's answer is cached in memory until the next sync; a
    // migration runs before the app starts).
    const dashboard = async () =>
      (
        await computeAnalytics(s.db, {
          tenantId: tenant.id,
          currency: 'USD',
          today: sandbox.now().toISOString().slice(0, 10),
        })
      ).receivables;
    expect((await dashboard()).openMinor).toBeGreaterThan(expectedMinor);
    const released = async () =>
      s.db
        .select({ id: invoices.id })
        .from(invoices)
        .where(and(eq(invoices.tenantId, tenant.id), like(invoices.externalId, 'csv:%')));
    const releasedBefore = (await released()).length;
    const fileApplications = async () =>
      rowsOf<{ n: number }>(
        await s.db.execute(sql`
          select count(*)::int as n from payment_allocations a
          left join payments p on p.id = a.payment_id left join credit_memos m on m.id = a.credit_memo_id
          where a.tenant_id = ${tenant.id}::uuid and (p.external_id like 'csv:%' or m.external_id like 'csv:%')`),
      )[0]!.n;
    expect(await fileApplications()).toBeGreaterThan(0);
    const ledgersBefore = await ledgerRowsOf(s, tenant.id, true);
    expect(ledgersBefore.invoices?.length).toBeGreaterThan(0);

    await migrate0034(s);

    // Each customer owes what the ledger's rows say and no file debtor owes anything: in the rows, in the Customers
    // list and its totals line.
    expect(await owing(s, tenant.id)).toEqual(expected);
    const after = await owingListed();
    expect(after.byCustomer).toEqual(expected);
    expect(after.totalMinor).toBe(expectedMinor);
    // The Dashboard: the ledger's open invoices once, and no credit of the file's on account.
    expect(await dashboard()).toMatchObject({
      openMinor: expectedMinor,
      openCount: expectedCount,
      unappliedCreditMinor: 0,
    });
    // The file's rows stay (their history), out of the books: no open or remaining figure, no application.
    expect((await released()).length).toBe(releasedBefore);
    const open = rowsOf<{ n: number }>(
      await s.db.execute(sql`
        select (select count(*) from invoices where tenant_id = ${tenant.id}::uuid and external_id like 'csv:%'
                  and (status <> 'deleted' or balance_minor <> 0))
             + (select count(*) from payments where tenant_id = ${tenant.id}::uuid and external_id like 'csv:%'
                  and status <> 'deleted')
             + (select count(*) from credit_memos where tenant_id = ${tenant.id}::uuid and external_id like 'csv:%'
                  and (status <> 'deleted' or remaining_minor <> 0))
             + (select count(*) from customers where tenant_id = ${tenant.id}::uuid and external_id like 'csv:%'
                  and deleted_at is null) as n`),
    )[0]!;
    expect(Number(open.n)).toBe(0);
    expect(await fileApplications()).toBe(0);
    // The ledger's own rows are as the sync wrote them.
    expect(await ledgerRowsOf(s, tenant.id, true)).toEqual(ledgersBefore);

    // The CSV company's rows, `csv:` ids and all, are exactly as before.
    expect(await ledgerRowsOf(s, csvCompany.id)).toEqual(csvCompanyBefore);
  });
});
