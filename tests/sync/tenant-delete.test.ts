/**
 * Deleting a tenant removes its whole ledger. Only customers reference tenants directly (migration 0017 dropped the
 * tenant foreign key of invoices, payments, credit memos and allocations: one RI check per synced row); every other
 * ledger row goes through its parent chain (customer → invoice / payment / credit memo → allocation), all ON DELETE
 * CASCADE. Another tenant's rows stay untouched.
 */
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncPage } from '../../connectors/types';
import { fixedClock } from '../../src/clock';
import type { Db } from '../../src/db/client';
import { creditMemos, customers, invoices, paymentAllocations, payments, tenants } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { applySyncPage } from '../../src/sync/apply-page';
import { seedFullSyncRun } from './helpers';

const NOW = new Date('2026-11-27T10:00:00Z');
const T1 = '2026-11-01T10:00:00.000Z';
let s: Services;

beforeAll(async () => {
  const { createTestServices } = await import('../helpers/services');
  s = await createTestServices({ clock: fixedClock(NOW), queue: false });
});
afterAll(async () => {
  await s?.close();
});

/** A ledger with every kind of row: a placeholder customer, payment lines and a credit memo applied directly. */
function ledgerPage(): SyncPage<unknown> {
  const invoice = (id: string, customer: string, total: number, balance: number) => ({
    externalId: id,
    customerExternalId: customer,
    number: id,
    issueDate: '2026-10-01',
    dueDate: '2026-10-31',
    currency: 'USD',
    totalMinor: total,
    balanceMinor: balance,
    status: balance === 0 ? ('paid' as const) : ('open' as const),
    paidDate: null,
    payLink: null,
    billEmail: null,
    delivery: 'email' as const,
    sourceUpdatedAt: T1,
  });
  return {
    customers: [
      { externalId: 'C1', name: 'Acme', emails: ['ap@acme.example'], sourceUpdatedAt: T1 },
      { externalId: 'C2', name: 'Globex', emails: [], sourceUpdatedAt: T1 },
    ],
    invoices: [
      invoice('I1', 'C1', 100_00, 40_00),
      invoice('I2', 'C2', 50_00, 0),
      invoice('I3', 'C9', 20_00, 10_00), // unknown customer: a placeholder is created
    ],
    creditMemos: [
      {
        externalId: 'M1',
        customerExternalId: 'C9',
        date: '2026-10-05',
        currency: 'USD',
        totalMinor: 10_00,
        remainingMinor: 0,
        status: 'active',
        sourceUpdatedAt: T1,
        applications: [{ invoiceExternalId: 'I3', amountMinor: 10_00 }],
      },
    ],
    payments: [
      {
        externalId: 'P1',
        customerExternalId: 'C1',
        date: '2026-10-10',
        currency: 'USD',
        amountMinor: 60_00,
        unappliedMinor: 0,
        status: 'active',
        allocations: [{ invoiceExternalId: 'I1', amountMinor: 60_00 }],
        sourceUpdatedAt: T1,
      },
      {
        externalId: 'P2',
        customerExternalId: 'C2',
        date: '2026-10-12',
        currency: 'USD',
        amountMinor: 50_00,
        unappliedMinor: 0,
        status: 'active',
        allocations: [{ invoiceExternalId: 'I2', amountMinor: 50_00 }],
        sourceUpdatedAt: T1,
      },
    ],
    deletions: { customers: [], invoices: [], payments: [], creditMemos: [] },
    cursor: { mode: 'cdc', changedSince: T1 },
  };
}

async function seedLedger(realmId: string): Promise<string> {
  const { tenant, connection, runId } = await seedFullSyncRun(s, realmId);
  await applySyncPage(s.db, {
    tenantId: tenant.id,
    connectionId: connection.id,
    syncRunId: runId,
    page: ledgerPage(),
    progress: { entities: {} },
    stats: (st) => ({ ...st }),
    now: NOW,
  });
  return tenant.id;
}

/** Rows per ledger table belonging to a tenant. */
async function ledgerCounts(db: Db, tenantId: string) {
  const n = async (q: Promise<{ n: number }[]>) => (await q)[0]!.n;
  return {
    customers: await n(db.select({ n: count() }).from(customers).where(eq(customers.tenantId, tenantId))),
    invoices: await n(db.select({ n: count() }).from(invoices).where(eq(invoices.tenantId, tenantId))),
    creditMemos: await n(
      db.select({ n: count() }).from(creditMemos).where(eq(creditMemos.tenantId, tenantId)),
    ),
    payments: await n(db.select({ n: count() }).from(payments).where(eq(payments.tenantId, tenantId))),
    allocations: await n(
      db.select({ n: count() }).from(paymentAllocations).where(eq(paymentAllocations.tenantId, tenantId)),
    ),
  };
}

describe('deleting a tenant', () => {
  it('removes all its ledger rows through the parent chain and leaves another tenant intact', async () => {
    const gone = await seedLedger('4620816365000000101');
    const kept = await seedLedger('4620816365000000102');
    const full = {
      customers: 3, // C1, C2 and the placeholder C9
      invoices: 3,
      creditMemos: 1,
      payments: 2,
      allocations: 3, // P1 → I1, P2 → I2, M1 applied to I3
    };
    expect(await ledgerCounts(s.db, gone)).toEqual(full);
    expect(await ledgerCounts(s.db, kept)).toEqual(full);

    await s.db.delete(tenants).where(eq(tenants.id, gone));

    const none = { customers: 0, invoices: 0, creditMemos: 0, payments: 0, allocations: 0 };
    expect(await ledgerCounts(s.db, gone)).toEqual(none);
    expect(await ledgerCounts(s.db, kept)).toEqual(full);
  });
});
