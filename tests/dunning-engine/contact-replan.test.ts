/**
 * A contact set for reminders re-routes what already waits to be sent, however it is set. The planner never revisits
 * a queued message whose key is unchanged, so each way of naming a contact must take the waiting messages back and
 * plan them again (an approved one then waits for a reviewer: the recipients are part of what was approved).
 * Before: a find-a-contact task answered in place (POST …/tasks/:id/contact) re-planned nothing, so the queued
 * reminder still went to the old address; and a contact set on a job billed with its parent (on the job, or on one
 * of its invoices) re-planned the job's own messages — it has none: its invoices travel in the parent's — so the
 * parent's queued message carried the job's invoice to the parent's address.
 */
import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { customers, dunningMessages, invoices } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { openTask } from '../../src/dunning/tasks';
import type { Services } from '../../src/services';
import { approveAll, customerId, messagesOf, suiteSetup } from './fixtures';

const PENDING = ['planned', 'awaiting_approval', 'queued'];

/** A fresh company on the fixtures' ledger, for one describe block. */
function company(prepare?: (s: Services, tenantId: string) => Promise<void>) {
  const c = suiteSetup();
  beforeAll(async () => {
    await prepare?.(c.s, c.tenantId);
    await planTenant(c.s, c.tenantId);
    await approveAll(c.s, c.tenantId);
  }, 120_000);
  return c;
}
type Company = ReturnType<typeof company>;

async function invoiceId(c: Company, externalId: string): Promise<string> {
  const [i] = await c.s.db
    .select({ id: invoices.id })
    .from(invoices)
    .where(and(eq(invoices.tenantId, c.tenantId), eq(invoices.externalId, externalId)));
  return i!.id;
}

/** The waiting reminders that list `invoice`. */
async function pendingListing(c: Company, invoice: string) {
  return (await messagesOf(c.s, c.tenantId)).filter(
    (m) => m.kind === 'reminder' && PENDING.includes(m.status) && m.invoiceIds.includes(invoice),
  );
}

describe('a find-a-contact task answered in place', () => {
  const c = company();
  it("re-plans the customer's waiting reminders to the new address, which a reviewer approves again", async () => {
    const slow = await customerId(c.s, 'SLOW');
    const slowO = await invoiceId(c, 'SLOW-O');
    const [before] = await pendingListing(c, slowO);
    expect(before).toMatchObject({ status: 'queued', to: ['ap@slow.example'] });
    expect(before!.decidedAt).not.toBeNull();
    // As a bounce of one of the customer's addresses opens it.
    const taskId = await openTask(c.s.db, {
      tenantId: c.tenantId,
      customerId: slow,
      kind: 'find_contact',
      title: 'Find a new contact for SLOW',
      invoiceIds: [slowO],
      dedupeKey: `find_contact:${slow}:test`,
      today: '2013-07-01',
    });
    const r = await c.app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${c.tenantId}/dunning/tasks/${taskId}/contact`,
      headers: c.auth,
      payload: { email: 'payables@slow.example' },
    });
    expect(r.statusCode, r.body).toBe(200);
    const after = await pendingListing(c, slowO);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({
      to: ['payables@slow.example'],
      status: 'awaiting_approval',
      decidedAt: null,
    });
  });
});

describe('a contact set on a job billed with its parent', () => {
  // SLOW becomes a job of HOLD billed with it: SLOW's invoices are chased in HOLD's messages, at HOLD's address.
  const c = company(async (s, tenantId) => {
    await s.db.insert(customers).values({
      tenantId,
      externalId: 'HOLD',
      name: 'Holdings',
      emails: ['ap@hold.example'],
    });
    await s.db
      .update(customers)
      .set({ parentExternalId: 'HOLD', billWithParent: true })
      .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, 'SLOW')));
  });
  const put = async (payload: object) => {
    const r = await c.app.inject({
      method: 'PUT',
      url: `/api/v1/tenants/${c.tenantId}/dunning/overrides`,
      headers: c.auth,
      payload,
    });
    expect(r.statusCode, r.body).toBe(200);
  };

  it("on one of the job's invoices: the parent's waiting message no longer carries it to the parent", async () => {
    const hold = await customerId(c.s, 'HOLD');
    const slowO = await invoiceId(c, 'SLOW-O');
    const [before] = await pendingListing(c, slowO);
    expect(before).toMatchObject({ customerId: hold, status: 'queued', to: ['ap@hold.example'] });
    await put({ invoiceId: slowO, contactEmails: ['kitchen@slow.example'] });
    const after = await pendingListing(c, slowO);
    expect(after).toHaveLength(1);
    expect(after[0]!.to).toEqual(['kitchen@slow.example']);
    expect(after[0]).toMatchObject({ status: 'awaiting_approval', decidedAt: null });
  });

  it("on the job itself: its invoices go to the job's contact", async () => {
    const slow = await customerId(c.s, 'SLOW');
    const slowO2 = await invoiceId(c, 'SLOW-O2');
    await approveAll(c.s, c.tenantId);
    const [before] = await pendingListing(c, slowO2);
    expect(before!.to).not.toContain('jobs@slow.example');
    await put({ customerId: slow, contactEmails: ['jobs@slow.example'] });
    const after = await pendingListing(c, slowO2);
    expect(after).toHaveLength(1);
    expect(after[0]!.to).toEqual(['jobs@slow.example']);
    const rows = await c.s.db.select().from(dunningMessages).where(eq(dunningMessages.id, after[0]!.id));
    expect(rows[0]!.decidedAt).toBeNull();
  });
});

describe('a job billed with its parent, paused from the Customers list (bulk)', () => {
  const c = company(async (s, tenantId) => {
    await s.db.insert(customers).values({
      tenantId,
      externalId: 'HOLD',
      name: 'Holdings',
      emails: ['ap@hold.example'],
    });
    await s.db
      .update(customers)
      .set({ parentExternalId: 'HOLD', billWithParent: true })
      .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, 'SLOW')));
  });

  it("is not chased in the parent's waiting message (the send re-check reads the parent's holds only)", async () => {
    const slow = await customerId(c.s, 'SLOW');
    const slowO = await invoiceId(c, 'SLOW-O');
    const [before] = await pendingListing(c, slowO);
    expect(before).toMatchObject({ status: 'queued' });
    const r = await c.app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${c.tenantId}/customers/bulk`,
      headers: c.auth,
      payload: { action: 'pause', ids: [slow], until: '2099-01-01' },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(await pendingListing(c, slowO)).toEqual([]);
    const [withdrawn] = await c.s.db.select().from(dunningMessages).where(eq(dunningMessages.id, before!.id));
    expect(withdrawn).toMatchObject({ status: 'skipped' });
    expect(withdrawn!.statusReason).toMatch(/paused/);
  });
});
