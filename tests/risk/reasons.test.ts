import { describe, expect, it } from 'vitest';
import { F, FEATURE_COUNT, type SettledOutcome } from '../../src/risk/features';
import { explain } from '../../src/risk/reasons';

const zeros = () => new Array<number>(FEATURE_COUNT).fill(0);
const settled = (daysLate: number[]): SettledOutcome[] =>
  daysLate.map((d, k) => ({ invoiceId: `p${k}`, paidDay: k, daysToPay: 30 + d, daysLate: d }));

describe('reasons', () => {
  it('words the strongest pulls toward the predicted direction from the customer’s own history', () => {
    const coef = zeros();
    coef[F.late_rate] = 2;
    coef[F.amount_vs_usual] = 1;
    coef[F.delivery_email] = -0.1;
    const row = zeros();
    row[F.late_rate] = 0.9;
    row[F.amount_vs_usual] = Math.log(3);
    row[F.delivery_email] = 1;
    row[F.days_to_due] = 10;
    const reasons = explain(
      { coef, mean: zeros(), scale: new Array<number>(FEATURE_COUNT).fill(1) },
      { row, recent: settled([12, 15, 20, 14]), pLate: 0.8, baseRate: 0.3 },
    );
    expect(reasons[0]).toBe('paid the last 4 invoices 12–20 days late');
    expect(reasons[1]).toBe("invoice is 3.0× this customer's usual amount");
    expect(reasons).toHaveLength(3);
    // One day is a day ("paid the last 2 invoices 1 days late" read as a typo to a controller).
    const one = explain(
      { coef, mean: zeros(), scale: new Array<number>(FEATURE_COUNT).fill(1) },
      { row, recent: settled([1, 1]), pLate: 0.8, baseRate: 0.3 },
    );
    expect(one[0]).toBe('paid the last 2 invoices 1 day late');
  });

  it('leads with the days past due, and names a new customer', () => {
    const row = zeros();
    row[F.days_to_due] = -12;
    row[F.cold_start] = 1;
    const coef = zeros();
    coef[F.cold_start] = 0.5;
    const reasons = explain(
      { coef, mean: zeros(), scale: new Array<number>(FEATURE_COUNT).fill(1) },
      { row, recent: [], pLate: 1, baseRate: 0.3 },
    );
    expect(reasons.slice(0, 2)).toEqual(['already 12 days past due', 'new customer: no payment history yet']);
  });

  it('very old debt says its age as a controller would, beside the exact days', () => {
    const row = zeros();
    row[F.days_to_due] = -1077;
    const coef = zeros();
    const model = { coef, mean: zeros(), scale: new Array<number>(FEATURE_COUNT).fill(1) };
    expect(explain(model, { row, recent: [], pLate: 1, baseRate: 0.3 })[0]).toBe(
      'already 1077 days past due (about 3 years)',
    );
    row[F.days_to_due] = -418;
    expect(explain(model, { row, recent: [], pLate: 1, baseRate: 0.3 })[0]).toBe(
      'already 418 days past due (about 14 months)',
    );
  });
});
