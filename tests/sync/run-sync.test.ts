/**
 * run-sync against the local QuickBooks sandbox: a crash mid full sync resumes from the last committed page with
 * the same final state; incremental runs; an expired cursor restarts as a full sync; a revoked grant parks the
 * connection as reconnect_needed.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { Vault } from '../../src/auth/vault';
import { rowsOf } from '../../src/db/client';
import { invoices, payments, syncRuns } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import {
  balanceMismatches,
  connectedSandboxTenant,
  dbBalances,
  QB_ENV,
  readConnection,
  sandboxServices,
} from './helpers';

let sandbox: Sandbox;
let s: Services;
let tenantId = '';
let connectionId = '';

beforeAll(async () => {
  ({ sandbox, s } = await sandboxServices({ seed: 424242, customers: 30, invoices: 320 }, { queue: false }));
  ({ tenantId, connectionId } = await connectedSandboxTenant(s, sandbox));
});
afterAll(async () => {
  await s?.close();
  await sandbox?.stop();
});

async function consistency() {
  // Every applied cent is accounted for: total - balance = allocations, per open/paid invoice.
  const rows = rowsOf<{ n: number }>(
    await s.db.execute(sql`
      select count(*)::int as n from invoices i
      where i.tenant_id = ${tenantId}::uuid and i.status in ('open','paid')
        and i.total_minor - i.balance_minor <>
            coalesce((select sum(a.amount_minor) from payment_allocations a where a.invoice_id = i.id), 0)`),
  );
  return rows[0]?.n ?? -1;
}

describe('runSync', () => {
  it('resumes a crashed full sync from the last committed page and converges with no duplicates', async () => {
    let pages = 0;
    await expect(
      runSync(s, {
        connectionId,
        pageSize: 40,
        onProgress: () => {
          pages++;
          if (pages === 4) throw new Error('simulated crash after page 4');
        },
      }),
    ).rejects.toThrow(/simulated crash/);
    const mid = await readConnection(s, connectionId);
    expect(mid.syncCursor).toMatchObject({ mode: 'full' });
    const [failed] = await s.db.select().from(syncRuns).where(eq(syncRuns.connectionId, connectionId));
    expect(failed).toMatchObject({ kind: 'full', status: 'failed' });
    const invoicesAfterCrash = (await dbBalances(s, tenantId)).size;

    let resumedPages = 0;
    const r = await runSync(s, { connectionId, pageSize: 40, onProgress: () => resumedPages++ });
    expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
    expect(r.progress?.entities.invoices).toMatchObject({ done: true });
    expect(r.progress?.entities.payments?.done).toBe(true);
    // It continued rather than starting over: the run resumed its progress and customers were read once.
    expect(invoicesAfterCrash).toBeGreaterThan(0);
    expect(r.progress?.entities.customers).toMatchObject({ rows: 30, done: true });
    expect(resumedPages).toBeGreaterThan(0);

    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
    const [{ n: paymentCount } = { n: 0 }] = rowsOf<{ n: number }>(
      await s.db.execute(sql`select count(*)::int as n from payments where tenant_id = ${tenantId}::uuid`),
    );
    expect(paymentCount).toBe(sandbox.company.payments.size);
    expect(await consistency()).toBe(0);
    const conn = await readConnection(s, connectionId);
    expect(conn.syncCursor).toMatchObject({ mode: 'cdc' });
    expect(conn.lastSyncAt).not.toBeNull();

    // Paid invoices got their paid date from the allocations.
    const paidWithoutDate = await s.db
      .select({ id: invoices.id })
      .from(invoices)
      .where(
        and(
          eq(invoices.tenantId, tenantId),
          eq(invoices.status, 'paid'),
          sql`${invoices.paidDate} is null`,
          sql`${invoices.totalMinor} > 0`,
        ),
      );
    expect(paidWithoutDate).toEqual([]);
  });

  it('an incremental run with nothing new changes nothing', async () => {
    const r = await runSync(s, { connectionId, reason: 'test' });
    expect(r).toMatchObject({ status: 'succeeded', kind: 'incremental', changedInvoices: 0 });
  });

  it('picks up payments, voids and deletes incrementally and reports changed invoices to onSynced', async () => {
    const open = [...sandbox.company.invoices.values()].filter(
      (i) => !i.deleted && !i.voided && i.balanceMinor > 5000 && i.paymentIds.length === 0,
    );
    const [partial, toVoid, toDelete] = open;
    if (!partial || !toVoid || !toDelete) throw new Error('no open invoices');
    await sandbox.recordPayment(partial.id, 1234);
    await sandbox.voidInvoice(toVoid.id);
    await sandbox.deleteInvoice(toDelete.id);
    const seen: string[] = [];
    const r = await runSync(s, {
      connectionId,
      reason: 'webhook',
      onSynced: async (tx, e) => {
        expect(e.tenantId).toBe(tenantId);
        const [row] = rowsOf<{ one: number }>(await tx.execute(sql`select 1 as one`));
        expect(row?.one).toBe(1);
        seen.push(...e.changedInvoiceIds);
      },
    });
    expect(r.status).toBe('succeeded');
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const byExt = async (ext: string) =>
      (
        await s.db
          .select()
          .from(invoices)
          .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, ext)))
      )[0];
    expect((await byExt(partial.id))?.balanceMinor).toBe(
      sandbox.company.invoices.get(partial.id)?.balanceMinor,
    );
    expect((await byExt(toVoid.id))?.status).toBe('void');
    expect((await byExt(toDelete.id))?.status).toBe('deleted');
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
    expect(await consistency()).toBe(0);
  });

  it('restarts as a full sync when the cursor is older than 30 days (tokens refresh on the way)', async () => {
    await sandbox.advance(31);
    const r = await runSync(s, { connectionId });
    expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
    expect(await consistency()).toBe(0);
    const [{ n } = { n: 0 }] = rowsOf<{ n: number }>(
      await s.db.execute(
        sql`select count(*)::int as n from (select payment_id, line_no from payment_allocations
            group by 1, 2 having count(*) > 1) d`,
      ),
    );
    expect(n).toBe(0);
    expect(await s.db.select().from(payments).where(eq(payments.tenantId, tenantId))).toHaveLength(
      sandbox.company.payments.size,
    );
  });

  it('a full re-sync interrupted, then asked for again (a job retry keeps `full`), continues where it stopped', async () => {
    let pages = 0;
    await expect(
      runSync(s, {
        connectionId,
        full: true,
        pageSize: 40,
        onProgress: () => {
          pages++;
          if (pages === 4) throw new Error('simulated crash after page 4');
        },
      }),
    ).rejects.toThrow(/simulated crash/);
    expect((await readConnection(s, connectionId)).syncCursor).toMatchObject({ mode: 'full' });
    const r = await runSync(s, { connectionId, full: true, pageSize: 40 });
    expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
    // The interrupted full sync was carried on (its progress kept, customers counted once), not started over.
    const [run] = await s.db
      .select()
      .from(syncRuns)
      .where(eq(syncRuns.id, r.syncRunId as string));
    expect(run?.source).toMatchObject({ resumed: true });
    expect(r.progress?.entities.customers).toMatchObject({ rows: 30, done: true });
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
    expect(await consistency()).toBe(0);
    expect((await readConnection(s, connectionId)).syncCursor).toMatchObject({ mode: 'cdc' });
  });

  it('a revoked grant marks the connection reconnect_needed and stops without throwing', async () => {
    const conn = await readConnection(s, connectionId);
    const stored = new Vault(s.config.APP_SECRET).open<{ refreshToken: string }>(conn.credentials!);
    const { connectors } = await import('../../connectors');
    await connectors.quickbooks.oauth.revoke({
      revokeUrl: sandbox.config.QUICKBOOKS_REVOKE_URL,
      clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
      clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
      token: stored.refreshToken,
    });
    await sandbox.advance(1); // the access token expires too
    const r = await runSync(s, { connectionId });
    expect(r.status).toBe('reconnect_needed');
    expect(r.error).toMatch(/reconnect/i);
    const after = await readConnection(s, connectionId);
    expect(after.status).toBe('reconnect_needed');
    expect(after.credentials).toBe(conn.credentials);
    // Further syncs are skipped until the user reconnects.
    expect((await runSync(s, { connectionId })).status).toBe('reconnect_needed');
  });
});
