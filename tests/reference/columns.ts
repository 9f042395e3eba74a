/**
 * Float64 reference of `concat` along columns and its backward (each input takes its block of
 * the output gradient).
 *
 * @module
 */

/** Concatenates row-major blocks with `rows` rows and the given widths. */
export function concatForward(parts: Float64Array[], widths: number[], rows: number): Float64Array {
  const total = widths.reduce((a, b) => a + b, 0);
  const out = new Float64Array(rows * total);
  let offset = 0;
  parts.forEach((p, i) => {
    const w = widths[i];
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < w; c++) out[r * total + offset + c] = p[r * w + c];
    }
    offset += w;
  });
  return out;
}

/** Splits dout into the blocks' gradients. */
export function concatBackward(dout: Float64Array, widths: number[], rows: number): Float64Array[] {
  const total = widths.reduce((a, b) => a + b, 0);
  let offset = 0;
  return widths.map((w) => {
    const d = new Float64Array(rows * w);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < w; c++) d[r * w + c] = dout[r * total + offset + c];
    }
    offset += w;
    return d;
  });
}
