import { describe, expect, it } from 'vitest';
import { logLoss } from '../../src/risk/metrics';
import { calibrate } from '../../src/risk/risk-model';
import { createRng } from '../../src/risk/rng';
import { fitPlatt } from '../../src/risk/train';

describe('Platt recalibration of p_late', () => {
  it('spreads squeezed probabilities back out, improving log-loss; tiny slices are left alone', () => {
    const rng = createRng(4);
    const n = 2000;
    const truth = Float64Array.from({ length: n }, () => rng());
    const y = Float64Array.from(truth, (q) => (rng() < q ? 1 : 0));
    // A blend of two models: right order, squeezed toward the middle.
    const squeezed = Float64Array.from(truth, (q) => 0.3 + 0.4 * q);
    const c = fitPlatt(squeezed, y);
    expect(c.a).toBeGreaterThan(1.5);
    const fixed = Float64Array.from(squeezed, (p) => calibrate(p, c));
    expect(logLoss(fixed, y)).toBeLessThan(logLoss(squeezed, y) - 0.01);
    expect(fitPlatt(squeezed.subarray(0, 100), y.subarray(0, 100))).toEqual({ a: 1, b: 0 });
  });
});
