/**
 * The call list's talking points: the model's view of each open invoice as a person on the phone needs it. An
 * invoice paid since the last scoring run is not talked about; an overdue one comes with its collection chances.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoices } from '../../src/db/schema';
import { talkingPoints } from '../../src/dunning/tasks';
import type { Services } from '../../src/services';
import { customerId, setup } from './fixtures';

let s: Services;
let tenantId: string;

beforeAll(async () => {
  ({ s, tenantId } = await setup({ live: false }));
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('talking points', () => {
  it('leave out an invoice paid after the last scoring run and give overdue ones their collection chances', async () => {
    await s.risk.score(tenantId, s.clock.now());
    const slow = await customerId(s, 'SLOW');
    const before = await talkingPoints(s.db, tenantId, slow, '2013-07-01');
    expect(before.predictions.map((p) => p.number).sort()).toEqual(['SLOW-O', 'SLOW-O2']);
    // Paid in the ledger; its prediction stays until the next scoring run.
    await s.db
      .update(invoices)
      .set({ balanceMinor: 0, status: 'paid', paidDate: '2013-07-01' })
      .where(eq(invoices.externalId, 'SLOW-O2'));
    const after = await talkingPoints(s.db, tenantId, slow, '2013-07-01');
    expect(after.predictions.map((p) => p.number)).toEqual(['SLOW-O']);
    expect(after.openItems.map((o) => o.number)).toEqual(['SLOW-O']);
    const [p] = after.predictions;
    expect(p!.daysOverdue).toBe(12);
    expect(p!.pCollect30).toBeGreaterThan(0);
    expect(p!.pCollect30).toBeLessThanOrEqual(p!.pCollect90!);
    expect(p!.pCollect90).toBeLessThanOrEqual(1);
  });
});
