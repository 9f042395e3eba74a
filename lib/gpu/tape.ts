/**
 * A small reverse-mode autograd over layer-level ops (micrograd's shape, on the GPU).
 *
 * Each op records one closure that dispatches its backward kernels; `backward(loss)` replays
 * them in reverse. Gradients accumulate with plain adds: the first contribution to a tensor's
 * gradient overwrites it, later ones add (backward kernels take an `accumulate` flag), so no
 * buffer needs clearing and no atomics are used.
 *
 * @module
 */

import { empty, type Tensor } from "./tensor.ts";

interface Node {
  op: string;
  output: Tensor;
  backward: () => void;
}

let nodes: Node[] = [];
let touched: Tensor[] = [];
let enabled = true;
let backwardDone = false;

/** Whether an op with these inputs must record its backward. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  return enabled && inputs.some((t) => t?.requiresGrad);
}

/**
 * Records an op's backward. The closure runs only if the output received a gradient.
 *
 * @param op the op's name (for errors)
 * @param output the op's output, marked as requiring grad
 * @param backward dispatches the backward kernels, reading `output.grad`
 */
export function recordOp(op: string, output: Tensor, backward: () => void): void {
  output.requiresGrad = true;
  nodes.push({ op, output, backward });
}

/**
 * Where an op writes its contribution to `t`'s gradient: the gradient tensor, and whether to
 * add to it (a contribution came earlier this step) or overwrite it (the first).
 */
export function gradSlot(t: Tensor): { grad: Tensor; accumulate: boolean } {
  if (t.grad && t.gradFresh) return { grad: t.grad, accumulate: true };
  if (!t.grad) {
    t.grad = empty(t.shape);
    if (!t.temporary) t.grad.keep();
  }
  t.gradFresh = true;
  touched.push(t);
  return { grad: t.grad, accumulate: false };
}

/** The output's gradient if one flowed into it this step. */
export function gradOf(t: Tensor): Tensor | null {
  return t.grad && t.gradFresh ? t.grad : null;
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
  loss.gradFresh = true;
  touched.push(loss);
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (gradOf(nodes[i].output)) nodes[i].backward();
  }
}

/** Forgets the recorded ops and marks every gradient stale (call at the end of a step). */
export function resetTape(): void {
  for (const t of touched) t.gradFresh = false;
  touched = [];
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
