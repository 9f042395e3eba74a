/**
 * A small reverse-mode autograd over layer-level ops (micrograd's shape, on the GPU).
 *
 * Each op records one closure that dispatches its backward kernels; `backward(loss)` replays
 * them in reverse. Gradients accumulate with plain adds: the first contribution to a tensor's
 * gradient overwrites it, later ones add (backward kernels take an `accumulate` flag), so no
 * buffer needs clearing and no atomics are used.
 *
 * Through an activation. A layer `y = act(z)` may declare it (`declareActivation`); then a
 * consumer that can multiply its contribution by `act'` on the way out (a product's epilogue)
 * asks for `gradSlotThroughActivation(y)`. When that consumer is the first to contribute, y's
 * gradient buffer holds dZ = dY ⊙ act' instead of dY, and so does every later contribution:
 * fused ones are multiplied by act' as they are written, plain ones (`gradSlot`) go to a
 * temporary that is folded in (`+= c ⊙ act'`) when the gradient is next asked for. The layer's
 * backward sees `gradIsThroughActivation(y)` and skips its own ⊙ act' pass. dZ is linear in the
 * contributions, so the result equals the unfused one up to float rounding.
 *
 * Row views. `rowBlock` of a matrix whose rows start at a bindable offset returns a view of
 * those rows, not a copy, declared here (`declareRowView`): a contribution to the view's
 * gradient is written straight into the same rows of the base's gradient. Since the views of one
 * base cover different rows, each adds: the base's gradient is cleared at its first contribution
 * of the step (a clear command, not a dispatch).
 *
 * @module
 */

import { empty, type Tensor } from "./tensor.ts";
import { recordClear } from "./commands.ts";
import type { Activation } from "./kernels/matmul_wgsl.ts";

interface Node {
  op: string;
  output: Tensor;
  /** Further outputs of the same op (`recordOp`'s `alsoOutputs`). */
  also: Tensor[];
  backward: () => void;
}

/** A layer's activation, declared on its output (see the module doc). */
export interface ActivationOf {
  /** The activation (not "none"). */
  act: Activation;
  /** What its derivative reads: the pre-activation for SiLU, the output for the others. */
  saved: Tensor;
  /** Records `grad += contribution ⊙ act'(saved)`. */
  fold(grad: Tensor, contribution: Tensor): void;
}

/**
 * Fuse gradients through declared activations, let `rowBlock` return views, and let an input take
 * its op's output gradient as its own (`shareGrad`) (all default true; false for comparison
 * tests).
 */
export const tapeSwitches: {
  fuseActivationGrad: boolean;
  rowViews: boolean;
  shareGrads: boolean;
} = {
  fuseActivationGrad: true,
  rowViews: true,
  shareGrads: true,
};

let nodes: Node[] = [];
const activations = new WeakMap<Tensor, ActivationOf>();
/** This step's tensors whose gradient buffer holds dZ, with plain contributions still to fold. */
const throughActivation = new Map<Tensor, Tensor[]>();
/** This step's row views (`rowBlock`): the base and the first row. */
const rowViews = new Map<Tensor, { base: Tensor; first: number }>();
let touched: Tensor[] = [];
/** Output gradients handed to an input this step (`shareGrad`): each goes to one input only. */
const sharedGrads = new Set<Tensor>();
let seedGrad: Tensor | null = null;
let enabled = true;
let backwardDone = false;

/** Whether an op with these inputs must record its backward. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  return enabled && inputs.some((t) => t?.requiresGrad);
}

/**
 * Records an op's backward. The closure runs only if an output received a gradient.
 *
 * @param op the op's name (for errors)
 * @param output the op's output, marked as requiring grad
 * @param backward dispatches the backward kernels, reading `output.grad`
 * @param alsoOutputs further outputs of the op (marked too): one closure serves them all, run
 *   once when any has a gradient (`gradOf` of each may be null); all are complete by then, since
 *   every consumer of them was recorded after the op
 */
export function recordOp(
  op: string,
  output: Tensor,
  backward: () => void,
  alsoOutputs: Tensor[] = [],
): void {
  output.requiresGrad = true;
  for (const t of alsoOutputs) t.requiresGrad = true;
  nodes.push({ op, output, also: alsoOutputs, backward });
}

/**
 * Where an op writes its contribution to `t`'s gradient: the gradient tensor, and whether to
 * add to it (a contribution came earlier this step) or overwrite it (the first).
 */
export function gradSlot(t: Tensor): { grad: Tensor; accumulate: boolean } {
  const view = rowViews.get(t);
  if (view) return rowViewSlot(t, view.base, view.first);
  const pending = t.gradFresh ? throughActivation.get(t) : undefined;
  if (pending) {
    // The buffer holds dZ: a plain contribution waits in a temporary, folded in by gradOf.
    const tmp = empty(t.shape);
    pending.push(tmp);
    return { grad: tmp, accumulate: false };
  }
  return plainSlot(t);
}

/** The view's rows of the base's gradient, cleared at the base's first contribution. */
function rowViewSlot(t: Tensor, base: Tensor, first: number): { grad: Tensor; accumulate: true } {
  const s = gradSlot(base);
  if (!s.accumulate) recordClear(s.grad);
  return { grad: s.grad.rows(first, first + t.shape[0]), accumulate: true };
}

/**
 * Declares `view` to be rows `[first, …)` of `base` (a `Tensor.rows` view) for gradients: see
 * the module doc. Only while recording.
 */
export function declareRowView(view: Tensor, base: Tensor, first: number): void {
  if (!enabled) return;
  view.requiresGrad = true;
  rowViews.set(view, { base, first });
}

function plainSlot(t: Tensor): { grad: Tensor; accumulate: boolean } {
  if (t.grad && t.gradFresh) return { grad: t.grad, accumulate: true };
  if (!t.grad) {
    t.grad = empty(t.shape);
    if (!t.temporary) t.grad.keep();
  }
  t.gradFresh = true;
  touched.push(t);
  return { grad: t.grad, accumulate: false };
}

/**
 * Makes `d`, an op's (complete) output gradient, the gradient of its input `t` as well, instead
 * of a copy: for ops whose gradient passes to an input unchanged (an add's). Later contributions
 * to t's gradient then add into `d`, which is safe because an output's gradient is read only by
 * its own op's backward, recorded before them. Only for a temporary `t` with no gradient yet this
 * step, plain (no declared activation, not a row view), and a temporary `d` that is neither the
 * backward's seed nor already shared. Returns whether it did; if not, the caller copies.
 */
export function shareGrad(t: Tensor, d: Tensor): boolean {
  if (!tapeSwitches.shareGrads || !enabled || t.gradFresh || !t.temporary) return false;
  if (!d.temporary || d === seedGrad || sharedGrads.has(d) || d.shape.join() !== t.shape.join()) {
    return false;
  }
  if (rowViews.has(t) || activations.has(t)) return false;
  t.grad = d;
  t.gradFresh = true;
  touched.push(t);
  sharedGrads.add(d);
  return true;
}

/**
 * Declares that `y` is `act(·)` of its producing layer, which handles `gradIsThroughActivation`
 * in its backward (see the module doc). Only while recording.
 */
export function declareActivation(y: Tensor, a: ActivationOf): void {
  if (enabled && a.act !== "none") activations.set(y, a);
}

/**
 * Like `gradSlot`, for a consumer that can multiply its contribution by `activation.act'` at
 * `activation.saved` as it writes it: `activation` is non-null when it must (y's buffer holds,
 * or now starts to hold, dZ), null when the slot is plain.
 */
export function gradSlotThroughActivation(
  t: Tensor,
): { grad: Tensor; accumulate: boolean; activation: ActivationOf | null } {
  if (rowViews.has(t)) return { ...gradSlot(t), activation: null };
  const a = tapeSwitches.fuseActivationGrad ? activations.get(t) : undefined;
  const fresh = !!(t.grad && t.gradFresh);
  if (!a || (fresh && !throughActivation.has(t))) return { ...plainSlot(t), activation: null };
  if (!fresh) throughActivation.set(t, []);
  return { ...plainSlot(t), activation: a };
}

/** Whether `gradOf(t)` holds the gradient of t's pre-activation, dZ (see the module doc). */
export function gradIsThroughActivation(t: Tensor): boolean {
  return !!t.gradFresh && throughActivation.has(t);
}

/** The output's gradient if one flowed into it this step (dZ: see `gradIsThroughActivation`). */
export function gradOf(t: Tensor): Tensor | null {
  if (!(t.grad && t.gradFresh)) return null;
  const pending = throughActivation.get(t);
  if (pending && pending.length > 0) {
    const a = activations.get(t)!;
    for (const c of pending) a.fold(t.grad, c);
    pending.length = 0;
  }
  return t.grad;
}

/**
 * Runs the recorded backward closures in reverse, seeded with `seed` as d(loss).
 *
 * @param loss the tensor to differentiate (usually a scalar)
 * @param seed a tensor of loss's shape holding d(objective)/d(loss) (e.g. ones)
 */
export function backward(loss: Tensor, seed: Tensor): void {
  if (backwardDone) {
    throw new Error(
      "backward: called twice in one step; add the losses into one (add) before backward, " +
        "or end the step (resetTape) first",
    );
  }
  if (!loss.requiresGrad) throw new Error("backward: the loss does not depend on any parameter");
  backwardDone = true;
  if (seed.size !== loss.size) {
    throw new Error(`backward: seed [${seed.shape}] does not match loss [${loss.shape}]`);
  }
  loss.grad = seed;
  seedGrad = seed;
  loss.gradFresh = true;
  touched.push(loss);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (gradOf(n.output) || n.also.some((t) => gradOf(t))) n.backward();
  }
}

/** Forgets the recorded ops and marks every gradient stale (call at the end of a step). */
export function resetTape(): void {
  for (const t of touched) t.gradFresh = false;
  touched = [];
  throughActivation.clear();
  rowViews.clear();
  sharedGrads.clear();
  seedGrad = null;
  nodes = [];
  backwardDone = false;
}

/** Number of ops recorded since the last reset. */
export function tapeLength(): number {
  return nodes.length;
}

/**
 * Runs `fn` without recording backward (evaluation).
 *
 * @param fn the computation
 * @returns what `fn` returns
 */
export function noGrad<T>(fn: () => T): T {
  const was = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = was;
  }
}
