/**
 * Adam and AdamW on the device — one dispatch over a ParameterSet's flat buffer per step — and
 * the cosine learning-rate schedule. The learning rate may change every step (it is a uniform).
 *
 * Update, as PyTorch's: g ← g + λθ (Adam's L2 form; AdamW instead decays θ ← θ(1 − ηλ)),
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
 * Optionally the gradient is first clipped by its global norm, as `torch.nn.utils.clip_grad_norm_`
 * before `optimizer.step()`: g ← g · min(1, c / (‖g‖₂ + 10⁻⁶)), ‖g‖₂ over every parameter of the set.
 *
 * @module
 */

import { defineKernel } from "./dsl.ts";
import { recordClear, recordDispatch } from "./commands.ts";
import { empty, type Tensor, unusedBinding } from "./tensor.ts";
import type { ParameterSet } from "./parameters.ts";
import { squaredNormAll } from "./kernels/reduce.ts";

// Four parameters per invocation (vec4 reads and writes: on lavapipe a storage access costs about
// the same for a vec4 as for a scalar, and the scalar form took 10 ms of a 40 ms autoencoder step
// over 105k parameters). The flat buffers' length is a multiple of 64 floats (ParameterSet).
const adamKernel = defineKernel({
  name: "adam4",
  workgroupSize: 64,
  constants: { DECOUPLED: "bool", CLIP: "bool" },
  uniforms: {
    n4: "u32",
    lr: "f32",
    beta1: "f32",
    beta2: "f32",
    eps: "f32",
    wd: "f32",
    bc1: "f32",
    bc2: "f32",
    maxNorm: "f32",
  },
  bindings: {
    param: { type: "vec4f", access: "read_write" },
    grad: { type: "vec4f", access: "read" },
    m: { type: "vec4f", access: "read_write" },
    v: { type: "vec4f", access: "read_write" },
    // CLIP: the gradient's squared global norm (squaredNormAll), one value.
    sqNorm: { type: "f32", access: "read" },
  },
  body: (c) => `
  if (index >= params.n4) { return; }
  var p = param[index];
  var g = grad[index];
  ${c.CLIP ? "g = g * min(1.0, params.maxNorm / (sqrt(sqNorm[0]) + 1e-6));" : ""}
  ${c.DECOUPLED ? "p = p * (1.0 - params.lr * params.wd);" : "g = g + params.wd * p;"}
  let m1 = params.beta1 * m[index] + (1.0 - params.beta1) * g;
  let v1 = params.beta2 * v[index] + (1.0 - params.beta2) * g * g;
  m[index] = m1;
  v[index] = v1;
  let denom = sqrt(v1) / sqrt(params.bc2) + params.eps;
  param[index] = p - (params.lr / params.bc1) * m1 / denom;`,
});

/** Options of Adam / AdamW. */
export interface AdamOptions {
  /** Learning rate η. */
  lr: number;
  /** Decay β₁ of the first moment m (default 0.9). */
  beta1?: number;
  /** Decay β₂ of the second moment v (default 0.999). */
  beta2?: number;
  /** ε of the denominator (default 1e-8). */
  eps?: number;
  /** Weight decay λ (default 0). */
  weightDecay?: number;
  /** AdamW: decoupled weight decay. */
  decoupled?: boolean;
  /**
   * Clip the gradient to this global L2 norm before the update, as PyTorch's
   * `clip_grad_norm_(params, c)` (default 0: no clipping, as the paper's protocols).
   */
  clipGradNorm?: number;
}

/**
 * Adam over every parameter of a set.
 *
 * @example One step on a parameter whose gradient was set by hand
 * ```ts
 * import { Adam, getGpu, ParameterSet } from "../../mod.ts";
 * await getGpu();
 * const ps = new ParameterSet();
 * ps.add("w", [1], new Float32Array([1])).gradFresh = false;
 * ps.build();
 * const opt = new Adam(ps, { lr: 0.1 });
 * opt.step(); // no gradient flowed: it is taken as zero
 * console.log((await ps.toHost()).get("w")); // Float32Array [1]
 * ```
 */
export class Adam {
  /** Steps taken. */
  t = 0;
  /** The learning rate η of the next step (`step(lr)` replaces it). */
  lr: number;
  private readonly m: Tensor;
  private readonly v: Tensor;
  /** The gradient's squared global norm, when clipping. */
  private readonly sqNorm: Tensor | null;

  /** Allocates the moments m and v over the set's flat buffer and records their clearing. */
  constructor(readonly params: ParameterSet, readonly options: AdamOptions) {
    const clip = options.clipGradNorm ?? 0;
    if (!(clip >= 0) || !Number.isFinite(clip)) {
      throw new Error(`Adam: clipGradNorm is ${clip}, expected a finite number ≥ 0 (0: off)`);
    }
    this.lr = options.lr;
    this.m = empty([params.paddedSize]).keep();
    this.v = empty([params.paddedSize]).keep();
    this.sqNorm = clip > 0 ? empty([1]).keep() : null;
    recordClear(this.m);
    recordClear(this.v);
  }

  /**
   * Records one update. Parameters that got no gradient this step are treated as zero-gradient.
   *
   * @param lr the learning rate for this step (default: the current `lr`)
   */
  step(lr = this.lr): void {
    this.lr = lr;
    for (const p of this.params.tensors) {
      if (!p.gradFresh) recordClear(p.grad!);
    }
    this.t++;
    const o = this.options;
    const beta1 = o.beta1 ?? 0.9, beta2 = o.beta2 ?? 0.999;
    const n4 = this.params.paddedSize / 4;
    if (this.sqNorm) squaredNormAll(this.params.flatGrad, this.sqNorm);
    recordDispatch(
      adamKernel.variant({ DECOUPLED: !!o.decoupled, CLIP: !!this.sqNorm }),
      [this.params.flat, this.params.flatGrad, this.m, this.v, this.sqNorm ?? unusedBinding()],
      n4,
      {
        n4,
        lr,
        beta1,
        beta2,
        eps: o.eps ?? 1e-8,
        wd: o.weightDecay ?? 0,
        bc1: 1 - beta1 ** this.t,
        bc2: 1 - beta2 ** this.t,
        maxNorm: o.clipGradNorm ?? 0,
      },
    );
  }

  /** Frees the moment buffers. */
  dispose(): void {
    this.m.dispose();
    this.v.dispose();
    this.sqNorm?.dispose();
  }

  /** The optimiser state for checkpoints: step count and the two moment buffers. */
  get state(): { t: number; m: Tensor; v: Tensor } {
    return { t: this.t, m: this.m, v: this.v };
  }
}

/**
 * Cosine annealing, PyTorch's closed form: `min + (base − min)(1 + cos(π·t/T))/2`. Periodic
 * beyond T, as PyTorch's scheduler is when stepped past T_max.
 *
 * @param base the initial learning rate
 * @param t the scheduler step
 * @param tMax the half-period T
 * @param min the floor
 * @returns the learning rate at step t
 */
export function cosineLr(base: number, t: number, tMax: number, min = 0): number {
  return min + (base - min) * (1 + Math.cos(Math.PI * t / tMax)) / 2;
}
