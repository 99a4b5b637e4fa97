/**
 * Segment priors: a customer's averages shrink toward their country's (a new customer starts from it), learnt only
 * from what the training cutoff knew; priors without segments (older manifests) score as before.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLedgerIndex, DEFAULT_PRIORS, F, FEATURE_COUNT, featureMatrix } from '../../src/risk/features';
import { heuristicPredict } from '../../src/risk/heuristic';
import { dayNumber, isoFromDay, type LedgerInvoice } from '../../src/risk/ledger';
import { loadModel } from '../../src/risk/model-store';
import { scoreInvoices } from '../../src/risk/score';
import { priorsFrom } from '../../src/risk/training-set';

const inv = (
  customerId: string,
  id: string,
  issueDay: number,
  daysLate: number | null,
  country: string | null,
): LedgerInvoice => ({
  customerId,
  invoiceId: id,
  invoiceDate: isoFromDay(issueDay),
  dueDate: isoFromDay(issueDay + 30),
  currency: 'USD',
  amountMinor: 10_000,
  paidDate: daysLate === null ? null : isoFromDay(issueDay + 30 + daysLate),
  delivery: 'email',
  country,
});

const start = dayNumber('2024-01-01');
/** Country "SLOW" pays 10 days late, "FAST" 5 days early; 40 settled invoices each, and 5 of a tiny country. */
const settled = [
  ...Array.from({ length: 40 }, (_, i) => inv(`s${i % 4}`, `S${i}`, start + i * 3, 10, 'SLOW')),
  ...Array.from({ length: 40 }, (_, i) => inv(`f${i % 4}`, `F${i}`, start + i * 3, -5, 'FAST')),
  ...Array.from({ length: 5 }, (_, i) => inv('t0', `T${i}`, start + i * 3, 0, 'TINY')),
];
const day = start + 200;
const newcomer = (country: string | null, id = `new-${country}`) => inv(`cust-${id}`, id, day, null, country);
const row = (priors: ReturnType<typeof priorsFrom>, invoice: LedgerInvoice) =>
  featureMatrix(buildLedgerIndex([...settled, invoice]), [{ invoice, day }], priors);

describe('segment priors', () => {
  const priors = priorsFrom(settled);

  it('are learnt per country with enough settled invoices, shrunk toward the whole ledger', () => {
    expect(Object.keys(priors.segments ?? {})).toEqual(['FAST', 'SLOW']); // TINY has 5: too few
    const slow = priors.segments!.SLOW!;
    const fast = priors.segments!.FAST!;
    expect(slow.count).toBe(40);
    expect(slow.lateRate).toBeGreaterThan(priors.lateRate);
    expect(slow.lateRate).toBeLessThan(1); // shrunk, not the raw 40/40
    expect(fast.lateRate).toBeLessThan(priors.lateRate);
    expect(slow.daysLate).toBeGreaterThan(priors.daysLate);
    expect(slow.daysLate).toBeLessThan(10);
    // No country anywhere, or a single one: no segments.
    expect(priorsFrom(settled.map((r) => ({ ...r, country: null }))).segments).toBeUndefined();
    expect(priorsFrom(settled.map((r) => ({ ...r, country: 'X' }))).segments).toBeUndefined();
  });

  it("start a new customer from their country's figures, and the rest from the whole ledger", () => {
    const slow = row(priors, newcomer('SLOW'));
    const fast = row(priors, newcomer('FAST'));
    expect(slow[F.cold_start]).toBe(1);
    expect(slow[F.late_rate]).toBeCloseTo(priors.segments!.SLOW!.lateRate, 5);
    expect(fast[F.late_rate]).toBeCloseTo(priors.segments!.FAST!.lateRate, 5);
    expect(slow[F.habit_days_late]).toBeGreaterThan(fast[F.habit_days_late]!);
    expect(slow[F.delivery_adjusted_days_late]).toBeGreaterThan(fast[F.delivery_adjusted_days_late]!);
    for (const country of [null, 'TINY', 'UNKNOWN', 'constructor', '__proto__']) {
      const x = row(priors, newcomer(country, `n-${country}`));
      expect(x[F.late_rate]).toBeCloseTo(priors.lateRate, 5);
      expect(x[F.mean_days_to_pay]).toBeCloseTo(priors.daysToPay, 4);
    }
  });

  it('leave features as before when the priors have none (an older manifest)', () => {
    const { segments: _, ...old } = priors;
    const all = [...settled, newcomer('SLOW'), newcomer('FAST')];
    const queries = all.map((invoice) => ({ invoice, day }));
    const index = buildLedgerIndex(all);
    const withOld = featureMatrix(index, queries, old);
    const noCountry = featureMatrix(
      buildLedgerIndex(all.map((r) => ({ ...r, country: null }))),
      queries.map((q) => ({ ...q, invoice: { ...q.invoice, country: null } })),
      priors,
    );
    expect(Array.from(withOld)).toEqual(Array.from(noCountry));
    expect(withOld.length).toBe(all.length * FEATURE_COUNT);
  });

  it('do not move the customer-history heuristic (the baseline shrinks toward the whole ledger)', () => {
    const invoice = newcomer('SLOW');
    const index = buildLedgerIndex([...settled, invoice]);
    const { segments: _, ...old } = priors;
    expect(heuristicPredict(index, [{ invoice, day }], priors).pLate[0]).toBeCloseTo(
      heuristicPredict(index, [{ invoice, day }], old).pLate[0]!,
      6,
    );
    expect(DEFAULT_PRIORS.segments).toBeUndefined();
  });

  it('make the shipped model score a new customer from a late-paying country above one from a prompt one', async () => {
    const model = await loadModel(resolve(process.cwd(), 'models/default'));
    const segments = model.manifest.priors.segments ?? {};
    const byLate = Object.entries(segments).sort((a, b) => a[1].lateRate - b[1].lateRate);
    expect(byLate.length).toBeGreaterThanOrEqual(2);
    const low = byLate[0]![0];
    const high = byLate[byLate.length - 1]![0];
    const history = [newcomer(low, 'low'), newcomer(high, 'high')];
    const scores = await scoreInvoices(model, history, ['low', 'high'], new Date(day * 86_400_000));
    const p = Object.fromEntries(scores.map((s) => [s.invoiceId, s.pLate]));
    expect(p.high).toBeGreaterThan(p.low! + 0.02);
  });
});
