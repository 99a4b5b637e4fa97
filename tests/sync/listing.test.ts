/**
 * Listing reconciliation in applySyncPage (connectors/types.ts SyncPage): what the ledger holds of a kind but a
 * completed listing did not see, and did not change since the listing's `asOf`, is marked deleted through the same
 * writer as CDC tombstones.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalInvoice, CanonicalPayment } from '../../connectors/canonical';
import type { EntityKind, SyncPage } from '../../connectors/types';
import { fixedClock } from '../../src/clock';
import { connections, invoices, paymentAllocations, payments, syncRuns, tenants } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { applySyncPage } from '../../src/sync/apply-page';
import { createTestServices } from '../helpers/services';
import { seedFullSyncRun } from './helpers';

const NOW = new Date('2026-11-27T10:00:00Z');
const OLD = '2026-11-01T10:00:00.000Z';
const AS_OF = '2026-11-02T00:00:00.000Z';
const NEWER = '2026-11-02T10:00:00.000Z';
let s: Services;

beforeAll(async () => {
  s = await createTestServices({ clock: fixedClock(NOW), queue: false });
});
afterAll(async () => {
  await s?.close();
});

const inv = (id: string, balance: number, su = OLD): CanonicalInvoice => ({
  externalId: id,
  customerExternalId: 'C1',
  issueDate: '2026-10-01',
  dueDate: '2026-10-31',
  currency: 'USD',
  totalMinor: 100_00,
  balanceMinor: balance,
  status: 'open',
  sourceUpdatedAt: su,
});
const pay = (id: string, invoiceId: string, amount: number): CanonicalPayment => ({
  externalId: id,
  customerExternalId: 'C1',
  date: '2026-10-20',
  currency: 'USD',
  amountMinor: amount,
  unappliedMinor: 0,
  status: 'active',
  allocations: [{ invoiceExternalId: invoiceId, amountMinor: amount }],
  sourceUpdatedAt: OLD,
});

function page(p: Partial<SyncPage<unknown>>): SyncPage<unknown> {
  return {
    customers: [],
    invoices: [],
    payments: [],
    creditMemos: [],
    deletions: { customers: [], invoices: [], payments: [], creditMemos: [] },
    cursor: { mode: 'full' },
    ...p,
  };
}
const complete = (...kinds: EntityKind[]) => ({ listingComplete: { kinds, asOf: AS_OF } });

async function company(realm: string) {
  const { tenant, connection, runId } = await seedFullSyncRun(s, realm);
  const apply = (p: SyncPage<unknown>) =>
    applySyncPage(s.db, {
      tenantId: tenant.id,
      connectionId: connection.id,
      syncRunId: runId,
      page: p,
      progress: { entities: {} },
      now: NOW,
    });
  const status = async () => {
    const rows = await s.db
      .select({ id: invoices.externalId, status: invoices.status, balance: invoices.balanceMinor })
      .from(invoices)
      .where(eq(invoices.tenantId, tenant.id));
    return Object.fromEntries(rows.map((r) => [r.id, `${r.status} ${r.balance}`]));
  };
  return { tenant, connection, apply, status };
}

describe('listing reconciliation', () => {
  it('marks unseen, unchanged rows deleted; leaves seen and recently changed ones alone', async () => {
    const c = await company('L-1');
    await c.apply(
      page({
        invoices: [inv('X1', 100_00), inv('X2', 90_00), inv('X3', 100_00, NEWER)],
        payments: [pay('Q1', 'X2', 10_00)],
      }),
    );
    await c.apply(page({ listingStarts: ['invoices'], seen: { invoices: ['X1'] } }));
    const r = await c.apply(page(complete('invoices')));
    expect(r.stats.deletions).toBe(1);
    expect(await c.status()).toEqual({ X1: 'open 10000', X2: 'deleted 0', X3: 'open 10000' });
    expect(r.changedInvoiceIds).toHaveLength(1);

    // A payment the listing of payments did not see applies no money any more.
    const q = await c.apply(page({ listingStarts: ['payments'], ...complete('payments') }));
    expect(q.stats.deletions).toBe(1);
    const [q1] = await s.db.select().from(payments).where(eq(payments.externalId, 'Q1'));
    expect(q1?.status).toBe('deleted');
    expect(
      await s.db.select().from(paymentAllocations).where(eq(paymentAllocations.paymentId, q1!.id)),
    ).toEqual([]);
  });

  it('a listing that starts again forgets what the interrupted one saw', async () => {
    const c = await company('L-2');
    await c.apply(page({ invoices: [inv('Y1', 100_00), inv('Y2', 100_00)] }));
    await c.apply(page({ listingStarts: ['invoices'], seen: { invoices: ['Y1', 'Y2'] } }));
    // Restarted (e.g. `full: true` after an interrupted full read): only Y2 is there now.
    await c.apply(page({ listingStarts: ['invoices'], seen: { invoices: ['Y2'] }, ...complete('invoices') }));
    expect(await c.status()).toEqual({ Y1: 'deleted 0', Y2: 'open 10000' });
  });

  it('does not reconcile a tenant fed by several connections', async () => {
    const c = await company('L-3');
    await c.apply(page({ invoices: [inv('Z1', 100_00)] }));
    await s.db
      .insert(connections)
      .values({ tenantId: c.tenant.id, provider: 'quickbooks', externalId: 'L-3b' });
    const r = await c.apply(page({ listingStarts: ['invoices'], ...complete('invoices') }));
    expect(r.stats.deletions).toBe(0);
    expect(await c.status()).toEqual({ Z1: 'open 10000' });
  });

  it('does not reconcile a CSV company that also holds a connection (they were never in the connection)', async () => {
    const c = await company('L-4');
    // A CSV company connected before s36 kept source 'csv' and still takes uploads: the imported rows are its own.
    await s.db.update(tenants).set({ source: 'csv' }).where(eq(tenants.id, c.tenant.id));
    await c.apply(page({ invoices: [inv('W1', 100_00)] }));
    // A failed import wrote nothing: it does not stop reconciliation.
    await s.db.insert(syncRuns).values({ tenantId: c.tenant.id, kind: 'import', status: 'failed' });
    await c.apply(page({ listingStarts: ['invoices'], seen: { invoices: [] } }));
    await s.db.insert(syncRuns).values({ tenantId: c.tenant.id, kind: 'import', status: 'succeeded' });
    const r = await c.apply(page(complete('invoices')));
    expect(r.stats.deletions).toBe(0);
    expect(await c.status()).toEqual({ W1: 'open 10000' });
  });

  it('reconciles a CSV company that connected its ledger: a synced company now, its imported rows are no longer its books', async () => {
    const c = await company('L-4b');
    // attachCompany made its source the provider: no upload will update the imported rows again.
    await c.apply(page({ invoices: [inv('U1', 100_00)] }));
    await s.db.insert(syncRuns).values({ tenantId: c.tenant.id, kind: 'import', status: 'succeeded' });
    const r = await c.apply(page({ listingStarts: ['invoices'], ...complete('invoices') }));
    expect(r.stats.deletions).toBe(1);
    expect(await c.status()).toEqual({ U1: 'deleted 0' });
  });

  it('still reconciles a tenant whose only import failed', async () => {
    const c = await company('L-5');
    await c.apply(page({ invoices: [inv('V1', 100_00)] }));
    await s.db.insert(syncRuns).values({ tenantId: c.tenant.id, kind: 'import', status: 'failed' });
    const r = await c.apply(page({ listingStarts: ['invoices'], ...complete('invoices') }));
    expect(r.stats.deletions).toBe(1);
    expect(await c.status()).toEqual({ V1: 'deleted 0' });
  });
});
