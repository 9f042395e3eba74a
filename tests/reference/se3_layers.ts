/**
 * Float64 references of the small ops of the SE(3) baselines: `layerNorm` (PyTorch's
 * `nn.LayerNorm`, biased variance, ε = 1e-5) and `fibreLinear` (self-interaction W @ f per type).
 *
 * @module
 */

const LN_EPS = 1e-5;

/** y = (x − mean)/√(var + ε)·γ + β per row of an R×C matrix. */
export function layerNormForward(
  x: Float64Array,
  gamma: Float64Array,
  beta: Float64Array,
  cols: number,
): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    const mean = row.reduce((a, b) => a + b, 0) / cols;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / cols;
    const rstd = 1 / Math.sqrt(variance + LN_EPS);
    for (let c = 0; c < cols; c++) out[r * cols + c] = (row[c] - mean) * rstd * gamma[c] + beta[c];
  }
  return out;
}

/** [dx, dγ, dβ] of `layerNormForward` given dy. */
export function layerNormBackward(
  x: Float64Array,
  gamma: Float64Array,
  dy: Float64Array,
  cols: number,
): [Float64Array, Float64Array, Float64Array] {
  const dx = new Float64Array(x.length), dg = new Float64Array(cols), db = new Float64Array(cols);
  for (let r = 0; r < x.length / cols; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    const mean = row.reduce((a, b) => a + b, 0) / cols;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / cols;
    const rstd = 1 / Math.sqrt(variance + LN_EPS);
    const xhat = Array.from(row, (v) => (v - mean) * rstd);
    let a = 0, b = 0;
    for (let c = 0; c < cols; c++) {
      const g = dy[r * cols + c] * gamma[c];
      a += g / cols;
      b += g * xhat[c] / cols;
      dg[c] += dy[r * cols + c] * xhat[c];
      db[c] += dy[r * cols + c];
    }
    for (let c = 0; c < cols; c++) {
      dx[r * cols + c] = rstd * (dy[r * cols + c] * gamma[c] - a - xhat[c] * b);
    }
  }
  return [dx, dg, db];
}

/** out[n, co, m] = Σ_ci W[co, ci]·f[n, ci, m]. */
export function fibreLinearForward(
  f: Float64Array,
  w: Float64Array,
  ci: number,
  co: number,
  d: number,
): Float64Array {
  const nodes = f.length / (ci * d);
  const out = new Float64Array(nodes * co * d);
  for (let n = 0; n < nodes; n++) {
    for (let o = 0; o < co; o++) {
      for (let i = 0; i < ci; i++) {
        for (let m = 0; m < d; m++) {
          out[(n * co + o) * d + m] += w[o * ci + i] * f[(n * ci + i) * d + m];
        }
      }
    }
  }
  return out;
}

/** [df, dW] of `fibreLinearForward` given dout. */
export function fibreLinearBackward(
  f: Float64Array,
  w: Float64Array,
  dout: Float64Array,
  ci: number,
  co: number,
  d: number,
): [Float64Array, Float64Array] {
  const df = new Float64Array(f.length), dw = new Float64Array(w.length);
  for (let n = 0; n < f.length / (ci * d); n++) {
    for (let o = 0; o < co; o++) {
      for (let i = 0; i < ci; i++) {
        for (let m = 0; m < d; m++) {
          const g = dout[(n * co + o) * d + m];
          df[(n * ci + i) * d + m] += w[o * ci + i] * g;
          dw[o * ci + i] += g * f[(n * ci + i) * d + m];
        }
      }
    }
  }
  return [df, dw];
}
