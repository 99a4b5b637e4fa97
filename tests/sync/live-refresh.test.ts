/**
 * The pre-send re-check for QuickBooks tenants reads the invoices from QuickBooks itself: a payment recorded there
 * after the last sync (its webhook not processed) is seen before a reminder goes out.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { customers, invoices, tenants } from '../../src/db/schema';
import { refreshLiveState } from '../../src/dunning/live-invoice-state';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { runSync } from '../../src/sync/run-sync';
import { csv } from '../helpers/csv';
import { sandboxServices, sandboxTokens, seedConnection } from './helpers';

let sandbox: Sandbox;
let s: Services;
let tenantId = '';
let connectionId = '';

beforeAll(async () => {
  ({ sandbox, s } = await sandboxServices({ seed: 5, customers: 20, invoices: 300 }, { queue: false }));
  const { realmId, tokens } = await sandboxTokens(sandbox, sandbox.now());
  const seeded = await seedConnection(s, { realmId, tokens });
  tenantId = seeded.tenant.id;
  connectionId = seeded.connection.id;
  const r = await runSync(s, { connectionId: seeded.connection.id, reason: 'test' });
  expect(r.status).toBe('succeeded');
});
afterAll(async () => {
  await s?.close();
  await sandbox?.stop();
});

describe('live re-check of QuickBooks invoices before a send', () => {
  it('picks up a payment and a deletion made in QuickBooks after the last sync', async () => {
    const open = await s.db
      .select()
      .from(invoices)
      // Untouched invoices: QuickBooks refuses to delete one that has payments applied.
      .where(
        and(
          eq(invoices.tenantId, tenantId),
          eq(invoices.status, 'open'),
          eq(invoices.balanceMinor, invoices.totalMinor),
        ),
      )
      .limit(2);
    expect(open).toHaveLength(2);
    const [paid, deleted] = open as [(typeof open)[0], (typeof open)[0]];
    await sandbox.recordPayment(paid.externalId);
    await sandbox.deleteInvoice(deleted.externalId);
    // The database still says open: no webhook, no sync since.
    const stale = await s.db.select().from(invoices).where(eq(invoices.id, paid.id));
    expect(stale[0]!.status).toBe('open');

    await refreshLiveState(s, tenantId, [paid.id, deleted.id]);

    const [p] = await s.db.select().from(invoices).where(eq(invoices.id, paid.id));
    expect(p).toMatchObject({ status: 'paid', balanceMinor: 0 });
    expect(sandbox.company.balances().get(paid.externalId)).toBe(0);
    const [d] = await s.db.select().from(invoices).where(eq(invoices.id, deleted.id));
    expect(d!.status).toBe('deleted');
  });

  it('re-checks a tenant that started from CSV and connected QuickBooks later (provider from the connection)', async () => {
    // The tenant's source stays what it began with; the live read must follow its active connection.
    await s.db.update(tenants).set({ source: 'csv' }).where(eq(tenants.id, tenantId));
    const [open] = await s.db
      .select()
      .from(invoices)
      .where(
        and(
          eq(invoices.tenantId, tenantId),
          eq(invoices.status, 'open'),
          eq(invoices.balanceMinor, invoices.totalMinor),
        ),
      )
      .limit(1);
    expect(open).toBeDefined();
    await sandbox.recordPayment(open!.externalId);
    expect((await s.db.select().from(invoices).where(eq(invoices.id, open!.id)))[0]!.status).toBe('open');

    await refreshLiveState(s, tenantId, [open!.id]);

    const [p] = await s.db.select().from(invoices).where(eq(invoices.id, open!.id));
    expect(p).toMatchObject({ status: 'paid', balanceMinor: 0 });
  });

  it('keeps what the tenant imported from CSV: neither the live read nor a full sync marks it deleted', async () => {
    // A tenant that began with CSV and connected QuickBooks later: the imported invoice is not in QuickBooks (its
    // read answers "not found", its listing does not name it). It used to be marked deleted by both.
    await s.db.update(tenants).set({ source: 'csv' }).where(eq(tenants.id, tenantId));
    const imported = await importHistoryCsv(
      s.db,
      csv([['CSV-C1', 'CSV-INV-1', '2026-10-01', '2026-10-31', '250.00', 'USD', '', 'email', 'US']]),
      { tenantName: 'ignored', tenantId, now: sandbox.now() },
    );
    expect(imported.invoices.inserted).toBe(1);
    const row = async () =>
      (
        await s.db
          .select({ id: invoices.id, status: invoices.status, balance: invoices.balanceMinor })
          .from(invoices)
          .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, 'CSV-INV-1')))
      )[0]!;
    const before = await row();
    expect(before).toMatchObject({ status: 'open', balance: 250_00 });

    await refreshLiveState(s, tenantId, [before.id]);
    expect(await row()).toMatchObject({ status: 'open', balance: 250_00 });

    const again = await runSync(s, { connectionId, reason: 'test', full: true });
    expect(again.status).toBe('succeeded');
    expect(again.stats.deletions ?? 0).toBe(0);
    expect(await row()).toMatchObject({ status: 'open', balance: 250_00 });
    const [customer] = await s.db
      .select({ deletedAt: customers.deletedAt })
      .from(customers)
      .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, 'CSV-C1')));
    expect(customer).toEqual({ deletedAt: null });
  });
});
