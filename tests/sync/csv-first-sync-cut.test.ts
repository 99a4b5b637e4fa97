/**
 * A CSV company connects its ledger and the ledger's first full sync does not finish: the grant is revoked part way
 * (QuickBooks refuses every token: reconnect needed), and the company may then disconnect. Its upload's rows —
 * copies of the ledger's invoices under the file's ids, and one the ledger lacks — were released at connect
 * (`csv:<id>`) and, before, were only marked deleted by the first full listing that *succeeded*: until then they stayed
 * open beside the ledger's invoices the cut-off sync had already written, and the Dashboard (open balance, overdue),
 * the Invoices list and the Customers list counted the same debts twice. The company is a synced one from the
 * connect: its figures are the ledger's alone, whatever its first sync did.
 */
import { and, eq, like, ne } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/db/queries/tenants';
import { invoices } from '../../src/db/schema';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { runSync } from '../../src/sync/run-sync';
import { buildTestApp, type TestApp } from '../helpers/app';
import { connectSandboxTo, sandboxLedgerExport, sandboxServices } from './helpers';

const apps: TestApp[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
});

interface InvoiceItem {
  externalId: string;
  balanceMinor: number;
}
interface CustomerItem {
  externalId: string;
  openBalanceMinor: number;
}

describe("a CSV company whose ledger's first full sync is cut off part way", () => {
  it.each([
    ['reconnect needed', 3801, false],
    ['then disconnected', 3802, true],
  ] as const)(
    'counts no debt twice: Dashboard, Invoices and Customers (%s)',
    async (_label, seed, disconnect) => {
      const { sandbox, s } = await sandboxServices({ seed, customers: 6, invoices: 120 }, { queue: false });
      const t = await buildTestApp({ services: s, sandbox });
      apps.push(t);
      const tenant = await createTenant(s.db, 'Began With A File', 'csv');
      await importHistoryCsv(
        s.db,
        sandboxLedgerExport(sandbox, [
          ['CSV-ONLY', 'OLD-1', '2026-09-01', '2026-10-01', '500.00', 'USD', '', 'email', 'US'],
          ['CSV-ONLY', 'CN-1', '2026-09-15', '2026-09-15', '-40.00', 'USD', '', 'email', 'US'],
        ]),
        {
          tenantName: 'ignored',
          tenantId: tenant.id,
          now: new Date(sandbox.now().getTime() - 7 * 86_400_000),
        },
      );
      const connectionId = await connectSandboxTo(s, sandbox, tenant.id);

      // The first full sync: once four pages are written QuickBooks refuses every token (the grant revoked at Intuit;
      // the pages already fetched ahead are still written).
      let pages = 0;
      const cut = await runSync(s, {
        connectionId,
        pageSize: 10,
        onProgress: () => {
          if (++pages === 4) sandbox.failNext(1_000, 401);
        },
      });
      sandbox.failNext(0);
      expect(cut).toMatchObject({ status: 'reconnect_needed', kind: 'full' });
      // What the test is about: some of the ledger's open invoices are written already, not all of its invoices.
      const written = (
        await s.db
          .select({ id: invoices.externalId, status: invoices.status })
          .from(invoices)
          .where(and(eq(invoices.tenantId, tenant.id), ne(invoices.status, 'deleted')))
      ).filter((r) => sandbox.company.invoices.has(r.id));
      expect(written.filter((r) => r.status === 'open').length).toBeGreaterThan(0);
      expect(written.length).toBeLessThan(
        [...sandbox.company.invoices.values()].filter((i) => !i.deleted).length,
      );
      const released = await s.db
        .select({ id: invoices.externalId })
        .from(invoices)
        .where(and(eq(invoices.tenantId, tenant.id), like(invoices.externalId, 'csv:%')));
      expect(released.length).toBeGreaterThan(0);

      if (disconnect) {
        const res = await t.app.inject({
          method: 'DELETE',
          url: `/api/v1/tenants/${tenant.slug}/connections/${connectionId}`,
          headers: t.auth,
        });
        expect(res.statusCode, res.body).toBe(200);
      }

      const get = async <T>(url: string): Promise<T> => {
        const res = await t.app.inject({ url: `/api/v1/tenants/${tenant.slug}${url}`, headers: t.auth });
        expect(res.statusCode, res.body).toBe(200);
        return res.json() as T;
      };
      const open = await get<{ items: InvoiceItem[] }>('/invoices?status=open&limit=500');
      // Every open invoice is one of the ledger's, each once: none of the file's copies beside them.
      expect(open.items.map((i) => i.externalId).filter((id) => !sandbox.company.invoices.has(id))).toEqual(
        [],
      );
      expect(new Set(open.items.map((i) => i.externalId)).size).toBe(open.items.length);
      expect(open.items.length).toBeGreaterThan(0);
      const openMinor = open.items.reduce((n, i) => n + i.balanceMinor, 0);
      // Never more than the ledger's whole open balance (before: the file's copy of every open invoice, and more).
      const ledgerOpen = [...sandbox.company.balances().values()].reduce((n, b) => n + b, 0);
      expect(openMinor).toBeLessThanOrEqual(ledgerOpen);

      // The Dashboard's receivables are those invoices' balances, and no credit of the file's is on account.
      const dashboard = await get<{
        receivables: { openMinor: number; openCount: number; unappliedCreditMinor: number };
      }>('/analytics');
      expect(dashboard.receivables).toMatchObject({
        openMinor,
        openCount: open.items.length,
        unappliedCreditMinor: 0,
      });
      const overdue = await get<{ items: InvoiceItem[] }>('/invoices?overdue=true&limit=500');
      expect(
        overdue.items.map((i) => i.externalId).filter((id) => !sandbox.company.invoices.has(id)),
      ).toEqual([]);

      // The Customers list: no debtor of the file owes anything, and the open balances add up to the same figure.
      const owing = await get<{ items: CustomerItem[]; totals: { openBalanceMinor: number } }>(
        '/customers?open=true&limit=500',
      );
      expect(owing.items.map((c) => c.externalId).filter((id) => id.startsWith('csv:'))).toEqual([]);
      expect(owing.totals.openBalanceMinor).toBe(openMinor);
    },
  );
});
