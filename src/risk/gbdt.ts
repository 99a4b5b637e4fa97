/**
 * Gradient-boosted regression trees on histogram bins, depth-limited, with row subsampling. One engine serves
 * the late-payment classifier (log-loss, Newton leaves) and the days-to-pay quantile heads (pinball loss:
 * splits fitted to its gradient, leaves set to the alpha-quantile of the residuals in the leaf).
 *
 * Split thresholds are float32 values taken from the float32 feature matrix and rows go left when x <= threshold,
 * which is exactly ONNX's BRANCH_LEQ on float inputs: the TS model and onnxruntime route every row the same way.
 */
import { sigmoid } from './logreg';
import { createRng } from './rng';

export interface Tree {
  /** Per node: split feature (-1 for a leaf), threshold, children, and leaf value (learning rate included). */
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
}

export interface Ensemble {
  base: number;
  trees: Tree[];
}

export type Loss = { kind: 'logloss' } | { kind: 'quantile'; alpha: number };

export interface BoostParams {
  maxTrees: number;
  learningRate: number;
  maxDepth: number;
  minLeaf: number;
  lambda: number;
  subsample: number;
  maxBins: number;
  seed: number;
}

export const DEFAULT_BOOST: BoostParams = {
  // Half the step and twice the trees of 0.1 × 200 (early stopping picks the count): better AUC and pay dates on
  // the validation weeks of both development ledgers.
  maxTrees: 400,
  learningRate: 0.05,
  maxDepth: 3,
  minLeaf: 20,
  lambda: 1,
  subsample: 0.7,
  maxBins: 64,
  seed: 1,
};

/** Float32 thresholds per feature and the bin code of every value (row-major, n x d): code b <=> x <= edges[b]. */
export interface Binned {
  edges: Float32Array[];
  codes: Uint8Array;
}

export function binFeatures(X: Float32Array, n: number, d: number, maxBins: number): Binned {
  const edges: Float32Array[] = [];
  const codes = new Uint8Array(n * d);
  const col = new Float32Array(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) col[i] = X[i * d + j]!;
    const sorted = Float32Array.from(col).sort();
    const cuts: number[] = [];
    for (let b = 1; b < maxBins; b++) {
      // Cut at the value holding the b-th quantile position; a cut at the maximum would send every row left.
      const cut = sorted[Math.max(0, Math.floor((b * n) / maxBins) - 1)]!;
      if (cut < sorted[n - 1]! && (cuts.length === 0 || cut > cuts[cuts.length - 1]!)) cuts.push(cut);
    }
    const e = Float32Array.from(cuts);
    for (let i = 0; i < n; i++) {
      const x = col[i]!;
      let lo = 0;
      let hi = e.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (e[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      codes[i * d + j] = lo;
    }
    edges.push(e);
  }
  return { edges, codes };
}

export interface Dataset {
  X: Float32Array;
  n: number;
  y: ArrayLike<number>;
}

export interface BoostResult {
  ensemble: Ensemble;
  /** Validation loss after each tree (empty without a validation set). */
  validLoss: number[];
}

function lossValue(loss: Loss, margin: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    if (loss.kind === 'logloss') {
      const p = Math.min(1 - 1e-15, Math.max(1e-15, sigmoid(margin[i]!)));
      s -= y[i] ? Math.log(p) : Math.log(1 - p);
    } else {
      const r = y[i]! - margin[i]!;
      s += r >= 0 ? loss.alpha * r : (loss.alpha - 1) * r;
    }
  }
  return s / y.length;
}

function quantileOf(values: Float64Array, alpha: number): number {
  const s = values.sort();
  const pos = (s.length - 1) * alpha;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo);
}

/** Sum of leaf values per row plus the base: the raw margin (log-odds for log-loss, days for quantiles). */
export function predictEnsemble(ens: Ensemble, X: Float32Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n).fill(ens.base);
  for (const t of ens.trees) {
    for (let i = 0; i < n; i++) {
      let node = 0;
      while (t.feature[node]! >= 0) {
        node = X[i * d + t.feature[node]!]! <= t.threshold[node]! ? t.left[node]! : t.right[node]!;
      }
      out[i]! += t.value[node]!;
    }
  }
  return out;
}

/**
 * Fits an ensemble (pass `binned` to reuse the bins of the same matrix across heads). With `valid`, training stops 25 trees after the best validation loss and keeps the best
 * prefix: the number of trees is chosen on later data, never on a random split.
 */
export function boost(
  train: Dataset,
  d: number,
  loss: Loss,
  params: BoostParams,
  valid?: Dataset,
  binned: Binned = binFeatures(train.X, train.n, d, params.maxBins),
): BoostResult {
  const { X, n, y } = train;
  const rng = createRng(params.seed);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]!;
  const rate = Math.min(0.999, Math.max(0.001, positives / n));
  const base = Math.fround(
    loss.kind === 'logloss' ? Math.log(rate / (1 - rate)) : quantileOf(Float64Array.from(y), loss.alpha),
  );
  const margin = new Float64Array(n).fill(base);
  const validMargin = valid ? new Float64Array(valid.n).fill(base) : null;
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const trees: Tree[] = [];
  const validLoss: number[] = [];
  let best = { loss: Number.POSITIVE_INFINITY, trees: 0 };

  for (let t = 0; t < params.maxTrees; t++) {
    for (let i = 0; i < n; i++) {
      if (loss.kind === 'logloss') {
        const p = sigmoid(margin[i]!);
        g[i] = p - y[i]!;
        h[i] = Math.max(p * (1 - p), 1e-6);
      } else {
        g[i] = y[i]! > margin[i]! ? -loss.alpha : 1 - loss.alpha;
        h[i] = 1;
      }
    }
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (rng() < params.subsample) rows.push(i);
    const tree = growTree(Int32Array.from(rows), binned, g, h, y, margin, loss, params, d);
    trees.push(tree);
    const step = predictEnsemble({ base: 0, trees: [tree] }, X, n, d);
    for (let i = 0; i < n; i++) margin[i]! += step[i]!;
    if (valid && validMargin) {
      const vs = predictEnsemble({ base: 0, trees: [tree] }, valid.X, valid.n, d);
      for (let i = 0; i < valid.n; i++) validMargin[i]! += vs[i]!;
      const l = lossValue(loss, validMargin, valid.y);
      validLoss.push(l);
      if (l < best.loss - 1e-9) best = { loss: l, trees: t + 1 };
      else if (t + 1 - best.trees >= 25) break;
    }
  }
  return { ensemble: { base, trees: valid ? trees.slice(0, Math.max(1, best.trees)) : trees }, validLoss };
}

interface NodeDraft {
  feature: number;
  threshold: number;
  left: number;
  right: number;
  value: number;
}

/**
 * Per-node sums for every (feature, bin), interleaved as [gradient, hessian, count] so one row's updates for a
 * feature touch one cache line.
 */
type Histogram = Float64Array;

function fillHistogram(
  idx: Int32Array,
  codes: Uint8Array,
  g: Float64Array,
  h: Float64Array,
  d: number,
  B: number,
): Histogram {
  const hist = new Float64Array(d * B * 3);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    const gi = g[i]!;
    const hi = h[i]!;
    const row = i * d;
    for (let j = 0; j < d; j++) {
      const c = (j * B + codes[row + j]!) * 3;
      hist[c]! += gi;
      hist[c + 1]! += hi;
      hist[c + 2]! += 1;
    }
  }
  return hist;
}

function partition(
  idx: Int32Array,
  codes: Uint8Array,
  d: number,
  feature: number,
  bin: number,
): [Int32Array, Int32Array] {
  let nLeft = 0;
  for (let k = 0; k < idx.length; k++) if (codes[idx[k]! * d + feature]! <= bin) nLeft++;
  const left = new Int32Array(nLeft);
  const right = new Int32Array(idx.length - nLeft);
  let l = 0;
  let r = 0;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    if (codes[i * d + feature]! <= bin) left[l++] = i;
    else right[r++] = i;
  }
  return [left, right];
}

/** A sibling's histogram is its parent's minus the other child's: only the smaller child is ever scanned. */
function subtract(parent: Histogram, child: Histogram): Histogram {
  const out = new Float64Array(parent.length);
  for (let k = 0; k < parent.length; k++) out[k] = parent[k]! - child[k]!;
  return out;
}

function growTree(
  rows: Int32Array,
  binned: Binned,
  g: Float64Array,
  h: Float64Array,
  y: ArrayLike<number>,
  margin: Float64Array,
  loss: Loss,
  params: BoostParams,
  d: number,
): Tree {
  const nodes: NodeDraft[] = [];
  const B = params.maxBins;
  const { codes, edges } = binned;

  const leafValue = (idx: Int32Array): number => {
    if (loss.kind === 'logloss') {
      let sg = 0;
      let sh = 0;
      for (let k = 0; k < idx.length; k++) {
        sg += g[idx[k]!]!;
        sh += h[idx[k]!]!;
      }
      return (-sg / (sh + params.lambda)) * params.learningRate;
    }
    const residuals = new Float64Array(idx.length);
    for (let k = 0; k < idx.length; k++) residuals[k] = y[idx[k]!]! - margin[idx[k]!]!;
    return idx.length ? quantileOf(residuals, loss.alpha) * params.learningRate : 0;
  };

  const build = (idx: Int32Array, depth: number, hist: Histogram | null): number => {
    const id = nodes.length;
    nodes.push({ feature: -1, threshold: 0, left: -1, right: -1, value: 0 });
    const canSplit = depth < params.maxDepth && idx.length >= 2 * params.minLeaf;
    const own = canSplit ? (hist ?? fillHistogram(idx, codes, g, h, d, B)) : null;
    const split = own ? findSplit(own, idx.length, edges, params, d) : null;
    if (!own || !split) {
      nodes[id]!.value = Math.fround(leafValue(idx));
      return id;
    }
    const [leftRows, rightRows] = partition(idx, codes, d, split.feature, split.bin);
    let leftHist: Histogram | null = null;
    let rightHist: Histogram | null = null;
    if (depth + 1 < params.maxDepth) {
      const leftSmaller = leftRows.length <= rightRows.length;
      const small = fillHistogram(leftSmaller ? leftRows : rightRows, codes, g, h, d, B);
      const large = subtract(own, small);
      [leftHist, rightHist] = leftSmaller ? [small, large] : [large, small];
    }
    const node = nodes[id]!;
    node.feature = split.feature;
    node.threshold = edges[split.feature]![split.bin]!;
    node.left = build(leftRows, depth + 1, leftHist);
    node.right = build(rightRows, depth + 1, rightHist);
    return id;
  };

  build(rows, 0, null);
  return {
    feature: Int32Array.from(nodes, (x) => x.feature),
    threshold: Float32Array.from(nodes, (x) => x.threshold),
    left: Int32Array.from(nodes, (x) => x.left),
    right: Int32Array.from(nodes, (x) => x.right),
    value: Float32Array.from(nodes, (x) => x.value),
  };
}

/** Best split of a node by second-order gain, or null when no split improves the loss by more than 1e-9. */
function findSplit(
  hist: Histogram,
  m: number,
  edges: Float32Array[],
  params: BoostParams,
  d: number,
): { feature: number; bin: number } | null {
  const B = params.maxBins;
  let sg = 0;
  let sh = 0;
  for (let b = 0; b < B; b++) {
    sg += hist[b * 3]!;
    sh += hist[b * 3 + 1]!;
  }
  const { lambda, minLeaf } = params;
  const parent = (sg * sg) / (sh + lambda);
  let bestGain = 1e-9;
  let bestFeature = -1;
  let bestBin = -1;
  for (let j = 0; j < d; j++) {
    const nb = edges[j]!.length;
    const o = j * B;
    let gl = 0;
    let hl = 0;
    let cl = 0;
    for (let b = 0; b < nb; b++) {
      gl += hist[(o + b) * 3]!;
      hl += hist[(o + b) * 3 + 1]!;
      cl += hist[(o + b) * 3 + 2]!;
      if (cl < minLeaf) continue;
      if (m - cl < minLeaf) break;
      const gr = sg - gl;
      const hr = sh - hl;
      const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parent;
      if (gain > bestGain) {
        bestGain = gain;
        bestFeature = j;
        bestBin = b;
      }
    }
  }
  return bestFeature < 0 ? null : { feature: bestFeature, bin: bestBin };
}
