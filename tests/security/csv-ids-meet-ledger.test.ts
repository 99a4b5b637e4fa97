/**
 * A CSV company connects its ledger (README, Security model, "How a company is identified"): the file's ids are its
 * own (a customer number, an invoice number), the ledger's are the provider's (QuickBooks counts 1, 2, 3…), and the
 * same text in both names two different records more often than not. Before, the connect let a ledger record land
 * on the file's row that had its id: the row, and everything the company had told Duely about the file's debtor
 * (its contact addresses, a pause, an exclusion, promises and disputes), became the ledger customer's. The file's
 * customer "1" had their reminders go to alice@file-debtor.example; after the first sync the ledger's customer 1's
 * open invoices — another debtor's amounts and invoice numbers — were planned to alice. The file's rows now step
 * aside at connect (their ids leave the ledger's space), so the ledger's records are new rows and the file's are
 * swept by the first full listing with what Duely held for them.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { rowsOf } from '../../src/db/client';
import { upsertOverride } from '../../src/db/queries/dunning-settings';
import { createTenant } from '../../src/db/queries/tenants';
import { connections, customers, invoices, tenants } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { refreshInvoicesLive } from '../../src/sync/live-refresh';
import { runSync } from '../../src/sync/run-sync';
import { goLive, messagesOf } from '../dunning-engine/fixtures';
import { csv } from '../helpers/csv';
import { connectSandboxTo, sandboxServices } from '../sync/helpers';

let sandbox: Sandbox;
let s: Services;
const started: { sandbox: Sandbox; s: Services }[] = [];
afterAll(async () => {
  for (const x of started) {
    await x.s.close();
    await x.sandbox.stop();
  }
});

/** A QuickBooks stand-in company of its own for each test (a company is connected to one tenant). */
async function company(seed: number) {
  ({ sandbox, s } = await sandboxServices({ seed, customers: 12, invoices: 120 }, { queue: false }));
  started.push({ sandbox, s });
}

const ALICE = 'alice@file-debtor.example';

/** Connects the stand-in's company to the CSV company `tenantId` (no sync yet): the connection's id. */
const connect = (tenantId: string) => connectSandboxTo(s, sandbox, tenantId);

describe('a CSV company whose file used ids its ledger also uses, once it connects the ledger', () => {
  it("sends none of the ledger customer's invoices to the file debtor's address, and keeps no exclusion of theirs", async () => {
    await company(3701);
    const now = sandbox.now();
    // Ledger customers with open invoices: the file uses two of their ids for two debtors of its own.
    const open = [...sandbox.company.invoices.values()].filter(
      (i) => !i.deleted && !i.voided && i.balanceMinor > 0,
    );
    const owing = [...new Set(open.map((i) => i.customerId))];
    expect(owing.length).toBeGreaterThanOrEqual(2);
    const [aliceId, carolId] = owing as [string, string];

    const tenant = await createTenant(s.db, 'Began With A File', 'csv');
    const file = csv([
      [aliceId, 'A-100', '2026-10-01', '2026-10-31', '120.00', 'USD', '', 'email', 'US'],
      [carolId, 'C-200', '2026-10-01', '2026-10-31', '80.00', 'USD', '', 'email', 'US'],
      // Ids the released rows' prefix makes of the two above: the release must not trip over them.
      [`csv:${aliceId}`, 'csv:A-100', '2026-10-01', '2026-10-31', '5.00', 'USD', '', 'email', 'US'],
    ]);
    await importHistoryCsv(s.db, file, { tenantName: 'ignored', tenantId: tenant.id, now });
    const fileCustomer = async (externalId: string) => {
      const [row] = await s.db
        .select({ id: customers.id })
        .from(customers)
        .where(and(eq(customers.tenantId, tenant.id), eq(customers.externalId, externalId)));
      return row!.id;
    };
    // What the company told Duely about its file's debtors: Alice's address; Carol is excluded (in dispute at law).
    await upsertOverride(
      s.db,
      tenant.id,
      { customerId: await fileCustomer(aliceId) },
      { contactEmails: [ALICE] },
    );
    await upsertOverride(s.db, tenant.id, { customerId: await fileCustomer(carolId) }, { excluded: true });

    const connectionId = await connect(tenant.id);
    const result = await runSync(s, { connectionId });
    expect(result.status, result.error ?? '').toBe('succeeded');

    // The ledger's customers are the ledger's: their own names, live, under their own ids.
    for (const id of [aliceId, carolId]) {
      const [row] = await s.db
        .select({ name: customers.name })
        .from(customers)
        .where(
          and(eq(customers.tenantId, tenant.id), eq(customers.externalId, id), isNull(customers.deletedAt)),
        );
      expect(row?.name).toBe(sandbox.company.customers.get(id)!.name);
    }

    await goLive(s, tenant.id);
    await planTenant(s, tenant.id);
    const messages = await messagesOf(s, tenant.id);
    // No reminder of the ledger's invoices goes to the file debtor's address.
    const toAlice = messages.filter((m) => m.to.some((a) => a.toLowerCase() === ALICE));
    expect(toAlice.map((m) => m.invoiceIds.length)).toEqual([]);
    // The ledger's customer whose id the excluded file debtor had is chased like any other (nobody excluded them).
    const carolLedger = await s.db
      .select({ id: invoices.id })
      .from(invoices)
      .innerJoin(customers, eq(customers.id, invoices.customerId))
      .where(and(eq(invoices.tenantId, tenant.id), eq(customers.externalId, carolId)));
    const planned = new Set(messages.flatMap((m) => m.invoiceIds));
    expect(carolLedger.some((i) => planned.has(i.id))).toBe(true);
  });

  it("before the first sync, a send's live read never brings the ledger's invoice of the file's id onto the file's row", async () => {
    await company(3702);
    const now = sandbox.now();
    const inv = [...sandbox.company.invoices.values()].find(
      (i) => !i.deleted && !i.voided && i.balanceMinor > 0,
    )!;
    const tenant = await createTenant(s.db, 'Began With A File', 'csv');
    // The file's invoice and customer numbers are also ids in the ledger, of another debtor's invoice.
    await importHistoryCsv(
      s.db,
      csv([[inv.customerId, inv.id, '2026-10-01', '2026-10-31', '12.34', 'USD', '', 'email', 'US']]),
      { tenantName: 'ignored', tenantId: tenant.id, now },
    );
    const [fileInvoice] = await s.db
      .select({ id: invoices.id, customerId: invoices.customerId })
      .from(invoices)
      .where(eq(invoices.tenantId, tenant.id));
    const connectionId = await connect(tenant.id);
    const [conn] = await s.db.select().from(connections).where(eq(connections.id, connectionId));

    // What the send's re-check does right before a reminder of the file's invoice goes out.
    await refreshInvoicesLive(s, conn!, [fileInvoice!.id]);
    const [row] = await s.db
      .select({
        customerId: invoices.customerId,
        totalMinor: invoices.totalMinor,
        number: invoices.number,
        status: invoices.status,
      })
      .from(invoices)
      .where(eq(invoices.id, fileInvoice!.id));
    // Still the file's invoice (its debtor, its amount, its number), and no longer chased: the ledger lacks it.
    expect(row).toEqual({
      customerId: fileInvoice!.customerId,
      totalMinor: 1234,
      number: inv.id,
      status: 'deleted',
    });
  });

  it('an upload running while the company connects its ledger leaves no row under a file id in the synced company', async () => {
    await company(3703);
    const now = sandbox.now();
    const inv = [...sandbox.company.invoices.values()].find((i) => !i.deleted && !i.voided)!;
    const tenant = await createTenant(s.db, 'Began With A File', 'csv');
    const row = (c: string, i: string) => [
      c,
      i,
      '2026-10-01',
      '2026-10-31',
      '12.34',
      'USD',
      '',
      'email',
      'US',
    ];
    await importHistoryCsv(s.db, csv([row('FILE-1', 'F-1')]), { tenantName: 'x', tenantId: tenant.id, now });

    // The upload's rows use ids the ledger also uses (another debtor's invoice, under its customer's id).
    const upload = () =>
      importHistoryCsv(s.db, csv([row(inv.customerId, inv.id)]), {
        tenantName: 'x',
        tenantId: tenant.id,
        now,
      }).then(
        () => 'imported',
        (err: { status?: number }) => err.status,
      );
    let outcome: unknown;
    if (s.dbh.kind === 'postgres') {
      // Another import of the company holds its import lock: this upload waits for it past its checks, and the
      // connect comes in meanwhile (on PGlite, one connection, the two can only run one after the other).
      let open!: () => void;
      const gate = new Promise<void>((r) => {
        open = r;
      });
      let locked!: () => void;
      const held = new Promise<void>((r) => {
        locked = r;
      });
      const holder = s.db.transaction(async (tx) => {
        await tx.execute(
          sql`select pg_advisory_xact_lock(hashtextextended(${`csv-import:${tenant.id}`}, 0))`,
        );
        locked();
        await gate;
      });
      await held;
      const uploading = upload();
      await waitForLockWaiters(1);
      const connecting = connect(tenant.id);
      // Before the fix the connect finished here, while the upload still waited: give it the time to.
      await Promise.race([connecting, new Promise((r) => setTimeout(r, 1500))]);
      open();
      await holder;
      [outcome] = await Promise.all([uploading, connecting]);
    } else {
      [outcome] = await Promise.all([upload(), connect(tenant.id)]);
    }
    // The upload went first (its rows then released by the connect) or came after it and was refused.
    expect(['imported', 409]).toContain(outcome);
    const [t] = await s.db.select({ source: tenants.source }).from(tenants).where(eq(tenants.id, tenant.id));
    expect(t?.source).toBe('quickbooks');
    // Nothing under a file's own id: every row the company holds is a released one (no sync has run yet).
    const rows = [
      ...(await s.db
        .select({ id: customers.externalId })
        .from(customers)
        .where(eq(customers.tenantId, tenant.id))),
      ...(await s.db
        .select({ id: invoices.externalId })
        .from(invoices)
        .where(eq(invoices.tenantId, tenant.id))),
    ];
    expect(rows.map((r) => r.id).filter((id) => !id.startsWith('csv:'))).toEqual([]);
  });
});

/** Waits until `n` sessions wait for an advisory lock (Postgres). */
async function waitForLockWaiters(n: number) {
  for (let i = 0; i < 200; i++) {
    const [row] = rowsOf<{ n: number }>(
      await s.db.execute(
        sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`,
      ),
    );
    if (Number(row?.n ?? 0) >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no session waits for the import lock');
}
