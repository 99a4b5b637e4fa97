/**
 * run-sync against the local QuickBooks sandbox: a crash mid full sync resumes from the last committed page with
 * the same final state; incremental runs; an expired cursor restarts as a full sync; a revoked grant parks the
 * connection as reconnect_needed.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { Vault } from '../../src/auth/vault';
import { rowsOf } from '../../src/db/client';
import { invoices, payments, type SyncProgress, syncRuns } from '../../src/db/schema';
import { syncConnectionJob } from '../../src/jobs/sync-jobs';
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

  it("a dead process's full run: closed as succeeded only once its last page is in, as interrupted before", async () => {
    // Runs left `running` by a process killed without a trace (the connection's cursor is incremental by now).
    const dead = async (progress: SyncProgress) => {
      const [latest] = await s.db
        .select({ startedAt: syncRuns.startedAt })
        .from(syncRuns)
        .where(eq(syncRuns.connectionId, connectionId))
        .orderBy(desc(syncRuns.startedAt))
        .limit(1);
      const startedAt = new Date((latest?.startedAt.getTime() ?? 0) + 1000);
      const [run] = await s.db
        .insert(syncRuns)
        .values({
          tenantId,
          connectionId,
          kind: 'full',
          progress,
          startedAt,
          heartbeatAt: new Date(startedAt.getTime() + 500),
        })
        .returning({ id: syncRuns.id });
      return run!.id;
    };
    const runOf = async (id: string) => (await s.db.select().from(syncRuns).where(eq(syncRuns.id, id)))[0]!;
    const all = (done: boolean): SyncProgress => ({
      entities: Object.fromEntries(
        ['customers', 'invoices', 'creditMemos', 'payments'].map((k) => [k, { pages: 1, rows: 1, done }]),
      ),
    });
    expect((await readConnection(s, connectionId)).syncCursor).toMatchObject({ mode: 'cdc' });
    // A full re-sync killed before its first page (its cursor was never stored): interrupted.
    const early = await dead(all(false));
    expect(await runSync(s, { connectionId })).toMatchObject({ status: 'succeeded', kind: 'incremental' });
    expect(await runOf(early)).toMatchObject({ status: 'failed', error: 'interrupted' });
    // One killed after the page that ended it (every kind done, its cursor out of full mode): succeeded, as of its
    // last page.
    const late = await dead(all(true));
    const { heartbeatAt } = await runOf(late);
    expect(await runSync(s, { connectionId })).toMatchObject({ status: 'succeeded', kind: 'incremental' });
    expect(await runOf(late)).toMatchObject({ status: 'succeeded', error: null, finishedAt: heartbeatAt });
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

  it('a full re-sync cut off: the job retry (its data keeps `full`) continues it, a new full re-sync starts over', async () => {
    const crashingFull = () => {
      let pages = 0;
      return expect(
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
    };
    const runOf = async (id: string | null) =>
      (
        await s.db
          .select()
          .from(syncRuns)
          .where(eq(syncRuns.id, id as string))
      )[0];
    await crashingFull();
    expect((await readConnection(s, connectionId)).syncCursor).toMatchObject({ mode: 'full' });
    // A new request for a full re-sync starts over (the operator's reset), even with one unfinished.
    await crashingFull();
    const [latest] = await s.db
      .select()
      .from(syncRuns)
      .where(eq(syncRuns.connectionId, connectionId))
      .orderBy(sql`started_at desc`)
      .limit(1);
    expect(latest?.source).toMatchObject({ resumed: false });
    // The job's retry, with the same data: the interrupted full sync is carried on (its run resumed, its progress
    // kept: customers counted once), not started over.
    const r = (await syncConnectionJob.handler(
      syncConnectionJob.schema.parse({ connectionId, reason: 'manual', full: true }),
      s,
      { id: 'retry', retryCount: 1 },
    )) as { status: string; kind: string | null; syncRunId: string | null };
    expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
    const run = await runOf(r.syncRunId);
    expect(run?.source).toMatchObject({ resumed: true });
    expect(run?.progress.entities.customers).toMatchObject({ rows: 30, done: true });
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

  it('revoked in the middle of a full re-sync, reconnected after changes: the full sync resumes and ends exact', async () => {
    const { connectors } = await import('../../connectors');
    const { attachCompany } = await import('../../src/sync/connect-flow');
    const qb = connectors.quickbooks;
    // Consent again, as the Connections page's Reconnect does: the company's connection takes the new tokens.
    const reconnect = async () => {
      const redirectUri = 'http://127.0.0.1:9/callback';
      const url = qb.oauth.buildAuthorizeUrl({
        authorizeUrl: sandbox.config.QUICKBOOKS_AUTHORIZE_URL,
        clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
        redirectUri,
        state: 'x',
      });
      const res = await fetch(url, { redirect: 'manual' });
      const cb = qb.oauth.parseCallback(
        Object.fromEntries(new URL(res.headers.get('location') ?? '').searchParams),
      );
      if (!cb.ok || !cb.externalId) throw new Error('sandbox authorize failed');
      const tokens = await qb.oauth.exchangeCode({
        tokenUrl: sandbox.config.QUICKBOOKS_TOKEN_URL,
        clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
        clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
        code: cb.code,
        redirectUri,
      });
      const enqueued: string[] = [];
      const attached = await attachCompany(s, async (_id, reason) => void enqueued.push(reason), {
        provider: 'quickbooks',
        externalId: cb.externalId,
        tokens,
        boundTenant: tenantId,
        companyName: null,
      });
      expect(attached).toMatchObject({ connectionId, reattached: true });
      expect(enqueued).toEqual(['reconnect']);
    };
    await reconnect();
    expect((await readConnection(s, connectionId)).status).toBe('active');

    // A full re-sync; after its third page QuickBooks refuses every token (the grant revoked from Intuit's side): 401s,
    // the refreshed token refused too, the connection needs reconnecting.
    let pages = 0;
    const cut = await runSync(s, {
      connectionId,
      full: true,
      pageSize: 40,
      onProgress: () => {
        if (++pages === 3) sandbox.failNext(1_000, 401);
      },
    });
    sandbox.failNext(0);
    expect(cut).toMatchObject({ status: 'reconnect_needed', kind: 'full' });
    expect(pages).toBeGreaterThanOrEqual(3);
    expect((await readConnection(s, connectionId)).syncCursor).toMatchObject({ mode: 'full' });
    // While nobody can read: an invoice paid, one voided, one deleted; webhooks for them find no active connection.
    const open = [...sandbox.company.invoices.values()].filter(
      (i) => !i.deleted && !i.voided && i.balanceMinor > 5000,
    );
    // Two among those the cut-off run had read (the sandbox deletes only an invoice nothing paid), the last among
    // those it had not.
    const deleted = open.find((i) => i.paymentIds.length === 0);
    const [paid, voided] = [open.find((i) => i !== deleted), open.at(-1)];
    if (!paid || !voided || !deleted) throw new Error('no open invoices');
    await sandbox.recordPayment(paid.id, paid.balanceMinor);
    await sandbox.voidInvoice(voided.id);
    await sandbox.deleteInvoice(deleted.id);
    expect(sandbox.company.invoices.get(deleted.id)?.deleted).toBe(true);
    expect((await runSync(s, { connectionId })).status).toBe('reconnect_needed');

    await reconnect();
    // The reconnect's sync: the full re-sync resumes where it stopped (no customer listing again) and ends exact.
    const resumed = await runSync(s, { connectionId, reason: 'reconnect', pageSize: 40 });
    expect(resumed).toMatchObject({ status: 'succeeded', kind: 'full' });
    expect(resumed.progress?.entities.customers?.rows).toBe(30);
    // An invoice the cut-off run had read and that was paid since is QuickBooks' only once the CDC round after the
    // full sync ran (from the full sync's start): until then (the hourly poll, the next webhook) it is still open.
    const afterFull = balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId));
    expect(afterFull.length).toBeLessThanOrEqual(1);
    expect(await runSync(s, { connectionId, reason: 'poll' })).toMatchObject({
      status: 'succeeded',
      kind: 'incremental',
    });
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
    const statusOf = async (ext: string) =>
      (
        await s.db
          .select({ status: invoices.status })
          .from(invoices)
          .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, ext)))
      )[0]?.status;
    expect(await statusOf(deleted.id)).toBe('deleted');
    expect(await statusOf(voided.id)).toBe('void');
    expect(await statusOf(paid.id)).toBe('paid');
    expect(await consistency()).toBe(0);
  });
});
