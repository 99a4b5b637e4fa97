/**
 * A CSV company with reminders waiting — one approved and held until a newer upload (ledger_stale), statements someone
 * asked for awaiting approval — connects its ledger. The connect marks the file's rows deleted (releaseImportedRows):
 * those reminders ask for invoices the company's books no longer hold. Before, they stayed pending until the next plan
 * (the first written sync page, or the daily plan when the first sync failed before any): the Dashboard said
 * "1 held until a new upload" of a company that can no longer upload, Approvals listed the statements, and "approve
 * all" approved them (applied, then skipped at send). Now the connect withdraws them, with why.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/db/queries/tenants';
import { customers, dunningMessages, dunningTasks, invoices } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import { openTask } from '../../src/dunning/tasks';
import { ResendTransport } from '../../src/mail/resend';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { giveEmails, goLive } from '../dunning-engine/fixtures';
import { buildTestApp, type TestApp } from '../helpers/app';
import { connectSandboxTo, sandboxLedgerExport, sandboxServices } from './helpers';

const apps: TestApp[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
});

interface Today {
  held: number;
  heldForUpload: number;
  toSendCount: number;
  overdue: number;
}

describe('a CSV company with reminders waiting connects its ledger', () => {
  it('leaves none of them pending: nothing held for an upload, nothing in Approvals', async () => {
    const { sandbox, s } = await sandboxServices({ seed: 3931, customers: 8, invoices: 60 });
    const t = await buildTestApp({ services: s, sandbox });
    apps.push(t);
    const tenant = await createTenant(s.db, 'Began With A File', 'csv');
    const now = sandbox.now();
    // The company's export, uploaded 6 days ago: over the 3-day limit, so an approved reminder is held for an upload.
    await importHistoryCsv(s.db, sandboxLedgerExport(sandbox), {
      tenantName: 'ignored',
      tenantId: tenant.id,
      now: new Date(now.getTime() - 6 * 86_400_000),
    });
    await giveEmails(s, tenant.id);
    await goLive(s, tenant.id);
    await planTenant(s, tenant.id);
    const api = async (method: 'GET' | 'POST', url: string, payload?: object) => {
      const r = await t.app.inject({
        method,
        url: `/api/v1/tenants/${tenant.slug}${url}`,
        headers: t.auth,
        payload,
      });
      expect(r.statusCode, r.body).toBe(200);
      return r.json();
    };
    const pending = () =>
      s.db
        .select({
          id: dunningMessages.id,
          status: dunningMessages.status,
          reason: dunningMessages.statusReason,
        })
        .from(dunningMessages)
        .where(
          and(
            eq(dunningMessages.tenantId, tenant.id),
            inArray(dunningMessages.status, ['planned', 'queued', 'awaiting_approval']),
          ),
        );

    // A reminder approved, then held at its send for the old upload.
    const planned = await pending();
    expect(planned.length).toBeGreaterThan(0);
    const approved = await api('POST', '/dunning/messages/bulk', {
      action: 'approve',
      ids: planned.map((m) => m.id),
    });
    expect(approved.applied).toBe(planned.length);
    // Its send time (the next business morning) comes; the last upload is older still.
    await sandbox.advance(3);
    const transport = new ResendTransport({
      apiKey: 're_unused',
      baseUrl: 'http://127.0.0.1:9',
      timeoutMs: 100,
    });
    const held = await sendMessage(s, planned[0]!.id, { transport, sleep: async () => {} });
    expect(held).toMatchObject({ outcome: 'held', code: 'ledger_stale' });
    // Statements someone asked for, awaiting approval.
    const owing = (await api('GET', '/customers?open=true')) as { items: { id: string }[] };
    const statements = await api('POST', '/customers/bulk', {
      action: 'send_statement',
      ids: owing.items.map((c) => c.id),
    });
    expect(statements.applied).toBeGreaterThan(0);
    const before = (await api('GET', '/dunning/today')) as Today;
    expect(before.heldForUpload).toBe(1);

    await connectSandboxTo(s, sandbox, tenant.id);

    // Every one of them asked for an invoice the books no longer hold: withdrawn, saying so.
    expect(await pending()).toEqual([]);
    const today = (await api('GET', '/dunning/today')) as Today;
    expect(today).toMatchObject({ held: 0, heldForUpload: 0, toSendCount: 0, overdue: 0 });
    const awaiting = (await api('GET', '/dunning/messages?status=awaiting_approval')) as { items: unknown[] };
    expect(awaiting.items).toEqual([]);
    const all = await api('POST', '/dunning/messages/bulk', {
      action: 'approve',
      filter: { status: 'awaiting_approval' },
    });
    expect(all.applied).toBe(0);
    const withdrawn = await s.db
      .select({ status: dunningMessages.status, reason: dunningMessages.statusReason })
      .from(dunningMessages)
      .where(inArray(dunningMessages.id, [planned[0]!.id]));
    expect(withdrawn[0]).toMatchObject({ status: 'skipped' });
    expect(withdrawn[0]!.reason).toMatch(/deleted/);
  });

  it("withdraws a payment receipt of the file's invoice, without saying the payment was reversed", async () => {
    const { sandbox, s } = await sandboxServices({ seed: 3932, customers: 8, invoices: 60 });
    const t = await buildTestApp({ services: s, sandbox });
    apps.push(t);
    const tenant = await createTenant(s.db, 'Began With A File', 'csv');
    const now = sandbox.now();
    const file = sandboxLedgerExport(sandbox);
    await importHistoryCsv(s.db, file, { tenantName: 'ignored', tenantId: tenant.id, now });
    await giveEmails(s, tenant.id);
    await goLive(s, tenant.id);
    await planTenant(s, tenant.id);
    // A reminder went out; the next export shows its invoices paid: the plan thanks the debtor (a receipt).
    const [reminder] = await s.db
      .select()
      .from(dunningMessages)
      .where(and(eq(dunningMessages.tenantId, tenant.id), eq(dunningMessages.kind, 'reminder')));
    expect(reminder).toBeDefined();
    await s.db
      .update(dunningMessages)
      .set({ status: 'sent', sentAt: now })
      .where(eq(dunningMessages.id, reminder!.id));
    const numbers = new Set(
      (
        await s.db
          .select({ number: invoices.number })
          .from(invoices)
          .where(inArray(invoices.id, reminder!.invoiceIds))
      ).map((r) => r.number),
    );
    const today = now.toISOString().slice(0, 10);
    const paid = file
      .split('\n')
      .map((line) => {
        const cells = line.split(',');
        if (!numbers.has(cells[1] ?? '')) return line;
        cells[6] = today;
        return cells.join(',');
      })
      .join('\n');
    await importHistoryCsv(s.db, paid, { tenantName: 'ignored', tenantId: tenant.id, now });
    await planTenant(s, tenant.id);
    const receipts = () =>
      s.db
        .select({
          id: dunningMessages.id,
          status: dunningMessages.status,
          reason: dunningMessages.statusReason,
        })
        .from(dunningMessages)
        .where(and(eq(dunningMessages.tenantId, tenant.id), eq(dunningMessages.kind, 'receipt')));
    const planned = await receipts();
    expect(planned.map((r) => r.status)).toEqual(['queued']);

    await connectSandboxTo(s, sandbox, tenant.id);

    const [after] = await receipts();
    expect(after).toMatchObject({ status: 'skipped' });
    expect(after!.reason).toMatch(/deleted/);
    expect(after!.reason).not.toMatch(/no longer paid/);
  });

  it("closes the Call list's tasks about the file's debtors, whatever their kind", async () => {
    const { sandbox, s } = await sandboxServices({ seed: 3933, customers: 8, invoices: 60 });
    const t = await buildTestApp({ services: s, sandbox });
    apps.push(t);
    const tenant = await createTenant(s.db, 'Began With A File', 'csv');
    const now = sandbox.now();
    await importHistoryCsv(s.db, sandboxLedgerExport(sandbox), {
      tenantName: 'ignored',
      tenantId: tenant.id,
      now,
    });
    const fileCustomers = await s.db
      .select({ id: customers.id })
      .from(customers)
      .where(eq(customers.tenantId, tenant.id))
      .limit(3);
    const today = now.toISOString().slice(0, 10);
    // A call hand-off, a bounce to review, an opt-out to review: tasks the team had on the file's debtors.
    const kinds = ['call', 'review', 'review'] as const;
    for (const [i, c] of fileCustomers.entries()) {
      await openTask(s.db, {
        tenantId: tenant.id,
        customerId: c.id,
        kind: kinds[i]!,
        title: `Task ${i} about a file debtor`,
        invoiceIds: [],
        dedupeKey: `probe:${i}:${c.id}`,
        today,
      });
    }
    const openTasks = async () => {
      const r = await t.app.inject({
        url: `/api/v1/tenants/${tenant.slug}/dunning/tasks?status=open`,
        headers: t.auth,
      });
      expect(r.statusCode, r.body).toBe(200);
      return (r.json() as { items: { title: string }[] }).items.map((x) => x.title);
    };
    expect(await openTasks()).toHaveLength(3);

    await connectSandboxTo(s, sandbox, tenant.id);

    // The debtors they were about are no longer the company's (the ledger's customers are read afresh): none left
    // open on the Call list, each closed saying why.
    expect(await openTasks()).toEqual([]);
    const done = await s.db
      .select({ status: dunningTasks.status, note: dunningTasks.note })
      .from(dunningTasks)
      .where(eq(dunningTasks.tenantId, tenant.id));
    expect(done).toHaveLength(3);
    for (const d of done) {
      expect(d.status).toBe('done');
      expect(d.note).toMatch(/no longer in the ledger/);
    }
  });
});
