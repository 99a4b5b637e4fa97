/**
 * From outside: customers of clearly different risk (fixtures: RELY pays early, MID ~10 days late, SLOW ~45 days
 * late) are each chased on the default policy's sequence for the band the risk API (the Customer page) shows them,
 * also when a customer is billed through a parent that has no score of its own: an invoice band (for an overdue
 * invoice P(not collected within 90 days), "low" for a debtor who pays 45 days late) is not the customer's band.
 */
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { customers } from '../../src/db/schema';
import { scoreTenant } from '../../src/risk/service';
import { messagesOf, suiteSetup } from './fixtures';

/** A fresh company on the fixtures' ledger, for one describe block. */
const company = () => suiteSetup();

/** The policy's rules: high → 'high-risk', low → 'reliable', else the default 'standard'. */
const SEQUENCE_OF_BAND = { high: 'high-risk', medium: 'standard', low: 'reliable' } as const;

type Company = ReturnType<typeof company>;

async function bandOnCustomerPage(c: Company, ext: string) {
  const res = await c.app.inject({
    method: 'GET',
    url: `/api/v1/tenants/${c.tenantId}/customers/${ext}/risk`,
    headers: c.auth,
  });
  expect(res.statusCode).toBe(200);
  return res.json() as { band: keyof typeof SEQUENCE_OF_BAND | null; customerId: string };
}

async function sequencesOf(c: Company, customerId: string) {
  return (await messagesOf(c.s, c.tenantId))
    .filter((m) => m.customerId === customerId && m.kind === 'reminder')
    .map((m) => (m.snapshot as { sequence: { id: string } }).sequence.id);
}

async function scoreAndPlan(c: Company) {
  // What the scoring job does (POST …/score only queues it).
  await scoreTenant(c.s, c.tenantId);
  const plan = await c.app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${c.tenantId}/dunning/plan`,
    headers: c.auth,
  });
  expect(plan.statusCode).toBe(200);
}

describe('sequence by the customer band', () => {
  const c = company();
  it('chases MID and SLOW on the sequences of the bands their Customer pages show', async () => {
    await scoreAndPlan(c);
    for (const ext of ['MID', 'SLOW']) {
      const page = await bandOnCustomerPage(c, ext);
      expect(page.band).not.toBeNull();
      const seqs = await sequencesOf(c, page.customerId);
      expect(seqs.length, ext).toBeGreaterThan(0);
      for (const seq of seqs) expect(seq, ext).toBe(SEQUENCE_OF_BAND[page.band!]);
    }
    expect((await bandOnCustomerPage(c, 'SLOW')).band).toBe('high');
    // The reason names the invoice's band as the invoice's: "step 2 of 'High risk' …; (low risk)" read as the
    // customer being low risk (an overdue invoice's band is the risk it is not collected within 90 days).
    const reasons = (await messagesOf(c.s, c.tenantId)).map((m) => m.reason);
    expect(reasons.some((r) => /\(invoice risk: (low|medium|high)\)/.test(r))).toBe(true);
    for (const r of reasons) expect(r).not.toMatch(/\((low|medium|high) risk\)/);
  });
});

describe('sequence of a payer without a score of its own', () => {
  const c = company();
  it('chases a job billed through an unscored parent by the job band, not as "Reliable"', async () => {
    // SLOW becomes a job of HOLD (no invoices of its own, so no score): its reminders go to HOLD.
    await c.s.db.insert(customers).values({
      tenantId: c.tenantId,
      externalId: 'HOLD',
      name: 'Holdings',
      emails: ['ap@hold.example'],
    });
    await c.s.db
      .update(customers)
      .set({ parentExternalId: 'HOLD', billWithParent: true })
      .where(and(eq(customers.tenantId, c.tenantId), eq(customers.externalId, 'SLOW')));
    await scoreAndPlan(c);
    const slow = await bandOnCustomerPage(c, 'SLOW');
    expect(slow.band).toBe('high');
    const hold = await bandOnCustomerPage(c, 'HOLD');
    const seqs = await sequencesOf(c, hold.customerId);
    expect(seqs.length).toBeGreaterThan(0);
    for (const seq of seqs) expect(seq).toBe('high-risk');
  });
});
