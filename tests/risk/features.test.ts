import { describe, expect, it } from 'vitest';
import { buildLedgerIndex, DEFAULT_PRIORS, F, FEATURE_COUNT, featureMatrix } from '../../src/risk/features';
import { heuristicPredict } from '../../src/risk/heuristic';
import { dayNumber, type LedgerInvoice } from '../../src/risk/ledger';
import { exportOnnx } from '../../src/risk/onnx-export';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import { trainRiskModel } from '../../src/risk/train';
import { labelledInvoices, ledgerAsOf, priorsFrom, samplesOf } from '../../src/risk/training-set';

const inv = (
  id: string,
  issue: string,
  due: string,
  paid: string | null,
  amount = 10_000,
  customerId = 'A',
): LedgerInvoice => ({
  customerId,
  invoiceId: id,
  invoiceDate: issue,
  dueDate: due,
  currency: 'USD',
  amountMinor: amount,
  paidDate: paid,
  delivery: 'email',
  country: null,
});

const ledger = [
  inv('1', '2024-01-01', '2024-01-31', '2024-01-20'), // on time, 19 days
  inv('2', '2024-02-01', '2024-03-02', '2024-03-12'), // 10 days late
  inv('3', '2024-03-01', '2024-03-31', '2024-05-10'), // open on 2024-04-15, overdue
  inv('4', '2024-04-10', '2024-05-10', null, 30_000), // the invoice we score
];

function row(history: LedgerInvoice[], target: LedgerInvoice, day: string) {
  return featureMatrix(buildLedgerIndex(history), [{ invoice: target, day: dayNumber(day) }], DEFAULT_PRIORS);
}

describe('point-in-time features', () => {
  it('computes the customer history known at t by hand', () => {
    const x = row(ledger, ledger[3]!, '2024-04-15');
    const { strength, lateRate } = DEFAULT_PRIORS;
    expect(x[F.log_settled_count]).toBeCloseTo(Math.log1p(2), 6);
    expect(x[F.late_rate]).toBeCloseTo((1 + strength * lateRate) / (2 + strength), 6);
    expect(x[F.recent_median_days_to_pay]).toBeCloseTo((19 + 40) / 2, 6);
    expect(x[F.last_days_late]).toBe(10);
    // invoice 3 is open and overdue at t (paid later); the scored invoice itself is not counted
    expect(x[F.log_open_count]).toBeCloseTo(Math.log1p(1), 6);
    expect(x[F.log_overdue_count]).toBeCloseTo(Math.log1p(1), 6);
    expect(x[F.log_overdue_amount]).toBeCloseTo(Math.log1p(100), 5);
    expect(x[F.amount_vs_usual]).toBeCloseTo(Math.log1p(300) - Math.log1p(100), 5);
    expect(x[F.age_days]).toBe(5);
    expect(x[F.days_to_due]).toBe(25);
    expect(x[F.terms_days]).toBe(30);
    expect(x[F.cold_start]).toBe(0);
  });

  it('reads the habit under the scored invoice’s delivery method (a customer who went paperless)', () => {
    const paper = (id: string, issue: string, due: string, paid: string) => ({
      ...inv(id, issue, due, paid),
      delivery: 'print' as const,
    });
    const history = [
      paper('p1', '2024-01-01', '2024-01-31', '2024-02-20'), // 20 days late
      paper('p2', '2024-02-01', '2024-03-02', '2024-03-22'), // 20 days late
      paper('p3', '2024-03-01', '2024-03-31', '2024-04-20'), // 20 days late
      inv('e1', '2024-04-01', '2024-05-01', '2024-04-26'), // 5 days early
      inv('e2', '2024-05-01', '2024-05-31', '2024-05-26'), // 5 days early
      inv('e3', '2024-06-20', '2024-07-20', null),
    ];
    const x = row(history, history[5]!, '2024-06-20');
    const { strength } = DEFAULT_PRIORS;
    expect(x[F.habit_days_late]).toBe(20); // median over all five
    expect(x[F.same_delivery_days_late]).toBe(-5); // email only
    expect(x[F.log_same_delivery_count]).toBeCloseTo(Math.log1p(2), 6);
    expect(x[F.same_delivery_late_rate]).toBeCloseTo((0 + strength * x[F.late_rate]!) / (2 + strength), 6);
    // The pay-date baseline: due date plus the same-delivery habit, from the as-of day.
    expect(x[F.base_remaining]).toBe(30 - 5);
    // A paper invoice the same day reads the paper habit.
    const y = row(history, { ...history[5]!, delivery: 'print' }, '2024-06-20');
    expect(y[F.same_delivery_days_late]).toBe(20);
    expect(y[F.base_remaining]).toBe(30 + 20);
  });

  it('offsets the P50 date to a bursty payer’s busiest week, not an even payer’s', () => {
    // Invoices on the first of each month, due 30 days later, paid `late` days after the due date.
    const paidLate = (lates: number[], customerId: string) =>
      lates.map((late, k) => {
        const issue = dayNumber('2024-01-01') + 31 * k;
        const iso = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
        return inv(
          `${customerId}${k}`,
          iso(issue),
          iso(issue + 30),
          iso(issue + 30 + late),
          10_000,
          customerId,
        );
      });
    const scored = (customerId: string) =>
      inv(`${customerId}-new`, '2024-12-01', '2024-12-31', null, 10_000, customerId);
    // Median 10.5 falls between two bursts; the 7-day window [13, 19] holds four payments, the median's three.
    const bursty = [...paidLate([0, 1, 2, 8, 13, 14, 15, 16], 'B'), scored('B')];
    const b = row(bursty, bursty[8]!, '2024-12-01');
    expect(b[F.habit_days_late]).toBe(10.5);
    expect(b[F.habit_mode_offset]).toBe(13 - 10.5); // the nearest centre to the median holding all four
    // An even payer: no window holds more than the median's.
    const even = [...paidLate([0, 2, 4, 6, 8, 10, 12, 14], 'E'), scored('E')];
    expect(row(even, even[8]!, '2024-12-01')[F.habit_mode_offset]).toBe(0);
    // A new customer has no habit to shift.
    expect(row([scored('N')], scored('N'), '2024-12-01')[F.habit_mode_offset]).toBe(0);
  });

  it('reads the habit on the scored invoice’s terms when the customer’s terms vary and they pay them differently', () => {
    // Net-30 invoices paid 0–2 days late, cash-on-delivery (net-0) ones about 25 days late: one payment schedule.
    const iso = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
    const start = dayNumber('2024-01-01');
    const paid = (id: string, k: number, terms: number, late: number) =>
      inv(id, iso(start + 20 * k), iso(start + 20 * k + terms), iso(start + 20 * k + terms + late));
    const history = [
      paid('n1', 0, 30, 0),
      paid('n2', 1, 30, 1),
      paid('c1', 2, 0, 24),
      paid('n3', 3, 30, 2),
      paid('n4', 4, 30, 0),
      paid('c2', 5, 0, 25),
      paid('n5', 6, 30, 1),
    ];
    const day = '2024-07-01';
    const cod = inv('c3', day, day, null);
    const net30 = inv('n6', day, '2024-07-31', null);
    const all = [...history, cod, net30];
    // The median over all seven is 1 day late; the net-0 invoices alone were paid 24.5 days late.
    const x = row(all, cod, day);
    expect(x[F.habit_days_late]).toBe(1);
    expect(x[F.base_remaining]).toBe(0 + 24.5);
    // A net-30 invoice: its own terms' median (1) is the habit's, so nothing moves.
    expect(row(all, net30, day)[F.base_remaining]).toBe(30 + 1);
    // Within three days of the habit the all-invoice habit stands (one schedule, noise between the terms).
    const close = [
      ...history.map((r) =>
        r.invoiceId.startsWith('c') ? { ...r, paidDate: iso(dayNumber(r.dueDate) + 3) } : r,
      ),
      cod,
    ];
    expect(row(close, cod, day)[F.base_remaining]).toBe(0 + 1);
    // Point in time: a net-0 invoice's payment dated on or after the as-of day changes nothing (it is open then).
    const c4 = paid('c4', 8, 0, 60);
    const paidLater = row([...all, c4], cod, day);
    expect(Array.from(paidLater)).toEqual(Array.from(row([...all, { ...c4, paidDate: null }], cod, day)));
    expect(paidLater[F.base_remaining]).toBe(0 + 24.5);
    // One term only (the IBM sample): the same-delivery habit, as before.
    const single = [...history.filter((r) => r.invoiceId.startsWith('n')), net30];
    expect(row(single, net30, day)[F.base_remaining]).toBe(30 + 1);
  });
  it('measures the delivery shift within customers, not across them (priors)', () => {
    const sent = (
      id: string,
      customerId: string,
      delivery: 'email' | 'print',
      late: number,
      month: number,
    ) => {
      const issue = dayNumber('2024-01-01') + 31 * month;
      const iso = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
      return {
        ...inv(id, iso(issue), iso(issue + 30), iso(issue + 30 + late), 10_000, customerId),
        delivery,
      };
    };
    const rows = [
      // A went paperless and pays 10 days sooner since; B (email) and C (paper) pay on the day.
      ...[0, 1, 2].map((m) => sent(`a${m}`, 'A', 'print', 20, m)),
      ...[3, 4, 5].map((m) => sent(`a${m}`, 'A', 'email', 10, m)),
      ...[0, 1, 2].map((m) => sent(`b${m}`, 'B', 'email', 0, m)),
      ...[0, 1, 2].map((m) => sent(`c${m}`, 'C', 'print', 0, m)),
    ];
    const priors = priorsFrom(rows);
    const [, emailMean, printMean] = priors.daysLateByDelivery!;
    expect(emailMean - printMean).toBeCloseTo(5 - 10, 6); // across customers: who chose paper
    const [, email, print] = priors.deliveryShift!;
    expect(email - print).toBeCloseTo(-10, 2); // the same customer, either way
    // A's paper history, read for a new email invoice, says 10 days late.
    const next = { ...inv('a6', '2024-07-01', '2024-07-31', null, 10_000, 'A'), delivery: 'email' as const };
    const x = featureMatrix(
      buildLedgerIndex(rows.slice(0, 3)),
      [{ invoice: next, day: dayNumber('2024-07-01') }],
      priors,
    );
    expect(x[F.delivery_adjusted_days_late]).toBeCloseTo(10, 2);
  });

  it('reads the delivery-adjusted level from every recent invoice, each against its own delivery’s population mean', () => {
    const paper = (id: string, issue: string, due: string, paid: string) => ({
      ...inv(id, issue, due, paid),
      delivery: 'print' as const,
    });
    const history = [
      paper('p1', '2024-01-01', '2024-01-31', '2024-02-20'), // 20 days late: 10 later than paper payers
      paper('p2', '2024-02-01', '2024-03-02', '2024-03-22'), // the same
      paper('p3', '2024-03-01', '2024-03-31', '2024-04-20'), // the same
      inv('e1', '2024-04-01', '2024-05-01', '2024-04-26'), // 5 days early: 3 earlier than email payers
      inv('e2', '2024-05-01', '2024-05-31', '2024-05-26'), // the same
      inv('e3', '2024-06-20', '2024-07-20', null),
    ];
    const priors = { ...DEFAULT_PRIORS, daysLateByDelivery: [0, -2, 10] as [number, number, number] };
    const at = (target: LedgerInvoice) =>
      featureMatrix(buildLedgerIndex(history), [{ invoice: target, day: dayNumber('2024-06-20') }], priors);
    // Deviations 10, 10, 10, −3, −3; the lowest and highest fifth (one each) trimmed: mean of −3, 10, 10.
    const level = (-3 + 10 + 10) / 3;
    const x = at(history[5]!);
    expect(x[F.delivery_adjusted_days_late]).toBeCloseTo(-2 + level, 5);
    expect(x[F.base_remaining_adjusted]).toBeCloseTo(30 - 2 + level, 5);
    const y = at({ ...history[5]!, delivery: 'print' });
    expect(y[F.delivery_adjusted_days_late]).toBeCloseTo(10 + level, 5);
    // Without per-delivery means (an older manifest) every invoice counts against the overall mean.
    const z = row(history, history[5]!, '2024-06-20');
    expect(z[F.delivery_adjusted_days_late]).toBeCloseTo((-5 + 20 + 20) / 3, 5);
  });

  it('ignores payments dated on or after t, later invoices, and the invoice’s own future payment', () => {
    const before = row(ledger, ledger[3]!, '2024-04-15');
    const changed = [
      inv('1', '2024-01-01', '2024-01-31', '2024-01-20'),
      inv('2', '2024-02-01', '2024-03-02', '2024-03-12'),
      inv('3', '2024-03-01', '2024-03-31', '2024-04-15'), // paid exactly on t: not yet known
      inv('4', '2024-04-10', '2024-05-10', '2024-06-30', 30_000), // its own payment, in the future
      inv('5', '2024-04-15', '2024-05-15', '2024-04-16'), // issued on t
      inv('6', '2024-08-01', '2024-08-31', '2024-08-02', 999_999), // far future
    ];
    expect(row(changed, changed[3]!, '2024-04-15')).toEqual(before);
  });

  it('does change when a payment dated before t appears (the test above is not vacuous)', () => {
    const paidEarlier = ledger.map((r) => (r.invoiceId === '3' ? { ...r, paidDate: '2024-04-14' } : r));
    expect(row(paidEarlier, ledger[3]!, '2024-04-15')).not.toEqual(row(ledger, ledger[3]!, '2024-04-15'));
  });

  it('carries the customer-history heuristic’s own P(late) and pay date, point-in-time, whatever the segments', () => {
    // Two countries, so the priors hold segments: the model's late rate shrinks toward the country, the rule's
    // toward the whole ledger, and the stacked column must be the rule's.
    const rows = syntheticLedger({ customers: 30, invoicesPerCustomer: 20, seed: 7 }).map((r, i) => ({
      ...r,
      country: r.customerId.endsWith('1') || i % 7 === 0 ? 'DE' : 'US',
    }));
    const cut = dayNumber('2021-12-01');
    const known = ledgerAsOf(rows, cut);
    const priors = priorsFrom(known.filter((r) => r.paidDate !== null));
    expect(priors.segments).toBeDefined();
    const index = buildLedgerIndex(rows);
    const queries = rows
      .filter((r) => dayNumber(r.invoiceDate) >= cut - 60 && dayNumber(r.invoiceDate) < cut)
      .flatMap((invoice) => [0, 9].map((age) => ({ invoice, day: dayNumber(invoice.invoiceDate) + age })));
    expect(queries.length).toBeGreaterThan(100);
    const X = featureMatrix(index, queries, priors);
    const rule = heuristicPredict(index, queries, priors);
    let differsFromModelRate = 0;
    queries.forEach(({ invoice, day }, i) => {
      const x = X.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT);
      expect(x[F.heuristic_p_late]).toBeCloseTo(rule.pLate[i]!, 5);
      const daysToPay =
        x[F.heuristic_days_late]! + dayNumber(invoice.dueDate) - dayNumber(invoice.invoiceDate);
      const age = day - dayNumber(invoice.invoiceDate);
      expect(Math.max(0, daysToPay - age)).toBeCloseTo(rule.remaining[i * 3 + 1]!, 4);
      if (Math.abs(x[F.heuristic_p_late]! - x[F.late_rate]!) > 1e-4) differsFromModelRate++;
    });
    expect(differsFromModelRate).toBeGreaterThan(0);
  });

  it('gives a new customer the priors and flags cold start', () => {
    const x = row([], inv('9', '2024-04-10', '2024-05-10', null, 5_000, 'NEW'), '2024-04-10');
    expect(x[F.cold_start]).toBe(1);
    expect(x[F.late_rate]).toBeCloseTo(DEFAULT_PRIORS.lateRate, 6);
    expect(x[F.mean_days_to_pay]).toBeCloseTo(DEFAULT_PRIORS.daysToPay, 6);
    expect(x[F.amount_vs_usual]).toBe(0);
    expect(x.length).toBe(FEATURE_COUNT);
  });
});

describe('training labels and samples', () => {
  it('labels only invoices settled before the cutoff and old enough; samples only while unpaid', () => {
    const cutoff = dayNumber('2024-05-01');
    const known = ledgerAsOf(ledger, cutoff);
    expect(known.find((r) => r.invoiceId === '3')!.paidDate).toBeNull(); // paid after the cutoff: open then
    expect(labelledInvoices(known, cutoff, 30).map((r) => r.invoiceId)).toEqual(['1', '2']);
    const samples = samplesOf([ledger[1]!], [0, 10, 20, 30, 45]);
    // invoice 2 was paid 40 days after issue: unpaid at ages 0, 10, 20, 30, paid before age 45
    expect(samples.map((s) => s.day - dayNumber('2024-02-01'))).toEqual([0, 10, 20, 30]);
    expect(samples.map((s) => s.remainingDays)).toEqual([40, 30, 20, 10]);
    expect(samples.every((s) => s.late === 1)).toBe(true);
  });

  it('trains the exact same model whatever happened after the cutoff', () => {
    const rows = syntheticLedger({
      customers: 30,
      invoicesPerCustomer: 25,
      seed: 5,
      start: '2023-01-01',
      days: 400,
    });
    const cutoff = new Date('2023-11-01T00:00:00Z');
    const cutoffDay = dayNumber('2023-11-01');
    // Rewrite the future: every payment on/after the cutoff moves, and new invoices appear after it.
    const future = rows.map((r) =>
      r.paidDate !== null && dayNumber(r.paidDate) >= cutoffDay ? { ...r, paidDate: '2024-12-31' } : r,
    );
    future.push(
      ...syntheticLedger({ customers: 30, invoicesPerCustomer: 5, seed: 6, start: '2023-11-01', days: 60 }),
    );
    const a = trainRiskModel(rows, { cutoff, boost: { maxTrees: 30 } });
    const b = trainRiskModel(future, { cutoff, boost: { maxTrees: 30 } });
    expect(Buffer.from(exportOnnx(b.model))).toEqual(Buffer.from(exportOnnx(a.model)));
    expect(b.validation).toEqual(a.validation);
  });
});
