// Orthogonal transformations for the symmetry tests: a random orthogonal matrix of either
// determinant, rows mapped through it, and the error measure of the symmetry checks.

import type { Random } from "./random.ts";

/** An n×n orthogonal matrix (row-major) with determinant `det`: Gram–Schmidt of a Gaussian. */
export function randomOrthogonal(n: number, det: 1 | -1, rng: Random): Float64Array {
  const q = new Float64Array(n * n); // columns are the orthonormal vectors
  const col = (c: number) => Float64Array.from({ length: n }, (_, r) => q[r * n + c]);
  for (let c = 0; c < n; c++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (let k = 0; k < c; k++) { // twice, for orthogonality to round-off
      for (let pass = 0; pass < 2; pass++) {
        const u = col(k);
        const d = v.reduce((s, x, r) => s + x * u[r], 0);
        for (let r = 0; r < n; r++) v[r] -= d * u[r];
      }
    }
    const norm = Math.hypot(...v);
    for (let r = 0; r < n; r++) q[r * n + c] = v[r] / norm;
  }
  if (Math.sign(determinant(q, n)) !== det) {
    for (let r = 0; r < n; r++) q[r * n] = -q[r * n]; // flip a column
  }
  return q;
}

/** Determinant by Gaussian elimination with partial pivoting. */
export function determinant(m: Float64Array, n: number): number {
  const a = Float64Array.from(m);
  let det = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[p * n + c])) p = r;
    if (p !== c) {
      for (let k = 0; k < n; k++) [a[c * n + k], a[p * n + k]] = [a[p * n + k], a[c * n + k]];
      det = -det;
    }
    det *= a[c * n + c];
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c] / a[c * n + c];
      for (let k = c; k < n; k++) a[r * n + k] -= f * a[c * n + k];
    }
  }
  return det;
}

/** Rows of `x` (rows × n) mapped to Q·x + g (g null: no translation). */
export function transformRows(
  x: ArrayLike<number>,
  n: number,
  q: Float64Array,
  g: ArrayLike<number> | null,
): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length / n; i++) {
    for (let r = 0; r < n; r++) {
      let s = g ? g[r] : 0;
      for (let c = 0; c < n; c++) s += q[r * n + c] * x[i * n + c];
      out[i * n + r] = s;
    }
  }
  return out;
}

/**
 * Worst |got − want| over the scale of `want`: its spread about the per-column mean for
 * coordinates (so a common translation does not inflate the scale), max |want| otherwise.
 *
 * @param got the transformed input's output
 * @param want the transformed output of the original input
 * @param w the row width
 * @param coords whether the rows are coordinates
 * @returns the relative error (Infinity when NaN appears)
 */
export function symmetryError(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  w: number,
  coords: boolean,
): number {
  let scale = 0, err = 0;
  const mean = new Float64Array(w);
  if (coords) {
    for (let i = 0; i < want.length; i++) mean[i % w] += want[i] / (want.length / w);
  }
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i] - mean[i % w]));
    err = Math.max(err, Math.abs(got[i] - want[i]));
  }
  return Number.isNaN(err) ? Infinity : err / scale;
}
