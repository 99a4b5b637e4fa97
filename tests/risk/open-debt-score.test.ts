/**
 * The open debt's collection risk (src/risk/customer-risk.ts openDebtRisks / pNotCollected), on cases the demo
 * calibration does not hold: an invoice on long terms, not due for months, and a customer owing in two currencies.
 */
import { describe, expect, it } from 'vitest';
import {
  customerBand,
  type OpenInvoiceRisk,
  openDebtRisks,
  pNotCollected,
  withOpenDebt,
} from '../../src/risk/customer-risk';
import { dayNumber, isoFromDay } from '../../src/risk/ledger';

const DAY = dayNumber('2026-12-01');

/** A not-yet-due invoice's scores: paid around its due date (P10 5 days early, P90 10 days late). */
function onTime(dueDay: number, pLate = 0.12) {
  return {
    pLate,
    pCollect90: null,
    payDateP10: isoFromDay(dueDay - 5),
    predictedPayDate: isoFromDay(dueDay),
    payDateP90: isoFromDay(dueDay + 10),
  };
}

describe('open-debt score of debt not yet due', () => {
  it('an invoice due in 120 days, expected on its due date, is not "not collected": it is not owed yet', () => {
    const due = DAY + 120;
    const p = pNotCollected(onTime(due), DAY, due);
    // Before: 0.92 (its pay date lies beyond the 90 days simply because it is due after them).
    expect(p).toBeLessThanOrEqual(0.12);
    const debts = openDebtRisks([
      { customerId: 'c', currency: 'USD', balanceMinor: 5_000_000, daysOverdue: -120, pNotCollected: p },
    ]);
    // A customer paying on time (habit 2) with nothing overdue stays in the low band.
    const [r] = withOpenDebt([habit('c', 2)], debts);
    expect(customerBand(r!.score / 100)).toBe('low');
  });

  it('within the 90 days nothing changes: the chance its pay date lies after them', () => {
    const due = DAY + 20;
    const s = { ...onTime(due), payDateP90: isoFromDay(due + 100) };
    const p = pNotCollected(s, DAY, due);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThanOrEqual(s.pLate);
  });

  it('an invoice due after the 90 days and expected very late still counts', () => {
    const due = DAY + 100;
    const late = {
      pLate: 0.95,
      pCollect90: null,
      payDateP10: isoFromDay(due + 100),
      predictedPayDate: isoFromDay(due + 200),
      payDateP90: isoFromDay(due + 400),
    };
    expect(pNotCollected(late, DAY, due)).toBeGreaterThan(0.8);
  });
});

describe('open-debt score across currencies', () => {
  const inv = (currency: string, balanceMinor: number, p: number, daysOverdue = 200): OpenInvoiceRisk => ({
    customerId: 'c',
    currency,
    balanceMinor,
    daysOverdue,
    pNotCollected: p,
  });

  it('minor units of different currencies are not added: a VND debt does not outweigh a USD one by its digits', () => {
    // ₫50,000,000 (about $2,000) doubtful beside $20,000 collectable: amount-weighted in minor units it was 96/100.
    const vndFirst = openDebtRisks([inv('VND', 50_000_000, 1), inv('USD', 2_000_000, 0, 10)]).get('c')!;
    // The same debts the other way round: the USD one doubtful, the VND one collectable (was 4/100).
    const usdFirst = openDebtRisks([inv('VND', 50_000_000, 0, 10), inv('USD', 2_000_000, 1)]).get('c')!;
    // No exchange rates: each currency counts by its share of the open invoices, so the two read the same.
    expect(vndFirst.score).toBe(50);
    expect(usdFirst.score).toBe(50);
    // Within one currency the amounts weigh as before.
    const one = openDebtRisks([inv('USD', 100_000, 1), inv('USD', 300_000, 0, 10)]).get('c')!;
    expect(one.score).toBe(25);
  });

  it('the reason names the doubtful debt that weighs most in the score, not the one with the most digits', () => {
    // ₫50,000,000 (about $2,000) doubtful beside ₫500,000,000 collectable, and $9,000 doubtful: the USD debt is all
    // of its currency's balance, the VND one a tenth of its own (it was named for its 50,000,000 minor units).
    const r = openDebtRisks([
      inv('VND', 50_000_000, 0.99),
      inv('VND', 500_000_000, 0, 10),
      inv('USD', 900_000, 0.99),
    ]).get('c')!;
    expect(r.reason).toMatch(/^\$9,000 overdue/);
  });

  it('on a tie between currencies the reason does not depend on the order the ledger was read in', () => {
    // $9,000 and €9,000 doubtful, each all of its currency's balance: the same weight in the score. The ledger is read
    // without an order (Postgres returns its rows in any order), so the reason named one or the other run to run.
    const debts = [inv('USD', 900_000, 0.99), inv('EUR', 900_000, 0.99)];
    const one = openDebtRisks(debts).get('c')!;
    const other = openDebtRisks([...debts].reverse()).get('c')!;
    expect(other.reason).toBe(one.reason);
    const credits = [
      { customerId: 'c', currency: 'USD', creditMinor: 900_000 },
      { customerId: 'c', currency: 'EUR', creditMinor: 900_000 },
    ];
    expect(openDebtRisks([...debts].reverse(), credits).get('c')!.reason).toBe(
      openDebtRisks(debts, credits).get('c')!.reason,
    );
  });
});

describe('open-debt score net of credit on account', () => {
  const inv = (balanceMinor: number, p: number, daysOverdue: number, currency = 'USD'): OpenInvoiceRisk => ({
    customerId: 'c',
    currency,
    balanceMinor,
    daysOverdue,
    pNotCollected: p,
  });
  const credit = (creditMinor: number, currency = 'USD') => ({ customerId: 'c', currency, creditMinor });

  it('credit covering most of the doubtful overdue debt counts as collected: 10/100, not 100', () => {
    const debt = [inv(1_000_000, 0.998, 460)];
    expect(openDebtRisks(debt).get('c')!.score).toBe(100);
    const r = openDebtRisks(debt, [credit(900_000)]).get('c')!;
    expect(r.score).toBe(10);
    expect(r.reason).toBe(
      '$1,000 overdue 460+ days, <1% chance of collection within 90 days, net of $9,000 credit on account',
    );
    // The account's band follows: an on-time payer owing $1,000 of $10,000 is medium, not high.
    const [a] = withOpenDebt([habit('c', 2)], new Map([['c', r]]));
    expect(customerBand(a!.score / 100)).toBe('medium');
  });

  it('is applied to the most overdue invoices first, and says when it covers all of the doubtful debt', () => {
    // $5,000 overdue 200 days (10 % chance of collection) and $5,000 not yet due (5 % risk); $5,000 of credit.
    const r = openDebtRisks([inv(500_000, 0.05, -20), inv(500_000, 0.9, 200)], [credit(500_000)]).get('c')!;
    expect(r.score).toBe(3); // 100 × $5,000 × 0.05 / $10,000; on the invoice not yet due it would be 45
    expect(r.reason).toBe('$5,000 credit on account covers the $5,000 overdue 200+ days');
  });

  it('credit beyond what is owed leaves nothing at risk; credit in another currency offsets nothing', () => {
    expect(openDebtRisks([inv(100_000, 1, 400)], [credit(250_000)]).get('c')!.score).toBe(0);
    const other = openDebtRisks([inv(100_000, 1, 400)], [credit(250_000, 'CAD')]).get('c')!;
    expect(other.score).toBe(100);
    expect(other.reason).toBe('$1,000 overdue 400+ days, <1% chance of collection within 90 days');
    // Per currency: CAD credit nets the CAD debt only.
    const both = openDebtRisks(
      [inv(100_000, 1, 400), inv(100_000, 1, 400, 'CAD')],
      [credit(100_000, 'CAD'), { customerId: 'other', currency: 'USD', creditMinor: 100_000 }],
    ).get('c')!;
    expect(both.score).toBe(50);
    expect(both.reason).toMatch(/^\$1,000 overdue/);
  });
});

describe('open-debt score of a job billed with its parent', () => {
  const owes = (customerId: string, balanceMinor: number, daysOverdue: number): OpenInvoiceRisk => ({
    customerId,
    currency: 'USD',
    balanceMinor,
    daysOverdue,
    pNotCollected: 0.99,
  });

  it("the parent's unapplied payment covers the job's invoices (the payer's to use, as reminders count it)", () => {
    const debts = [owes('job', 100_000, 300), owes('parent', 50_000, 100)];
    const credit = [{ customerId: 'parent', currency: 'USD', creditMinor: 120_000 }];
    // Without the relation each nets its own: the parent's debt is covered, the job's is not.
    expect(openDebtRisks(debts, credit).get('job')!.score).toBe(99);
    const pooled = openDebtRisks(debts, credit, new Map([['job', 'parent']]));
    // Applied across the family to the most overdue first: the job's $1,000 (300 days), then $200 of the parent's.
    expect(pooled.get('job')).toEqual({
      score: 0,
      reason: '$1,000 credit on account covers the $1,000 overdue 300+ days',
    });
    expect(pooled.get('parent')!.score).toBe(59);
    expect(pooled.get('parent')!.reason).toBe(
      '$300 overdue 100+ days, 1% chance of collection within 90 days, net of $200 credit on account',
    );
  });
});

function habit(customerId: string, score: number) {
  return {
    customerId,
    score,
    habitScore: score,
    openDebtScore: null,
    openDebtReason: null,
    pLate: 0.05,
    pSevere: 0.01,
    expectedDaysLate: 0,
    trend30: null,
    trend90: null,
    slowingAlert: false,
    message: null,
  };
}
