/**
 * Float64 reference of the reductions: column sums (the bias gradient), row sums (the gradient
 * of a per-row broadcast operand) and the sum of all elements (what losses reduce with). None
 * is an autograd op.
 *
 * @module
 */

/** `out[j] = alpha · Σ_r x[r, j]` for an m×n matrix. */
export function columnSum(x: Float64Array, m: number, n: number, alpha = 1): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < n; j++) out[j] += x[r * n + j];
  }
  return out.map((v) => alpha * v);
}

/** `alpha · Σ_i x[i]`. */
export function sumAll(x: Float64Array, alpha = 1): number {
  return alpha * x.reduce((a, b) => a + b, 0);
}

/** `out[r] = Σ_j x[r, j]` for an m×n matrix. */
export function rowSum(x: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < n; j++) out[r] += x[r * n + j];
  }
  return out;
}
