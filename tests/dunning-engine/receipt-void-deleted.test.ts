/**
 * A receipt ("we received your payment") whose invoice the ledger then deleted or voided is not owed, and not
 * because the payment was reversed: it is skipped as void_or_deleted with the reminders' wording. An invoice that is
 * open again is a reversed payment (payment_reversed), as before.
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
let receiptId: string;
let invoiceId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
  const slow = await customerId(s, 'SLOW');
  const [m] = (await messagesOf(s, tenantId)).filter((x) => x.customerId === slow && x.status === 'queued');
  clock.set(m!.sendAt);
  expect(await sendMessage(s, m!.id, { transport: new RecordingTransport() })).toMatchObject({
    outcome: 'sent',
  });
  // SLOW pays SLOW-O in full: a receipt is planned.
  const day = clock.now().toISOString().slice(0, 10);
  const [inv] = rowsOf<{ id: string; total_minor: string | number }>(
    await s.db.execute(sql`select id, total_minor from invoices where external_id = 'SLOW-O'`),
  );
  invoiceId = inv!.id;
  const [p] = rowsOf<{ id: string }>(
    await s.db.execute(sql`
      insert into payments (tenant_id, customer_id, external_id, date, currency, amount_minor)
      values (${tenantId}::uuid, ${slow}::uuid, 'P-SLOW-O', ${day}, 'USD', ${Number(inv!.total_minor)})
      returning id`),
  );
  await s.db.execute(sql`
    insert into payment_allocations (tenant_id, payment_id, invoice_id, line_no, amount_minor, date)
    values (${tenantId}::uuid, ${p!.id}::uuid, ${invoiceId}::uuid, 0, ${Number(inv!.total_minor)}, ${day})`);
  await s.db.execute(sql`
    update invoices set status = 'paid', balance_minor = 0, paid_date = ${day} where id = ${invoiceId}::uuid`);
  const r = await planTenant(s, tenantId);
  expect(r.receipts).toHaveLength(1);
  receiptId = r.receipts[0]!;
}, 120_000);
afterAll(async () => {
  await s?.close();
});

/** The receipt back to waiting for its send, and its invoice in the given state. */
async function invoiceNow(status: 'paid' | 'open' | 'void' | 'deleted') {
  await s.db
    .update(dunningMessages)
    .set({ status: 'queued', statusCode: null, statusReason: null })
    .where(eq(dunningMessages.id, receiptId));
  await s.db.execute(sql`
    update invoices set status = ${status}, balance_minor = ${status === 'open' ? 250_000 : 0}
    where id = ${invoiceId}::uuid`);
}

async function sendReceipt() {
  const out = await sendMessage(s, receiptId, { transport: new RecordingTransport() });
  const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, receiptId));
  return { out, row: row! };
}

describe('a receipt whose invoice left the ledger before it was sent', () => {
  it('deleted in the ledger: skipped as void_or_deleted, "Invoice SLOW-O was deleted"', async () => {
    await invoiceNow('deleted');
    const { out, row } = await sendReceipt();
    expect(out).toMatchObject({ outcome: 'skipped', code: 'void_or_deleted' });
    expect(row.status).toBe('skipped');
    expect(row.statusCode).toBe('void_or_deleted');
    expect(row.statusReason).toBe('Invoice SLOW-O was deleted');
  });

  it('voided in the ledger: skipped as void_or_deleted, "Invoice SLOW-O was void"', async () => {
    await invoiceNow('void');
    const { out, row } = await sendReceipt();
    expect(out).toMatchObject({ outcome: 'skipped', code: 'void_or_deleted' });
    expect(row.statusReason).toBe('Invoice SLOW-O was void');
  });

  it('open again (the payment reversed): still payment_reversed, "no longer paid"', async () => {
    await invoiceNow('open');
    const { out, row } = await sendReceipt();
    expect(out).toMatchObject({ outcome: 'skipped', code: 'payment_reversed' });
    expect(row.statusReason).toBe('Invoice SLOW-O is no longer paid');
  });
});
