/**
 * A debtor who paid gets a "payment received" receipt (a message of kind `receipt`), which is not a reminder. The
 * lists' "Next reminder" (Invoices `nextReminderAt`, Customers `nextActionAt`, and their exports) counted it as one:
 * a customer who had paid everything showed a next reminder, and the paid invoice too, on the receipt's send day.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { customerId, importLedger, messagesOf, suiteSetup } from '../dunning-engine/fixtures';
import { parseCsv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: string;
let clock: ManualClock;
const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, clock, tenantId: tenant, auth } = suite);
}, 120_000);

const json = async (path: string) => {
  const r = await app.inject({ url: `/api/v1/tenants/${tenant}/${path}`, headers: auth });
  expect(r.statusCode, r.body).toBe(200);
  return r;
};

describe("the lists' next reminder, once a debtor paid", () => {
  it('is not the receipt thanking them for it', async () => {
    await planTenant(s, tenant);
    // MID's reminder went out; MID then paid its open invoice and the plan queues a receipt.
    const mid = await customerId(s, 'MID');
    const [reminder] = (await messagesOf(s, tenant)).filter(
      (m) => m.customerId === mid && m.kind === 'reminder',
    );
    expect(reminder).toBeDefined();
    await s.db
      .update(dunningMessages)
      .set({ status: 'sent', sentAt: clock.now() })
      .where(eq(dunningMessages.id, reminder!.id));
    clock.set(new Date(clock.now().getTime() + 3_600_000));
    await importLedger(s, { 'MID-O': '2013-07-01' });
    await planTenant(s, tenant);
    const receipts = await s.db
      .select({ status: dunningMessages.status, sendAt: dunningMessages.sendAt })
      .from(dunningMessages)
      .where(and(eq(dunningMessages.customerId, mid), eq(dunningMessages.kind, 'receipt')));
    // What the case is about: a receipt waits to go, and nothing else for MID.
    expect(receipts.map((r) => r.status)).toEqual(['queued']);
    expect(
      (await messagesOf(s, tenant)).filter(
        (m) =>
          m.customerId === mid &&
          m.kind === 'reminder' &&
          ['planned', 'queued', 'awaiting_approval'].includes(m.status),
      ),
    ).toEqual([]);

    const customers = (await json('customers')).json() as {
      items: { externalId: string; nextActionAt: string | null; nextActionWaits: string | null }[];
    };
    expect(customers.items.find((c) => c.externalId === 'MID')).toMatchObject({
      nextActionAt: null,
      nextActionWaits: null,
    });
    const invoices = (await json('invoices?status=all&limit=500')).json() as {
      items: { externalId: string; nextReminderAt: string | null }[];
    };
    expect(invoices.items.find((i) => i.externalId === 'MID-O')).toMatchObject({ nextReminderAt: null });
    // The exports say the same.
    const cell = (table: string[][], key: [string, string], column: string) => {
      const row = table.find((r) => r[table[0]!.indexOf(key[0])] === key[1]);
      expect(row, key.join(' ')).toBeDefined();
      return row![table[0]!.indexOf(column)];
    };
    const customerCsv = parseCsv((await json('customers?format=csv')).body);
    expect(cell(customerCsv, ['Customer ID', 'MID'], 'Next reminder')).toBe('');
    const invoiceCsv = parseCsv((await json('invoices?status=all&format=csv')).body);
    expect(cell(invoiceCsv, ['Invoice', 'MID-O'], 'Next reminder')).toBe('');

    // The receipt goes out: the invoice's last reminder is still the reminder.
    const remindedAt = (
      await s.db
        .select({ sentAt: dunningMessages.sentAt })
        .from(dunningMessages)
        .where(eq(dunningMessages.id, reminder!.id))
    )[0]!.sentAt!.toISOString();
    await s.db
      .update(dunningMessages)
      .set({ status: 'sent', sentAt: new Date(clock.now().getTime() + 3_600_000) })
      .where(and(eq(dunningMessages.customerId, mid), eq(dunningMessages.kind, 'receipt')));
    const after = (await json('invoices?status=all&limit=500')).json() as {
      items: { externalId: string; lastReminderAt: string | null }[];
    };
    expect(after.items.find((i) => i.externalId === 'MID-O')).toMatchObject({ lastReminderAt: remindedAt });
  });
});
