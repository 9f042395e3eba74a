/**
 * Float64 reference of SchNet's distance expansion and shifted softplus, forward and backward.
 *
 * @module
 */

/** exp(−γ(√(r² + ε) − μ_k)²) for K centres μ_k = k·cutoff/(K−1); E → E×K. */
export function gaussianRbfForward(
  r2: Float64Array,
  k: number,
  cutoff: number,
  gamma: number,
): Float64Array {
  const spacing = k > 1 ? cutoff / (k - 1) : 0;
  const out = new Float64Array(r2.length * k);
  for (let e = 0; e < r2.length; e++) {
    const d = Math.sqrt(r2[e] + 1e-8);
    for (let j = 0; j < k; j++) out[e * k + j] = Math.exp(-gamma * (d - j * spacing) ** 2);
  }
  return out;
}

/** d/d(r²) given dout (E×K). */
export function gaussianRbfBackward(
  r2: Float64Array,
  dout: Float64Array,
  k: number,
  cutoff: number,
  gamma: number,
): Float64Array {
  const spacing = k > 1 ? cutoff / (k - 1) : 0;
  const dr2 = new Float64Array(r2.length);
  for (let e = 0; e < r2.length; e++) {
    const d = Math.sqrt(r2[e] + 1e-8);
    let g = 0;
    for (let j = 0; j < k; j++) {
      const u = d - j * spacing;
      g += dout[e * k + j] * Math.exp(-gamma * u * u) * (-2 * gamma * u);
    }
    dr2[e] = g * 0.5 / d;
  }
  return dr2;
}

/** ssp(x) = ln(1 + eˣ) − ln 2. */
export function shiftedSoftplusForward(x: Float64Array): Float64Array {
  return x.map((v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))) - Math.LN2);
}

/** ssp'(x) = sigmoid(x), times dout. */
export function shiftedSoftplusBackward(x: Float64Array, dout: Float64Array): Float64Array {
  return x.map((v, i) => dout[i] / (1 + Math.exp(-v)));
}
