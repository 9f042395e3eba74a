/**
 * Elementwise ops: a generic map kernel (one WGSL expression over up to three inputs) and the
 * autograd ops built on it — add, sub, mul, scale, activations — each with its backward.
 * A second operand may be broadcast: one value, one row repeated (shape [C] or [1, C]), or one
 * value per row (shape [R, 1], e.g. a gate or a scalar per edge).
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, type Tensor, unusedBinding } from "../tensor.ts";
import {
  type ActivationOf,
  gradIsThroughActivation,
  gradOf,
  gradSlot,
  needsGrad,
  recordOp,
  shareGrad,
} from "../tape.ts";
import { type Activation, activationExpr } from "./matmul.ts";
import { activationGradExpr } from "./matmul_wgsl.ts";
import { columnSum, rowSum } from "./reduce.ts";

/**
 * Kernel choices that change speed, not results (for benchmarks and the tests that compare the
 * two forms): `vec4` lets map, gather and segment kernels take four elements per invocation
 * where the widths allow (default true).
 */
export const kernelSwitches: { vec4: boolean } = { vec4: true };

/** How operand b is laid out against a: the same, one value, one row repeated, one per row. */
export type Broadcast = "same" | "scalar" | "row" | "column";

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

/**
 * The map kernel four elements per invocation, for the CPU adapter, where each storage read is
 * emulated per invocation and a vec4 costs about as much as a scalar: a and out are read and
 * written as vec4s, b and c as vec4s (same layout), one splatted value (scalar), a vec4 of the
 * repeated row (row, COLS % 4 = 0) or one value per row (column, COLS % 4 = 0: the four
 * elements share a row). EXPR is evaluated per component with the scalar helpers.
 */
const map4Kernel = defineKernel({
  name: "map4",
  workgroupSize: 64,
  constants: { ACCUMULATE: "bool", COLS: "u32" },
  uniforms: { n4: "u32", alpha: "f32" },
  bindings: {
    a: { type: "vec4f", access: "read" },
    b: { type: "vec4f", access: "read" },
    c: { type: "vec4f", access: "read" },
    out: { type: "vec4f", access: "read_write" },
  },
  body: (k) => `
  if (index >= params.n4) { return; }
  let A = a[index];
  let B = ${fetch4("b", k.B_BROADCAST as Broadcast)};
  let C = ${fetch4("c", k.C_BROADCAST as Broadcast)};
  let r = vec4f(mapElement(A.x, B.x, C.x), mapElement(A.y, B.y, C.y),
    mapElement(A.z, B.z, C.z), mapElement(A.w, B.w, C.w));
  ${k.ACCUMULATE ? "out[index] = out[index] + r;" : "out[index] = r;"}`,
  // The expression as a function called per component: 1.6× faster on lavapipe than a loop over
  // q with r[q] = … (dynamic component indexing), 2.6 against 1.2 ms for SiLU's gradient over
  // 2000×64 floats.
  functions: (k) => `fn mapElement(av: f32, bv: f32, cv: f32) -> f32 { return ${k.EXPR}; }`,
});

function fetch4(name: string, b: Broadcast): string {
  switch (b) {
    case "same":
      return `${name}[index]`;
    case "scalar":
      return `vec4f(${name}[0].x)`;
    case "row":
      return `${name}[index % (COLS / 4u)]`;
    case "column":
      return `vec4f(${name}[(index * 4u / COLS) / 4u][(index * 4u / COLS) % 4u])`;
  }
}

function indexFor(b: Broadcast): string {
  switch (b) {
    case "same":
      return "index";
    case "scalar":
      return "0u";
    case "row":
      return "index % COLS";
    case "column":
      return "index / COLS";
  }
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
  const cols = out.shape.length > 0 ? out.shape[out.shape.length - 1] : 1;
  const bb = o.bBroadcast ?? "same", cb = o.cBroadcast ?? "same";
  const broadcastsByRow = (x: Broadcast) => x === "row" || x === "column";
  if (
    kernelSwitches.vec4 && n % 4 === 0 && n > 0 &&
    (cols % 4 === 0 || (!broadcastsByRow(bb) && !broadcastsByRow(cb)))
  ) {
    const v4 = map4Kernel.variant({
      ACCUMULATE: !!o.accumulate,
      COLS: Math.max(4, cols),
      EXPR: expr,
      B_BROADCAST: bb,
      C_BROADCAST: cb,
    });
    recordDispatch(v4, [a, b, c, out], n / 4, { n4: n / 4, alpha: o.alpha ?? 0 });
    return;
  }
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
  if (b.shape.join() === a.shape.join()) return "same";
  if (b.size === 1) return "scalar";
  if (a.shape.length === 2) {
    const [rows, cols] = a.shape;
    const bs = b.shape.join();
    if (bs === `${cols}` || bs === `1,${cols}`) return "row";
    if (bs === `${rows},1`) return "column";
  }
  throw new Error(`${op}: shapes [${a.shape}] and [${b.shape}] do not broadcast`);
}

/**
 * Adds the per-element gradient `expr(av = dOut, bv = b, cv = c)` into t's gradient, reduced over
 * the axis t was broadcast along (`bc`); `bBroadcast` is how `b` itself is read.
 */
function addGrad(
  t: Tensor,
  dOut: Tensor,
  bc: Broadcast,
  expr = "av",
  b: Tensor = dOut,
  c: Tensor = dOut,
  bBroadcast: Broadcast = "same",
) {
  if (bc === "same" && expr === "av" && shareGrad(t, dOut)) return; // t's gradient is dOut
  const s = gradSlot(t);
  if (bc === "same") {
    mapInto(expr, s.grad, dOut, b, c, { bBroadcast, accumulate: s.accumulate });
    return;
  }
  // Reduce the broadcast axis: materialise the per-element gradient, then sum it.
  const tmp = empty(dOut.shape);
  mapInto(expr, tmp, dOut, b, c, { bBroadcast });
  if (bc === "column") {
    const cols = dOut.shape[1];
    rowSum(tmp, s.grad, dOut.size / cols, cols, s.accumulate);
    return;
  }
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

/**
 * `dZ (+)= dY ⊙ act'(·)`: SiLU's derivative reads the pre-activation, the others' their output.
 *
 * @param act the activation (not "none")
 * @param dy the incoming gradient
 * @param saved the pre-activation (SiLU) or the activation's output (the others)
 * @param dz where dZ is written, or added with `accumulate`
 */
export function activationBackwardInto(
  act: Activation,
  dy: Tensor,
  saved: Tensor,
  dz: Tensor,
  accumulate = false,
): void {
  mapInto(activationGradExpr(act, "av", "bv"), dz, dy, saved, dy, { accumulate });
}

/**
 * `dZ = dY ⊙ act'(·)`: SiLU needs the pre-activation, the others their output.
 *
 * @returns a new temporary holding dZ
 */
export function activationBackward(act: Activation, dy: Tensor, saved: Tensor): Tensor {
  if (act === "none") return dy;
  const dz = empty(dy.shape);
  activationBackwardInto(act, dy, saved, dz);
  return dz;
}

/**
 * The backward of a layer `y = act(z)` that declared its activation (`declareActivation`): dZ,
 * which is y's gradient itself when its consumers multiplied by act' as they wrote it (tape.ts),
 * else dY ⊙ act' in a pass of its own.
 *
 * @param y the layer's output (its gradient has arrived)
 * @param act the activation
 * @param saved the pre-activation (SiLU) or y (the others)
 * @returns dZ
 */
export function preActivationGrad(y: Tensor, act: Activation, saved: Tensor): Tensor {
  const dy = gradOf(y)!;
  return act === "none" || gradIsThroughActivation(y) ? dy : activationBackward(act, dy, saved);
}

/**
 * The tape's record of a layer's activation (`declareActivation`): its derivative's input and
 * the fold of a plain gradient contribution.
 */
export function activationOf(act: Activation, saved: Tensor): ActivationOf {
  return {
    act,
    saved,
    fold: (grad, contribution) => activationBackwardInto(act, contribution, saved, grad, true),
  };
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
      activationBackwardInto(act, gradOf(out)!, saved, s.grad, s.accumulate);
    });
  }
  return out;
}

/**
 * Clamps every element to [lo, hi]; the gradient is zero where the value was clipped.
 * (The reference clamps each coordinate message to ±100.)
 */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  const out = empty(x.shape);
  const expr = `clamp(av, ${wgslFloat(lo)}, ${wgslFloat(hi)})`;
  mapInto(expr, out, x, x, x);
  if (needsGrad(x)) {
    recordOp("clamp", out, () => {
      const s = gradSlot(x);
      mapInto(
        `select(0.0, av, bv >= ${wgslFloat(lo)} && bv <= ${wgslFloat(hi)})`,
        s.grad,
        gradOf(out)!,
        x,
        x,
        { accumulate: s.accumulate },
      );
    });
  }
  return out;
}

/**
 * `clamp(a ⊙ b, lo, hi)` in one pass, b broadcast as in {@linkcode mul}: eq. 4's clamped
 * coordinate messages (x_i − x_j)·φx(m_ij), the reference's `torch.clamp(trans, -100, 100)`. The
 * same values as `clamp(mul(a, b), lo, hi)`, one dispatch instead of two each way; the gradient is
 * zero where the product was clipped (bounds included in the pass-through, as in PyTorch).
 *
 * @param a the left factor
 * @param b the right factor (same shape, a row, a column or a scalar)
 * @param lo the lower bound
 * @param hi the upper bound
 * @returns a temporary of a's shape
 * @example Products 6 and −1.5 clamped to [−1, 5]
 * ```ts
 * import { clampedMul, fromArray, getGpu, read } from "../../../mod.ts";
 * await getGpu();
 * const y = clampedMul(fromArray([2, -0.5], [2, 1]), fromArray([3, 3], [2, 1]), -1, 5);
 * console.log(await read(y)); // Float32Array [5, -1]
 * ```
 */
export function clampedMul(a: Tensor, b: Tensor, lo: number, hi: number): Tensor {
  const bc = broadcastOf(a, b, "clampedMul");
  const l = wgslFloat(lo), h = wgslFloat(hi);
  const out = empty(a.shape);
  mapInto(`clamp(av * bv, ${l}, ${h})`, out, a, b, a, { bBroadcast: bc });
  if (needsGrad(a, b)) {
    recordOp("clampedMul", out, () => {
      const d = gradOf(out)!;
      // av = dOut, bv = b (broadcast), cv = a: the product passes where it was not clipped.
      const inside = `(cv * bv >= ${l} && cv * bv <= ${h})`;
      if (a.requiresGrad) addGrad(a, d, "same", `select(0.0, av * bv, ${inside})`, b, a, bc);
      if (b.requiresGrad) addGrad(b, d, bc, `select(0.0, av * cv, ${inside})`, b, a, bc);
    });
  }
  return out;
}

function wgslFloat(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
  const t = String(v);
  return /[.eE]/.test(t) ? t : t + ".0";
}

/**
 * A differentiable elementwise function given as WGSL: `forward` in `av` (the input),
 * `derivative` in `bv` (the input). The backward multiplies the derivative by the incoming
 * gradient.
 *
 * @param x input
 * @param name the op's name (for errors)
 * @param forward e.g. `"1.0 / (safeSqrt(av) + 1.0)"`
 * @param derivative e.g. `"-0.5 / (safeSqrt(bv) * (safeSqrt(bv) + 1.0) * (safeSqrt(bv) + 1.0))"`
 */
export function unary(x: Tensor, name: string, forward: string, derivative: string): Tensor {
  const out = empty(x.shape);
  mapInto(forward, out, x, x, x);
  if (needsGrad(x)) {
    recordOp(name, out, () => {
      const s = gradSlot(x);
      mapInto(`av * (${derivative})`, s.grad, gradOf(out)!, x, x, { accumulate: s.accumulate });
    });
  }
  return out;
}
