/**
 * Float64 references of the attention primitives (lib/gpu/kernels/attention.ts): `rowDot` and
 * `segmentSoftmax` with their gradients.
 *
 * @module
 */

/** out[r] = Σ_c a[r, c]·b[r, c]. */
export function rowDotForward(a: Float64Array, b: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(a.length / cols);
  for (let i = 0; i < a.length; i++) out[Math.floor(i / cols)] += a[i] * b[i];
  return out;
}

/** [da, db] given dout. */
export function rowDotBackward(
  a: Float64Array,
  b: Float64Array,
  dout: Float64Array,
  cols: number,
): [Float64Array, Float64Array] {
  return [
    b.map((v, i) => v * dout[Math.floor(i / cols)]),
    a.map((v, i) => v * dout[Math.floor(i / cols)]),
  ];
}

/** Softmax within each segment [ptr[s], ptr[s+1]). */
export function segmentSoftmaxForward(x: Float64Array, ptr: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let s = 0; s + 1 < ptr.length; s++) {
    let m = -Infinity, sum = 0;
    for (let e = ptr[s]; e < ptr[s + 1]; e++) m = Math.max(m, x[e]);
    for (let e = ptr[s]; e < ptr[s + 1]; e++) sum += Math.exp(x[e] - m);
    for (let e = ptr[s]; e < ptr[s + 1]; e++) out[e] = Math.exp(x[e] - m) / sum;
  }
  return out;
}

/** dx = a ⊙ (da − Σ_segment a ⊙ da). */
export function segmentSoftmaxBackward(
  x: Float64Array,
  ptr: ArrayLike<number>,
  da: Float64Array,
): Float64Array {
  const a = segmentSoftmaxForward(x, ptr);
  const dx = new Float64Array(x.length);
  for (let s = 0; s + 1 < ptr.length; s++) {
    let dot = 0;
    for (let e = ptr[s]; e < ptr[s + 1]; e++) dot += a[e] * da[e];
    for (let e = ptr[s]; e < ptr[s + 1]; e++) dx[e] = a[e] * (da[e] - dot);
  }
  return dx;
}
