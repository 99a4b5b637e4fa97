/**
 * An invoice already past due is late for certain; what matters is when (and whether) it will still be paid
 * given that it is unpaid now. Old debt must not be forecast into next week, and bands must tell debts apart.
 */
import { describe, expect, it } from 'vitest';
import {
  collectionChance,
  collectionOffsets,
  meanMatchingOffset,
  OVERDUE_BUCKETS,
  overdueSurvival,
  PRIOR_INVOICES,
} from '../../src/risk/collection-calibration';
import { buildLedgerIndex, featureMatrix } from '../../src/risk/features';
import { dayNumber, isoFromDay, type LedgerInvoice } from '../../src/risk/ledger';
import { ModelRegistry } from '../../src/risk/model-registry';
import { loadModel, writeModel } from '../../src/risk/model-store';
import { survivalQuantile, toForecast } from '../../src/risk/risk-model';
import { createRng } from '../../src/risk/rng';
import { runModel, scoreInvoices } from '../../src/risk/score';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import { trainRiskModel } from '../../src/risk/train';
import { tempDir } from './fixtures';

describe('survival quantiles', () => {
  it('puts the median inside the horizon where collection is likely and far out where it is not', () => {
    expect(survivalQuantile(0.8, 0.95, 0.5)).toBeLessThan(30);
    expect(survivalQuantile(0.3, 0.7, 0.5)).toBeGreaterThan(30);
    expect(survivalQuantile(0.3, 0.7, 0.5)).toBeLessThan(90);
    expect(survivalQuantile(0.02, 0.05, 0.5)).toBeGreaterThan(365);
    expect(survivalQuantile(0.0, 0.0, 0.5)).toBe(730); // never collected: capped, not next week
    // Monotone in the level.
    const qs = [0.1, 0.5, 0.9].map((q) => survivalQuantile(0.2, 0.5, q));
    expect(qs).toEqual([...qs].sort((a, b) => a - b));
  });

  it('an overdue invoice with little chance of collection gets a far date; one likely paid keeps the pay-date heads', () => {
    const raw = (p30: number, p90: number) => ({
      pLate: Float64Array.of(0.5),
      pLateLogistic: Float64Array.of(0.5),
      remaining: Float64Array.of(0, 2, 6),
      pCollect: Float64Array.of(p30, p90),
    });
    const day = 20_000;
    const old = toForecast(raw(0.03, 0.08), 0, day, day - 400);
    expect(old.payDay - day).toBeGreaterThan(365);
    expect(old.pLate).toBe(1);
    const soon = toForecast(raw(0.9, 0.97), 0, day, day - 5);
    expect(soon.payDay - day).toBe(2);
    // Not yet due: dates come from the pay-date heads whatever the collection heads say.
    expect(toForecast(raw(0.03, 0.08), 0, day, day + 10).payDay - day).toBe(2);
  });
});

describe('scoring overdue invoices', () => {
  it('tells a fresh overdue invoice of a good payer from old debt of a customer who stopped paying', async () => {
    const rows = syntheticLedger({
      customers: 60,
      invoicesPerCustomer: 30,
      seed: 5,
      start: '2022-01-01',
      days: 600,
      badDebtShare: 0.2,
    });
    const asOf = new Date('2023-12-01T00:00:00Z');
    const asOfDay = dayNumber('2023-12-01');
    const inv = (customerId: string, id: string, issue: number, paid: number | null): LedgerInvoice => ({
      customerId,
      invoiceId: id,
      invoiceDate: isoFromDay(issue),
      dueDate: isoFromDay(issue + 30),
      currency: 'USD',
      amountMinor: 50_000,
      paidDate: paid === null ? null : isoFromDay(paid),
      delivery: 'email',
      country: null,
    });
    // A reliable payer (a few days late, always) and a customer who stopped paying 14 months ago.
    const good = Array.from({ length: 12 }, (_, k) =>
      inv('GOOD', `G${k}`, asOfDay - 400 + k * 30, asOfDay - 400 + k * 30 + 33),
    );
    const gone = Array.from({ length: 12 }, (_, k) =>
      inv('GONE', `X${k}`, asOfDay - 700 + k * 30, k < 4 ? asOfDay - 700 + k * 30 + 60 : null),
    );
    const ledger = [...rows, ...good, ...gone, inv('GOOD', 'G-late', asOfDay - 36, null)];
    const trained = trainRiskModel(ledger, { cutoff: asOf, seed: 1, boost: { maxTrees: 60 } });
    const dir = tempDir();
    writeModel(dir, trained, { dataSha256: 'test', rows: ledger.length, cutoff: asOf, createdAt: asOf });
    const model = await loadModel(dir);
    const scores = await scoreInvoices(model, ledger, ['G-late', 'X11', 'X4'], asOf);
    const by = Object.fromEntries(scores.map((s) => [s.invoiceId, s]));
    const fresh = by['G-late']!;
    const old = by.X4!; // issued ~580 days ago, never paid
    expect(fresh.pCollect30!).toBeGreaterThan(old.pCollect30!);
    expect(fresh.pCollect90!).toBeGreaterThan(0.5);
    expect(old.pCollect90!).toBeLessThan(0.5);
    expect(dayNumber(fresh.predictedPayDate) - asOfDay).toBeLessThanOrEqual(30);
    expect(dayNumber(old.predictedPayDate) - asOfDay).toBeGreaterThan(90); // not next week
    expect(old.riskBand).toBe('high');
    expect(fresh.riskBand).not.toBe('high');
  });
});

describe('collection corrected by the ledger’s own overdue history', () => {
  it('a model that never saw old debt learns from this ledger that its 180-day-old invoices are not paid', async () => {
    const { rows, trainedModel, CUTOFF } = await import('./fixtures');
    const dir = tempDir();
    writeModel(dir, trainedModel(), {
      dataSha256: 'test',
      rows: rows.length,
      cutoff: CUTOFF,
      createdAt: CUTOFF,
    });
    const model = await loadModel(dir);
    const asOf = new Date('2024-03-01T00:00:00Z');
    const asOfDay = dayNumber('2024-03-01');
    // Ten customers who stopped paying: invoices due 100…640 days ago, none paid.
    const stopped: LedgerInvoice[] = [];
    for (let c = 0; c < 10; c++) {
      for (let k = 0; k < 10; k++) {
        const due = asOfDay - 100 - k * 60 - c * 3;
        stopped.push({
          customerId: `STOP${c}`,
          invoiceId: `S${c}-${k}`,
          invoiceDate: isoFromDay(due - 30),
          dueDate: isoFromDay(due),
          currency: 'USD',
          amountMinor: 20_000,
          paidDate: null,
          delivery: 'email',
          country: null,
        });
      }
    }
    const ledger = [...rows, ...stopped];
    const target = stopped.find((r) => r.invoiceId === 'S0-2')!; // 220 days past due
    const [score] = await scoreInvoices(model, ledger, [target.invoiceId], asOf);
    expect(score!.pCollect30!).toBeLessThan(0.3);
    expect(dayNumber(score!.predictedPayDate) - asOfDay).toBeGreaterThan(91); // beyond a 13-week forecast
    expect(score!.riskBand).toBe('high');
    // Uncorrected, the same model would have expected it soon: the correction is what moved it.
    const raw = await runModel(
      model.session,
      featureMatrix(buildLedgerIndex(ledger), [{ invoice: target, day: asOfDay }], model.manifest.priors),
      1,
    );
    expect(raw.pCollect[0]!).toBeGreaterThan(score!.pCollect30!);
  });
});

describe('meanMatchingOffset', () => {
  it('shifts log-odds so the mean probability hits the target, even with samples near certainty', () => {
    const logits = Float64Array.from([9, 9, 0, -2]);
    const d = meanMatchingOffset(logits, 0.05);
    const mean = [...logits].reduce((a, z) => a + 1 / (1 + Math.exp(-(z + d))), 0) / logits.length;
    expect(mean).toBeCloseTo(0.05, 6);
    // The difference of logits of the means would leave the near-certain samples far above the target.
    const naive = Math.log(0.05 / 0.95) - Math.log(0.6 / 0.4);
    expect(1 / (1 + Math.exp(-(9 + naive)))).toBeGreaterThan(0.9);
    expect(meanMatchingOffset(Float64Array.from([0, 0]), 0.5)).toBeCloseTo(0, 6);
  });
});

describe('overdue survival from the ledger (right-censored)', () => {
  const asOfDay = dayNumber('2024-03-01');
  const inv = (id: string, due: number, paid: number | null): LedgerInvoice => ({
    customerId: 'C',
    invoiceId: id,
    invoiceDate: isoFromDay(due - 30),
    dueDate: isoFromDay(due),
    currency: 'USD',
    amountMinor: 10_000,
    paidDate: paid === null ? null : isoFromDay(paid),
    delivery: 'email',
    country: null,
  });

  it('an open invoice adds days at risk but no payment; a later payment is not known yet', () => {
    const due = asOfDay - 20;
    const ledger = [
      inv('paid10', due, due + 10), // paid on its 10th day overdue
      inv('open5', asOfDay - 5, null), // seen unpaid on overdue days 1..4
      inv('onTime', due, due - 1), // never overdue
      inv('paidLater', asOfDay - 3, asOfDay + 4), // paid after the as-of day: open then, seen on days 1..2
    ];
    const sv = overdueSurvival(ledger, buildLedgerIndex(ledger), asOfDay);
    expect([...sv.atRisk.slice(1, 12)]).toEqual([3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0]);
    expect(sv.events[10]).toBe(1);
    expect(sv.events.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('shrinks toward the prior only by how little exposure there is', () => {
    const empty = { events: new Float64Array(1000), atRisk: new Float64Array(1000) };
    expect(collectionChance(empty, 200, 90, 0.6)).toBe(0.6); // no history: the prior
    // 100 invoices followed over the window, none paid: the prior keeps k / (n + k) of its weight.
    const none = { events: new Float64Array(1000), atRisk: new Float64Array(1000).fill(100) };
    expect(collectionChance(none, 200, 90, 0.6)).toBeCloseTo(
      (PRIOR_INVOICES * 0.6) / (100 + PRIOR_INVOICES),
      9,
    );
    expect(collectionChance(none, 200, 90, 0.6, 0)).toBe(0);
    // One payment a day out of 100 at risk: 1 − 0.99^90 over 90 days (Kaplan–Meier), whatever a weak prior says.
    const some = { events: new Float64Array(1000).fill(1), atRisk: new Float64Array(1000).fill(100) };
    expect(collectionChance(some, 200, 90, 0.6, 0)).toBeCloseTo(1 - 0.99 ** 90, 9);
    expect(Math.abs(collectionChance(some, 200, 90, 0) - (1 - 0.99 ** 90))).toBeLessThan(0.04);
    // Payers and never-payers mixed: 100 at risk, 50 paid on the window's first day, the rest never. Half were
    // collected; a constant hazard pooled over the window (50 payments in 100 + 89 × 50 invoice-days) said 63 %.
    const mixed = { events: new Float64Array(1000), atRisk: new Float64Array(1000).fill(50) };
    mixed.events[200] = 50;
    mixed.atRisk[200] = 100;
    expect(collectionChance(mixed, 200, 90, 0.6, 0)).toBeCloseTo(0.5, 9);
  });
});

/**
 * A synthetic company plus 30 slow customers whose invoices fell due 40 to 590 days before the as-of day. In one
 * ledger the slow customers pay within 80 days overdue or never (nothing more than 180 days overdue was ever
 * collected); in the other their payments spread over two and a half years (log-uniform days overdue: a hazard
 * that falls with age, so old debt is still collected now and then, less often the older it is).
 */
function oldDebtLedger(oldDebtCollected: boolean): LedgerInvoice[] {
  const asOfDay = dayNumber('2024-03-01');
  const rng = createRng(oldDebtCollected ? 11 : 12);
  const base = syntheticLedger({
    customers: 40,
    invoicesPerCustomer: 30,
    seed: 3,
    start: '2023-01-01',
    days: 420,
  });
  const slow: LedgerInvoice[] = [];
  for (let c = 0; c < 30; c++) {
    for (let k = 0; k < 12; k++) {
      const due = asOfDay - 40 - k * 50 - c;
      const late = oldDebtCollected
        ? Math.floor(Math.exp(rng() * Math.log(900)))
        : rng() < 0.4
          ? 20 + Math.floor(rng() * 60)
          : null;
      const paid = late === null || due + late >= asOfDay ? null : due + late;
      slow.push({
        customerId: `SLOW${c}`,
        invoiceId: `S${c}-${k}`,
        invoiceDate: isoFromDay(due - 30),
        dueDate: isoFromDay(due),
        currency: 'USD',
        amountMinor: 20_000,
        paidDate: paid === null ? null : isoFromDay(paid),
        delivery: 'email',
        country: null,
      });
    }
  }
  return [...base, ...slow];
}

describe('collection of old debt follows the ledger’s own survival history', () => {
  const asOf = new Date('2024-03-01T00:00:00Z');
  const asOfDay = dayNumber('2024-03-01');
  const registry = new ModelRegistry();

  async function scoredOld(ledger: LedgerInvoice[]) {
    const open = ledger.filter((r) => r.customerId.startsWith('SLOW') && r.paidDate === null);
    const scores = await scoreInvoices(
      await registry.default(),
      ledger,
      open.map((r) => r.invoiceId),
      asOf,
    );
    const due = new Map(ledger.map((r) => [r.invoiceId, dayNumber(r.dueDate)]));
    return scores.map((s) => ({ ...s, overdue: asOfDay - due.get(s.invoiceId)! }));
  }

  it('nothing over 180 days overdue was ever collected: P(collected within 90 days) ≈ 0 and no date inside 13 weeks', async () => {
    const old = (await scoredOld(oldDebtLedger(false))).filter((s) => s.overdue > 180);
    expect(old.length).toBeGreaterThan(100);
    for (const s of old) {
      expect(s.pCollect90!).toBeLessThan(0.02);
      expect(dayNumber(s.payDateP10) - asOfDay).toBeGreaterThan(91);
      expect(s.riskBand).toBe('high');
    }
  });

  it('where old debt does get collected, it keeps a positive chance, falling with age where the data are', async () => {
    const ledger = oldDebtLedger(true);
    const scores = await scoredOld(ledger);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const old = scores.filter((s) => s.overdue > 180 && s.overdue < 365);
    expect(old.length).toBeGreaterThan(20);
    // Log-uniform payments: P(paid within 90 more days | unpaid at 180–365 days) is about 0.15–0.35.
    expect(mean(old.map((s) => s.pCollect90!))).toBeGreaterThan(0.1);
    expect(mean(old.map((s) => s.pCollect90!))).toBeLessThan(0.45);
    // The bucket figures (the mean every bucket's scores are matched to) fall with days overdue.
    const model = await registry.default();
    const { targets, counts } = await collectionOffsets(model, ledger, buildLedgerIndex(ledger), asOfDay);
    const withData = OVERDUE_BUCKETS.map((_, b) => b).filter((b) => counts[b]![1]! >= 20);
    expect(withData.length).toBeGreaterThanOrEqual(5);
    for (let j = 1; j < withData.length; j++) {
      for (const k of [0, 1]) {
        expect(targets[withData[j]!]![k]!).toBeLessThanOrEqual(targets[withData[j - 1]!]![k]! + 1e-9);
      }
    }
    // Nothing collected after 180 days in the other ledger: the same buckets say ≈ 0 there.
    const never = oldDebtLedger(false);
    const other = await collectionOffsets(model, never, buildLedgerIndex(never), asOfDay);
    expect(other.targets[4]![1]!).toBeLessThan(0.02);
    expect(targets[4]![1]!).toBeGreaterThan(0.1);
  });
});
