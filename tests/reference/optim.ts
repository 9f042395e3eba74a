/**
 * Float64 reference of Adam and AdamW, PyTorch's `torch.optim.Adam` / `AdamW` (non-amsgrad,
 * non-maximize): Adam adds λθ to the gradient (L2), AdamW decays θ ← θ(1 − ηλ) first; then
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
 *
 * @module
 */

/** Hyper-parameters (PyTorch's defaults where omitted). */
export interface AdamConfig {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW. */
  decoupled?: boolean;
  /** Global-norm clipping of the gradients before the step (applied by `clipByGlobalNorm`). */
  clipGradNorm?: number;
}

/**
 * `torch.nn.utils.clip_grad_norm_`: scales every gradient in place by min(1, c / (‖g‖₂ + 10⁻⁶)),
 * the norm taken over all of them together.
 *
 * @returns the norm before clipping
 */
export function clipByGlobalNorm(grads: Float64Array[], maxNorm: number): number {
  const norm = Math.sqrt(grads.reduce((s, g) => s + g.reduce((t, v) => t + v * v, 0), 0));
  const scale = Math.min(1, maxNorm / (norm + 1e-6));
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= scale;
  return norm;
}

/** One parameter's optimiser state. */
export interface AdamState {
  param: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

/** A fresh state for a parameter (moments zero). */
export function adamState(param: ArrayLike<number>): AdamState {
  return {
    param: Float64Array.from(param),
    m: new Float64Array(param.length),
    v: new Float64Array(param.length),
  };
}

/**
 * Updates `s` in place with gradient `grad` at step `t` (1-based) and learning rate `lr`.
 */
export function adamStep(
  s: AdamState,
  grad: ArrayLike<number>,
  t: number,
  lr: number,
  c: AdamConfig = {},
): void {
  const beta1 = c.beta1 ?? 0.9, beta2 = c.beta2 ?? 0.999, eps = c.eps ?? 1e-8;
  const wd = c.weightDecay ?? 0;
  const bc1 = 1 - beta1 ** t, bc2 = 1 - beta2 ** t;
  for (let i = 0; i < s.param.length; i++) {
    let p = s.param[i];
    let g = grad[i];
    if (c.decoupled) p *= 1 - lr * wd;
    else g += wd * p;
    s.m[i] = beta1 * s.m[i] + (1 - beta1) * g;
    s.v[i] = beta2 * s.v[i] + (1 - beta2) * g * g;
    const denom = Math.sqrt(s.v[i]) / Math.sqrt(bc2) + eps;
    s.param[i] = p - (lr / bc1) * s.m[i] / denom;
  }
}
