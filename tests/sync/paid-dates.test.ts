/**
 * A full sync's pages leave paid_date to one pass over the tenant, written with the page that ends the full sync
 * (sync/run-sync.ts, settlePaidDates). A full sync that crashes after payment pages were committed, even after the last
 * one but before the page that ends it, must still end with every paid invoice dated by its latest allocation when
 * the next run resumes it. The sandbox's invoices are touched again after their last payment here, so a paid date
 * left at the invoice's last change (what a new invoice starts with) is wrong and visible.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';
import { runSync, type SyncProgressEvent } from '../../src/sync/run-sync';
import { readConnection, sandboxServices, sandboxTokens, seedConnection } from './helpers';

const DAY = 86_400_000;
let sandbox: Sandbox;
let s: Services;

beforeAll(async () => {
  ({ sandbox, s } = await sandboxServices({ seed: 8181, customers: 12, invoices: 150 }, { queue: false }));
  // Every paid invoice changed again (a memo edit) three days after its last payment.
  const now = sandbox.now().getTime();
  for (const invoice of sandbox.company.invoices.values()) {
    if (invoice.balanceMinor === 0 && invoice.paymentIds.length > 0 && invoice.updatedAt + 3 * DAY < now)
      invoice.updatedAt += 3 * DAY;
  }
});
afterAll(async () => {
  await s?.close();
  await sandbox?.stop();
});

/** Paid invoices of the tenant and how many of them are not dated by their latest allocation. */
async function paidDates(tenantId: string) {
  const [row] = rowsOf<{ paid: number; wrong: number; moved: number }>(
    await s.db.execute(sql`
      select count(*)::int as paid,
             count(*) filter (where i.paid_date is distinct from a.last)::int as wrong,
             count(*) filter (where a.last <> (i.source_updated_at at time zone 'UTC')::date)::int as moved
      from invoices i
      join lateral (select max(al.date) as last from payment_allocations al where al.invoice_id = i.id) a on true
      where i.tenant_id = ${tenantId}::uuid and i.status = 'paid' and i.balance_minor = 0 and a.last is not null`),
  );
  return row!;
}

async function crashThenResume(name: string, crashAt: (p: SyncProgressEvent) => boolean) {
  const { realmId, tokens } = await sandboxTokens(sandbox, sandbox.now());
  const { tenant, connection } = await seedConnection(s, { name, realmId, tokens });
  await expect(
    runSync(s, {
      connectionId: connection.id,
      pageSize: 20,
      onProgress: (p) => {
        if (crashAt(p)) throw new Error('simulated crash');
      },
    }),
  ).rejects.toThrow(/simulated crash/);
  expect((await readConnection(s, connection.id)).syncCursor).toMatchObject({ mode: 'full' });
  const r = await runSync(s, { connectionId: connection.id, pageSize: 20 });
  expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
  const dates = await paidDates(tenant.id);
  // The realm is free for the next case's tenant.
  await s.db.execute(sql`delete from connections where id = ${connection.id}::uuid`);
  return dates;
}

describe('paid dates after a resumed full sync', () => {
  it('a crash after the first payment page: the resumed run dates every paid invoice by its latest allocation', async () => {
    const dates = await crashThenResume(
      'crash mid payments',
      (p) => (p.progress.entities.payments?.pages ?? 0) >= 1,
    );
    expect(dates.paid).toBeGreaterThan(20);
    // The case this is about: most paid invoices changed after their last payment.
    expect(dates.moved).toBeGreaterThan(dates.paid / 2);
    expect(dates.wrong).toBe(0);
  });

  it('a crash after the last payment page, before the page that ends the full sync: still settled on resume', async () => {
    const payments = sandbox.company.payments.size;
    const dates = await crashThenResume('crash before the end', (p) => {
      const e = p.progress.entities.payments;
      return e !== undefined && e.rows >= payments && !e.done;
    });
    expect(dates.paid).toBeGreaterThan(20);
    expect(dates.moved).toBeGreaterThan(dates.paid / 2);
    expect(dates.wrong).toBe(0);
  });
});
