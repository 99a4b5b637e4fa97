/**
 * QuickBooks "bill with parent", from outside: a company with a parent customer and its sub-customers (jobs) is
 * fully synced from the row-level stand-in (tests/sync/qbo-book.ts), reminders are planned, and the planned
 * messages' recipients are what QuickBooks' billing says: a job billed with its parent is chased at the parent's
 * address, in the parent's message; a job not billed with its parent at its own; an invoice with its own BillEmail
 * (any customer's) at that address unless it bounced or a dunning contact is set; a job whose parent has no address
 * falls back to its own, and with neither a contact is sought. Nobody receives two reminders from one run.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contactSuppressions,
  customers,
  dunningOverrides,
  dunningTasks,
  invoices,
} from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { approveAll, goLive, messagesOf, RecordingTransport } from '../dunning-engine/fixtures';
import { bookServices, seedConnection, tokensAt } from './helpers';
import type { QboBook } from './qbo-book';

const START = Date.parse('2026-11-02T15:00:00.000Z');
let book: QboBook;
let s: Services;
let tenantId = '';
let connectionId = '';

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
  ({ book, s } = await bookServices(START, { env: { MAIL_FROM: 'Nora Billing <billing@duely.example>' } }));
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
  // A parent with two addresses whose job's invoice was sent to one of them (in another case): one message.
  book.put('Customer', customer('4009', 'Atlas Co', email('ap@atlas.example.com, cfo@atlas.example.com')));
  book.put(
    'Customer',
    customer('4002', 'Atlas Co:Warehouse', { ...email('site@atlas-wh.example.com'), ...job('4009', true) }),
  );
  book.put('Invoice', invoice('4010', '4002', 700, { BillEmail: { Address: 'CFO@atlas.example.com' } }));
  book.put('Invoice', invoice('4011', '4009', 200));
  // An ordinary customer whose invoices were sent to its AP mailbox (BillEmail), one to its own address.
  book.put('Customer', customer('5009', 'Birch LLC', email('office@birch.example.com')));
  book.put('Invoice', invoice('5010', '5009', 500, { BillEmail: { Address: 'payables@birch.example.com' } }));
  book.put('Invoice', invoice('5011', '5009', 150));
  book.put('Invoice', invoice('5012', '5009', 250, { BillEmail: { Address: 'office@birch.example.com' } }));
  // A BillEmail that bounced: the customer's own address instead.
  book.put('Customer', customer('6009', 'Cedar GmbH', email('ap@cedar.example.com')));
  book.put('Invoice', invoice('6010', '6009', 330, { BillEmail: { Address: 'old@cedar.example.com' } }));
  // A customer with no address of its own: the invoice that was sent somewhere (its BillEmail) is chased there, the
  // other waits on the call list.
  book.put('Customer', customer('7009', 'Elm Corp'));
  book.put('Invoice', invoice('7010', '7009', 410, { BillEmail: { Address: 'ap@elm.example.com' } }));
  book.put('Invoice', invoice('7011', '7009', 95));
  // A BillEmail of several addresses (QuickBooks allows them comma-separated): each address is a recipient, once.
  book.put('Customer', customer('8009', 'Fir Ltd', email('office@fir.example.com')));
  book.put(
    'Invoice',
    invoice('8010', '8009', 640, {
      BillEmail: {
        Address: 'payables@fir.example.com, Controller@fir.example.com; PAYABLES@fir.example.com',
      },
    }),
  );
  book.put('Invoice', invoice('8011', '8009', 80));
  // One of them bounced: the other still gets it.
  book.put('Customer', customer('8109', 'Gum Co', email('office@gum.example.com')));
  book.put(
    'Invoice',
    invoice('8110', '8109', 210, { BillEmail: { Address: 'old@gum.example.com, ap@gum.example.com' } }),
  );
  // One of them could inject a header: it alone is dropped.
  book.put('Customer', customer('8209', 'Hemlock Inc', email('office@hemlock.example.com')));
  book.put(
    'Invoice',
    invoice('8210', '8209', 310, {
      BillEmail: { Address: 'ap@hemlock.example.com\r\nBcc: spy@evil.example, pay@hemlock.example.com' },
    }),
  );
  // A list that overlaps the customer's addresses and adds one: the invoice goes to its list, and since that
  // shares an address with the customer's other invoice, one message to all three lists both.
  book.put('Customer', customer('8309', 'Ivy SA', email('ap@ivy.example.com, boss@ivy.example.com')));
  book.put(
    'Invoice',
    invoice('8310', '8309', 520, {
      BillEmail: { Address: 'AP@ivy.example.com, lawyer@ivy-legal.example.com' },
    }),
  );
  book.put('Invoice', invoice('8311', '8309', 60));
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
  connectionId = connection.id;
  await s.db.insert(contactSuppressions).values([
    { tenantId, email: 'old@cedar.example.com', kind: 'bounced' },
    { tenantId, email: 'old@gum.example.com', kind: 'bounced' },
  ]);
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
      // The job's invoice went to one of its parent's addresses: one message to the parent lists both.
      'ap@atlas.example.com,cfo@atlas.example.com': ['4010', '4011'],
      // Any customer: an invoice is chased where it was sent (its BillEmail), the rest at the customer's address.
      'payables@birch.example.com': ['5010'],
      'office@birch.example.com': ['5011', '5012'],
      // The BillEmail bounced: the customer's address.
      'ap@cedar.example.com': ['6010'],
      // No address of its own: only the invoice that names one.
      'ap@elm.example.com': ['7010'],
      // Every address of a BillEmail list (deduplicated), in one message; the bounced one and the one that could
      // inject a header left out alone.
      'payables@fir.example.com,Controller@fir.example.com': ['8010'],
      'office@fir.example.com': ['8011'],
      'ap@gum.example.com': ['8110'],
      'pay@hemlock.example.com': ['8210'],
      'ap@ivy.example.com,boss@ivy.example.com,lawyer@ivy-legal.example.com': ['8310', '8311'],
    });
    // Nobody receives two reminders from one run.
    const to = (await messagesOf(s, tenantId))
      .filter((m) => m.kind === 'reminder' && m.status !== 'skipped')
      .flatMap((m) => m.to.map((a) => a.toLowerCase()));
    expect(to.length).toBe(new Set(to).size);
    // Nobody at the job's own address hears about an invoice its parent pays.
    const all = (await messagesOf(s, tenantId)).flatMap((m) => m.to);
    expect(all).not.toContain('site@kitchen.example.com');
    expect(all).not.toContain('deck@nora.example.com');
  });

  it('a BillEmail of several addresses is stored as the list of its usable ones, each once, and found by any', async () => {
    const stored = async (externalId: string) =>
      (
        await s.db
          .select({ billEmail: invoices.billEmail })
          .from(invoices)
          .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, externalId)))
      )[0]?.billEmail;
    expect(await stored('8010')).toBe('payables@fir.example.com, Controller@fir.example.com');
    expect(await stored('8210')).toBe('pay@hemlock.example.com');
    expect(await stored('5010')).toBe('payables@birch.example.com');
    expect(await stored('1010')).toBeNull();
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

  it("a dunning contact set on the customer wins over its invoices' BillEmail", async () => {
    await s.db.insert(dunningOverrides).values({
      tenantId,
      customerId: await idOf(customers, '5009'),
      contactEmails: ['controller@birch.example.com'],
    });
    await planTenant(s, tenantId);
    const planned = await plannedRecipients();
    expect(planned['controller@birch.example.com']).toEqual(['5010', '5011', '5012']);
    expect(planned['payables@birch.example.com']).toBeUndefined();
    // The same for a job billed with its parent: the parent's dunning contact wins over the job invoice's BillEmail.
    await s.db.insert(dunningOverrides).values({
      tenantId,
      customerId: await idOf(customers, '1009'),
      contactEmails: ['cfo@nora.example.com'],
    });
    await planTenant(s, tenantId);
    expect((await plannedRecipients())['cfo@nora.example.com']).toEqual(['1010', '1011', '1013']);
    await s.db.delete(dunningOverrides).where(eq(dunningOverrides.tenantId, tenantId));
    await planTenant(s, tenantId);
    expect((await plannedRecipients())['payables@birch.example.com']).toEqual(['5010']);
  });

  it('a job billed with a parent that has no address either: a find-a-contact task for the job', async () => {
    const shed = await idOf(customers, '3002');
    const tasks = await s.db
      .select({ customerId: dunningTasks.customerId, kind: dunningTasks.kind })
      .from(dunningTasks)
      .where(and(eq(dunningTasks.tenantId, tenantId), eq(dunningTasks.kind, 'find_contact')));
    expect(tasks).toContainEqual({ customerId: shed, kind: 'find_contact' });
  });

  it('a customer with no address: its BillEmail invoice is chased there, the other is a find-a-contact task', async () => {
    const elm = await idOf(customers, '7009');
    const [task] = await s.db
      .select({ invoiceIds: dunningTasks.invoiceIds, title: dunningTasks.title })
      .from(dunningTasks)
      .where(
        and(
          eq(dunningTasks.tenantId, tenantId),
          eq(dunningTasks.customerId, elm),
          eq(dunningTasks.kind, 'find_contact'),
        ),
      );
    expect(task).toEqual({
      invoiceIds: [await idOf(invoices, '7011')],
      title: 'Elm Corp has no email address',
    });
    // A second plan changes nothing: the message to the BillEmail is not withdrawn by the customer's block.
    await planTenant(s, tenantId);
    expect((await plannedRecipients())['ap@elm.example.com']).toEqual(['7010']);
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

  it('sent: each address receives exactly one email, listing the invoices chased there', async () => {
    const transport = new RecordingTransport();
    const queued = (await messagesOf(s, tenantId)).filter(
      (m) => m.kind === 'reminder' && m.status === 'queued' && !m.to.includes('ap@nora.example.com'),
    );
    for (const m of queued.sort((a, b) => a.sendAt.getTime() - b.sendAt.getTime())) {
      if (book.clock < m.sendAt.getTime()) book.clock = m.sendAt.getTime();
      expect(await sendMessage(s, m.id, { transport, sleep: async () => {} })).toMatchObject({
        outcome: 'sent',
      });
    }
    const received = new Map<string, string[]>();
    for (const d of transport.deliveries) {
      for (const a of d.to) received.set(a.toLowerCase(), [...(received.get(a.toLowerCase()) ?? []), d.text]);
    }
    for (const [address, texts] of received) expect([address, texts.length]).toEqual([address, 1]);
    const text = (a: string) => received.get(a)?.[0] ?? '';
    expect(text('cfo@atlas.example.com')).toContain('INV-4010');
    expect(text('cfo@atlas.example.com')).toContain('INV-4011');
    expect(text('ap@atlas.example.com')).toBe(text('cfo@atlas.example.com'));
    expect(text('payables@birch.example.com')).toContain('INV-5010');
    expect(text('payables@birch.example.com')).not.toContain('INV-5011');
    expect(text('office@birch.example.com')).toContain('INV-5011');
    expect(text('office@birch.example.com')).not.toContain('INV-5010');
    expect(text('ap@cedar.example.com')).toContain('INV-6010');
    expect(received.has('old@cedar.example.com')).toBe(false);
    expect(received.has('site@atlas-wh.example.com')).toBe(false);
    // A BillEmail of several addresses: each received the one reminder.
    expect(text('controller@fir.example.com')).toContain('INV-8010');
    expect(text('payables@fir.example.com')).toBe(text('controller@fir.example.com'));
    expect(text('office@fir.example.com')).not.toContain('INV-8010');
    expect(text('ap@gum.example.com')).toContain('INV-8110');
    expect(received.has('old@gum.example.com')).toBe(false);
    expect(text('pay@hemlock.example.com')).toContain('INV-8210');
    expect([...received.keys()].filter((a) => a.includes('evil') || a.includes('\n'))).toEqual([]);
    expect(received.has('office@hemlock.example.com')).toBe(false);
    expect(text('lawyer@ivy-legal.example.com')).toContain('INV-8310');
    expect(text('lawyer@ivy-legal.example.com')).toContain('INV-8311');
    expect(text('boss@ivy.example.com')).toBe(text('lawyer@ivy-legal.example.com'));
  });

  it("a job's invoice paid after the parent's reminder: the thank-you is the parent's, at the reminder's address", async () => {
    const nora = await idOf(customers, '1009');
    const paid = await idOf(invoices, '1010');
    book.tick(60);
    book.edit('Invoice', '1010', { Balance: 0 });
    expect((await runSync(s, { connectionId, reason: 'test', pageSize: 1 })).status).toBe('succeeded');
    await planTenant(s, tenantId);
    const receipts = (await messagesOf(s, tenantId)).filter((m) => m.kind === 'receipt');
    expect(receipts.map((m) => ({ to: m.to, customerId: m.customerId, invoiceIds: m.invoiceIds }))).toEqual([
      { to: ['ap@nora.example.com'], customerId: nora, invoiceIds: [paid] },
    ]);
    // The parent unsubscribed (its unsubscribe link, its customer): no thank-you to the address that opted out.
    await s.db.insert(contactSuppressions).values({ tenantId, customerId: nora, kind: 'unsubscribed' });
    const transport = new RecordingTransport();
    const out = await sendMessage(s, receipts[0]!.id, { transport, sleep: async () => {} });
    expect(out).toMatchObject({ outcome: 'skipped', code: 'opted_out' });
    expect(transport.deliveries).toEqual([]);
    await s.db.delete(contactSuppressions).where(eq(contactSuppressions.customerId, nora));
  });

  it("a statement asked for a job billed with its parent lists the job's open invoices, for the parent", async () => {
    const nora = await idOf(customers, '1009');
    const deck = await idOf(customers, '1004');
    const r = await s.dunning.bulk.sendStatements({
      tenantId,
      actor: 'ops@duely.example',
      ids: [deck],
      request: {},
    });
    expect(r.notApplied).toEqual([]);
    const statements = (await messagesOf(s, tenantId)).filter(
      (m) => (m.snapshot as { requestedBy?: string }).requestedBy !== undefined,
    );
    expect(statements.map((m) => ({ customerId: m.customerId, to: m.to, invoiceIds: m.invoiceIds }))).toEqual(
      [{ customerId: nora, to: ['ap@nora.example.com'], invoiceIds: [await idOf(invoices, '1013')] }],
    );
    expect(statements[0]!.reason).toContain(
      'Statement of account for Nora Inc:Deck requested by ops@duely.example',
    );
    // Asked again the same day: the same statement, not a second one.
    const again = await s.dunning.bulk.sendStatements({
      tenantId,
      actor: 'ops@duely.example',
      ids: [deck],
      request: {},
    });
    expect(again.applied).toBe(0);
  });
});
