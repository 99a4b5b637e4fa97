/**
 * A reminder already waiting (planned, awaiting approval, queued) when the debtor's address changes goes to the new
 * address, not the one the debtor no longer uses. Before, a sync page that changed a customer's email in the ledger
 * re-planned nothing (the planner never revisits a queued message whose key is unchanged, and a page that changed
 * only a customer did not even queue a plan); an invoice's BillEmail, the ledger's copy of the customer's old email,
 * was taken for a deliberate routing and kept being chased; and an override PUT that only cleared its contact left
 * the waiting reminders with the override's address. Runs on PGlite and Postgres.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { SyncPage } from '../../connectors/types';
import { connections, customers, invoices, syncRuns } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { scoreAfterSync } from '../../src/jobs/sync-jobs';
import type { Services } from '../../src/services';
import { applySyncPage } from '../../src/sync/apply-page';
import { approveAll, customerId, messagesOf, suiteSetup, syncCustomerChange } from './fixtures';

let s: Services;
let tenantId: string;
let app: FastifyInstance;
let operator: { authorization: string };
let connectionId = '';
let runId = '';

const suite = suiteSetup({ token: 'operator' });

async function invoiceId(externalId: string): Promise<string> {
  const [i] = await s.db
    .select({ id: invoices.id })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, externalId)));
  return i!.id;
}

beforeAll(async () => {
  ({ s, app, tenantId, auth: operator } = suite);
  // The ledger copied SLOW's email onto SLOW-O (as QuickBooks does with BillEmail); SLOW-O2 was routed on purpose
  // to the group's payables mailbox, an address SLOW never had.
  await s.db.execute(sql`
    update invoices set bill_email = case external_id when 'SLOW-O' then 'ap@slow.example'
                                                      else 'payables@slow-group.example' end
    where tenant_id = ${tenantId}::uuid and external_id in ('SLOW-O', 'SLOW-O2')`);
  const [conn] = await s.db
    .insert(connections)
    .values({ tenantId, provider: 'quickbooks', externalId: 'address-change-1' })
    .returning({ id: connections.id });
  connectionId = conn!.id;
  const [run] = await s.db
    .insert(syncRuns)
    .values({ tenantId, connectionId, kind: 'incremental' })
    .returning({ id: syncRuns.id });
  runId = run!.id;
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
}, 120_000);

/** A sync page carrying one customer as the ledger now has it, run the way the sync job runs it. */
async function syncCustomer(externalId: string, emails: string[]) {
  return syncCustomerChange(
    s,
    { tenantId, connectionId, syncRunId: runId, onSynced: scoreAfterSync(s) },
    externalId,
    { emails },
  );
}

/** The customer's reminders that have not gone out yet. */
async function waiting(externalId: string) {
  const id = await customerId(s, externalId);
  return (await messagesOf(s, tenantId)).filter(
    (m) =>
      m.customerId === id &&
      m.kind === 'reminder' &&
      ['planned', 'queued', 'awaiting_approval'].includes(m.status),
  );
}

describe("a customer's email changed in the ledger after a reminder was queued", () => {
  it('the sync page that changes it re-addresses the waiting reminders (no plan run needed)', async () => {
    const before = await waiting('MID');
    expect(before.length, 'a reminder waiting for MID').toBeGreaterThan(0);
    for (const m of before) expect(m.to).toEqual(['ap@mid.example']);
    const untouched = (await waiting('RELY')).concat(await waiting('SLOW')).map((m) => m.id);
    await syncCustomer('MID', ['billing@mid.example']);
    const now = await waiting('MID');
    expect(now.length).toBeGreaterThan(0);
    for (const m of now) expect(m.to).toEqual(['billing@mid.example']);
    // Only that customer's reminders were taken back.
    const others = (await waiting('RELY')).concat(await waiting('SLOW')).map((m) => m.id);
    expect(others.sort()).toEqual(untouched.sort());
  });

  it("an invoice whose BillEmail is the customer's old address follows the new one; a deliberate BillEmail stays", async () => {
    const copy = await invoiceId('SLOW-O');
    const routed = await invoiceId('SLOW-O2');
    const before = await waiting('SLOW');
    expect(before.find((m) => m.invoiceIds.includes(copy))?.to).toEqual(['ap@slow.example']);
    expect(before.find((m) => m.invoiceIds.includes(routed))?.to).toEqual(['payables@slow-group.example']);
    await syncCustomer('SLOW', ['billing@slow.example']);
    await planTenant(s, tenantId);
    const now = await waiting('SLOW');
    expect(now.find((m) => m.invoiceIds.includes(copy))?.to).toEqual(['billing@slow.example']);
    expect(now.find((m) => m.invoiceIds.includes(routed))?.to).toEqual(['payables@slow-group.example']);
  });

  it('the sync records the addresses the customer no longer has (an address given back leaves them)', async () => {
    await syncCustomer('SLOW', ['billing@slow.example', 'AP@slow.example']);
    const [c] = await s.db
      .select({ emails: customers.emails, formerEmails: customers.formerEmails })
      .from(customers)
      .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, 'SLOW')));
    expect(c).toEqual({ emails: ['billing@slow.example', 'AP@slow.example'], formerEmails: [] });
  });
});

describe('an override PUT that clears its contact', () => {
  it('re-addresses the waiting reminders to the customer again', async () => {
    const id = await customerId(s, 'MID');
    const put = (payload: Record<string, unknown>) =>
      app.inject({
        method: 'PUT',
        url: `/api/v1/tenants/${tenantId}/dunning/overrides`,
        headers: operator,
        payload: { customerId: id, ...payload },
      });
    expect((await put({ contactEmails: ['controller@mid.example'] })).statusCode).toBe(200);
    for (const m of await waiting('MID')) expect(m.to).toEqual(['controller@mid.example']);
    const cleared = await put({ note: 'controller left; back to the billing address' });
    expect(cleared.statusCode).toBe(200);
    const now = await waiting('MID');
    expect(now.length).toBeGreaterThan(0);
    for (const m of now) expect(m.to).toEqual(['billing@mid.example']);
  });
});

describe('the same addresses again, in another case', () => {
  it('are no change: nothing is taken back and re-planned for that page', async () => {
    const replan = vi.spyOn(s.dunning, 'replanPending');
    try {
      await syncCustomer('MID', ['Billing@MID.example']);
      expect(replan).not.toHaveBeenCalled();
      // A real change is (the spy sees it).
      await syncCustomer('MID', ['billing@mid.example', 'cfo@mid.example']);
      expect(replan).toHaveBeenCalledTimes(1);
    } finally {
      replan.mockRestore();
    }
    for (const m of await waiting('MID')) expect(m.to).toEqual(['billing@mid.example', 'cfo@mid.example']);
  });
});

describe('an invoice re-routed in the ledger (its BillEmail changed) after its reminder was queued', () => {
  /** A sync page carrying one invoice as the ledger now has it, its BillEmail set to `billEmail`. */
  async function syncInvoice(externalId: string, billEmail: string) {
    const [i] = await s.db
      .select()
      .from(invoices)
      .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, externalId)));
    const [c] = await s.db.select().from(customers).where(eq(customers.id, i!.customerId));
    const page: SyncPage<unknown> = {
      customers: [],
      invoices: [
        {
          externalId,
          customerExternalId: c!.externalId,
          number: i!.number,
          issueDate: i!.issueDate,
          dueDate: i!.dueDate,
          currency: i!.currency,
          totalMinor: Number(i!.totalMinor),
          balanceMinor: Number(i!.balanceMinor),
          status: i!.status,
          billEmail,
          // Saved in the ledger after the row Duely holds.
          sourceUpdatedAt: new Date((i!.sourceUpdatedAt ?? s.clock.now()).getTime() + 60_000).toISOString(),
        },
      ],
      payments: [],
      creditMemos: [],
      deletions: { customers: [], invoices: [], payments: [], creditMemos: [] },
      cursor: { mode: 'cdc', changedSince: s.clock.now().toISOString() },
    };
    return applySyncPage(s.db, {
      tenantId,
      connectionId,
      syncRunId: runId,
      page,
      progress: { entities: { invoices: { pages: 1, rows: 1, done: false } } },
      now: s.clock.now(),
      onSynced: scoreAfterSync(s),
    });
  }

  it('the waiting reminder goes to the new address (asked again: another recipient), not the old one', async () => {
    await approveAll(s, tenantId);
    const routed = await invoiceId('SLOW-O2');
    const [before] = (await waiting('SLOW')).filter((m) => m.invoiceIds.includes(routed));
    expect(before?.to).toEqual(['payables@slow-group.example']);
    await syncInvoice('SLOW-O2', 'ar@slow-holdings.example');
    // The page queued scoring, and the plan after it (run here as the jobs would).
    await planTenant(s, tenantId);
    const now = (await waiting('SLOW')).filter((m) => m.invoiceIds.includes(routed));
    expect(now).toHaveLength(1);
    expect(now[0]!.to).toEqual(['ar@slow-holdings.example']);
    if (now[0]!.requiresApproval) expect(now[0]!.decidedAt).toBeNull();
  });
});
