/**
 * Deletions against the local QuickBooks sandbox, scripted at the request level: an invoice deleted between two
 * full-sync pages, invoices deleted while no change feed watched (full re-sync, expired cursor), a CDC answer
 * saturated with deletions, and a full re-sync that crashes and resumes. Every case ends with the ledger equal to
 * the sandbox's to the cent and no deleted invoice left open.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandboxes/quickbooks';
import { connections, invoices, syncSeenPages } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { createTestServices } from '../helpers/services';
import { balanceMismatches, dbBalances, QB_ENV, sandboxTokens, seedConnection } from './helpers';

const NOW = new Date('2026-11-27T18:00:00.000Z');
let s: Services;
const sandboxes: Sandbox[] = [];

/** Current time of whichever sandbox a test is using (each test connects its own company). */
let activeSandbox: Sandbox | null = null;

beforeAll(async () => {
  s = await createTestServices({
    clock: { now: () => activeSandbox?.now() ?? NOW },
    env: { ...QB_ENV },
    queue: false,
  });
});
afterAll(async () => {
  await s?.close();
  for (const sb of sandboxes) await sb.stop();
});

async function connectCompany(seed: number, opts: { cdcLimit?: number } = {}) {
  const sandbox = await startSandbox({
    seed,
    now: NOW,
    customers: 20,
    invoices: 160,
    verifierToken: QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN,
    clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
    clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
    ...opts,
  });
  sandboxes.push(sandbox);
  activeSandbox = sandbox;
  // The connector reads its endpoints from the config: point it at this sandbox.
  Object.assign(s.config, sandbox.config);
  const { realmId, tokens } = await sandboxTokens(sandbox, sandbox.now());
  const { tenant, connection } = await seedConnection(s, { realmId, tokens });
  return { sandbox, tenantId: tenant.id, connectionId: connection.id };
}

/** Live invoices the sandbox lets us delete (no payments applied), in Id order. */
function deletable(sandbox: Sandbox): string[] {
  return [...sandbox.company.invoices.values()]
    .filter((i) => !i.deleted && i.paymentIds.length === 0)
    .map((i) => i.id)
    .sort((a, b) => Number(a) - Number(b));
}

async function statusOf(tenantId: string, ids: string[]) {
  const rows = await s.db
    .select({ id: invoices.externalId, status: invoices.status, balance: invoices.balanceMinor })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.externalId, ids)));
  return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}

const matches = async (sandbox: Sandbox, tenantId: string) =>
  balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId));

describe('deletions', () => {
  it('an invoice deleted between two full-sync pages makes no other invoice disappear', async () => {
    const { sandbox, tenantId, connectionId } = await connectCompany(7001);
    // Delete an invoice of a page already served, before the next one: positional paging would shift every later
    // row one place back and skip the one that slid across the boundary.
    const ordered = [...sandbox.company.invoices.keys()].sort((a, b) => Number(a) - Number(b));
    const victim = deletable(sandbox)[0] as string;
    const victimPage = Math.floor(ordered.indexOf(victim) / 20) + 1;
    expect(victimPage).toBeLessThan(ordered.length / 20 - 1);
    let invoicePages = 0;
    sandbox.onApiRequest(async ({ query }) => {
      if (query?.startsWith('SELECT * FROM Invoice') && ++invoicePages === victimPage + 1)
        await sandbox.deleteInvoice(victim);
    });
    const full = await runSync(s, { connectionId, pageSize: 20 });
    sandbox.onApiRequest(null);
    expect(full).toMatchObject({ status: 'succeeded', kind: 'full' });
    expect(invoicePages).toBeGreaterThan(victimPage + 1);
    // Every invoice that exists was read: nothing slid across a page boundary.
    const held = await dbBalances(s, tenantId);
    expect([...sandbox.company.balances().keys()].filter((id) => !held.has(id))).toEqual([]);
    // The deletion itself arrives through the change feed that takes over from the read's start.
    expect(await runSync(s, { connectionId })).toMatchObject({ status: 'succeeded', kind: 'incremental' });
    expect(await statusOf(tenantId, [victim])).toEqual({ [victim]: 'deleted' });
    expect(await matches(sandbox, tenantId)).toEqual([]);
  });

  it('a full re-sync marks invoices deleted meanwhile as deleted (they were never reported)', async () => {
    const { sandbox, tenantId, connectionId } = await connectCompany(7002);
    expect(await runSync(s, { connectionId })).toMatchObject({ status: 'succeeded' });
    const gone = deletable(sandbox).slice(0, 3);
    for (const id of gone) sandbox.company.mutate((c) => c.deleteInvoice(id));
    expect(Object.values(await statusOf(tenantId, gone))).toEqual(['open', 'open', 'open']);

    const r = await runSync(s, { connectionId, full: true, pageSize: 50 });
    expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
    expect(r.stats.deletions).toBe(3);
    expect(await statusOf(tenantId, gone)).toEqual(Object.fromEntries(gone.map((id) => [id, 'deleted'])));
    expect(await matches(sandbox, tenantId)).toEqual([]);
    // The listing's bookkeeping is gone once it completed.
    expect(
      await s.db.select().from(syncSeenPages).where(eq(syncSeenPages.connectionId, connectionId)),
    ).toEqual([]);
  });

  it('an expired cursor restarts as a full sync that also removes what was deleted meanwhile', async () => {
    const { sandbox, tenantId, connectionId } = await connectCompany(7003);
    expect(await runSync(s, { connectionId })).toMatchObject({ status: 'succeeded' });
    const gone = deletable(sandbox).slice(-2);
    for (const id of gone) sandbox.company.mutate((c) => c.deleteInvoice(id));
    await sandbox.advance(31);
    const r = await runSync(s, { connectionId });
    expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
    expect(await statusOf(tenantId, gone)).toEqual(Object.fromEntries(gone.map((id) => [id, 'deleted'])));
    expect(await matches(sandbox, tenantId)).toEqual([]);
  });

  it('a CDC answer saturated with deletions loses no tombstone', async () => {
    const { sandbox, tenantId, connectionId } = await connectCompany(7004, { cdcLimit: 6 });
    expect(await runSync(s, { connectionId, cdcLimit: 6 })).toMatchObject({ status: 'succeeded' });
    const gone = deletable(sandbox).slice(0, 10);
    for (const id of gone) sandbox.company.mutate((c) => c.deleteInvoice(id));
    const queries: string[] = [];
    sandbox.onApiRequest(({ query }) => {
      if (query) queries.push(query);
    });
    const r = await runSync(s, { connectionId, cdcLimit: 6 });
    sandbox.onApiRequest(null);
    expect(r).toMatchObject({ status: 'succeeded', kind: 'incremental' });
    // The cut answer carried at most 6 of the 10 tombstones; the id listing found the others missing.
    expect(queries.some((q) => q.startsWith('SELECT Id FROM Invoice'))).toBe(true);
    expect(await statusOf(tenantId, gone)).toEqual(Object.fromEntries(gone.map((id) => [id, 'deleted'])));
    expect(await matches(sandbox, tenantId)).toEqual([]);
  });

  it('a full re-sync that crashes mid-listing and resumes still finds a deletion, and deletes nothing else', async () => {
    const { sandbox, tenantId, connectionId } = await connectCompany(7005);
    expect(await runSync(s, { connectionId })).toMatchObject({ status: 'succeeded' });
    const victim = deletable(sandbox).at(-1) as string;
    sandbox.company.mutate((c) => c.deleteInvoice(victim));
    let pages = 0;
    await expect(
      runSync(s, {
        connectionId,
        full: true,
        pageSize: 20,
        onProgress: () => {
          if (++pages === 6) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow(/simulated crash/);
    expect(await statusOf(tenantId, [victim])).toEqual({ [victim]: 'open' });
    const seenBefore = await s.db
      .select()
      .from(syncSeenPages)
      .where(eq(syncSeenPages.connectionId, connectionId));
    // Customers: one page of 20 and the page ending their listing; then four invoice pages of 20.
    expect(
      seenBefore.filter((r) => r.kind === 'invoices').reduce((n, r) => n + r.externalIds.length, 0),
    ).toBe(80);

    const r = await runSync(s, { connectionId, pageSize: 20 });
    expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
    expect(r.stats.deletions).toBe(1);
    expect(await statusOf(tenantId, [victim])).toEqual({ [victim]: 'deleted' });
    expect(await matches(sandbox, tenantId)).toEqual([]);
  });

  it("a full re-sync cut off and continued by the job's retry still finds what was deleted in between, read or not", async () => {
    const { sandbox, tenantId, connectionId } = await connectCompany(7008);
    expect(await runSync(s, { connectionId })).toMatchObject({ status: 'succeeded' });
    let pages = 0;
    await expect(
      runSync(s, {
        connectionId,
        full: true,
        pageSize: 20,
        onProgress: () => {
          if (++pages === 6) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow(/simulated crash/);
    // Four invoice pages of 20 were listed: one victim among them, one past them; and a payment recorded meanwhile.
    const seen = new Set(
      (await s.db.select().from(syncSeenPages).where(eq(syncSeenPages.connectionId, connectionId)))
        .filter((p) => p.kind === 'invoices')
        .flatMap((p) => p.externalIds),
    );
    expect(seen.size).toBe(80);
    const listed = deletable(sandbox).filter((id) => seen.has(id));
    const unread = deletable(sandbox).filter((id) => !seen.has(id));
    const gone = [listed[0] as string, unread.at(-1) as string];
    for (const id of gone) sandbox.company.mutate((c) => c.deleteInvoice(id));
    const paid = unread[0] as string;
    sandbox.company.recordPayment(paid);

    // What the job's retry runs (its data keeps `full`; syncConnectionJob sets resumeFull on a retry): the
    // interrupted listing is continued, not started over.
    const r = await runSync(s, { connectionId, full: true, resumeFull: true, pageSize: 20 });
    expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
    expect(r.stats.deletions).toBe(1);
    // The victim past the interruption is found missing by the listing; the one it had read already arrives
    // through the change feed that takes over from the listing's start.
    expect(await runSync(s, { connectionId })).toMatchObject({ status: 'succeeded', kind: 'incremental' });
    expect(await statusOf(tenantId, gone)).toEqual(Object.fromEntries(gone.map((id) => [id, 'deleted'])));
    expect(await statusOf(tenantId, [paid])).toEqual({ [paid]: 'paid' });
    expect(await matches(sandbox, tenantId)).toEqual([]);
  });
});

describe('a disconnect during a sync', () => {
  it('stops the sync: nothing read after it is written and the connection stays disconnected', async () => {
    const { sandbox, tenantId, connectionId } = await connectCompany(7006);
    let invoiceQueries = 0;
    sandbox.onApiRequest(async ({ query }) => {
      // The user disconnects while the second invoice page is on its way.
      if (query?.startsWith('SELECT * FROM Invoice') && ++invoiceQueries === 2) {
        await s.db
          .update(connections)
          .set({ status: 'disconnected', statusReason: 'disconnected by user', credentials: null })
          .where(eq(connections.id, connectionId));
      }
    });
    const r = await runSync(s, { connectionId, pageSize: 20 });
    sandbox.onApiRequest(null);
    expect(r.status).toBe('skipped');
    expect((await dbBalances(s, tenantId)).size).toBeLessThanOrEqual(20);
    const [conn] = await s.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(conn).toMatchObject({ status: 'disconnected', credentials: null });
    expect(conn?.syncCursor).not.toMatchObject({ entity: 'Payment' });
  });
});
