import { describe, expect, it } from 'vitest';
import { F, FEATURE_COUNT } from '../../src/risk/features';
import { historyWeight, predictRaw } from '../../src/risk/risk-model';
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
});
