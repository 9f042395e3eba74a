/**
 * Float64 reference of the row-wise squared norm `out[r] = Σ_c x[r, c]²` and its backward
 * `dx[r, c] = 2·x[r, c]·dout[r]`.
 *
 * @module
 */

/** One squared norm per row of an R×C matrix. */
export function rowSquaredNormForward(x: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r] += x[r * cols + c] ** 2;
  }
  return out;
}

/** `dx = 2·x·dout[row]`. */
export function rowSquaredNormBackward(x: Float64Array, dout: Float64Array, cols: number) {
  return x.map((v, i) => 2 * v * dout[Math.floor(i / cols)]);
}
