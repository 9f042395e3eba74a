/**
 * Column and row blocks: `concat` of matrices along columns (eq. 3's [h_i, h_j, r², a_ij]) and
 * its backward, which hands each input its block of the output gradient; `rowBlock`, a
 * differentiable copy of some rows of a matrix (a weight's block), whose backward adds into
 * those rows of the matrix's gradient.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordClear, recordDispatch } from "../commands.ts";
import { empty, type Tensor } from "../tensor.ts";
import { declareRowView, gradOf, gradSlot, needsGrad, recordOp, tapeSwitches } from "../tape.ts";

/**
 * The copy in units of one f32 or (`copy_columns4`) one vec4f: widths, column counts and offsets
 * are counted in those units. The vec4 form serves whenever all of them are multiples of 4 (the
 * models' hidden widths): a quarter of the storage accesses, which are what a copy costs on
 * lavapipe.
 */
const copyKernel = (vec: boolean) =>
  defineKernel({
    name: vec ? "copy_columns4" : "copy_columns",
    workgroupSize: 64,
    constants: { WIDTH: "u32", SRC_COLS: "u32", DST_COLS: "u32", ACCUMULATE: "bool" },
    uniforms: { rows: "u32", srcOffset: "u32", dstOffset: "u32" },
    bindings: {
      src: { type: vec ? "vec4f" : "f32", access: "read" },
      dst: { type: vec ? "vec4f" : "f32", access: "read_write" },
    },
    body: (c) => `
  if (index >= params.rows * WIDTH) { return; }
  let row = index / WIDTH;
  let col = index % WIDTH;
  let v = src[row * SRC_COLS + params.srcOffset + col];
  let o = row * DST_COLS + params.dstOffset + col;
  ${c.ACCUMULATE ? "dst[o] = dst[o] + v;" : "dst[o] = v;"}`,
  });
const copyKernels = [copyKernel(false), copyKernel(true)];

/**
 * Records `dst[:, dstOffset + c] (+)= src[:, srcOffset + c]` for c < width over `rows` rows.
 */
export function copyColumns(
  src: Tensor,
  srcOffset: number,
  dst: Tensor,
  dstOffset: number,
  width: number,
  rows: number,
  accumulate = false,
): void {
  const srcCols = src.shape[src.shape.length - 1];
  const dstCols = dst.shape[dst.shape.length - 1];
  if (srcOffset + width > srcCols || dstOffset + width > dstCols) {
    throw new Error(
      `copyColumns: columns ${srcOffset}+${width} of [${src.shape}] → ${dstOffset} of [${dst.shape}]`,
    );
  }
  const vec = [width, srcCols, dstCols, srcOffset, dstOffset].every((x) => x % 4 === 0);
  const u = vec ? 4 : 1;
  const v = copyKernels[vec ? 1 : 0].variant({
    WIDTH: width / u,
    SRC_COLS: srcCols / u,
    DST_COLS: dstCols / u,
    ACCUMULATE: accumulate,
  });
  recordDispatch(v, [src, dst], (rows * width) / u, {
    rows,
    srcOffset: srcOffset / u,
    dstOffset: dstOffset / u,
  });
}

/**
 * Concatenates 2-D tensors with the same number of rows along columns.
 *
 * @param parts the blocks, left to right
 * @returns rows × Σ widths
 * @example Two blocks side by side
 * ```ts
 * import { concat, fromArray, getGpu, read } from "../../../mod.ts";
 * await getGpu();
 * const y = concat([fromArray([1, 2], [2, 1]), fromArray([3, 4, 5, 6], [2, 2])]);
 * console.log(await read(y)); // Float32Array [1, 3, 4, 2, 5, 6]
 * ```
 */
export function concat(parts: Tensor[]): Tensor {
  if (parts.length === 0) throw new Error("concat: no inputs");
  const rows = parts[0].shape[0];
  for (const [i, p] of parts.entries()) {
    if (p.shape.length !== 2 || p.shape[0] !== rows) {
      throw new Error(`concat: input ${i} is [${p.shape}], expected [${rows}, w]`);
    }
  }
  const total = parts.reduce((a, p) => a + p.shape[1], 0);
  const out = empty([rows, total]);
  let offset = 0;
  const offsets = parts.map((p) => {
    copyColumns(p, 0, out, offset, p.shape[1], rows);
    offset += p.shape[1];
    return offset - p.shape[1];
  });
  if (needsGrad(...parts)) {
    recordOp("concat", out, () => {
      const d = gradOf(out)!;
      parts.forEach((p, i) => {
        if (!p.requiresGrad) return;
        const s = gradSlot(p);
        copyColumns(d, offsets[i], s.grad, 0, p.shape[1], rows, s.accumulate);
      });
    });
  }
  return out;
}

/**
 * Rows `[first, end)` of a 2-D tensor, differentiable: the gradient flows into those rows of
 * `x`'s gradient. Several blocks of one weight may be taken in a step; the first to receive a
 * gradient clears the weight's whole gradient, so rows no block covers get zero.
 *
 * Where the rows start at a bindable offset (a multiple of 256 bytes: any row of a 64-wide f32
 * matrix) the block is a view of x's buffer, and its gradient is written straight into x's
 * gradient (tape.ts, row views): no copy either way. Otherwise (or with
 * `tapeSwitches.rowViews` off) it is a copy, and its gradient is copied back.
 *
 * @param x R×C
 * @param first the first row
 * @param end one past the last row
 * @returns (end − first)×C
 * @example The middle row of a 3×2 matrix
 * ```ts
 * import { fromArray, getGpu, read, rowBlock } from "../../../mod.ts";
 * await getGpu();
 * console.log(await read(rowBlock(fromArray([1, 2, 3, 4, 5, 6], [3, 2]), 1, 2))); // Float32Array [3, 4]
 * ```
 */
export function rowBlock(x: Tensor, first: number, end: number): Tensor {
  if (x.shape.length !== 2) throw new Error(`rowBlock: x is [${x.shape}], expected a matrix`);
  const [rows, cols] = x.shape;
  if (
    !(Number.isInteger(first) && Number.isInteger(end) && 0 <= first && first < end && end <= rows)
  ) {
    throw new Error(`rowBlock: rows [${first}, ${end}) of a ${rows}-row matrix`);
  }
  if (tapeSwitches.rowViews && x.rowsAligned(first)) {
    const view = x.rows(first, end);
    if (needsGrad(x)) declareRowView(view, x, first);
    return view;
  }
  const n = (end - first) * cols;
  const out = empty([end - first, cols]);
  copyColumns(x.reshape([1, rows * cols]), first * cols, out.reshape([1, n]), 0, n, 1);
  if (needsGrad(x)) {
    recordOp("rowBlock", out, () => {
      const s = gradSlot(x);
      if (!s.accumulate) recordClear(s.grad);
      const whole = s.grad.reshape([1, rows * cols]);
      copyColumns(gradOf(out)!.reshape([1, n]), 0, whole, first * cols, n, 1, true);
    });
  }
  return out;
}
