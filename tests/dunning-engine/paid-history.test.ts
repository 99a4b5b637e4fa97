/**
 * The history behind "you have always paid reliably" (planner reliablePayer): the planner input carries, per
 * customer, the invoices paid and those paid more than RELIABLE_LATE_DAYS after their due date.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { loadDunningConfig } from '../../src/dunning/dunning-config';
import { loadPlannerInput } from '../../src/dunning/planner-input';
import type { Services } from '../../src/services';
import { customerId, setup, tenantRow } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('paid history in the planner input', () => {
  it('counts paid invoices and those paid over a week late, per customer', async () => {
    const tenant = await tenantRow(s, tenantId);
    const input = await loadPlannerInput(
      s.db,
      tenant,
      await loadDunningConfig(s.db, tenant),
      clock.now(),
      await s.risk.bandsFor(tenant, s.db),
    );
    const history = async (external: string) => {
      const id = await customerId(s, external);
      return input.customers.find((c) => c.id === id)?.paidHistory;
    };
    // Fixture history: 24 paid invoices each; RELY pays 12 days early, MID 10 days late, SLOW 45 days late.
    expect(await history('RELY')).toEqual({ paid: 24, late: 0 });
    expect(await history('MID')).toEqual({ paid: 24, late: 24 });
    expect(await history('SLOW')).toEqual({ paid: 24, late: 24 });
    expect(await history('FUT')).toEqual({ paid: 24, late: 0 });
  });
});
