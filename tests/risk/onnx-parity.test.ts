import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildLedgerIndex, F, FEATURE_COUNT, featureMatrix } from '../../src/risk/features';
import { dayNumber } from '../../src/risk/ledger';
import { exportOnnx } from '../../src/risk/onnx-export';
import { predictRaw } from '../../src/risk/risk-model';
import { runModel } from '../../src/risk/score';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import { trainRiskModel } from '../../src/risk/train';
import { collectSamplesOf, samplesOf } from '../../src/risk/training-set';
import { CUTOFF, trainedModel } from './fixtures';

describe('ONNX export', () => {
  it.each([
    ['as trained', undefined, undefined, undefined, undefined],
    ['with the history-depth fallback on', 3, undefined, undefined, undefined],
    ['with the pay-date baseline half delivery-adjusted', undefined, 0.5, undefined, undefined],
    ['with the delivery-adjusted pay-date baseline', undefined, 1, undefined, undefined],
    ['with the P50 date moved halfway to the mode', undefined, undefined, 0.5, undefined],
    ['with the P50 date moved to the mode', undefined, 1, 1, undefined],
    ['with half of p_late from the late rate (no validation slice)', undefined, undefined, undefined, 0.5],
    ['with the model share and the history-depth fallback', 3, undefined, undefined, 0.7],
  ])(
    'agrees with the TypeScript model to 1e-6 on probabilities (and float32 rounding on days), %s',
    async (_name, k, mix, shift, share) => {
      // A ledger with some debt that is never collected, so both collection heads grow trees.
      const rows = syntheticLedger({
        customers: 40,
        invoicesPerCustomer: 30,
        seed: 3,
        start: '2023-01-01',
        days: 420,
        badDebtShare: 0.2,
      });
      const trained = trainRiskModel(rows, { cutoff: CUTOFF, seed: 1, boost: { maxTrees: 60 } }).model;
      const model = {
        ...trained,
        ...(k === undefined ? {} : { historyK: k }),
        ...(mix === undefined ? {} : { baseMix: mix }),
        ...(shift === undefined ? {} : { modeShift: shift }),
        ...(share === undefined ? {} : { modelShare: share }),
      };
      const session = await ort.InferenceSession.create(exportOnnx(model));
      const samples = [
        ...samplesOf(rows.filter((r) => r.paidDate !== null)),
        ...collectSamplesOf(rows, dayNumber('2024-06-01'), 30),
      ];
      const X = featureMatrix(buildLedgerIndex(rows), samples, model.priors);
      const n = samples.length;
      const ts = predictRaw(model, X, n);
      if (shift !== undefined) {
        // The shift only shows where customers have a mode away from their median.
        let moved = 0;
        for (let i = 0; i < n; i++) if (X[i * FEATURE_COUNT + F.habit_mode_offset] !== 0) moved++;
        expect(moved).toBeGreaterThan(50);
      }
      const onnx = await runModel(session, X, n);
      let maxP = 0;
      let maxDays = 0;
      for (let i = 0; i < n; i++) {
        maxP = Math.max(
          maxP,
          Math.abs(onnx.pLate[i]! - ts.pLate[i]!),
          Math.abs(onnx.pLateLogistic[i]! - ts.pLateLogistic[i]!),
        );
        for (let k = 0; k < 3; k++)
          maxDays = Math.max(maxDays, Math.abs(onnx.remaining[i * 3 + k]! - ts.remaining[i * 3 + k]!));
        for (let k = 0; k < 2; k++)
          maxP = Math.max(maxP, Math.abs(onnx.pCollect[i * 2 + k]! - ts.pCollect[i * 2 + k]!));
      }
      // The collection heads are real (trained), so the parity above covers their trees and Sigmoid node.
      expect(model.collect.every((e) => e.trees.length > 0)).toBe(true);
      expect(n).toBeGreaterThan(1000);
      expect(maxP).toBeLessThan(1e-6);
      expect(maxDays).toBeLessThan(1e-4);
    },
  );

  it('routes a value equal to a split threshold the same way as onnxruntime (x <= t goes left)', async () => {
    const { model } = trainedModel();
    const tree = model.classifier.trees[0]!;
    const X = new Float32Array(FEATURE_COUNT * 2);
    X[tree.feature[0]!] = tree.threshold[0]!; // exactly on the root threshold
    X[FEATURE_COUNT + tree.feature[0]!] = Math.fround(
      tree.threshold[0]! + Math.abs(tree.threshold[0]!) * 1e-6 + 1e-6,
    );
    const session = await ort.InferenceSession.create(exportOnnx({ ...model, blend: 0 }));
    const onnx = await runModel(session, X, 2);
    const ts = predictRaw({ ...model, blend: 0 }, X, 2);
    expect(Math.abs(onnx.pLate[0]! - ts.pLate[0]!)).toBeLessThan(1e-6);
    expect(Math.abs(onnx.pLate[1]! - ts.pLate[1]!)).toBeLessThan(1e-6);
  });
});
