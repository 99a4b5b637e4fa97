/**
 * The thank-you receipt says "We received your payment of X": it is owed only for money the debtor paid. An
 * invoice the team settled with a credit memo (or a journal entry's credit, a write-off) after a reminder is not
 * a payment: the debtor used to be thanked for a payment they never made, for the invoice's whole amount. A
 * settlement that is partly money and partly credit thanks for the money only.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approveAll, customerId, messagesOf, RecordingTransport, setup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let slow: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
  slow = await customerId(s, 'SLOW');
  const [m] = (await messagesOf(s, tenantId)).filter((x) => x.customerId === slow && x.status === 'queued');
  clock.set(m!.sendAt);
  expect(await sendMessage(s, m!.id, { transport: new RecordingTransport() })).toMatchObject({
    outcome: 'sent',
  });
}, 120_000);
afterAll(async () => {
  await s?.close();
});

async function invoiceOf(externalId: string) {
  const [r] = rowsOf<{ id: string; total_minor: string | number }>(
    await s.db.execute(sql`select id, total_minor from invoices where external_id = ${externalId}`),
  );
  return { id: r!.id, total: Number(r!.total_minor) };
}

/** Settles the invoice as the ledger writer records it: a credit memo applied, plus `moneyMinor` of a payment. */
async function settle(externalId: string, moneyMinor: number, day: string) {
  const inv = await invoiceOf(externalId);
  const creditMinor = inv.total - moneyMinor;
  const [cm] = rowsOf<{ id: string }>(
    await s.db.execute(sql`
      insert into credit_memos (tenant_id, customer_id, external_id, date, currency, total_minor, remaining_minor)
      values (${tenantId}::uuid, ${slow}::uuid, ${`CM-${externalId}`}, ${day}, 'USD', ${creditMinor}, 0)
      returning id`),
  );
  await s.db.execute(sql`
    insert into payment_allocations (tenant_id, credit_memo_id, invoice_id, line_no, amount_minor, date)
    values (${tenantId}::uuid, ${cm!.id}::uuid, ${inv.id}::uuid, 0, ${creditMinor}, ${day})`);
  if (moneyMinor > 0) {
    const [p] = rowsOf<{ id: string }>(
      await s.db.execute(sql`
        insert into payments (tenant_id, customer_id, external_id, date, currency, amount_minor)
        values (${tenantId}::uuid, ${slow}::uuid, ${`P-${externalId}`}, ${day}, 'USD', ${moneyMinor})
        returning id`),
    );
    await s.db.execute(sql`
      insert into payment_allocations (tenant_id, payment_id, invoice_id, line_no, amount_minor, date)
      values (${tenantId}::uuid, ${p!.id}::uuid, ${inv.id}::uuid, 0, ${moneyMinor}, ${day})`);
  }
  await s.db.execute(sql`
    update invoices set status = 'paid', balance_minor = 0, paid_date = ${day} where id = ${inv.id}::uuid`);
  return inv;
}

describe('payment receipt after a credit settled the invoice', () => {
  it('no "payment received" for an invoice settled by a credit memo alone', async () => {
    const day = clock.now().toISOString().slice(0, 10);
    const inv = await settle('SLOW-O2', 0, day);
    const r = await planTenant(s, tenantId);
    const receipts = (await messagesOf(s, tenantId)).filter(
      (m) => m.kind === 'receipt' && m.invoiceIds.includes(inv.id),
    );
    expect(receipts, 'a receipt thanking for a payment never made').toEqual([]);
    expect(r.receipts).toEqual([]);
  });

  it('thanks for the money part only when a payment and a credit memo settle it together', async () => {
    const day = clock.now().toISOString().slice(0, 10);
    const inv = await settle('SLOW-O', 40_000, day);
    const r = await planTenant(s, tenantId);
    expect(r.receipts).toHaveLength(1);
    const out = await sendMessage(s, r.receipts[0]!);
    expect(out.outcome).toBe('sent');
    const [receipt] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, r.receipts[0]!));
    expect(receipt!.invoiceIds).toEqual([inv.id]);
    expect(receipt!.subject).toBe('Payment received: $400.00, thank you');
    expect(receipt!.text).toContain('We received your payment of $400.00');
    expect(receipt!.text).not.toContain('$2,500.00');
  });
});
