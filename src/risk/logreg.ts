/**
 * L2-regularized logistic regression on standardized features, fitted by Newton's method (exact, deterministic,
 * and cheap at a few dozen features). The penalty is on the standardized weights, never on the intercept.
 */
export interface LogisticModel {
  mean: number[];
  scale: number[];
  /** Weights on standardized features. */
  coef: number[];
  intercept: number;
  lambda: number;
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export function fitLogistic(
  X: Float32Array,
  y: ArrayLike<number>,
  nFeatures: number,
  lambda: number,
): LogisticModel {
  const n = y.length;
  const d = nFeatures;
  const mean = new Array<number>(d).fill(0);
  const scale = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += X[i * d + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) scale[j]! += (X[i * d + j]! - mean[j]!) ** 2 / n;
  // A constant column gets scale 1 (its standardized value is 0 and its weight goes to 0 under the penalty).
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]!) || 1;

  const Z = new Float64Array(n * (d + 1));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) Z[i * (d + 1) + j] = (X[i * d + j]! - mean[j]!) / scale[j]!;
    Z[i * (d + 1) + d] = 1;
  }
  const k = d + 1;
  const w = new Float64Array(k);
  for (let iter = 0; iter < 50; iter++) {
    const grad = new Float64Array(k);
    const hess = new Float64Array(k * k);
    for (let i = 0; i < n; i++) {
      const row = Z.subarray(i * k, (i + 1) * k);
      let z = 0;
      for (let j = 0; j < k; j++) z += row[j]! * w[j]!;
      const p = sigmoid(z);
      const r = p - y[i]!;
      const h = Math.max(p * (1 - p), 1e-12);
      for (let a = 0; a < k; a++) {
        grad[a]! += (r * row[a]!) / n;
        const ha = (h * row[a]!) / n;
        for (let b = 0; b <= a; b++) hess[a * k + b]! += ha * row[b]!;
      }
    }
    for (let a = 0; a < d; a++) {
      grad[a]! += lambda * w[a]!;
      hess[a * k + a]! += lambda;
    }
    hess[d * k + d]! += 1e-9; // keeps the system solvable when a class is missing
    for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) hess[a * k + b] = hess[b * k + a]!;
    const step = solveSpd(hess, grad, k);
    let maxStep = 0;
    for (let j = 0; j < k; j++) {
      w[j]! -= step[j]!;
      maxStep = Math.max(maxStep, Math.abs(step[j]!));
    }
    if (maxStep < 1e-10) break;
  }
  return { mean, scale, coef: Array.from(w.subarray(0, d)), intercept: w[d]!, lambda };
}

/** Solves A x = b for symmetric positive definite A by Cholesky. */
function solveSpd(A: Float64Array, b: Float64Array, k: number): Float64Array {
  const L = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * k + j]!;
      for (let m = 0; m < j; m++) s -= L[i * k + m]! * L[j * k + m]!;
      L[i * k + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / L[j * k + j]!;
    }
  }
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = b[i]!;
    for (let m = 0; m < i; m++) s -= L[i * k + m]! * y[m]!;
    y[i] = s / L[i * k + i]!;
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let m = i + 1; m < k; m++) s -= L[m * k + i]! * x[m]!;
    x[i] = s / L[i * k + i]!;
  }
  return x;
}

/** Log-odds of each row. */
export function logisticMargin(model: LogisticModel, X: Float32Array, n: number): Float64Array {
  const d = model.coef.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = model.intercept;
    for (let j = 0; j < d; j++) z += (model.coef[j]! * (X[i * d + j]! - model.mean[j]!)) / model.scale[j]!;
    out[i] = z;
  }
  return out;
}
