/**
 * A QuickBooks customer's email changed after reminders were queued, from outside: the company is synced from the
 * row-level stand-in (tests/sync/qbo-book.ts), reminders are planned and approved, then the customer's
 * PrimaryEmailAddr is edited in QuickBooks (its invoices keep the old address in BillEmail, as QuickBooks leaves
 * them) and the next incremental sync runs with the job's onSynced. The waiting reminders go to the new address
 * without another plan run; an invoice routed on purpose to another mailbox keeps it. Before, both kept the old one.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoices } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { scoreAfterSync } from '../../src/jobs/sync-jobs';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { approveAll, goLive, messagesOf } from '../dunning-engine/fixtures';
import { bookServices, seedConnection, tokensAt } from './helpers';
import type { QboBook } from './qbo-book';

const START = Date.parse('2026-11-02T15:00:00.000Z');
let book: QboBook;
let s: Services;
let tenantId = '';
let connectionId = '';

const ref = (value: string) => ({ value });
function invoice(id: string, cust: string, total: number, extra: Record<string, unknown> = {}) {
  return {
    Id: id,
    DocNumber: `INV-${id}`,
    TxnDate: '2026-10-01',
    DueDate: '2026-10-20',
    TotalAmt: total,
    Balance: total,
    CustomerRef: ref(cust),
    ...extra,
  };
}

beforeAll(async () => {
  ({ book, s } = await bookServices(START, { env: { MAIL_FROM: 'Oak Billing <billing@duely.example>' } }));
  book.put('Customer', {
    Id: '1009',
    DisplayName: 'Oak Ltd',
    Active: true,
    PrimaryEmailAddr: { Address: 'jane@oak.example.com' },
  });
  // QuickBooks copied the customer's email onto the invoice when it was written.
  book.put('Invoice', invoice('1010', '1009', 800, { BillEmail: { Address: 'jane@oak.example.com' } }));
  // Someone sent this one to the group's payables mailbox.
  book.put(
    'Invoice',
    invoice('1011', '1009', 300, { BillEmail: { Address: 'payables@oak-group.example.com' } }),
  );
  // A job billed with its parent (its reminders are the parent's messages); its invoice was sent to the job's site
  // address (QuickBooks' copy of the job's email), not the parent's.
  book.put('Customer', {
    Id: '1002',
    DisplayName: 'Oak Ltd:Shed',
    Active: true,
    Job: true,
    ParentRef: ref('1009'),
    BillWithParent: true,
    PrimaryEmailAddr: { Address: 'shed@oak-site.example.com' },
  });
  book.put('Invoice', invoice('1012', '1002', 200, { BillEmail: { Address: 'shed@oak-site.example.com' } }));
  const { tenant, connection } = await seedConnection(s, {
    realmId: '7200',
    tokens: tokensAt(new Date(book.clock), 400 * 86_400_000),
  });
  tenantId = tenant.id;
  connectionId = connection.id;
  book.tick(90);
  const r = await runSync(s, { connectionId, reason: 'test', pageSize: 10 });
  expect(r.status).toBe('succeeded');
  await goLive(s, tenantId);
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
}, 120_000);
afterAll(async () => {
  await s?.close();
  await book?.stop();
});

/** Reminders not sent yet, as the invoice external id → its recipients. */
async function waitingTo(): Promise<Record<string, string[]>> {
  const ext = new Map(
    (
      await s.db
        .select()
        .from(invoices)
        .where(and(eq(invoices.tenantId, tenantId)))
    ).map((i) => [i.id, i.externalId]),
  );
  const out: Record<string, string[]> = {};
  for (const m of await messagesOf(s, tenantId)) {
    if (m.kind !== 'reminder' || !['planned', 'queued', 'awaiting_approval'].includes(m.status)) continue;
    for (const id of m.invoiceIds) out[ext.get(id)!] = m.to;
  }
  return out;
}

/** The customer's email changed in QuickBooks a minute ago; the webhook's sync runs, with the sync hook. */
async function emailChangedAndSynced(customerId: string, address: string) {
  book.tick(60);
  book.edit('Customer', customerId, { PrimaryEmailAddr: { Address: address } });
  book.tick(60);
  const r = await runSync(s, { connectionId, reason: 'webhook', pageSize: 10, onSynced: scoreAfterSync(s) });
  expect(r.status).toBe('succeeded');
}

describe("a QuickBooks customer's email changed after reminders were queued", () => {
  it('the next sync re-addresses them: the copied BillEmail follows the customer, the routed one stays', async () => {
    expect(await waitingTo()).toEqual({
      '1010': ['jane@oak.example.com'],
      '1011': ['payables@oak-group.example.com'],
      '1012': ['shed@oak-site.example.com'],
    });
    await emailChangedAndSynced('1009', 'ar@oak.example.com');
    expect(await waitingTo()).toEqual({
      '1010': ['ar@oak.example.com'],
      '1011': ['payables@oak-group.example.com'],
      '1012': ['shed@oak-site.example.com'],
    });
  });

  it("a job billed with its parent: its invoice's copy of the job's old address follows the job's new one", async () => {
    await emailChangedAndSynced('1002', 'yard@oak-site.example.com');
    expect(await waitingTo()).toEqual({
      '1010': ['ar@oak.example.com'],
      '1011': ['payables@oak-group.example.com'],
      '1012': ['yard@oak-site.example.com'],
    });
  });
});
