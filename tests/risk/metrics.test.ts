import { describe, expect, it } from 'vitest';
import {
  auc,
  brier,
  calibrationByDecile,
  intervalCoverage,
  logLoss,
  meanAbsoluteError,
  pinballLoss,
  quantile,
  shareWithin,
} from '../../src/risk/metrics';

describe('metrics on hand-computed cases', () => {
  it('AUC counts pairs, ties as one half', () => {
    // positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8>0.4), (0.8>0.1), (0.4=0.4 → ½), (0.4>0.1) = 3.5 / 4
    expect(auc([0.8, 0.4, 0.4, 0.1], [1, 1, 0, 0])).toBeCloseTo(0.875, 12);
    expect(auc([0.1, 0.2, 0.3], [0, 0, 1])).toBe(1);
    expect(auc([0.3, 0.2, 0.1], [0, 0, 1])).toBe(0);
    expect(auc([0.5, 0.6], [1, 1])).toBeNaN();
  });

  it('Brier and log-loss', () => {
    expect(brier([0.9, 0.2], [1, 0])).toBeCloseTo((0.01 + 0.04) / 2, 12);
    expect(logLoss([0.9, 0.2], [1, 0])).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 12);
    expect(Number.isFinite(logLoss([0], [1]))).toBe(true);
  });

  it('calibration deciles split by rank into equal groups', () => {
    const p = [0.1, 0.2, 0.3, 0.4];
    const bins = calibrationByDecile(p, [0, 0, 1, 1], 2);
    expect(bins).toEqual([
      { bin: 1, count: 2, meanPredicted: expect.closeTo(0.15, 12), observedRate: 0 },
      { bin: 2, count: 2, meanPredicted: expect.closeTo(0.35, 12), observedRate: 1 },
    ]);
  });

  it('pay-date errors, ±k share, interval coverage, pinball, quantile', () => {
    expect(meanAbsoluteError([10, 20, 30], [12, 20, 25])).toBeCloseTo(7 / 3, 12);
    expect(shareWithin([10, 20, 30], [13, 20, 26], 3)).toBeCloseTo(2 / 3, 12);
    expect(intervalCoverage([0, 5, 10], [4, 9, 12], [4, 10, 11])).toBeCloseTo(2 / 3, 12);
    // alpha 0.9: under-prediction by 10 costs 9, over-prediction by 10 costs 1
    expect(pinballLoss([0, 20], [10, 10], 0.9)).toBeCloseTo((9 + 1) / 2, 12);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([4, 1, 3, 2], 0.1)).toBeCloseTo(1.3, 12);
  });
});
