/**
 * Credit on account, one convention for the dashboard and for dunning: payments' unapplied amounts and what remains
 * of credit memos, dated on or before the clock's day (a post-dated credit memo is not credit yet), per customer and
 * currency, never netted across currencies. The dashboard's figure counted as of today while the planner and the
 * send-time re-check counted every row whatever its date: a credit memo dated next week made the planner call a
 * debtor "covered" (nothing sent, nothing asked) while the dashboard did not count it, and once the memo's date came
 * the re-check could not see it as new credit.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeAnalytics } from '../../src/analytics/dashboard';
import type { ManualClock } from '../../src/clock';
import { creditMemos, dunningMessages, payments, tenants } from '../../src/db/schema';
import { loadDunningConfig } from '../../src/dunning/dunning-config';
import { planTenant } from '../../src/dunning/engine';
import { loadPlannerInput } from '../../src/dunning/planner-input';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { buildTestApp } from '../helpers/app';
import { approveAll, customerId, messagesOf, RecordingTransport, setup, tenantRow } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
  const mid = await customerId(s, 'MID');
  const slow = await customerId(s, 'SLOW');
  const pay = (customer: string, id: string, date: string, amount: number, unapplied: number) => ({
    tenantId,
    customerId: customer,
    externalId: id,
    date,
    currency: 'USD',
    amountMinor: amount,
    unappliedMinor: unapplied,
  });
  const memo = (
    customer: string,
    id: string,
    date: string,
    currency: string,
    total: number,
    left: number,
  ) => ({
    tenantId,
    customerId: customer,
    externalId: id,
    date,
    currency,
    totalMinor: total,
    remainingMinor: left,
  });
  // Today is 2013-07-01 (the tenant works in UTC). MID owes 800.00 USD, SLOW 3,000.00 USD.
  await s.db.insert(payments).values([
    pay(mid, 'P-MID-1', '2013-06-25', 30_000, 30_000), // unapplied: credit
    pay(mid, 'P-MID-2', '2013-06-20', 50_000, 0), // applied to an invoice: not credit
    pay(slow, 'P-SLOW-1', '2013-06-30', 10_000, 10_000),
  ]);
  await s.db.insert(creditMemos).values([
    memo(mid, 'CM-MID-NEXT', '2013-07-10', 'USD', 80_000, 80_000), // post-dated: not credit yet
    memo(mid, 'CM-MID-EUR', '2013-06-01', 'EUR', 90_000, 90_000), // another currency: never against USD
    memo(slow, 'CM-SLOW-TODAY', '2013-07-01', 'USD', 20_000, 5_000), // dated today: counts, what remains of it
    memo(slow, 'CM-SLOW-WED', '2013-07-03', 'USD', 7_000, 7_000), // post-dated by two days
  ]);
}, 120_000);
afterAll(async () => {
  await s?.close();
});

/** The credit each customer brings to the planner, summed per currency. */
async function plannerCredit(): Promise<Map<string, number>> {
  const tenant = await tenantRow(s, tenantId);
  const config = await loadDunningConfig(s.db, tenant);
  const bandOf = await s.risk.bandsFor(tenant);
  const input = await loadPlannerInput(s.db, tenant, config, clock.now(), bandOf);
  const out = new Map<string, number>();
  for (const c of input.customers)
    for (const cr of c.credits ?? []) out.set(cr.currency, (out.get(cr.currency) ?? 0) + cr.creditMinor);
  return out;
}

async function sendNow(messageId: string, transport: RecordingTransport) {
  await s.db
    .update(dunningMessages)
    .set({ status: 'queued', sendAt: clock.now() })
    .where(eq(dunningMessages.id, messageId));
  return sendMessage(s, messageId, { transport });
}

describe('credit on account as of the clock', () => {
  it('the dashboard and the planner count the same credit, per currency, to the cent', async () => {
    const usd = await computeAnalytics(s.db, { tenantId, currency: 'USD', today: '2013-07-01' });
    const eur = await computeAnalytics(s.db, { tenantId, currency: 'EUR', today: '2013-07-01' });
    // 300.00 unapplied (MID) + 100.00 unapplied (SLOW) + 50.00 left of SLOW's memo dated today.
    expect(usd.receivables.unappliedCreditMinor).toBe(45_000);
    expect(eur.receivables.unappliedCreditMinor).toBe(90_000);
    const planner = await plannerCredit();
    expect(planner.get('USD')).toBe(usd.receivables.unappliedCreditMinor);
    expect(planner.get('EUR')).toBe(eur.receivables.unappliedCreditMinor);
  });

  it('a post-dated credit memo does not cover a debtor; the credit of today is shown to the reviewer', async () => {
    clock.set('2013-07-01T00:00:00Z');
    const r = await planTenant(s, tenantId);
    const mid = await customerId(s, 'MID');
    expect(r.decisions.find((d) => d.customerId === mid)?.code).not.toBe('credit_on_account');
    const [m] = (await messagesOf(s, tenantId)).filter((x) => x.customerId === mid);
    expect(m?.status).toBe('awaiting_approval');
    // Only USD credit of today: not next week's memo, not the EUR one.
    expect((m!.snapshot as { credits?: unknown }).credits).toEqual([
      { currency: 'USD', creditMinor: 30_000 },
    ]);
    expect(m!.approvalReason).toContain('MID has $300.00 of unapplied payments and credits on account');
  });

  it('at send time, a post-dated memo is not new credit until its day; then it stops the send', async () => {
    await approveAll(s, tenantId);
    const queued = async (externalId: string) => {
      const id = await customerId(s, externalId);
      const [m] = (await messagesOf(s, tenantId)).filter((x) => x.customerId === id && x.status === 'queued');
      expect(m, `a queued message for ${externalId}`).toBeDefined();
      return m!;
    };
    const transport = new RecordingTransport();
    clock.set('2013-07-01T10:00:00Z');
    expect(await sendNow((await queued('MID')).id, transport)).toMatchObject({ outcome: 'sent' });
    expect(transport.deliveries).toHaveLength(1);

    const slow = await queued('SLOW');
    expect((slow.snapshot as { credits?: unknown }).credits).toEqual([
      { currency: 'USD', creditMinor: 15_000 },
    ]);
    clock.set('2013-07-03T10:00:00Z');
    expect(await sendNow(slow.id, transport)).toMatchObject({
      outcome: 'skipped',
      code: 'credit_on_account',
    });
    expect(transport.deliveries).toHaveLength(1);
    const [skipped] = (await messagesOf(s, tenantId)).filter((x) => x.id === slow.id);
    expect(skipped!.statusReason).toContain('$220.00');
  });
});

describe("the as-of day is the company's", () => {
  it('a company east of UTC early in its morning: the dashboard and the planner both count the memo dated today', async (ctx) => {
    await s.db.update(tenants).set({ timezone: 'Australia/Sydney' }).where(eq(tenants.id, tenantId));
    // 20:00 UTC on 1 July is 06:00 on 2 July in Sydney.
    clock.set('2013-07-01T20:00:00Z');
    await s.db.insert(creditMemos).values({
      tenantId,
      customerId: await customerId(s, 'RELY'),
      externalId: 'CM-RELY-SYD',
      date: '2013-07-02',
      currency: 'USD',
      totalMinor: 1_234,
      remainingMinor: 1_234,
    });
    const { app, auth } = await buildTestApp({ services: s, keepServices: true, test: ctx });
    const r = await app.inject({ url: `/api/v1/tenants/${tenantId}/analytics?currency=USD`, headers: auth });
    expect(r.statusCode).toBe(200);
    const body = r.json() as { asOf: string; receivables: { unappliedCreditMinor: number } };
    expect(body.asOf).toBe('2013-07-02');
    expect(body.receivables.unappliedCreditMinor).toBe(45_000 + 1_234);
    expect((await plannerCredit()).get('USD')).toBe(body.receivables.unappliedCreditMinor);
  });
});
