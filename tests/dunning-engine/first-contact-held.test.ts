/**
 * "On day one, debt that is already old is a catch-up: the first message to a debtor Duely never wrote to is a
 * statement of account held for review." While that statement waits for a reviewer, another invoice of the same
 * debtor falling due must not go out on its own: it used to be planned as an ordinary reminder (the held statement
 * counted as a contact), sent without review and listing the old debt — the debtor's first email was not the
 * reviewed one. It waits now, with the reason, and the statement still goes first once approved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { csv } from '../helpers/csv';
import { approveAll, customerId, messagesOf, setup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
  await planTenant(s, tenantId);
}, 120_000);
afterAll(async () => {
  await s?.close();
});

const DAY = 86_400_000;

describe('a held first message goes first', () => {
  it('a newly due invoice of a debtor whose catch-up statement awaits approval waits for it', async () => {
    const slow = await customerId(s, 'SLOW');
    const held = (await messagesOf(s, tenantId)).filter((m) => m.customerId === slow);
    expect(held.map((m) => [m.status, m.template])).toEqual([['awaiting_approval', 'statement']]);
    // Its reason says it is the first contact, not "step 2 of 'High risk'" (as if a reminder had gone before).
    expect(held[0]!.reason).toMatch(
      /^Catch-up \(first contact, statement of account\): .*first contact in sequence '/,
    );
    expect(held[0]!.reason).not.toMatch(/step \d+ of/);

    // Five days later nobody has reviewed it; a new SLOW invoice is one day overdue.
    clock.advance(5 * DAY);
    const imported = await importHistoryCsv(
      s.db,
      csv([['SLOW', 'SLOW-N', '2013-06-05', '2013-07-05', '300.00', 'USD', '', 'email', 'US']]),
      { tenantName: 'Acme', tenantId, now: clock.now() },
    );
    expect(imported.invoices.inserted).toBe(1);
    const r = await planTenant(s, tenantId);

    const slowMessages = (await messagesOf(s, tenantId)).filter((m) => m.customerId === slow);
    expect(slowMessages.map((m) => m.id)).toEqual(held.map((m) => m.id));
    const decision = r.decisions.find((d) => d.customerId === slow);
    expect(decision).toMatchObject({ outcome: 'skipped', code: 'first_message_held' });
    expect(decision!.reason).toBe(
      'The first message to SLOW is waiting for approval; nothing more is planned for them until it is sent',
    );

    // Approved, the statement is the first message; the newer invoice follows in its own time.
    await approveAll(s, tenantId);
    const after = (await messagesOf(s, tenantId)).filter((m) => m.customerId === slow);
    expect(after.map((m) => [m.id, m.status])).toEqual([[held[0]!.id, 'queued']]);
  });
});
