/**
 * One batch through the ONNX graph: feature rows in, the raw heads out (P(late), its logistic part, remaining-days
 * quantiles, collection within 30/90 days). Its own module so scoring, the overdue calibration and the replay share
 * it without importing each other.
 */
import * as ort from 'onnxruntime-node';
import { FEATURE_COUNT } from './features';
import { ONNX_INPUT, ONNX_OUTPUTS } from './onnx-export';
import type { RawPredictions } from './risk-model';

/** Runs the ONNX graph on a row-major feature matrix. */
export async function runModel(
  session: ort.InferenceSession,
  X: Float32Array,
  n: number,
): Promise<RawPredictions> {
  if (n === 0)
    return {
      pLate: new Float64Array(0),
      pLateLogistic: new Float64Array(0),
      remaining: new Float64Array(0),
      pCollect: new Float64Array(0),
    };
  const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', X, [n, FEATURE_COUNT]) });
  // The typed-array constructor converts element by element without Float64Array.from's iteration.
  const data = (name: string) => new Float64Array(out[name]!.data as Float32Array);
  return {
    pLate: data(ONNX_OUTPUTS.pLate),
    pLateLogistic: data(ONNX_OUTPUTS.pLateLogistic),
    remaining: data(ONNX_OUTPUTS.remaining),
    pCollect: out[ONNX_OUTPUTS.pCollect]
      ? data(ONNX_OUTPUTS.pCollect)
      : new Float64Array(n * 2).fill(Number.NaN),
  };
}
