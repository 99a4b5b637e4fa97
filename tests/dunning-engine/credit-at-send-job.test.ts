/**
 * The send's credit re-check counts credit as the planner does. A job billed with its parent is chased in the
 * parent's messages and its credit on account is the parent's to use (the planner adds them up); before, the re-check
 * right before the send read the parent's own credit only, so a credit note or unapplied payment the job received
 * after the reminder was approved did not stop it: the email asked for the full amount the credit already covers.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { creditMemos, customers, dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approveAll, customerId, messagesOf, RecordingTransport, setup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
  // SLOW becomes a job of HOLD, billed with it: SLOW's invoices go out in HOLD's messages.
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
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe("a job's credit on account that arrives after its parent's reminder was approved", () => {
  it('stops the send, as the parent’s own credit does', async () => {
    clock.set('2013-07-01T10:00:00Z');
    const hold = await customerId(s, 'HOLD');
    const [m] = (await messagesOf(s, tenantId)).filter((x) => x.customerId === hold && x.status === 'queued');
    expect(m, "HOLD's queued message with SLOW's invoices").toBeDefined();
    expect((m!.snapshot as { credits?: unknown }).credits).toBeUndefined();

    // A credit note on the job, unapplied (as a sync writes it).
    await s.db.insert(creditMemos).values({
      tenantId,
      customerId: await customerId(s, 'SLOW'),
      externalId: 'SLOW-CN1',
      date: '2013-06-30',
      currency: 'USD',
      totalMinor: 50_000,
      remainingMinor: 50_000,
    });
    await s.db
      .update(dunningMessages)
      .set({ status: 'queued', sendAt: clock.now() })
      .where(eq(dunningMessages.id, m!.id));
    const transport = new RecordingTransport();
    expect(await sendMessage(s, m!.id, { transport })).toMatchObject({
      outcome: 'skipped',
      code: 'credit_on_account',
    });
    expect(transport.calls).toEqual([]);
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id));
    expect(row!.statusReason).toContain('$500.00');
  });
});
