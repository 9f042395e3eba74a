/**
 * Float64 reference of the elementwise ops — add, sub, mul with b the same shape, one value
 * (scalar), one row repeated (row, shape [C]) or one value per row (column, shape [R, 1]);
 * scale; clamp; activations — each with its backward.
 *
 * @module
 */

import { activate, type Activation, activationDerivative } from "./linear.ts";

/** How operand b is laid out against a. */
export type Broadcast = "same" | "scalar" | "row" | "column";

/** The element of b that pairs with element i of a (a has `cols` columns). */
export function broadcastIndex(bc: Broadcast, i: number, cols: number): number {
  switch (bc) {
    case "same":
      return i;
    case "scalar":
      return 0;
    case "row":
      return i % cols;
    case "column":
      return Math.floor(i / cols);
  }
}

/** A binary elementwise op. */
export type BinaryOp = "add" | "sub" | "mul";

function apply(op: BinaryOp, a: number, b: number): number {
  return op === "add" ? a + b : op === "sub" ? a - b : a * b;
}

/** `out[i] = a[i] op b[bc(i)]`. */
export function binaryForward(
  op: BinaryOp,
  a: Float64Array,
  b: Float64Array,
  bc: Broadcast,
  cols: number,
): Float64Array {
  return a.map((av, i) => apply(op, av, b[broadcastIndex(bc, i, cols)]));
}

/** da and db (the latter summed over the broadcast elements) from dout. */
export function binaryBackward(
  op: BinaryOp,
  a: Float64Array,
  b: Float64Array,
  bc: Broadcast,
  cols: number,
  dout: Float64Array,
): { da: Float64Array; db: Float64Array } {
  const da = new Float64Array(a.length);
  const db = new Float64Array(b.length);
  for (let i = 0; i < a.length; i++) {
    const j = broadcastIndex(bc, i, cols);
    da[i] = op === "mul" ? dout[i] * b[j] : dout[i];
    db[j] += op === "add" ? dout[i] : op === "sub" ? -dout[i] : dout[i] * a[i];
  }
  return { da, db };
}

/** `alpha · a`. */
export function scaleForward(a: Float64Array, alpha: number): Float64Array {
  return a.map((v) => alpha * v);
}

/** `alpha · dout`. */
export function scaleBackward(dout: Float64Array, alpha: number): Float64Array {
  return dout.map((v) => alpha * v);
}

/** `act(x)` elementwise. */
export function activationForward(act: Activation, x: Float64Array): Float64Array {
  return x.map((v) => activate(act, v));
}

/** `dout ⊙ act'(x)`. */
export function activationBackward(
  act: Activation,
  x: Float64Array,
  dout: Float64Array,
): Float64Array {
  return x.map((v, i) => dout[i] * activationDerivative(act, v));
}

/** `min(max(x, lo), hi)` elementwise. */
export function clampForward(x: Float64Array, lo: number, hi: number): Float64Array {
  return x.map((v) => Math.min(Math.max(v, lo), hi));
}

/** `dout` where lo ≤ x ≤ hi, else 0 (PyTorch's clamp backward: the bounds pass gradient). */
export function clampBackward(
  x: Float64Array,
  dout: Float64Array,
  lo: number,
  hi: number,
): Float64Array {
  return x.map((v, i) => (v >= lo && v <= hi ? dout[i] : 0));
}
