/**
 * Review of the sync job's retry continuing a full re-sync (runSync `resumeFull`) from outside, on the NetSuite
 * stand-in: records deleted between the cut-off run and its retry, among those the listing had read and those it
 * had not, must end deleted in Duely, and the ledger exact to the minor unit. Runs on PGlite and Postgres.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { NetsuiteCompany, NetsuiteSandbox } from '../../sandboxes/netsuite';
import { ManualClock } from '../../src/clock';
import { invoices, syncRuns, syncSeenPages } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { suiteTestApp } from '../helpers/app';
import { connectSandboxTenant, storedInvoices } from './fixtures';

const clock = new ManualClock('2026-04-01T08:00:00Z');
let sandbox: NetsuiteSandbox;
let s: Services;
let tenantId = '';
let connectionId = '';

const t = suiteTestApp(async () => {
  sandbox = new NetsuiteSandbox({ company: NetsuiteCompany.generate({ seed: 36, customers: 8 }) });
  await sandbox.start();
  return { clock, env: { ...sandbox.env() }, token: 'test admin', sandbox };
});
beforeAll(async () => {
  s = t.services;
  ({ tenantId, connectionId } = await connectSandboxTenant(
    t.app,
    s.db,
    t.token,
    'NetSuite Resumed',
    'netsuite-resumed',
  ));
  const first = await runSync(s, { connectionId, reason: 'connect', pageSize: 7 });
  expect(first.status).toBe('succeeded');
});

const co = () => sandbox.company;

async function statusOf(ids: string[]) {
  const rows = await s.db
    .select({ id: invoices.externalId, status: invoices.status })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.externalId, ids)));
  return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}

describe('NetSuite: a full re-sync cut off, continued by the job retry', () => {
  it('finds what was deleted in between, read by the cut-off run or not; the ledger ends exact', async () => {
    await expect(
      runSync(s, {
        connectionId,
        full: true,
        pageSize: 7,
        onProgress: (p) => {
          if ((p.progress.entities.invoices?.rows ?? 0) >= 7) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow(/simulated crash/);
    const seen = new Set(
      (await s.db.select().from(syncSeenPages).where(eq(syncSeenPages.connectionId, connectionId)))
        .filter((p) => p.kind === 'invoices')
        .flatMap((p) => p.externalIds),
    );
    expect(seen.size).toBeGreaterThan(0);
    // Invoices with nothing applied to them (deleting one with a payment would leave the payment's lines dangling).
    const linked = new Set(co().links.map((l) => l.previousdoc));
    const free = [...co().txns.values()]
      .filter((x) => x.type === 'CustInvc' && !linked.has(x.id))
      .map((x) => String(x.id));
    const read = free.find((id) => seen.has(id));
    const unread = free.filter((id) => !seen.has(id)).at(-1);
    expect(read && unread).toBeTruthy();
    const gone = [read as string, unread as string];
    co().advance(5);
    clock.advance(5 * 60_000);
    for (const id of gone) co().delete(Number(id));

    // What the job's retry runs (its data keeps `full`; syncConnectionJob sets resumeFull on a retry).
    const resumed = await runSync(s, { connectionId, full: true, resumeFull: true, pageSize: 7 });
    expect(resumed.status, resumed.error ?? '').toBe('succeeded');
    const [run] = await s.db
      .select()
      .from(syncRuns)
      .where(eq(syncRuns.id, resumed.syncRunId as string));
    expect(run?.source).toMatchObject({ resumed: true });
    co().advance(5);
    clock.advance(5 * 60_000);
    const polled = await runSync(s, { connectionId, reason: 'schedule', pageSize: 7 });
    expect(polled.status, polled.error ?? '').toBe('succeeded');
    expect(await statusOf(gone)).toEqual(Object.fromEntries(gone.map((id) => [id, 'deleted'])));
    expect(await storedInvoices(s.db, tenantId)).toEqual(co().openBalances());
  });
});
