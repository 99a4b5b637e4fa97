import { describe, expect, it } from 'vitest';
import { F, FEATURE_COUNT } from '../../src/risk/features';
import { historyWeight, predictRaw } from '../../src/risk/risk-model';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import { trainRiskModel, UNVALIDATED_MODEL_SHARE } from '../../src/risk/train';
import { trainedModel } from './fixtures';

describe('fallback to the heuristic by history depth', () => {
  it('a cold-start customer gets the base rate, a rich history the model, and k = 0 is the model alone', () => {
    const { model } = trainedModel();
    const X = new Float32Array(FEATURE_COUNT * 2);
    for (const [row, settled] of [
      [0, 0],
      [1, 40],
    ] as const) {
      X[row * FEATURE_COUNT + F.log_settled_count] = Math.log1p(settled);
      X[row * FEATURE_COUNT + F.late_rate] = 0.3;
      X[row * FEATURE_COUNT + F.cold_start] = settled === 0 ? 1 : 0;
    }
    const alone = predictRaw({ ...model, historyK: 0 }, X, 2).pLate;
    const mixed = predictRaw({ ...model, historyK: 4 }, X, 2).pLate;
    expect(mixed[0]).toBeCloseTo(0.3, 5); // no history: the heuristic (its late rate is the base rate)
    const w = historyWeight(Math.fround(Math.log1p(40)), 4);
    expect(w).toBeCloseTo(40 / 44, 5);
    expect(mixed[1]).toBeCloseTo(w * alone[1]! + (1 - w) * 0.3, 6);
    expect(historyWeight(0, 0)).toBe(1);
  });

  it('without a validation slice p_late is the even mix of the untuned model and the late rate; with one, the model', () => {
    // 44 settled invoices: enough to train, too few to hold out a slice that could tune or check the model.
    const short = syntheticLedger({
      customers: 4,
      invoicesPerCustomer: 12,
      seed: 3,
      start: '2023-01-01',
      days: 300,
    });
    const untuned = trainRiskModel(short, { cutoff: new Date('2023-12-01T00:00:00Z'), seed: 1 });
    expect(untuned.validation).toBeNull();
    expect(untuned.model.modelShare).toBe(UNVALIDATED_MODEL_SHARE);
    expect(UNVALIDATED_MODEL_SHARE).toBe(0.5);
    const X = new Float32Array(FEATURE_COUNT * 2);
    for (const [row, settled, rate] of [
      [0, 0, 0.35],
      [1, 12, 0.8],
    ] as const) {
      X[row * FEATURE_COUNT + F.log_settled_count] = Math.log1p(settled);
      X[row * FEATURE_COUNT + F.late_rate] = rate;
      X[row * FEATURE_COUNT + F.terms_days] = 30;
    }
    const { modelShare: _, ...alone } = untuned.model;
    const model = predictRaw(alone, X, 2).pLate;
    const mixed = predictRaw(untuned.model, X, 2).pLate;
    expect(mixed[0]).toBeCloseTo(0.5 * model[0]! + 0.5 * Math.fround(0.35), 6);
    expect(mixed[1]).toBeCloseTo(0.5 * model[1]! + 0.5 * Math.fround(0.8), 6);
    // A ledger long enough for a slice keeps the model alone (no share written).
    expect(trainedModel().validation).not.toBeNull();
    expect(trainedModel().model.modelShare).toBeUndefined();
  });
});
