/**
 * A small float64 reverse-mode tape over row-major matrices (micrograd's shape, one level up):
 * every op computes its value with a forward from the op references beside this file and keeps
 * a closure that adds its inputs' gradients with the matching backward. `backwardFrom` seeds
 * one node and replays the closures in reverse order of creation (creation order is a
 * topological order, since a node's inputs exist before it).
 *
 * Used by the EGNN reference (`egnn.ts`) for gradients of a scalar objective with respect to
 * every parameter and input.
 *
 * @module
 */

import { type Activation, linearBackward, linearForward } from "./linear.ts";
import {
  activationBackward,
  activationForward,
  binaryBackward,
  binaryForward,
  type BinaryOp,
  type Broadcast,
  clampBackward,
  clampForward,
  scaleBackward,
  scaleForward,
} from "./elementwise.ts";
import {
  gatherRowsBackward,
  gatherRowsForward,
  segmentSumBackward,
  segmentSumForward,
} from "./segment.ts";
import { concatBackward, concatForward } from "./columns.ts";
import { rowSquaredNormBackward, rowSquaredNormForward } from "./rownorm.ts";

/** A rows × cols float64 matrix on the tape, with its gradient. */
export class Mat {
  /** d(objective)/d(this), filled by `backwardFrom`. */
  grad: Float64Array;
  /** Adds this node's contribution to its inputs' gradients (null for leaves). */
  backwardFn: (() => void) | null = null;

  constructor(
    readonly tape: Tape,
    readonly value: Float64Array,
    readonly rows: number,
    readonly cols: number,
  ) {
    if (value.length !== rows * cols) {
      throw new Error(`Mat: ${value.length} values for ${rows}×${cols}`);
    }
    this.grad = new Float64Array(value.length);
  }
}

function addInto(dst: Float64Array, src: Float64Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}

/** How b broadcasts against a (a is rows × cols). */
function broadcastOf(a: Mat, b: Mat): Broadcast {
  if (b.rows === a.rows && b.cols === a.cols) return "same";
  if (b.value.length === 1) return "scalar";
  if (b.rows === 1 && b.cols === a.cols) return "row";
  if (b.rows === a.rows && b.cols === 1) return "column";
  throw new Error(`tape64: ${a.rows}×${a.cols} and ${b.rows}×${b.cols} do not broadcast`);
}

/** The recorded ops, in creation order. */
export class Tape {
  private readonly nodes: Mat[] = [];

  /** A leaf (parameter, input or constant): gets a gradient, has no inputs. */
  leaf(value: ArrayLike<number>, rows: number, cols: number): Mat {
    return this.node(Float64Array.from(value), rows, cols, null);
  }

  private node(
    value: Float64Array,
    rows: number,
    cols: number,
    backward: ((out: Mat) => void) | null,
  ): Mat {
    const m = new Mat(this, value, rows, cols);
    if (backward) m.backwardFn = () => backward(m);
    this.nodes.push(m);
    return m;
  }

  /** `act(x·W + b)`, W stored in×out. */
  linear(x: Mat, w: Mat, b: Mat | null, act: Activation = "none"): Mat {
    if (w.rows !== x.cols) throw new Error(`tape64.linear: x has ${x.cols} cols, W ${w.rows} rows`);
    const s = { m: x.rows, k: x.cols, n: w.cols };
    const { y, z } = linearForward(x.value, w.value, b ? b.value : null, s, act);
    return this.node(y, x.rows, w.cols, (out) => {
      const g = linearBackward(x.value, w.value, z, out.grad, s, act);
      addInto(x.grad, g.dx);
      addInto(w.grad, g.dw);
      if (b) addInto(b.grad, g.db);
    });
  }

  private binary(op: BinaryOp, a: Mat, b: Mat): Mat {
    const bc = broadcastOf(a, b);
    const value = binaryForward(op, a.value, b.value, bc, a.cols);
    return this.node(value, a.rows, a.cols, (out) => {
      const g = binaryBackward(op, a.value, b.value, bc, a.cols, out.grad);
      addInto(a.grad, g.da);
      addInto(b.grad, g.db);
    });
  }

  /** `a + b` (b may broadcast: same shape, one value, one row, one value per row). */
  add(a: Mat, b: Mat): Mat {
    return this.binary("add", a, b);
  }

  /** `a − b` (b may broadcast). */
  sub(a: Mat, b: Mat): Mat {
    return this.binary("sub", a, b);
  }

  /** `a ⊙ b` (b may broadcast). */
  mul(a: Mat, b: Mat): Mat {
    return this.binary("mul", a, b);
  }

  /** `alpha · a`. */
  scale(a: Mat, alpha: number): Mat {
    return this.node(scaleForward(a.value, alpha), a.rows, a.cols, (out) => {
      addInto(a.grad, scaleBackward(out.grad, alpha));
    });
  }

  /** An activation elementwise. */
  activation(a: Mat, act: Activation): Mat {
    return this.node(activationForward(act, a.value), a.rows, a.cols, (out) => {
      addInto(a.grad, activationBackward(act, a.value, out.grad));
    });
  }

  /** Any elementwise function f with derivative df. */
  map(a: Mat, f: (v: number) => number, df: (v: number) => number): Mat {
    return this.node(a.value.map(f), a.rows, a.cols, (out) => {
      addInto(a.grad, a.value.map((v, i) => out.grad[i] * df(v)));
    });
  }

  /** `min(max(a, lo), hi)` elementwise. */
  clamp(a: Mat, lo: number, hi: number): Mat {
    return this.node(clampForward(a.value, lo, hi), a.rows, a.cols, (out) => {
      addInto(a.grad, clampBackward(a.value, out.grad, lo, hi));
    });
  }

  /** Rows of `a` picked by `index` (e.g. x_i by receiver). */
  gather(a: Mat, index: ArrayLike<number>): Mat {
    return this.node(gatherRowsForward(a.value, index, a.cols), index.length, a.cols, (out) => {
      addInto(a.grad, gatherRowsBackward(out.grad, index, a.rows, a.cols));
    });
  }

  /** Sum (or mean, ÷ max(1, count)) of the rows of each segment `[ptr[s], ptr[s+1])`. */
  segmentSum(a: Mat, ptr: ArrayLike<number>, mean = false): Mat {
    const value = segmentSumForward(a.value, ptr, a.cols, mean);
    return this.node(value, ptr.length - 1, a.cols, (out) => {
      addInto(a.grad, segmentSumBackward(out.grad, ptr, a.cols, mean));
    });
  }

  /** Column-wise concatenation of matrices with equal row counts. */
  concat(parts: Mat[]): Mat {
    const rows = parts[0].rows;
    if (parts.some((p) => p.rows !== rows)) throw new Error("tape64.concat: row counts differ");
    const widths = parts.map((p) => p.cols);
    const value = concatForward(parts.map((p) => p.value), widths, rows);
    const total = widths.reduce((a, b) => a + b, 0);
    return this.node(value, rows, total, (out) => {
      concatBackward(out.grad, widths, rows).forEach((g, i) => addInto(parts[i].grad, g));
    });
  }

  /** `‖row‖²` of every row: rows × 1. */
  rowSquaredNorm(a: Mat): Mat {
    return this.node(rowSquaredNormForward(a.value, a.rows, a.cols), a.rows, 1, (out) => {
      addInto(a.grad, rowSquaredNormBackward(a.value, out.grad, a.cols));
    });
  }

  /**
   * Back-propagates from `output` seeded with d(objective)/d(output) (so the objective is
   * Σ seed ⊙ output). Gradients of every node are reset first.
   */
  backwardFrom(output: Mat, seed: ArrayLike<number>): void {
    if (seed.length !== output.value.length) {
      throw new Error(
        `tape64.backward: seed has ${seed.length} values, output ${output.value.length}`,
      );
    }
    for (const n of this.nodes) n.grad.fill(0);
    output.grad.set(seed);
    for (let i = this.nodes.length - 1; i >= 0; i--) this.nodes[i].backwardFn?.();
  }
}
