/**
 * Small dense float64 linear algebra for the SE(3) basis construction: products, transposes,
 * Kronecker products and the null space of a matrix (Gaussian elimination with full pivoting).
 * Matrices are row-major Float64Arrays with their sizes passed alongside.
 *
 * @module
 */

/** `A·B` for A (n×k) and B (k×m). */
export function matMul(
  a: Float64Array,
  b: Float64Array,
  n: number,
  k: number,
  m: number,
): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const v = a[i * k + p];
      if (v === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += v * b[p * m + j];
    }
  }
  return out;
}

/** `Aᵀ` for A (n×m). */
export function transpose(a: Float64Array, n: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[j * n + i] = a[i * m + j];
  return out;
}

/** `A ⊗ B` for A (n×n) and B (m×m): entry ((i·m + k), (j·m + l)) = A[i,j]·B[k,l]. */
export function kron(a: Float64Array, n: number, b: Float64Array, m: number): Float64Array {
  const s = n * m;
  const out = new Float64Array(s * s);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < m; k++) {
        for (let l = 0; l < m; l++) out[(i * m + k) * s + j * m + l] = a[i * n + j] * b[k * m + l];
      }
    }
  }
  return out;
}

/** The n×n identity. */
export function identity(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** Largest absolute entry of `a − b`. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * A basis of the null space of A (rows×cols): vectors x with A·x = 0, by reduction to reduced
 * row echelon form with partial pivoting; a column whose best pivot is below `tol` times
 * max(1, the largest entry) is free (so an all-round-off matrix, like the constraint of
 * 0 ⊗ 0 → 0, has a full null space). The vectors are orthonormalised (Gram–Schmidt).
 *
 * @param a the matrix (not modified)
 * @param rows its rows
 * @param cols its columns
 * @param tol pivot threshold
 * @returns the basis vectors, each of length `cols`
 */
export function nullSpace(a: Float64Array, rows: number, cols: number, tol = 1e-9): Float64Array[] {
  const m = Float64Array.from(a);
  let scale = 1;
  for (const v of m) scale = Math.max(scale, Math.abs(v));
  const pivotCols: number[] = [];
  const free: number[] = [];
  let r = 0;
  for (let c = 0; c < cols; c++) {
    let best = 0, p = -1;
    for (let i = r; i < rows; i++) {
      const v = Math.abs(m[i * cols + c]);
      if (v > best) [best, p] = [v, i];
    }
    if (r === rows || best <= tol * scale) {
      free.push(c);
      continue;
    }
    if (p !== r) {
      for (let j = 0; j < cols; j++) {
        [m[r * cols + j], m[p * cols + j]] = [m[p * cols + j], m[r * cols + j]];
      }
    }
    const inv = 1 / m[r * cols + c];
    for (let j = 0; j < cols; j++) m[r * cols + j] *= inv;
    for (let i = 0; i < rows; i++) {
      const f = m[i * cols + c];
      if (i === r || f === 0) continue;
      for (let j = c; j < cols; j++) m[i * cols + j] -= f * m[r * cols + j];
    }
    pivotCols.push(c);
    r++;
  }
  // Pivot variable of row i: x[pivotCols[i]] = −Σ_free m[i, free]·x_free.
  const basis: Float64Array[] = [];
  for (const f of free) {
    const x = new Float64Array(cols);
    x[f] = 1;
    pivotCols.forEach((pc, i) => x[pc] = -m[i * cols + f]);
    for (const b of basis) {
      let d = 0;
      for (let j = 0; j < cols; j++) d += x[j] * b[j];
      for (let j = 0; j < cols; j++) x[j] -= d * b[j];
    }
    let n = 0;
    for (const v of x) n += v * v;
    n = Math.sqrt(n);
    for (let j = 0; j < cols; j++) x[j] /= n;
    basis.push(x);
  }
  return basis;
}
