/**
 * Row-wise squared norm `out[r] = Σ_c x[r, c]²` (eq. 3's ‖x_i − x_j‖²) and its backward
 * `dx[r, c] = 2 · x[r, c] · dout[r]`.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, type Tensor } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";

const forwardKernel = defineKernel({
  name: "row_sq_norm",
  workgroupSize: 64,
  constants: { COLS: "u32" },
  uniforms: { rows: "u32" },
  bindings: {
    x: { type: "f32", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  body: `
  if (index >= params.rows) { return; }
  var s = 0.0;
  for (var c = 0u; c < COLS; c++) { let v = x[index * COLS + c]; s += v * v; }
  out[index] = s;`,
});

const backwardKernel = defineKernel({
  name: "row_sq_norm_backward",
  workgroupSize: 64,
  constants: { COLS: "u32", ACCUMULATE: "bool" },
  uniforms: { rows: "u32" },
  bindings: {
    x: { type: "f32", access: "read" },
    dout: { type: "f32", access: "read" },
    dx: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.rows * COLS) { return; }
  let v = 2.0 * x[index] * dout[index / COLS];
  ${c.ACCUMULATE ? "dx[index] = dx[index] + v;" : "dx[index] = v;"}`,
});

/**
 * Squared Euclidean norm of every row.
 *
 * @param x R×C
 * @returns R×1
 */
export function rowSquaredNorm(x: Tensor): Tensor {
  if (x.shape.length !== 2) throw new Error(`rowSquaredNorm: expected 2-D, got [${x.shape}]`);
  const [rows, cols] = x.shape;
  const out = empty([rows, 1]);
  recordDispatch(forwardKernel.variant({ COLS: cols }), [x, out], rows, { rows });
  if (needsGrad(x)) {
    recordOp("rowSquaredNorm", out, () => {
      const s = gradSlot(x);
      recordDispatch(
        backwardKernel.variant({ COLS: cols, ACCUMULATE: s.accumulate }),
        [x, gradOf(out)!, s.grad],
        rows * cols,
        { rows },
      );
    });
  }
  return out;
}
