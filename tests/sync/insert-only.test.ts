/**
 * A full sync into a ledger without the tenant's invoices (payments) inserts them without ON CONFLICT (ledger-write.ts
 * InsertOnly, run-sync.ts): a page that meets a stored row after all fails with a unique violation, nothing of it is
 * written, and run-sync writes it again as upserts, as it does the rest of the run.
 */
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SyncPage } from '../../connectors/types';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';
import { applySyncPage, isUniqueViolation } from '../../src/sync/apply-page';
import { runSync } from '../../src/sync/run-sync';
import {
  balanceMismatches,
  connectedSandboxTenant,
  dbBalances,
  readConnection,
  sandboxServices,
} from './helpers';

/** When set, run-sync is told the tenant's ledger is empty whatever it holds (a row stored after the check). */
const pretend = vi.hoisted(() => ({ empty: false }));
vi.mock('../../src/db/queries/ledger-write', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/db/queries/ledger-write')>();
  return {
    ...real,
    tenantLedgerEmpty: async (...args: Parameters<typeof real.tenantLedgerEmpty>) =>
      pretend.empty ? { invoices: true, payments: true } : real.tenantLedgerEmpty(...args),
  };
});

let sandbox: Sandbox;
let s: Services;
let tenantId = '';
let connectionId = '';

beforeAll(async () => {
  ({ sandbox, s } = await sandboxServices({ seed: 7311, customers: 20, invoices: 160 }, { queue: false }));
  ({ tenantId, connectionId } = await connectedSandboxTenant(s, sandbox));
});
afterAll(async () => {
  await s?.close();
  await sandbox?.stop();
});

/** The tenant's ledger as text: every invoice, payment and allocation line with the values a sync writes. */
async function ledger(): Promise<string> {
  const [row] = rowsOf<{ d: string }>(
    await s.db.execute(sql`
      select concat_ws(' / ',
        (select string_agg(concat_ws('|', i.id, i.external_id, i.status, i.total_minor, i.balance_minor, i.paid_date,
                                     i.source_version), ',' order by i.external_id)
         from invoices i where i.tenant_id = ${tenantId}::uuid),
        (select string_agg(concat_ws('|', p.id, p.external_id, p.status, p.amount_minor), ',' order by p.external_id)
         from payments p where p.tenant_id = ${tenantId}::uuid),
        (select string_agg(concat_ws('|', a.payment_id, a.line_no, a.invoice_id, a.amount_minor), ','
                           order by a.payment_id, a.line_no)
         from payment_allocations a where a.tenant_id = ${tenantId}::uuid)) as d`),
  );
  return row?.d ?? '';
}

function logged(): { logger: pino.Logger; messages: string[] } {
  const messages: string[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => messages.push(String(JSON.parse(line).msg)) },
  );
  return { logger, messages };
}

describe('insert-only full sync', () => {
  it('a first full sync inserts plainly; a page meeting a stored row fails whole, with nothing written', async () => {
    const { logger, messages } = logged();
    const first = await runSync({ ...s, logger }, { connectionId, pageSize: 40 });
    expect(first).toMatchObject({ status: 'succeeded', kind: 'full' });
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
    // The ledger was empty: no page met a stored row.
    expect(messages).not.toContain('sync: stored rows met, upserting');
    // Nor was any page written twice (on Postgres a page's transaction starts behind the one before: it follows it).
    expect(messages).not.toContain('sync: page written again after the page before it');

    // A page inserting an invoice that is stored: refused whole (the cursor and the other rows stay as they were).
    const before = await ledger();
    const cursorBefore = (await readConnection(s, connectionId)).syncCursor;
    const [stored] = rowsOf<{ external_id: string; customer: string }>(
      await s.db.execute(sql`
        select i.external_id, c.external_id as customer from invoices i join customers c on c.id = i.customer_id
        where i.tenant_id = ${tenantId}::uuid order by i.external_id limit 1`),
    );
    const invoice = {
      externalId: stored!.external_id,
      customerExternalId: stored!.customer,
      number: 'X-1',
      issueDate: '2026-11-01',
      dueDate: '2026-12-01',
      currency: 'USD',
      totalMinor: 999_999,
      balanceMinor: 999_999,
      status: 'open' as const,
      // Older than the sandbox's save: the next sync replaces it.
      sourceUpdatedAt: '2020-01-01T00:00:00.000Z',
    };
    const fresh = { ...invoice, externalId: 'never-stored-1' };
    const page: SyncPage<unknown> = {
      customers: [],
      invoices: [fresh, invoice],
      creditMemos: [],
      payments: [],
      deletions: { customers: [], invoices: [], creditMemos: [], payments: [] },
      cursor: { mode: 'full', entity: 'Invoice', afterId: 'zzz' },
    };
    const [runRow] = rowsOf<{ id: string }>(
      await s.db.execute(sql`select id from sync_runs where connection_id = ${connectionId}::uuid limit 1`),
    );
    const apply = (insertOnly?: { invoices: boolean }) =>
      applySyncPage(s.db, {
        tenantId,
        connectionId,
        syncRunId: runRow!.id,
        page,
        progress: { entities: {} },
        now: sandbox.now(),
        ...(insertOnly ? { insertOnly } : {}),
      });
    const err = await apply({ invoices: true }).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    expect(await ledger()).toBe(before);
    expect((await readConnection(s, connectionId)).syncCursor).toEqual(cursorBefore);
    // The same page as upserts: the new row is written, the stored one (newer than the page's) stays.
    await apply();
    const totals = rowsOf<{ external_id: string }>(
      await s.db.execute(sql`
        select external_id from invoices where tenant_id = ${tenantId}::uuid and total_minor = 999999`),
    );
    expect(totals.map((r) => r.external_id)).toEqual(['never-stored-1']);
  });

  it('run-sync writes a page that met stored rows again as upserts, and the rest of the run too', async () => {
    // The ledger is full, but run-sync is told it is empty (as if another writer stored rows after the check).
    const { logger, messages } = logged();
    pretend.empty = true;
    try {
      const r = await runSync({ ...s, logger }, { connectionId, pageSize: 40, full: true });
      expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
    } finally {
      pretend.empty = false;
    }
    expect(messages.filter((m) => m === 'sync: stored rows met, upserting')).toHaveLength(1);
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
    // The stray invoice of the first test is not in the sandbox: the listing marked it deleted.
    const [stray] = rowsOf<{ status: string }>(
      await s.db.execute(sql`
        select status from invoices where tenant_id = ${tenantId}::uuid and external_id = 'never-stored-1'`),
    );
    expect(stray?.status).toBe('deleted');
  });
});
