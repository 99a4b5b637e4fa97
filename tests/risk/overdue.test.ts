/**
 * An invoice already past due is late for certain; what matters is when (and whether) it will still be paid
 * given that it is unpaid now. Old debt must not be forecast into next week, and bands must tell debts apart.
 */
import { describe, expect, it } from 'vitest';
import { meanMatchingOffset } from '../../src/risk/collection-calibration';
import { dayNumber, isoFromDay, type LedgerInvoice } from '../../src/risk/ledger';
import { loadModel, writeModel } from '../../src/risk/model-store';
import { survivalQuantile, toForecast } from '../../src/risk/risk-model';
import { buildLedgerIndex, featureMatrix } from '../../src/risk/features';
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
