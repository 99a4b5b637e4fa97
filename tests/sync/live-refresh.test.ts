/**
 * The pre-send re-check for QuickBooks tenants reads the invoices from QuickBooks itself: a payment recorded there
 * after the last sync (its webhook not processed) is seen before a reminder goes out.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandboxes/quickbooks';
import { invoices, tenants } from '../../src/db/schema';
import { refreshLiveState } from '../../src/dunning/live-invoice-state';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { createTestServices } from '../helpers/services';
import { QB_ENV, sandboxTokens, seedConnection } from './helpers';

let sandbox: Sandbox;
let s: Services;
let tenantId = '';

beforeAll(async () => {
  sandbox = await startSandbox({
    seed: 5,
    now: new Date('2026-11-27T18:00:00.000Z'),
    customers: 20,
    invoices: 300,
    verifierToken: QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN,
    clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
    clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
  });
  s = await createTestServices({
    clock: { now: () => sandbox.now() },
    env: { ...QB_ENV, ...sandbox.config },
    queue: false,
  });
  const { realmId, tokens } = await sandboxTokens(sandbox, sandbox.now());
  const seeded = await seedConnection(s, { realmId, tokens });
  tenantId = seeded.tenant.id;
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
});
