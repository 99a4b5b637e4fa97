/**
 * The send's re-check holds a job's invoices as the planner does. A job billed with its parent is chased in the
 * parent's messages; a pause or exclusion set on the job holds its invoices there (planner-input). Before, the
 * re-check right before the send read the overrides of the message's customer (the parent) and of the invoices only,
 * so a job paused after its parent's reminder was queued — by any path that did not plan in the same transaction
 * (a bulk action before it planned, a plan still queued) — was chased anyway.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { customers, dunningMessages, dunningOverrides } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approveAll, customerId, messagesOf, RecordingTransport, setup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
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

describe("a job paused after its parent's reminder was queued", () => {
  it('is not chased: the send stops on the job’s pause', async () => {
    clock.set('2013-07-01T10:00:00Z');
    const hold = await customerId(s, 'HOLD');
    const [m] = (await messagesOf(s, tenantId)).filter((x) => x.customerId === hold && x.status === 'queued');
    expect(m, "HOLD's queued message with SLOW's invoices").toBeDefined();
    // The pause as stored, with no plan after it.
    await s.db
      .insert(dunningOverrides)
      .values({ tenantId, customerId: await customerId(s, 'SLOW'), pausedUntil: '2099-01-01' });
    await s.db
      .update(dunningMessages)
      .set({ status: 'queued', sendAt: clock.now() })
      .where(eq(dunningMessages.id, m!.id));
    const transport = new RecordingTransport();
    expect(await sendMessage(s, m!.id, { transport })).toMatchObject({
      outcome: 'skipped',
      code: 'invoice_paused',
    });
    expect(transport.calls).toEqual([]);
  });
});
