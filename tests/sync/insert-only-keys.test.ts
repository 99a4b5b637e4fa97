/**
 * An insert-only page on PGlite checks its rows' foreign keys once per page instead of per row (ledger-write.ts
 * keysPerPage: the inserts run with session_replication_role = replica, a statement after them checks the page's
 * references as a set). The guarantee stays: a page whose referenced row is gone by the check fails whole with the
 * constraint's own foreign_key_violation and writes nothing. Replica mode also skips ordinary triggers, so the tables
 * those inserts write must have none. Postgres keeps the per-row checks (run-sync passes keysPerPage on PGlite only).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncPage } from '../../connectors/types';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';
import { applySyncPage } from '../../src/sync/apply-page';
import { runSync } from '../../src/sync/run-sync';
import { usingPostgres } from '../helpers/db';
import {
  balanceMismatches,
  connectedSandboxTenant,
  dbBalances,
  readConnection,
  sandboxServices,
  seedFullSyncRun,
} from './helpers';

const T1 = '2026-11-01T10:00:00.000Z';
let sandbox: Sandbox;
let s: Services;

beforeAll(async () => {
  ({ sandbox, s } = await sandboxServices({ seed: 7412, customers: 12, invoices: 90 }, { queue: false }));
});
afterAll(async () => {
  await s?.close();
  await sandbox?.stop();
});

const rows = async <T>(q: ReturnType<typeof sql>) => rowsOf<T>(await s.db.execute(q));

/** The SQLSTATE of a database error, as the drivers report it or wrapped by drizzle. */
function sqlState(err: unknown): unknown {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  return e?.cause?.code ?? e?.code;
}

function constraintOf(err: unknown): unknown {
  const e = err as {
    constraint?: unknown;
    cause?: { constraint?: unknown; constraint_name?: unknown };
  } | null;
  return e?.cause?.constraint ?? e?.cause?.constraint_name ?? e?.constraint;
}

const blank = (): SyncPage<unknown> => ({
  customers: [],
  invoices: [],
  creditMemos: [],
  payments: [],
  deletions: { customers: [], invoices: [], creditMemos: [], payments: [] },
  cursor: { mode: 'full', entity: 'Invoice', afterId: '0' },
});

const invoice = (externalId: string, customerExternalId: string) => ({
  externalId,
  customerExternalId,
  number: externalId,
  issueDate: '2026-10-01',
  dueDate: '2026-10-31',
  currency: 'USD',
  totalMinor: 10_000,
  balanceMinor: 10_000,
  status: 'open' as const,
  sourceUpdatedAt: T1,
});

describe('insert-only pages: foreign keys checked per page on PGlite', () => {
  it('invoices, payments and payment_allocations have no trigger but their foreign keys, which the check covers', async () => {
    // Replica mode skips every trigger of these tables that is not ENABLE ALWAYS: there must be none.
    const triggers = await rows<{ t: string }>(sql`
      select tgrelid::regclass::text || '.' || tgname as t from pg_trigger
      where tgrelid in ('invoices'::regclass, 'payments'::regclass, 'payment_allocations'::regclass)
        and not tgisinternal`);
    expect(triggers).toEqual([]);
    const rules = await rows<{ r: string }>(sql`
      select rulename as r from pg_rules where tablename in ('invoices', 'payments', 'payment_allocations')`);
    expect(rules).toEqual([]);
    // The keys checkInvoiceKeys and checkPaymentKeys check: a new foreign key on these tables must be added there.
    const keys = await rows<{ k: string }>(sql`
      select conrelid::regclass::text || '(' || a.attname || ') -> ' || confrelid::regclass::text as k
      from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
      where c.contype = 'f' and cardinality(c.conkey) = 1
        and c.conrelid in ('invoices'::regclass, 'payments'::regclass, 'payment_allocations'::regclass)
      order by 1`);
    expect(keys.map((k) => k.k)).toEqual([
      'invoices(customer_id) -> customers',
      'payment_allocations(credit_memo_id) -> credit_memos',
      'payment_allocations(invoice_id) -> invoices',
      'payment_allocations(payment_id) -> payments',
      'payments(customer_id) -> customers',
    ]);
  });

  it('a first full sync inserts with per-page checks on PGlite, with the per-row ones on Postgres', async () => {
    // Records the replication role the inserts ran under (ENABLE ALWAYS: it fires in replica mode too).
    await s.db.execute(sql`create table roles_seen (tbl text, role text)`);
    await s.db.execute(sql`
      create function record_role() returns trigger language plpgsql as $$
      begin
        insert into roles_seen values (TG_TABLE_NAME, current_setting('session_replication_role'));
        return null;
      end $$`);
    for (const table of ['invoices', 'payments', 'payment_allocations']) {
      await s.db.execute(
        sql.raw(`create trigger record_role after insert on ${table} for each statement
                 execute function record_role()`),
      );
      await s.db.execute(sql.raw(`alter table ${table} enable always trigger record_role`));
    }
    try {
      const { tenantId, connectionId } = await connectedSandboxTenant(s, sandbox);
      const r = await runSync(s, { connectionId, pageSize: 25 });
      expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
      expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
      const seen = await rows<{ tbl: string; role: string }>(sql`
        select distinct tbl, role from roles_seen order by tbl, role`);
      const role = usingPostgres ? 'origin' : 'replica';
      expect(seen).toEqual([
        { tbl: 'invoices', role },
        { tbl: 'payment_allocations', role },
        { tbl: 'payments', role },
      ]);
      // Every reference of the synced ledger resolves.
      const [dangling] = await rows<{ n: number }>(sql`
        select (select count(*) from invoices i where not exists (select 1 from customers c where c.id = i.customer_id))
             + (select count(*) from payments p where not exists (select 1 from customers c where c.id = p.customer_id))
             + (select count(*) from payment_allocations a
                where not exists (select 1 from payments p where p.id = a.payment_id)
                   or (a.invoice_id is not null and not exists (select 1 from invoices i where i.id = a.invoice_id)))
             as n`);
      expect(Number(dangling?.n)).toBe(0);
    } finally {
      for (const table of ['invoices', 'payments', 'payment_allocations'])
        await s.db.execute(sql.raw(`drop trigger record_role on ${table}`));
      await s.db.execute(sql`drop function record_role()`);
      await s.db.execute(sql`drop table roles_seen`);
    }
  });

  describe('a referenced row deleted between the insert and the check', () => {
    let tenantId = '';
    let connectionId = '';
    let syncRunId = '';
    beforeAll(async () => {
      const seeded = await seedFullSyncRun(s, 'vanish-realm');
      tenantId = seeded.tenant.id;
      connectionId = seeded.connection.id;
      syncRunId = seeded.runId;
      // A stored customer and invoice the pages below reference.
      await applySyncPage(s.db, {
        tenantId,
        connectionId,
        syncRunId,
        page: {
          ...blank(),
          customers: [{ externalId: 'K1', name: 'Kept', emails: [], sourceUpdatedAt: T1 }],
          invoices: [invoice('K1-inv', 'K1')],
        },
        progress: { entities: {} },
        now: sandbox.now(),
      });
    });

    /**
     * The deletion another transaction could make on Postgres while the page's rows wait for their check, made here
     * by an ENABLE ALWAYS statement trigger on `table` (PGlite has no second session).
     */
    async function deletingAfterInsertOn<T>(table: string, deletion: string, fn: () => Promise<T>) {
      await s.db.execute(
        sql.raw(`create function vanish() returns trigger language plpgsql as $$
                 begin ${deletion}; return null; end $$`),
      );
      await s.db.execute(
        sql.raw(
          `create trigger vanish after insert on ${table} for each statement execute function vanish()`,
        ),
      );
      await s.db.execute(sql.raw(`alter table ${table} enable always trigger vanish`));
      try {
        return await fn().then(
          (value) => ({ value, err: null }),
          (err: unknown) => ({ value: null, err }),
        );
      } finally {
        await s.db.execute(sql.raw(`drop trigger vanish on ${table}`));
        await s.db.execute(sql`drop function vanish()`);
      }
    }

    /** The tenant's ledger as text, and the connection's cursor. */
    async function state() {
      const [row] = await rows<{ d: string }>(sql`
        select concat_ws(' / ',
          (select string_agg(external_id || ':' || (deleted_at is null)::text, ',' order by external_id) from customers
           where tenant_id = ${tenantId}::uuid),
          (select string_agg(external_id, ',' order by external_id) from invoices where tenant_id = ${tenantId}::uuid),
          (select string_agg(external_id, ',' order by external_id) from payments where tenant_id = ${tenantId}::uuid),
          (select count(*)::text from payment_allocations where tenant_id = ${tenantId}::uuid)) as d`);
      return { ledger: row?.d, cursor: (await readConnection(s, connectionId)).syncCursor };
    }

    const apply = (page: SyncPage<unknown>, insertOnly: { invoices?: boolean; payments?: boolean }) =>
      applySyncPage(s.db, {
        tenantId,
        connectionId,
        syncRunId,
        page,
        // As run-sync passes it: per-page checks on PGlite only.
        insertOnly: { ...insertOnly, keysPerPage: !usingPostgres },
        progress: { entities: {} },
        now: sandbox.now(),
      });

    it('a deletion that leaves the references whole: the set check passes and the page is written', async () => {
      // The transaction deleted a customer (so the check runs), but not one the page's rows reference.
      await applySyncPage(s.db, {
        tenantId,
        connectionId,
        syncRunId,
        page: {
          ...blank(),
          customers: [{ externalId: 'U1', name: 'Unrelated', emails: [], sourceUpdatedAt: T1 }],
        },
        progress: { entities: {} },
        now: sandbox.now(),
      });
      const page: SyncPage<unknown> = {
        ...blank(),
        invoices: [invoice('K1-inv3', 'K1')],
        cursor: { mode: 'full', entity: 'Invoice', afterId: 'K1-inv3' },
      };
      const { err } = await deletingAfterInsertOn(
        'invoices',
        `delete from customers where tenant_id = '${tenantId}' and external_id = 'U1'`,
        () => apply(page, { invoices: true }),
      );
      expect(err).toBeNull();
      const after = await state();
      expect(after.ledger).toContain('K1-inv3');
      expect(after.ledger).not.toContain('U1');
      expect(after.cursor).toEqual(page.cursor);
    });

    it("an invoices page whose customer is gone fails whole with the customer key's violation", async () => {
      const before = await state();
      const page: SyncPage<unknown> = {
        ...blank(),
        customers: [{ externalId: 'V1', name: 'Vanishing', emails: [], sourceUpdatedAt: T1 }],
        invoices: [invoice('V1-inv', 'V1'), invoice('K1-inv2', 'K1')],
        cursor: { mode: 'full', entity: 'Invoice', afterId: 'V1-inv' },
      };
      const { err } = await deletingAfterInsertOn(
        'invoices',
        `delete from customers where tenant_id = '${tenantId}' and external_id = 'V1'`,
        () => apply(page, { invoices: true }),
      );
      if (usingPostgres) {
        // The per-row checks pass at the insert; the deletion then cascades to the customer's invoice.
        expect(err).toBeNull();
        const after = await state();
        expect(after.ledger).not.toContain('V1');
        expect(after.ledger).toContain('K1-inv2');
      } else {
        expect(sqlState(err)).toBe('23503');
        expect(constraintOf(err)).toBe('invoices_customer_id_customers_id_fk');
        // Nothing of the page was written: not its customer, not the invoice of the customer that stayed, not the cursor.
        expect(await state()).toEqual(before);
      }
    });

    it("a payments page whose paid invoice is gone fails whole with the line's invoice key violation", async () => {
      const before = await state();
      const page: SyncPage<unknown> = {
        ...blank(),
        payments: [
          {
            externalId: 'P1',
            customerExternalId: 'K1',
            date: '2026-10-15',
            currency: 'USD',
            amountMinor: 10_000,
            unappliedMinor: 0,
            status: 'active' as const,
            allocations: [{ invoiceExternalId: 'K1-inv', amountMinor: 10_000 }],
            sourceUpdatedAt: T1,
          },
        ],
        cursor: { mode: 'full', entity: 'Payment', afterId: 'P1' },
      };
      const { err } = await deletingAfterInsertOn(
        'payment_allocations',
        `delete from invoices where tenant_id = '${tenantId}' and external_id = 'K1-inv'`,
        () => apply(page, { payments: true }),
      );
      if (usingPostgres) {
        // The deletion cascades to the line that paid it; the payment stays.
        expect(err).toBeNull();
        const after = await state();
        expect(after.ledger).not.toContain('K1-inv,');
        expect(after.ledger).toMatch(/ \/ P1 \/ 0$/);
      } else {
        expect(sqlState(err)).toBe('23503');
        expect(constraintOf(err)).toBe('payment_allocations_invoice_id_invoices_id_fk');
        expect(await state()).toEqual(before);
      }
    });
  });
});
