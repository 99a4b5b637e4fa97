/**
 * One definition of a customer's risk band: the planner (which picks sequences by band and writes it into every
 * message's "why") draws it exactly as the risk API and the Customer page do — the customer cut-offs at the
 * tenant's sensitivity — not with cut-offs of its own.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenants } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { CUSTOMER_BANDS, customerBand } from '../../src/risk/customer-risk';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { messagesOf, setup } from './fixtures';

let s: Services;
let tenantId: string;

beforeAll(async () => {
  ({ s, tenantId } = await setup());
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('customer risk band in planned messages', () => {
  it('is the customer-cut-off band the risk API shows, at the tenant sensitivity', async () => {
    // A tenant that flags fewer customers (sensitivity −3) moves the cut-offs up: a score the default cut-off
    // would call "high" is "medium" here.
    await s.db
      .update(tenants)
      .set({ settings: { sensitivity: -3 } })
      .where(eq(tenants.id, tenantId));
    await scoreTenant(s, tenantId);
    await planTenant(s, tenantId);
    const bands = (await messagesOf(s, tenantId))
      .map(
        (m) =>
          (m.snapshot as { customerRisk?: { riskScore: number | null; riskBand: string | null } })
            .customerRisk,
      )
      .filter((r) => r?.riskScore != null);
    expect(bands.length).toBeGreaterThan(0);
    for (const r of bands) expect(r!.riskBand).toBe(customerBand(r!.riskScore!, -3));
    expect(bands.some((r) => r!.riskScore! >= CUSTOMER_BANDS.high && r!.riskBand !== 'high')).toBe(true);
  });
});
