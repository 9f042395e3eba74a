/**
 * Attention primitives over the edges of a graph (the SE(3)-Transformer's `GMABSE3`):
 *
 * - `rowDot(a, b)`: out[r] = Σ_c a[r, c]·b[r, c], the logit of an edge from its key and its
 *   receiver's query; backward da = dout·b, db = dout·a.
 * - `segmentSoftmax(x, segments)`: a softmax within each contiguous segment (the incoming edges
 *   of a node, as DGL's `edge_softmax` over destinations), max-shifted; backward
 *   dx = a ⊙ (da − Σ_segment a ⊙ da). One invocation per segment, a fixed order: deterministic.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, type Tensor } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";
import type { Segments } from "./segment.ts";

const rowDotKernel = defineKernel({
  name: "row_dot",
  workgroupSize: 64,
  constants: { COLS: "u32" },
  uniforms: { rows: "u32" },
  bindings: {
    a: { type: "f32", access: "read" },
    b: { type: "f32", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  body: `
  if (index >= params.rows) { return; }
  var s = 0.0;
  for (var c = 0u; c < COLS; c++) { s += a[index * COLS + c] * b[index * COLS + c]; }
  out[index] = s;`,
});

const rowDotGradKernel = defineKernel({
  name: "row_dot_backward",
  workgroupSize: 64,
  constants: { COLS: "u32", ACCUMULATE: "bool" },
  uniforms: { rows: "u32" },
  bindings: {
    other: { type: "f32", access: "read" },
    dout: { type: "f32", access: "read" },
    dx: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.rows * COLS) { return; }
  let v = dout[index / COLS] * other[index];
  ${c.ACCUMULATE ? "dx[index] = dx[index] + v;" : "dx[index] = v;"}`,
});

/**
 * The dot product of matching rows.
 *
 * @param a R×C
 * @param b R×C
 * @returns R×1
 */
export function rowDot(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length !== 2 || a.shape.join() !== b.shape.join()) {
    throw new Error(`rowDot: shapes [${a.shape}] and [${b.shape}] must be equal and 2-D`);
  }
  const [rows, cols] = a.shape;
  const out = empty([rows, 1]);
  recordDispatch(rowDotKernel.variant({ COLS: cols }), [a, b, out], rows, { rows });
  if (needsGrad(a, b)) {
    recordOp("rowDot", out, () => {
      const d = gradOf(out)!;
      for (const [x, other] of [[a, b], [b, a]] as const) {
        if (!x.requiresGrad) continue;
        const s = gradSlot(x);
        recordDispatch(
          rowDotGradKernel.variant({ COLS: cols, ACCUMULATE: s.accumulate }),
          [other, d, s.grad],
          rows * cols,
          { rows },
        );
      }
    });
  }
  return out;
}

const softmaxKernel = defineKernel({
  name: "segment_softmax",
  workgroupSize: 64,
  uniforms: { segments: "u32" },
  bindings: {
    x: { type: "f32", access: "read" },
    ptr: { type: "u32", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  body: `
  if (index >= params.segments) { return; }
  let first = ptr[index];
  let end = ptr[index + 1u];
  var m = -3.0e38;
  for (var e = first; e < end; e++) { m = max(m, x[e]); }
  var s = 0.0;
  for (var e = first; e < end; e++) { s += exp(x[e] - m); }
  for (var e = first; e < end; e++) { out[e] = exp(x[e] - m) / s; }`,
});

const softmaxGradKernel = defineKernel({
  name: "segment_softmax_backward",
  workgroupSize: 64,
  constants: { ACCUMULATE: "bool" },
  uniforms: { segments: "u32" },
  bindings: {
    a: { type: "f32", access: "read" },
    da: { type: "f32", access: "read" },
    ptr: { type: "u32", access: "read" },
    dx: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.segments) { return; }
  let first = ptr[index];
  let end = ptr[index + 1u];
  var dot = 0.0;
  for (var e = first; e < end; e++) { dot += a[e] * da[e]; }
  for (var e = first; e < end; e++) {
    let v = a[e] * (da[e] - dot);
    ${c.ACCUMULATE ? "dx[e] = dx[e] + v;" : "dx[e] = v;"}
  }`,
});

/**
 * Softmax of one value per element within each segment.
 *
 * @param x E×1 values (edges sorted by segment, e.g. by receiver)
 * @param seg the segments (e.g. a graph's incoming edges)
 * @returns E×1 weights summing to 1 over each non-empty segment
 * @example Two segments: {0, 1} and {2}
 * ```ts
 * import { fromArray, getGpu, read, segments } from "../../../mod.ts";
 * import { segmentSoftmax } from "./attention.ts";
 * await getGpu();
 * const a = segmentSoftmax(fromArray([0, Math.log(3), 5], [3, 1]), segments([0, 2, 3]));
 * console.log(await read(a)); // Float32Array [0.25, 0.75, 1]
 * ```
 */
export function segmentSoftmax(x: Tensor, seg: Segments): Tensor {
  if (x.size !== seg.ids.size) {
    throw new Error(`segmentSoftmax: ${x.size} values for ${seg.ids.size} segment elements`);
  }
  const out = empty(x.shape);
  const n = seg.numSegments;
  recordDispatch(softmaxKernel.variant(), [x, seg.ptr, out], n, { segments: n });
  if (needsGrad(x)) {
    recordOp("segmentSoftmax", out, () => {
      const s = gradSlot(x);
      recordDispatch(
        softmaxGradKernel.variant({ ACCUMULATE: s.accumulate }),
        [out, gradOf(out)!, seg.ptr, s.grad],
        n,
        { segments: n },
      );
    });
  }
  return out;
}
