/**
 * QuickBooks "bill with parent", from outside: a company with a parent customer and its sub-customers (jobs) is
 * fully synced from the row-level stand-in (tests/sync/qbo-book.ts), reminders are planned, and the planned
 * messages' recipients are what QuickBooks' billing says: a job billed with its parent is chased at the parent's
 * address, in the parent's message; a job not billed with its parent at its own; an invoice with its own BillEmail
 * at that address; a job whose parent has no address falls back to its own, and with neither a contact is sought.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customers, dunningOverrides, dunningTasks, invoices } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { approveAll, goLive, messagesOf, RecordingTransport } from '../dunning-engine/fixtures';
import { createTestServices } from '../helpers/services';
import { QB_ENV, seedConnection, tokensAt } from './helpers';
import { QboBook } from './qbo-book';

const START = Date.parse('2026-11-02T15:00:00.000Z');
let book: QboBook;
let s: Services;
let tenantId = '';

const ref = (value: string) => ({ value });
const email = (address: string) => ({ PrimaryEmailAddr: { Address: address } });
function customer(id: string, name: string, extra: Record<string, unknown> = {}) {
  return { Id: id, DisplayName: name, Active: true, ...extra };
}
const job = (parent: string, billWithParent: boolean) => ({
  Job: true,
  ParentRef: ref(parent),
  BillWithParent: billWithParent,
});
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
  book = new QboBook(START);
  const url = await book.start();
  s = await createTestServices({
    clock: { now: () => new Date(book.clock) },
    env: { ...QB_ENV, QUICKBOOKS_API_URL: url, MAIL_FROM: 'Nora Billing <billing@duely.example>' },
  });
  // Jobs get lower Ids than their parents: keyset pages of one row write each job before its parent.
  book.put('Customer', customer('1009', 'Nora Inc', email('ap@nora.example.com')));
  book.put(
    'Customer',
    customer('1002', 'Nora Inc:Kitchen remodel', {
      ...email('site@kitchen.example.com'),
      ...job('1009', true),
    }),
  );
  book.put(
    'Customer',
    customer('1003', 'Nora Inc:Bathroom', { ...email('bath@nora-bath.example.com'), ...job('1009', false) }),
  );
  book.put(
    'Customer',
    customer('1004', 'Nora Inc:Deck', { ...email('deck@nora.example.com'), ...job('1009', true) }),
  );
  book.put('Customer', customer('2009', 'Quiet Parent Co'));
  book.put(
    'Customer',
    customer('2002', 'Quiet Parent Co:Garage', {
      ...email('garage@quiet.example.com'),
      ...job('2009', true),
    }),
  );
  book.put('Customer', customer('3009', 'Nobody Ltd'));
  book.put('Customer', customer('3002', 'Nobody Ltd:Shed', job('3009', true)));
  book.put('Invoice', invoice('1010', '1002', 800));
  book.put('Invoice', invoice('1011', '1009', 120));
  book.put('Invoice', invoice('1012', '1003', 300));
  book.put('Invoice', invoice('1013', '1004', 450, { BillEmail: { Address: 'owner@deck.example.com' } }));
  book.put('Invoice', invoice('2010', '2002', 90));
  book.put('Invoice', invoice('3010', '3002', 60));
  const { tenant, connection } = await seedConnection(s, {
    realmId: '7100',
    tokens: tokensAt(new Date(book.clock), 400 * 86_400_000),
  });
  tenantId = tenant.id;
  book.tick(90);
  const r = await runSync(s, { connectionId: connection.id, reason: 'test', pageSize: 1 });
  expect(r.status).toBe('succeeded');
  await planTenant(s, tenantId);
}, 120_000);
afterAll(async () => {
  await s?.close();
  await book?.stop();
});

async function idOf(table: typeof customers | typeof invoices, externalId: string): Promise<string> {
  const [row] = await s.db
    .select({ id: table.id })
    .from(table)
    .where(and(eq(table.tenantId, tenantId), eq(table.externalId, externalId)));
  return row!.id;
}

/** Reminders planned and not withdrawn, as recipients → the invoice external ids they list. */
async function plannedRecipients(): Promise<Record<string, string[]>> {
  const byId = new Map(
    (await s.db.select().from(invoices).where(eq(invoices.tenantId, tenantId))).map((i) => [
      i.id,
      i.externalId,
    ]),
  );
  const out: Record<string, string[]> = {};
  for (const m of await messagesOf(s, tenantId)) {
    if (m.kind !== 'reminder' || m.status === 'skipped') continue;
    const key = m.to.join(',');
    out[key] = [...(out[key] ?? []), ...m.invoiceIds.map((id) => byId.get(id)!)].sort();
  }
  return out;
}

describe('bill with parent', () => {
  it('sends each invoice to who pays it: the parent for a job billed with it, in one message with its own', async () => {
    expect(await plannedRecipients()).toEqual({
      // The job billed with its parent and the parent's own invoice: one message to the parent.
      'ap@nora.example.com': ['1010', '1011'],
      // A job not billed with its parent keeps its own address.
      'bath@nora-bath.example.com': ['1012'],
      // An invoice that carries its own BillEmail goes there, even for a job billed with its parent.
      'owner@deck.example.com': ['1013'],
      // The parent has no address: the job's own.
      'garage@quiet.example.com': ['2010'],
    });
    // Nobody at the job's own address hears about an invoice its parent pays.
    const all = (await messagesOf(s, tenantId)).flatMap((m) => m.to);
    expect(all).not.toContain('site@kitchen.example.com');
    expect(all).not.toContain('deck@nora.example.com');
  });

  it("the parent's message says whose invoice it lists (the job's), and the ledger keeps the job's own balance", async () => {
    const nora = await idOf(customers, '1009');
    const kitchen = await idOf(customers, '1002');
    const [m] = (await messagesOf(s, tenantId)).filter((x) => x.to.includes('ap@nora.example.com'));
    expect(m?.customerId).toBe(nora);
    expect(m?.reason).toContain('INV-1010 (Nora Inc:Kitchen remodel)');
    // Aging and risk stay per customer: the invoice remains the job's.
    const [inv] = await s.db
      .select({ customerId: invoices.customerId, balance: invoices.balanceMinor })
      .from(invoices)
      .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, '1010')));
    expect(inv).toEqual({ customerId: kitchen, balance: 80000 });
  });

  it('a job billed with a parent that has no address either: a find-a-contact task for the job', async () => {
    const shed = await idOf(customers, '3002');
    const tasks = await s.db
      .select({ customerId: dunningTasks.customerId, kind: dunningTasks.kind })
      .from(dunningTasks)
      .where(and(eq(dunningTasks.tenantId, tenantId), eq(dunningTasks.kind, 'find_contact')));
    expect(tasks).toContainEqual({ customerId: shed, kind: 'find_contact' });
  });

  it("a pause set on the job holds its invoices in the parent's message; the parent's own are still chased", async () => {
    await s.db.insert(dunningOverrides).values({
      tenantId,
      customerId: await idOf(customers, '1002'),
      pausedUntil: '2027-01-31',
    });
    await planTenant(s, tenantId);
    expect((await plannedRecipients())['ap@nora.example.com']).toEqual(['1011']);
    // Not live yet, so nothing was queued: without the pause the next plan lists the job's invoice again.
    await s.db.delete(dunningOverrides).where(eq(dunningOverrides.tenantId, tenantId));
    await planTenant(s, tenantId);
    expect((await plannedRecipients())['ap@nora.example.com']).toEqual(['1010', '1011']);
  });

  it("sent: the parent receives one email listing the job's invoice and its own (after the pre-send re-read)", async () => {
    await goLive(s, tenantId);
    await planTenant(s, tenantId);
    await approveAll(s, tenantId);
    const [m] = (await messagesOf(s, tenantId)).filter((x) => x.to.includes('ap@nora.example.com'));
    expect(m?.status).toBe('queued');
    if (book.clock < m!.sendAt.getTime()) book.clock = m!.sendAt.getTime();
    const transport = new RecordingTransport();
    const out = await sendMessage(s, m!.id, { transport, sleep: async () => {} });
    expect(out).toMatchObject({ outcome: 'sent' });
    expect(transport.deliveries.map((d) => d.to)).toEqual([['ap@nora.example.com']]);
    expect(transport.deliveries[0]!.text).toContain('INV-1010');
    expect(transport.deliveries[0]!.text).toContain('INV-1011');
  });
});
