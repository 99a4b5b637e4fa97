/**
 * "Paid after a message" feeds the send-time choice: a reminder whose invoice was paid within a week of it counts
 * as a success for the local hour and weekday it went out; one paid later, or not at all, does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { loadDunningConfig } from '../../src/dunning/dunning-config';
import { planTenant } from '../../src/dunning/engine';
import { loadPlannerInput } from '../../src/dunning/planner-input';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import {
  approveAll,
  customerId,
  importLedger,
  messagesOf,
  RecordingTransport,
  setup,
  tenantRow,
} from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
}, 120_000);
afterAll(async () => {
  await s?.close();
});

const day = (d: Date, n: number) => new Date(d.getTime() + n * 86_400_000).toISOString().slice(0, 10);

async function engagementOf(customer: string) {
  const tenant = await tenantRow(s, tenantId);
  const config = await loadDunningConfig(s.db, tenant);
  const input = await loadPlannerInput(
    s.db,
    tenant,
    config,
    clock.now(),
    await s.risk.bandsFor(tenant, s.db),
  );
  return (input.engagement as { customerId: string; paidAfter: boolean }[]).filter(
    (e) => e.customerId === customer,
  );
}

describe('paid after a message', () => {
  it('counts a payment within a week of the reminder, not one later or none', async () => {
    await planTenant(s, tenantId);
    await approveAll(s, tenantId); // day one: the old debt is a reviewed catch-up
    const slow = await customerId(s, 'SLOW');
    const mid = await customerId(s, 'MID');
    const sent: Record<string, Date> = {};
    for (const c of [slow, mid]) {
      const [m] = (await messagesOf(s, tenantId)).filter((x) => x.customerId === c && x.status === 'queued');
      expect(m, `a queued reminder for ${c}`).toBeDefined();
      clock.set(m!.sendAt);
      expect(await sendMessage(s, m!.id, { transport: new RecordingTransport() })).toMatchObject({
        outcome: 'sent',
      });
      sent[c] = m!.sendAt;
    }
    // SLOW pays both open invoices three days after its reminder; MID pays twenty days after its own.
    await importLedger(s, {
      'SLOW-O': day(sent[slow]!, 3),
      'SLOW-O2': day(sent[slow]!, 3),
      'MID-O': day(sent[mid]!, 20),
    });
    expect((await engagementOf(slow)).map((e) => e.paidAfter)).toEqual([true]);
    expect((await engagementOf(mid)).map((e) => e.paidAfter)).toEqual([false]);
  });
});
