/**
 * Elementwise ops: a generic map kernel (one WGSL expression over up to three inputs) and the
 * autograd ops built on it — add, sub, mul, scale, activations — each with its backward.
 * A second operand may be broadcast: one value, or one row (size = last dimension).
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, type Tensor, unusedBinding } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";
import { type Activation, activationExpr } from "./matmul.ts";
import { columnSum } from "./reduce.ts";

/** How operand b is laid out against a: the same, one value, or one row repeated. */
export type Broadcast = "same" | "scalar" | "row";

const mapKernel = defineKernel({
  name: "map",
  workgroupSize: 64,
  constants: { ACCUMULATE: "bool", COLS: "u32" },
  uniforms: { n: "u32", alpha: "f32" },
  bindings: {
    a: { type: "f32", access: "read" },
    b: { type: "f32", access: "read" },
    c: { type: "f32", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  // EXPR reads av, bv, cv and params.alpha; B_INDEX / C_INDEX say how b, c are indexed.
  body: (k) => `
  if (index >= params.n) { return; }
  let av = a[index];
  let bv = b[${k.B_INDEX}];
  let cv = c[${k.C_INDEX}];
  let v = ${k.EXPR};
  ${k.ACCUMULATE ? "out[index] = out[index] + v;" : "out[index] = v;"}`,
});

function indexFor(b: Broadcast): string {
  return b === "same" ? "index" : b === "scalar" ? "0u" : "index % COLS";
}

/**
 * Records `out[i] (+)= EXPR(a[i], b[·], c[·])` over `n` elements.
 *
 * @param expr a WGSL expression in `av`, `bv`, `cv` and `params.alpha`
 * @param out destination
 * @param a, b, c operands (pass `a` again for unused ones)
 * @param o element count, broadcast of b and c, accumulate, alpha
 */
export function mapInto(
  expr: string,
  out: Tensor,
  a: Tensor,
  b: Tensor,
  c: Tensor,
  o: {
    n?: number;
    bBroadcast?: Broadcast;
    cBroadcast?: Broadcast;
    accumulate?: boolean;
    alpha?: number;
  } = {},
): void {
  const n = o.n ?? out.size;
  if (out.buffer === a.buffer || out.buffer === b.buffer || out.buffer === c.buffer) {
    throw new Error("mapInto: the output may not also be an input (use accumulate)");
  }
  const cols = a.shape.length > 0 ? a.shape[a.shape.length - 1] : 1;
  const variant = mapKernel.variant({
    ACCUMULATE: !!o.accumulate,
    COLS: Math.max(1, cols),
    EXPR: expr,
    B_INDEX: indexFor(o.bBroadcast ?? "same"),
    C_INDEX: indexFor(o.cBroadcast ?? "same"),
  });
  recordDispatch(variant, [a, b, c, out], n, { n, alpha: o.alpha ?? 0 });
}

function broadcastOf(a: Tensor, b: Tensor, op: string): Broadcast {
  if (b.size === a.size && b.shape.join() === a.shape.join()) return "same";
  if (b.size === 1) return "scalar";
  if (a.shape.length > 0 && b.size === a.shape[a.shape.length - 1]) return "row";
  throw new Error(`${op}: shapes [${a.shape}] and [${b.shape}] do not broadcast`);
}

/** Adds `scale·dOut` (reduced over broadcast rows if needed) into t's gradient. */
function addGrad(t: Tensor, dOut: Tensor, bc: Broadcast, factorExpr = "av", factor?: Tensor) {
  const s = gradSlot(t);
  const expr = factorExpr;
  if (bc === "same") {
    mapInto(expr, s.grad, dOut, factor ?? dOut, dOut, { accumulate: s.accumulate });
    return;
  }
  // Reduce the broadcast axis: materialise the per-element gradient, then sum rows.
  const tmp = empty(dOut.shape);
  mapInto(expr, tmp, dOut, factor ?? dOut, dOut);
  const cols = bc === "scalar" ? 1 : t.size;
  columnSum(tmp.reshape([dOut.size / cols, cols]), s.grad, dOut.size / cols, cols, s.accumulate);
}

function binary(
  op: string,
  expr: string,
  a: Tensor,
  b: Tensor,
  backward: (out: Tensor, bc: Broadcast) => void,
): Tensor {
  const bc = broadcastOf(a, b, op);
  const out = empty(a.shape);
  mapInto(expr, out, a, b, a, { bBroadcast: bc });
  if (needsGrad(a, b)) recordOp(op, out, () => backward(out, bc));
  return out;
}

/** `a + b` (b may broadcast). */
export function add(a: Tensor, b: Tensor): Tensor {
  return binary("add", "av + bv", a, b, (out, bc) => {
    const d = gradOf(out)!;
    if (a.requiresGrad) addGrad(a, d, "same");
    if (b.requiresGrad) addGrad(b, d, bc);
  });
}

/** `a − b` (b may broadcast). */
export function sub(a: Tensor, b: Tensor): Tensor {
  return binary("sub", "av - bv", a, b, (out, bc) => {
    const d = gradOf(out)!;
    if (a.requiresGrad) addGrad(a, d, "same");
    if (b.requiresGrad) addGrad(b, d, bc, "-av");
  });
}

/** `a ⊙ b` (b may broadcast). */
export function mul(a: Tensor, b: Tensor): Tensor {
  return binary("mul", "av * bv", a, b, (out, bc) => {
    const d = gradOf(out)!;
    if (a.requiresGrad) {
      const s = gradSlot(a);
      mapInto("av * bv", s.grad, d, b, d, { bBroadcast: bc, accumulate: s.accumulate });
    }
    if (b.requiresGrad) addGrad(b, d, bc, "av * bv", a);
  });
}

/** `alpha · a`. */
export function scale(a: Tensor, alpha: number): Tensor {
  const out = empty(a.shape);
  mapInto("params.alpha * av", out, a, a, a, { alpha });
  if (needsGrad(a)) {
    recordOp("scale", out, () => {
      const s = gradSlot(a);
      mapInto("params.alpha * av", s.grad, gradOf(out)!, a, a, {
        alpha,
        accumulate: s.accumulate,
      });
    });
  }
  return out;
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number): Tensor {
  const out = empty(shape);
  const u = unusedBinding();
  mapInto("params.alpha", out, u, u, u, { alpha: value, n: out.size });
  return out;
}

const ACTIVATION_GRAD: Record<Exclude<Activation, "none">, string> = {
  // bv is the saved tensor: the pre-activation for SiLU, the output for the others.
  silu: "av * siluGrad(bv)",
  relu: "select(0.0, av, bv > 0.0)",
  tanh: "av * (1.0 - bv * bv)",
  sigmoid: "av * bv * (1.0 - bv)",
};

/**
 * `dZ = dY ⊙ act'(·)`: SiLU needs the pre-activation, the others their output.
 *
 * @returns a new temporary holding dZ
 */
export function activationBackward(act: Activation, dy: Tensor, saved: Tensor): Tensor {
  if (act === "none") return dy;
  const dz = empty(dy.shape);
  mapInto(ACTIVATION_GRAD[act], dz, dy, saved, dy);
  return dz;
}

/** An activation as an op of its own. */
export function activation(x: Tensor, act: Activation): Tensor {
  if (act === "none") return x;
  const out = empty(x.shape);
  mapInto(activationExpr(act, "av"), out, x, x, x);
  if (needsGrad(x)) {
    recordOp(act, out, () => {
      const s = gradSlot(x);
      const saved = act === "silu" ? x : out;
      mapInto(ACTIVATION_GRAD[act], s.grad, gradOf(out)!, saved, x, { accumulate: s.accumulate });
    });
  }
  return out;
}
