/**
 * Float64 reference of the gather and segment reductions over row pointers, with backwards:
 * gatherRows' backward is a scatter-add by source row; segmentSum's a gather by segment.
 *
 * @module
 */

/** `out[e] = x[index[e]]` for rows of width w. */
export function gatherRowsForward(
  x: Float64Array,
  index: ArrayLike<number>,
  w: number,
): Float64Array {
  const out = new Float64Array(index.length * w);
  for (let e = 0; e < index.length; e++) {
    for (let c = 0; c < w; c++) out[e * w + c] = x[index[e] * w + c];
  }
  return out;
}

/** `dx[r] = Σ_{e: index[e] = r} dout[e]` (rows never gathered get zero). */
export function gatherRowsBackward(
  dout: Float64Array,
  index: ArrayLike<number>,
  numSourceRows: number,
  w: number,
): Float64Array {
  const dx = new Float64Array(numSourceRows * w);
  for (let e = 0; e < index.length; e++) {
    for (let c = 0; c < w; c++) dx[index[e] * w + c] += dout[e * w + c];
  }
  return dx;
}

/** Segment element counts from row pointers. */
function count(ptr: ArrayLike<number>, s: number): number {
  return ptr[s + 1] - ptr[s];
}

/**
 * `out[s] = Σ_{e ∈ [ptr[s], ptr[s+1])} x[e]`, divided by max(1, count) for the mean
 * (an empty segment gives zeros).
 */
export function segmentSumForward(
  x: Float64Array,
  ptr: ArrayLike<number>,
  w: number,
  mean = false,
): Float64Array {
  const segments = ptr.length - 1;
  const out = new Float64Array(segments * w);
  for (let s = 0; s < segments; s++) {
    const f = mean ? 1 / Math.max(1, count(ptr, s)) : 1;
    for (let e = ptr[s]; e < ptr[s + 1]; e++) {
      for (let c = 0; c < w; c++) out[s * w + c] += f * x[e * w + c];
    }
  }
  return out;
}

/** `dx[e] = dout[segment(e)]` (÷ count for the mean). */
export function segmentSumBackward(
  dout: Float64Array,
  ptr: ArrayLike<number>,
  w: number,
  mean = false,
): Float64Array {
  const segments = ptr.length - 1;
  const dx = new Float64Array(ptr[segments] * w);
  for (let s = 0; s < segments; s++) {
    const f = mean ? 1 / Math.max(1, count(ptr, s)) : 1;
    for (let e = ptr[s]; e < ptr[s + 1]; e++) {
      for (let c = 0; c < w; c++) dx[e * w + c] = f * dout[s * w + c];
    }
  }
  return dx;
}
