/**
 * Gather and segment reductions over CSR layouts — no atomics, deterministic.
 *
 * - `gatherRows(x, index)`: `out[e] = x[index[e]]`. Backward: a segment sum of the output
 *   gradient grouped by source row (the index's inverse CSR, e.g. the sender-sorted permutation).
 * - `segmentSum(x, segments)` / `segmentMean`: `out[s] = Σ_{e ∈ s} x[e]` over contiguous
 *   segments given by row pointers (edges sorted by receiver, nodes by graph). Backward: a gather
 *   of the output gradient by each element's segment id.
 *
 * One invocation per (output row, column): lanes run along columns, each sums its rows in a
 * fixed order, so equal inputs give bit-identical outputs.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, fromArray, type Tensor } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";
import { kernelSwitches } from "./elementwise.ts";
import { copyColumns } from "./columns.ts";

/** Which source row each output row takes, with the inverse grouping for the backward. */
export interface RowIndex {
  /** u32 per output row: the source row. */
  index: Tensor;
  /** Number of source rows. */
  numSourceRows: number;
  /** u32, numSourceRows+1: output rows of source row r are inversePerm[inversePtr[r]..]. */
  inversePtr: Tensor;
  /** u32 per output row: output rows grouped by source row, stable. */
  inversePerm: Tensor;
}

/** Contiguous segments: element ranges given by row pointers. */
export interface Segments {
  /** u32, numSegments+1. */
  ptr: Tensor;
  /** Number of segments. */
  numSegments: number;
  /** u32 per element: its segment. */
  ids: Tensor;
  /** f32 per segment: 1/max(1, count), for the mean. */
  invCount: Tensor;
}

/**
 * Builds a RowIndex on the host and uploads it (kept: dispose it with the batch).
 *
 * @param index the source row of each output row
 * @param numSourceRows the number of source rows
 */
export function rowIndex(index: ArrayLike<number>, numSourceRows: number): RowIndex {
  const n = index.length;
  const ptr = new Uint32Array(numSourceRows + 1);
  for (let e = 0; e < n; e++) {
    const r = index[e];
    if (!Number.isInteger(r) || r < 0 || r >= numSourceRows) {
      throw new Error(`rowIndex: entry ${e} is ${r}, out of range [0, ${numSourceRows})`);
    }
    ptr[r + 1]++;
  }
  for (let r = 0; r < numSourceRows; r++) ptr[r + 1] += ptr[r];
  const fill = ptr.slice(0, numSourceRows);
  const perm = new Uint32Array(n);
  for (let e = 0; e < n; e++) perm[fill[index[e]]++] = e;
  return {
    index: fromArray(index, [n], "u32").keep(),
    numSourceRows,
    inversePtr: fromArray(ptr, [numSourceRows + 1], "u32").keep(),
    inversePerm: fromArray(perm, [n], "u32").keep(),
  };
}

/**
 * Builds contiguous segments from row pointers and uploads them (kept).
 *
 * @param ptr numSegments+1 non-decreasing offsets, ptr[0] = 0
 */
export function segments(ptr: ArrayLike<number>): Segments {
  const s = ptr.length - 1;
  if (s < 0 || ptr[0] !== 0) throw new Error("segments: ptr must start at 0");
  const n = ptr[s];
  const ids = new Uint32Array(n);
  const inv = new Float32Array(s);
  for (let i = 0; i < s; i++) {
    if (!(ptr[i + 1] >= ptr[i])) throw new Error(`segments: ptr decreases at ${i}`);
    for (let e = ptr[i]; e < ptr[i + 1]; e++) ids[e] = i;
    inv[i] = 1 / Math.max(1, ptr[i + 1] - ptr[i]);
  }
  return {
    ptr: fromArray(ptr, [s + 1], "u32").keep(),
    numSegments: s,
    ids: fromArray(ids, [n], "u32").keep(),
    invCount: fromArray(inv, [s], "f32").keep(),
  };
}

// Each kernel in two forms: one column per invocation, or (COLS % 4 = 0) four — vec4 reads and
// writes, a quarter of the invocations: on the CPU adapter each storage read is emulated per
// invocation, and a vec4 costs about as much as a scalar. Same order of summation, so the same
// bits either way.
function declareGather(vec4: boolean) {
  const t = vec4 ? "vec4f" : "f32";
  return defineKernel({
    name: vec4 ? "gather_rows4" : "gather_rows",
    workgroupSize: 64,
    constants: {
      COLS: "u32",
      X_STRIDE: "u32",
      X_OFFSET: "u32",
      SCALED: "bool",
      ACCUMULATE: "bool",
    },
    uniforms: { rows: "u32" },
    bindings: {
      x: { type: t, access: "read" },
      rowOf: { type: "u32", access: "read" },
      scale: { type: "f32", access: "read" },
      out: { type: t, access: "read_write" },
    },
    body: (c) => `
  let w = ${vec4 ? "COLS / 4u" : "COLS"};
  if (index >= params.rows * w) { return; }
  let row = index / w;
  let col = index % w;
  let src = rowOf[row];
  var v = x[src * X_STRIDE + X_OFFSET + col];
  ${c.SCALED ? "v = v * scale[src];" : ""}
  ${c.ACCUMULATE ? "out[index] = out[index] + v;" : "out[index] = v;"}`,
  });
}

function declareSegmentSum(vec4: boolean) {
  const t = vec4 ? "vec4f" : "f32";
  return defineKernel({
    name: vec4 ? "segment_sum4" : "segment_sum",
    workgroupSize: 64,
    constants: {
      COLS: "u32",
      OUT_STRIDE: "u32",
      OUT_OFFSET: "u32",
      PERMUTED: "bool",
      SCALED: "bool",
      ACCUMULATE: "bool",
    },
    uniforms: { segments: "u32" },
    bindings: {
      x: { type: t, access: "read" },
      ptr: { type: "u32", access: "read" },
      perm: { type: "u32", access: "read" },
      scale: { type: "f32", access: "read" },
      out: { type: t, access: "read_write" },
    },
    body: (c) => `
  let w = ${vec4 ? "COLS / 4u" : "COLS"};
  if (index >= params.segments * w) { return; }
  let seg = index / w;
  let col = index % w;
  var s = ${t}(0.0);
  for (var k = ptr[seg]; k < ptr[seg + 1u]; k++) {
    s += x[${c.PERMUTED ? "perm[k]" : "k"} * w + col];
  }
  ${c.SCALED ? "s = s * scale[seg];" : ""}
  let o = seg * OUT_STRIDE + OUT_OFFSET + col;
  ${c.ACCUMULATE ? "out[o] = out[o] + s;" : "out[o] = s;"}`,
  });
}

const gatherKernel = declareGather(false), gather4Kernel = declareGather(true);
const segmentSumKernel = declareSegmentSum(false), segmentSum4Kernel = declareSegmentSum(true);

function cols(t: Tensor, op: string): number {
  if (t.shape.length !== 2) throw new Error(`${op}: expected a 2-D tensor, got [${t.shape}]`);
  return t.shape[1];
}

/**
 * Rows of w values inside rows `stride` wide (default w) from column `offset` (default 0): the
 * vec4 form when all three are multiples of 4; stride, offset and invocations per row in that
 * form's elements.
 */
function rowLayout(w: number, stride = w, offset = 0) {
  const four = kernelSwitches.vec4 && [w, stride, offset].every((v) => v % 4 === 0);
  const u = four ? 4 : 1;
  return { four, stride: stride / u, offset: offset / u, perRow: w / u };
}

/**
 * Records `out[r] (+)= x[index[r]] (· scale[index[r]])` for `rows` rows of width w; the source
 * rows may be columns `[srcOffset, srcOffset + w)` of rows `srcStride` wide.
 */
export function gatherInto(
  x: Tensor,
  index: Tensor,
  out: Tensor,
  rows: number,
  w: number,
  o: { scale?: Tensor; accumulate?: boolean; srcStride?: number; srcOffset?: number } = {},
): void {
  const l = rowLayout(w, o.srcStride, o.srcOffset);
  const v = (l.four ? gather4Kernel : gatherKernel).variant({
    COLS: w,
    X_STRIDE: l.stride,
    X_OFFSET: l.offset,
    SCALED: !!o.scale,
    ACCUMULATE: !!o.accumulate,
  });
  recordDispatch(v, [x, index, o.scale ?? x, out], rows * l.perRow, { rows });
}

/**
 * Records `out[s] (+)= Σ_{k ∈ ptr[s]..ptr[s+1]} x[perm?[k]] (· scale[s])`; the output rows may be
 * columns `[outOffset, outOffset + w)` of rows `outStride` wide.
 */
export function segmentSumInto(
  x: Tensor,
  ptr: Tensor,
  out: Tensor,
  numSegments: number,
  w: number,
  o: {
    perm?: Tensor;
    scale?: Tensor;
    accumulate?: boolean;
    outStride?: number;
    outOffset?: number;
  } = {},
): void {
  const l = rowLayout(w, o.outStride, o.outOffset);
  const v = (l.four ? segmentSum4Kernel : segmentSumKernel).variant({
    COLS: w,
    OUT_STRIDE: l.stride,
    OUT_OFFSET: l.offset,
    PERMUTED: !!o.perm,
    SCALED: !!o.scale,
    ACCUMULATE: !!o.accumulate,
  });
  recordDispatch(v, [x, ptr, o.perm ?? ptr, o.scale ?? x, out], numSegments * l.perRow, {
    segments: numSegments,
  });
}

/**
 * Gathers rows: `out[e] = x[index[e]]` (e.g. h_i and h_j of every edge).
 *
 * @param x source rows, R×W
 * @param idx the row index and its inverse
 * @returns E×W
 */
export function gatherRows(x: Tensor, idx: RowIndex): Tensor {
  const w = cols(x, "gatherRows");
  if (x.shape[0] !== idx.numSourceRows) {
    throw new Error(`gatherRows: x has ${x.shape[0]} rows, the index expects ${idx.numSourceRows}`);
  }
  const e = idx.index.size;
  const out = empty([e, w]);
  gatherInto(x, idx.index, out, e, w);
  if (needsGrad(x)) {
    recordOp("gatherRows", out, () => {
      const s = gradSlot(x);
      segmentSumInto(gradOf(out)!, idx.inversePtr, s.grad, idx.numSourceRows, w, {
        perm: idx.inversePerm,
        accumulate: s.accumulate,
      });
    });
  }
  return out;
}

function segmentReduce(x: Tensor, seg: Segments, mean: boolean): Tensor {
  const op = mean ? "segmentMean" : "segmentSum";
  const w = cols(x, op);
  if (x.shape[0] !== seg.ids.size) {
    throw new Error(`${op}: x has ${x.shape[0]} rows, the segments cover ${seg.ids.size}`);
  }
  const out = empty([seg.numSegments, w]);
  const scale = mean ? seg.invCount : undefined;
  segmentSumInto(x, seg.ptr, out, seg.numSegments, w, { scale });
  if (needsGrad(x)) {
    recordOp(op, out, () => {
      const s = gradSlot(x);
      gatherInto(gradOf(out)!, seg.ids, s.grad, seg.ids.size, w, {
        scale,
        accumulate: s.accumulate,
      });
    });
  }
  return out;
}

/**
 * Sums rows per segment (eq. 5's Σ_j m_ij over receiver-sorted edges; sum pooling per graph).
 *
 * @param x E×W rows, grouped by segment
 * @param seg the segments
 * @returns S×W (an empty segment gives zeros)
 */
export function segmentSum(x: Tensor, seg: Segments): Tensor {
  return segmentReduce(x, seg, false);
}

/**
 * Averages rows per segment, dividing by max(1, count) (eq. 4's C; empty segments give 0).
 *
 * @param x E×W rows, grouped by segment
 * @param seg the segments
 * @returns S×W
 */
export function segmentMean(x: Tensor, seg: Segments): Tensor {
  return segmentReduce(x, seg, true);
}

/**
 * `[h | Σ_{e ∈ seg(i)} m_e]` row by row: eq. 6's input [h_i, m_i] with eq. 5's sum written straight
 * into its columns (no m_i tensor and no copy of it). Backward: h's columns go to h's gradient;
 * m's gradient is gathered straight from the other columns by each row's segment.
 *
 * @param h N×F node features
 * @param m E×W rows grouped by segment (edges sorted by receiver)
 * @param seg N segments over m's rows
 * @returns N×(F + W)
 * @example Two nodes; node 0 receives rows 0 and 1, node 1 row 2
 * ```ts
 * import { appendSegmentSum, fromArray, getGpu, read, segments } from "../../../mod.ts";
 * await getGpu();
 * const h = fromArray([1, 2], [2, 1]);
 * const m = fromArray([10, 20, 30], [3, 1]);
 * console.log(await read(appendSegmentSum(h, m, segments([0, 2, 3])))); // Float32Array [1, 30, 2, 30]
 * ```
 */
export function appendSegmentSum(h: Tensor, m: Tensor, seg: Segments): Tensor {
  const f = cols(h, "appendSegmentSum"), w = cols(m, "appendSegmentSum");
  const n = h.shape[0];
  if (n !== seg.numSegments || m.shape[0] !== seg.ids.size) {
    throw new Error(
      `appendSegmentSum: h is [${h.shape}] and m [${m.shape}], the segments ` +
        `${seg.numSegments} over ${seg.ids.size} rows`,
    );
  }
  const out = empty([n, f + w]);
  copyColumns(h, 0, out, 0, f, n);
  segmentSumInto(m, seg.ptr, out, n, w, { outStride: f + w, outOffset: f });
  if (needsGrad(h, m)) {
    recordOp("appendSegmentSum", out, () => {
      const d = gradOf(out)!;
      if (h.requiresGrad) {
        const s = gradSlot(h);
        copyColumns(d, 0, s.grad, 0, f, n, s.accumulate);
      }
      if (m.requiresGrad) {
        const s = gradSlot(m);
        gatherInto(d, seg.ids, s.grad, seg.ids.size, w, {
          srcStride: f + w,
          srcOffset: f,
          accumulate: s.accumulate,
        });
      }
    });
  }
  return out;
}
