/**
 * When a tenant gives up its model for the customer-history rule of thumb: only when the rule clearly predicts
 * better on the recent slice, never on a hair of log-loss while it ranks payers far worse (seen from outside: a
 * one-customer ledger switched on log-loss 0.650 against 0.654 with the rule's AUC 0.33 against 0.60).
 */
import { describe, expect, it } from 'vitest';
import { ruleClearlyBetter, type SliceMetrics } from '../../src/risk/retrain';

const e = (value: number) => ({ value, lo: value, hi: value });
const metrics = (auc: number, logLoss: number, mae: number): SliceMetrics =>
  ({ auc: e(auc), logLoss: e(logLoss), payDateMae: e(mae) }) as unknown as SliceMetrics;

describe('switching to the rule of thumb', () => {
  it('needs the rule to win clearly without ranking clearly worse', () => {
    const model = metrics(0.6, 0.654, 5);
    // A hair better in log-loss, far worse at telling late payers from punctual ones: the model stays.
    expect(ruleClearlyBetter(model, metrics(0.33, 0.65, 5))).toBe(false);
    // Same AUC, a hair better in log-loss (under the 0.005 margin), same dates: the model stays.
    expect(ruleClearlyBetter(model, metrics(0.6, 0.651, 5))).toBe(false);
    // Clearly better in log-loss at the same ranking: switch.
    expect(ruleClearlyBetter(model, metrics(0.6, 0.64, 5))).toBe(true);
    // Clearly better pay dates, ranking within tolerance: switch.
    expect(ruleClearlyBetter(model, metrics(0.59, 0.654, 4.5))).toBe(true);
    // Clearly better pay dates but far worse ranking: the model stays.
    expect(ruleClearlyBetter(model, metrics(0.5, 0.654, 4.5))).toBe(false);
  });

  it('does not hold an AUC that cannot be computed against the rule', () => {
    expect(ruleClearlyBetter(metrics(Number.NaN, 0.3, 3), metrics(Number.NaN, 0.25, 3))).toBe(true);
    expect(ruleClearlyBetter(metrics(0.7, 0.3, 3), metrics(Number.NaN, 0.25, 3))).toBe(true);
  });
});
