/**
 * A CSV company that connects its ledger (README, Security model, "How a company is identified"; Sync, "Deletions")
 * becomes a synced company: `tenants.source` is the provider and it takes no more CSV uploads. Its upload's rows
 * carry the file's ids (customer "CSV-…", invoice numbers), never the ledger's, and no upload will ever update them
 * again. Once the connected ledger's first full sync has listed every record, the ledger is the company's books:
 * balances equal the ledger's to the minor unit (the upload's copies of the same invoices must not count twice),
 * and an invoice only the old file had is no longer open (paid or not, no upload can tell Duely any more, so
 * reminders would chase it for ever).
 */
import { readFileSync } from 'node:fs';
import { and, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { computeAnalytics } from '../../src/analytics/dashboard';
import { createTenant } from '../../src/db/queries/tenants';
import { connections, creditMemos, customers, invoices, payments, tenants } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { runSync } from '../../src/sync/run-sync';
import { goLive, messagesOf } from '../dunning-engine/fixtures';
import {
  attachSandboxTo,
  balanceMismatches,
  dbBalances,
  sandboxLedgerExport,
  sandboxServices,
  sandboxTokens,
} from './helpers';

let sandbox: Sandbox;
let s: Services;
const started: { sandbox: Sandbox; s: Services }[] = [];

/** A QuickBooks stand-in company of its own for each test (a company is connected to one tenant). */
async function company(seed: number) {
  ({ sandbox, s } = await sandboxServices({ seed, customers: 6, invoices: 40 }, { queue: false }));
  started.push({ sandbox, s });
}
afterAll(async () => {
  for (const x of started) {
    await x.s.close();
    await x.sandbox.stop();
  }
});

/** An invoice the company's file has and its ledger lacks. */
const ONLY_IN_FILE = [['CSV-ONLY', 'OLD-1', '2026-09-01', '2026-10-01', '500.00', 'USD', '', 'email', 'US']];

/** A CSV company uploads `file` at `uploadedAt`, connects the stand-in's company and runs its first sync. */
async function uploadThenConnect(file: string, uploadedAt: Date) {
  const { tenant, now, connectionId } = await uploadAndAttach(file, uploadedAt);
  const result = await runSync(s, { connectionId });
  expect(result.status, result.error ?? '').toBe('succeeded');
  return { tenant, now };
}

/** A CSV company uploads `file` at `uploadedAt` and connects the stand-in's company (no sync yet). */
async function uploadAndAttach(file: string, uploadedAt: Date) {
  const now = sandbox.now();
  const tenant = await createTenant(s.db, 'Began With A File', 'csv');
  await importHistoryCsv(s.db, file, { tenantName: 'ignored', tenantId: tenant.id, now: uploadedAt });
  const attached = await attachSandboxTo(s, sandbox, tenant.id);
  expect(attached).toMatchObject({ tenantId: tenant.id });
  const [row] = await s.db.select().from(tenants).where(eq(tenants.id, tenant.id));
  expect(row?.source).toBe('quickbooks');
  return { tenant, now, connectionId: (attached as { connectionId: string }).connectionId };
}

describe('a CSV company that connected its ledger, after the first full sync', () => {
  it("holds the ledger's books alone: balances to the minor unit, no upload row left open", async () => {
    await company(3601);
    const { tenant, now } = await uploadThenConnect(
      // A credit note of the file's (a negative amount: a credit memo).
      sandboxLedgerExport(sandbox, [
        ...ONLY_IN_FILE,
        ['CSV-ONLY', 'CN-1', '2026-09-15', '2026-09-15', '-40.00', 'USD', '', 'email', 'US'],
      ]),
      new Date(sandbox.now().getTime() - 7 * 86_400_000),
    );

    // Every live invoice is the ledger's, with the ledger's balance: none of the file's copies beside them.
    expect.soft(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenant.id))).toEqual([]);
    const open = await s.db
      .select({ id: invoices.externalId })
      .from(invoices)
      .where(
        and(eq(invoices.tenantId, tenant.id), ne(invoices.status, 'deleted'), ne(invoices.balanceMinor, 0)),
      );
    expect.soft(open.map((r) => r.id).filter((id) => id.startsWith('DOC-') || id === 'OLD-1')).toEqual([]);
    // The file's customers are gone with their invoices (no debtor left to chase under the file's id).
    const live = await s.db
      .select({ id: customers.externalId })
      .from(customers)
      .where(and(eq(customers.tenantId, tenant.id), isNull(customers.deletedAt)));
    expect.soft(live.map((c) => c.id).filter((id) => id.startsWith('CSV-'))).toEqual([]);
    // Its credit note and the payments settling its paid invoices credit nobody any more.
    const credits = await s.db
      .select({ id: creditMemos.externalId })
      .from(creditMemos)
      .where(and(eq(creditMemos.tenantId, tenant.id), ne(creditMemos.status, 'deleted')));
    const paid = await s.db
      .select({ id: payments.externalId })
      .from(payments)
      .where(and(eq(payments.tenantId, tenant.id), ne(payments.status, 'deleted')));
    expect.soft([...credits, ...paid].map((r) => r.id).filter((id) => id.startsWith('csv-'))).toEqual([]);

    // The Dashboard's receivables are the ledger's open balance, once.
    const ledgerOpen = [...sandbox.company.balances().values()].reduce((n, b) => n + b, 0);
    const dashboard = await computeAnalytics(s.db, {
      tenantId: tenant.id,
      currency: 'USD',
      today: now.toISOString().slice(0, 10),
    });
    expect.soft(dashboard.receivables.openMinor).toBe(ledgerOpen);

    // Dunning plans for the ledger's invoices only, and asks for no contact of a customer only the file had (before:
    // "CSV-1 has no email address" for each of the upload's debtors).
    await goLive(s, tenant.id);
    const { decisions } = await planTenant(s, tenant.id);
    const decidedFor = await s.db
      .select({ id: customers.externalId })
      .from(customers)
      .where(
        inArray(
          customers.id,
          decisions.map((d) => d.customerId),
        ),
      );
    expect.soft(decidedFor.map((c) => c.id).filter((id) => id.startsWith('CSV-'))).toEqual([]);
    const planned = (await messagesOf(s, tenant.id)).flatMap((m) => m.invoiceIds);
    expect(planned.length).toBeGreaterThan(0);
    const chased = await s.db
      .select({ id: invoices.externalId })
      .from(invoices)
      .where(inArray(invoices.id, planned));
    expect.soft(chased.map((r) => r.id).filter((id) => !sandbox.company.invoices.has(id))).toEqual([]);
  });

  it("uploaded just before connecting, with ids the ledger also uses: the ledger's records win, to the minor unit", async () => {
    await company(3602);
    // A file of invoice numbers and customer numbers: some are also ids in the ledger, of other records.
    const [inv] = [...sandbox.company.invoices.values()].filter((i) => !i.deleted && !i.voided);
    const [cust] = [...sandbox.company.customers.values()];
    const { tenant } = await uploadThenConnect(
      sandboxLedgerExport(sandbox, [
        ...ONLY_IN_FILE,
        [cust!.id, inv!.id, '2026-11-01', '2026-12-01', '777.77', 'USD', '', 'email', 'US'],
      ]),
      sandbox.now(),
    );
    expect.soft(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenant.id))).toEqual([]);
    const [customer] = await s.db
      .select({ name: customers.name, deletedAt: customers.deletedAt })
      .from(customers)
      .where(and(eq(customers.tenantId, tenant.id), eq(customers.externalId, cust!.id)));
    expect.soft(customer).toEqual({ name: cust!.name, deletedAt: null });
  });
});

describe('a CSV company that connected its ledger before this version (migration 0032)', () => {
  it("its next sync is a full one that leaves the ledger's books alone, and it becomes a synced company", async () => {
    await company(3603);
    const uploadedAt = new Date(sandbox.now().getTime() - 7 * 86_400_000);
    const tenant = await createTenant(s.db, 'Began With A File', 'csv');
    await importHistoryCsv(s.db, sandboxLedgerExport(sandbox, ONLY_IN_FILE), {
      tenantName: 'ignored',
      tenantId: tenant.id,
      now: uploadedAt,
    });
    // What a connect left before this version: a connection beside the upload, the source still 'csv' and the upload's
    // rows stamped with its time, under the file's own ids and open (a connect now moves them out of the ledger's ids
    // and marks them deleted, releaseImportedRows); the ledger's listings then skipped a tenant holding imports, so
    // the upload's rows were never reconciled.
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
    const before = await runSync(s, { connectionId: conn!.id });
    expect(before.status, before.error ?? '').toBe('succeeded');
    // The state this migration repairs: the upload's copies beside the ledger's invoices.
    expect(
      balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenant.id)).filter((m) =>
        m.startsWith('extra DOC-'),
      ).length,
    ).toBeGreaterThan(0);

    const migration = readFileSync(
      new URL('../../src/db/migrations/0032_csv_company_with_ledger.sql', import.meta.url),
      'utf8',
    );
    for (const statement of migration.split('--> statement-breakpoint'))
      await s.db.execute(sql.raw(statement));
    const [row] = await s.db.select().from(tenants).where(eq(tenants.id, tenant.id));
    expect(row?.source).toBe('quickbooks');

    const after = await runSync(s, { connectionId: conn!.id });
    expect(after.status, after.error ?? '').toBe('succeeded');
    expect(after.kind).toBe('full');
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenant.id))).toEqual([]);
  });
});
