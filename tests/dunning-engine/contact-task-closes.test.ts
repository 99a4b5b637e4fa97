/**
 * A find-a-contact task ("<customer> has no email address") says what blocks reminders. Once the debtor can be
 * reached again — an address arrives from the ledger, or the team sets a dunning contact on the customer page rather
 * than through the task — the next plan writes to them, and the task used to stay open on the call list, saying
 * there was no address while reminders went out. It is now closed by Duely, as the credit task is; a debtor the
 * plan cannot prove reachable (paused, excluded) keeps it.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dunningOverrides, dunningTasks } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { customerId, setup } from './fixtures';

let s: Services;
let tenantId: string;

beforeAll(async () => {
  ({ s, tenantId } = await setup());
}, 120_000);
afterAll(async () => {
  await s?.close();
});

async function contactTasks(customer: string) {
  return s.db
    .select()
    .from(dunningTasks)
    .where(
      and(
        eq(dunningTasks.tenantId, tenantId),
        eq(dunningTasks.customerId, customer),
        eq(dunningTasks.kind, 'find_contact'),
      ),
    );
}

describe('find-a-contact task once the debtor is reachable', () => {
  it('is closed by the plan that writes to the debtor again, and kept while the debtor is paused', async () => {
    const mid = await customerId(s, 'MID');
    const slow = await customerId(s, 'SLOW');
    await s.db.execute(sql`update customers set emails = '{}' where id in (${mid}::uuid, ${slow}::uuid)`);
    await planTenant(s, tenantId);
    expect((await contactTasks(mid)).map((t) => t.status)).toEqual(['open']);
    expect((await contactTasks(slow)).map((t) => t.status)).toEqual(['open']);

    // MID's address arrives from the ledger; SLOW gets one too but is paused, so the plan proves nothing for it.
    await s.db.execute(sql`update customers set emails = array['ap@mid.example'] where id = ${mid}::uuid`);
    await s.db.execute(sql`update customers set emails = array['ap@slow.example'] where id = ${slow}::uuid`);
    await s.db
      .insert(dunningOverrides)
      .values({ tenantId, customerId: slow, pausedUntil: '2013-08-01', excluded: false });
    const r = await planTenant(s, tenantId);
    expect(r.decisions.find((d) => d.customerId === mid)?.outcome).toBe('message');
    const [closed] = await contactTasks(mid);
    expect(closed).toMatchObject({ status: 'done', doneBy: 'duely' });
    expect(closed!.note).toMatch(/can be reached/);
    expect((await contactTasks(slow)).map((t) => t.status)).toEqual(['open']);

    // Unreachable again later: a new task opens (the closed one does not block it).
    await s.db.execute(sql`update customers set emails = '{}' where id = ${mid}::uuid`);
    await s.db.execute(sql`delete from dunning_messages where customer_id = ${mid}::uuid`);
    await planTenant(s, tenantId);
    expect((await contactTasks(mid)).map((t) => t.status).sort()).toEqual(['done', 'open']);
  });
});
