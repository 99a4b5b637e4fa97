/**
 * Serializes a RiskModel to one ONNX graph with three outputs:
 *   p_late          [N,1]  w * (blend * sigmoid(logistic) + (1 - blend) * sigmoid(boosted classifier))
 *                          + (1 - w) * late_rate, w = (n + ε) / (n + k + ε) from the settled count n,
 *                          then Platt-recalibrated: sigmoid(a · logit(p) + b)
 *   p_late_logistic [N,1]  the logistic part alone (reasons are explained from it)
 *   remaining_days  [N,3]  P10/P50/P90 of days from the as-of day to payment: the base_remaining feature
 *                          (due date plus the customer's usual days late) plus the boosted corrections
 *   p_collect       [N,2]  P(paid within 30 / 90 days | unpaid on the as-of day)
 * The logistic part is MatMul+Add+Sigmoid with the standardization folded into the weights. Trees are
 * ai.onnx.ml TreeEnsembleRegressor; the classifier gets an explicit Sigmoid node because onnxruntime ignores
 * post_transform=LOGISTIC on a single-target regressor (docs/stack-notes.md §2).
 */
import { F, FEATURE_COUNT } from './features';
import type { Ensemble } from './gbdt';
import { AttributeType, FLOAT_TENSOR, ModelProto } from './onnx-proto';
import { CLIP, HISTORY_EPS, type RiskModel } from './risk-model';

type Attr = Record<string, unknown>;
const enc = (s: string) => new TextEncoder().encode(s);

const attr = {
  int: (name: string, i: number): Attr => ({ name, type: AttributeType.INT, i }),
  str: (name: string, s: string): Attr => ({ name, type: AttributeType.STRING, s: enc(s) }),
  floats: (name: string, floats: number[]): Attr => ({ name, type: AttributeType.FLOATS, floats }),
  ints: (name: string, ints: number[]): Attr => ({ name, type: AttributeType.INTS, ints }),
  strs: (name: string, strings: string[]): Attr => ({
    name,
    type: AttributeType.STRINGS,
    strings: strings.map(enc),
  }),
};

const tensor = (name: string, dims: number[], values: number[]) => ({
  name,
  dims,
  dataType: FLOAT_TENSOR,
  floatData: values,
});

const valueInfo = (name: string, dims: (number | string)[]) => ({
  name,
  type: {
    tensorType: {
      elemType: FLOAT_TENSOR,
      shape: { dim: dims.map((v) => (typeof v === 'string' ? { dimParam: v } : { dimValue: v })) },
    },
  },
});

/** Trees of several ensembles in one TreeEnsembleRegressor, ensemble k feeding target k. */
function treeEnsembleNode(name: string, input: string, output: string, ensembles: Ensemble[]): Attr {
  const a = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    featureIds: [] as number[],
    values: [] as number[],
    modes: [] as string[],
    trueIds: [] as number[],
    falseIds: [] as number[],
    targetTreeIds: [] as number[],
    targetNodeIds: [] as number[],
    targetIds: [] as number[],
    targetWeights: [] as number[],
  };
  let treeId = 0;
  ensembles.forEach((ens, target) => {
    for (const t of ens.trees) {
      for (let node = 0; node < t.feature.length; node++) {
        const leaf = t.feature[node]! < 0;
        a.treeIds.push(treeId);
        a.nodeIds.push(node);
        a.featureIds.push(leaf ? 0 : t.feature[node]!);
        a.values.push(leaf ? 0 : t.threshold[node]!);
        a.modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
        a.trueIds.push(leaf ? 0 : t.left[node]!);
        a.falseIds.push(leaf ? 0 : t.right[node]!);
        if (leaf) {
          a.targetTreeIds.push(treeId);
          a.targetNodeIds.push(node);
          a.targetIds.push(target);
          a.targetWeights.push(t.value[node]!);
        }
      }
      treeId++;
    }
  });
  return {
    name,
    opType: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    input: [input],
    output: [output],
    attribute: [
      attr.int('n_targets', ensembles.length),
      attr.floats(
        'base_values',
        ensembles.map((e) => e.base),
      ),
      attr.str('aggregate_function', 'SUM'),
      attr.str('post_transform', 'NONE'),
      attr.ints('nodes_treeids', a.treeIds),
      attr.ints('nodes_nodeids', a.nodeIds),
      attr.ints('nodes_featureids', a.featureIds),
      attr.floats('nodes_values', a.values),
      attr.strs('nodes_modes', a.modes),
      attr.ints('nodes_truenodeids', a.trueIds),
      attr.ints('nodes_falsenodeids', a.falseIds),
      attr.ints('target_treeids', a.targetTreeIds),
      attr.ints('target_nodeids', a.targetNodeIds),
      attr.ints('target_ids', a.targetIds),
      attr.floats('target_weights', a.targetWeights),
    ],
  };
}

export const ONNX_INPUT = 'features';
export const ONNX_OUTPUTS = {
  pLate: 'p_late',
  pLateLogistic: 'p_late_logistic',
  remaining: 'remaining_days',
  pCollect: 'p_collect',
} as const;

const selector = (column: number) => Array.from({ length: FEATURE_COUNT }, (_, j) => (j === column ? 1 : 0));
/** Adds `modeShift` times the mode offset to the P50 column only (one non-zero product: exact in float32). */
const modeShiftSelector = (shift: number) =>
  Array.from({ length: FEATURE_COUNT * 3 }, (_, k) =>
    Math.floor(k / 3) === F.habit_mode_offset && k % 3 === 1 ? shift : 0,
  );
const baseSelector = (mix: number) =>
  Array.from({ length: FEATURE_COUNT }, (_, j) =>
    j === F.base_remaining ? 1 - mix : j === F.base_remaining_adjusted ? mix : 0,
  );

export function exportOnnx(model: RiskModel, metadata: Record<string, string> = {}): Uint8Array {
  const { coef, mean, scale, intercept } = model.logistic;
  const modeShift = model.modeShift ?? 0;
  const modelShare = model.modelShare ?? 1;
  const weights = coef.map((c, j) => c / scale[j]!);
  const bias = intercept - coef.reduce((s, c, j) => s + (c * mean[j]!) / scale[j]!, 0);
  const node = (opType: string, input: string[], output: string[]) => ({
    opType,
    input,
    output,
    name: output[0],
  });

  const graph = {
    name: 'duely_payment_delay',
    input: [valueInfo(ONNX_INPUT, ['N', FEATURE_COUNT])],
    output: [
      valueInfo(ONNX_OUTPUTS.pLate, ['N', 1]),
      valueInfo(ONNX_OUTPUTS.pLateLogistic, ['N', 1]),
      valueInfo(ONNX_OUTPUTS.remaining, ['N', 3]),
      valueInfo(ONNX_OUTPUTS.pCollect, ['N', 2]),
    ],
    initializer: [
      tensor('lr_weights', [FEATURE_COUNT, 1], weights),
      tensor('lr_bias', [1], [bias]),
      tensor('blend_logistic', [1], [model.blend]),
      tensor('blend_boosted', [1], [1 - model.blend]),
      tensor('settled_selector', [FEATURE_COUNT, 1], selector(F.log_settled_count)),
      tensor('late_rate_selector', [FEATURE_COUNT, 1], selector(F.late_rate)),
      tensor('one', [1], [1]),
      tensor('clip_lo', [], [CLIP]),
      tensor('clip_hi', [], [1 - CLIP]),
      tensor('platt_a', [1], [model.calibration.a]),
      tensor('platt_b', [1], [model.calibration.b]),
      tensor('history_eps', [1], [HISTORY_EPS]),
      tensor('history_k_eps', [1], [model.historyK + HISTORY_EPS]),
      ...(modelShare !== 1 ? [tensor('model_share', [1], [modelShare])] : []),
      // Mixes the two baseline columns (weights 0, 0.5 or 1: each product is exact in float32, the rest are 0).
      tensor('base_selector', [FEATURE_COUNT, 1], baseSelector(model.baseMix)),
      ...(modeShift ? [tensor('mode_shift_selector', [FEATURE_COUNT, 3], modeShiftSelector(modeShift))] : []),
    ],
    node: [
      node('MatMul', [ONNX_INPUT, 'lr_weights'], ['lr_matmul']),
      node('Add', ['lr_matmul', 'lr_bias'], ['lr_logit']),
      node('Sigmoid', ['lr_logit'], [ONNX_OUTPUTS.pLateLogistic]),
      treeEnsembleNode('gb_logit', ONNX_INPUT, 'gb_logit', [model.classifier]),
      node('Sigmoid', ['gb_logit'], ['gb_p']),
      node('Mul', [ONNX_OUTPUTS.pLateLogistic, 'blend_logistic'], ['p_lr_part']),
      node('Mul', ['gb_p', 'blend_boosted'], ['p_gb_part']),
      node('Add', ['p_lr_part', 'p_gb_part'], ['p_model']),
      // Fallback to the customer's smoothed late rate by history depth.
      node('MatMul', [ONNX_INPUT, 'settled_selector'], ['log_settled']),
      node('Exp', ['log_settled'], ['settled_plus_one']),
      node('Sub', ['settled_plus_one', 'one'], ['settled']),
      node('Add', ['settled', 'history_eps'], ['settled_eps']),
      node('Add', ['settled', 'history_k_eps'], ['settled_k_eps']),
      ...(modelShare !== 1
        ? [
            node('Div', ['settled_eps', 'settled_k_eps'], ['history_w_unshared']),
            node('Mul', ['history_w_unshared', 'model_share'], ['history_w']),
          ]
        : [node('Div', ['settled_eps', 'settled_k_eps'], ['history_w'])]),
      node('MatMul', [ONNX_INPUT, 'late_rate_selector'], ['late_rate']),
      node('Sub', ['p_model', 'late_rate'], ['model_minus_rate']),
      node('Mul', ['history_w', 'model_minus_rate'], ['weighted_gap']),
      node('Add', ['late_rate', 'weighted_gap'], ['p_mixed']),
      // Platt recalibration: sigmoid(a · logit(clip(p)) + b).
      node('Clip', ['p_mixed', 'clip_lo', 'clip_hi'], ['p_clipped']),
      node('Sub', ['one', 'p_clipped'], ['p_complement']),
      node('Div', ['p_clipped', 'p_complement'], ['p_odds']),
      node('Log', ['p_odds'], ['p_logit']),
      node('Mul', ['p_logit', 'platt_a'], ['p_logit_scaled']),
      node('Add', ['p_logit_scaled', 'platt_b'], ['p_calibrated_logit']),
      node('Sigmoid', ['p_calibrated_logit'], [ONNX_OUTPUTS.pLate]),
      treeEnsembleNode('remaining_correction', ONNX_INPUT, 'remaining_correction', model.quantiles),
      node('MatMul', [ONNX_INPUT, 'base_selector'], ['base_remaining']),
      ...(modeShift
        ? [
            node('Add', ['base_remaining', 'remaining_correction'], ['remaining_unshifted']),
            node('MatMul', [ONNX_INPUT, 'mode_shift_selector'], ['mode_shift']),
            node('Add', ['remaining_unshifted', 'mode_shift'], [ONNX_OUTPUTS.remaining]),
          ]
        : [node('Add', ['base_remaining', 'remaining_correction'], [ONNX_OUTPUTS.remaining])]),
      // One target per collection head; a Sigmoid node, since post_transform=LOGISTIC is ignored by onnxruntime.
      treeEnsembleNode('collect_logit', ONNX_INPUT, 'collect_logit', model.collect),
      node('Sigmoid', ['collect_logit'], [ONNX_OUTPUTS.pCollect]),
    ],
  };
  const message = ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [
      { domain: '', version: 15 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    producerName: 'duely',
    graph,
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  return ModelProto.encode(message).finish();
}
