import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { customerId, importLedger, messagesOf, setup } from './fixtures';

let s: Services;
let tenantId: string;

beforeAll(async () => {
  ({ s, tenantId } = await setup());
}, 120_000);
afterAll(async () => {
  await s?.close();
});

async function pendingOf(customer: string) {
  return (await messagesOf(s, tenantId)).filter(
    (m) => m.customerId === customer && ['queued', 'awaiting_approval'].includes(m.status),
  );
}

describe('planTenant cancels what a payment made wrong', () => {
  it('a partly paid consolidated message is cancelled and re-planned with what is still open', async () => {
    await planTenant(s, tenantId);
    const slow = await customerId(s, 'SLOW');
    const [before] = await pendingOf(slow);
    expect(before!.invoiceIds).toHaveLength(2);

    await importLedger(s, { 'SLOW-O2': '2013-06-30' });
    const r = await planTenant(s, tenantId);
    expect(r.cancelled).toContain(before!.id);
    const [old] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, before!.id));
    expect(old).toMatchObject({ status: 'skipped', statusCode: 'paid' });
    // It says which invoice was settled (it said "some invoices were settled").
    expect(old!.statusReason).toBe(
      'Cancelled before sending: invoice SLOW-O2 is paid; re-planned with the rest',
    );

    const [after] = await pendingOf(slow);
    expect(after).toBeDefined();
    const [o2] = rowsOf<{ id: string }>(
      await s.db.execute(sql`select id from invoices where external_id = 'SLOW-O2'`),
    );
    expect(after!.invoiceIds).not.toContain(o2!.id);
    const snap = after!.snapshot as { invoices: { number: string }[] };
    expect(snap.invoices.map((i) => i.number)).toEqual(['SLOW-O']);
    // Its send job exists.
    const jobs = rowsOf<{ data: { messageId: string } }>(
      await s.db.execute(sql`select data from pgboss.job where name = 'dunning-send'`),
    );
    if (after!.status === 'queued') expect(jobs.some((j) => j.data.messageId === after!.id)).toBe(true);
  });

  it('a fully paid message is cancelled with the reason, and nothing new is planned for it', async () => {
    const slow = await customerId(s, 'SLOW');
    const [pending] = await pendingOf(slow);
    await importLedger(s, { 'SLOW-O2': '2013-06-30', 'SLOW-O': '2013-06-30' });
    const r = await planTenant(s, tenantId);
    expect(r.cancelled).toContain(pending!.id);
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, pending!.id));
    expect(row).toMatchObject({ status: 'skipped', statusCode: 'paid' });
    expect(row!.statusReason).toMatch(/Cancelled before sending: invoice SLOW-O is paid/);
    expect(await pendingOf(slow)).toHaveLength(0);
    // Nothing was sent, so no receipt either.
    expect(r.receipts).toHaveLength(0);
  });
});
