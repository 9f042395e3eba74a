/**
 * Float64 reference of `edgeLinear` (lib/gpu/kernels/edge_linear.ts), written from its
 * definition, independently of the GPU code:
 *
 *   z_e = P[i_e] + Q[j_e] + Σ_k rest[e, k]·W[k, :] + b,   y_e = act(z_e)
 *
 * and its backward: dz = dy ⊙ act'(z); dP[n] = Σ_{e: i_e = n} dz_e, dQ[n] = Σ_{e: j_e = n} dz_e;
 * drest = dz·Wᵀ; dW = restᵀ·dz; db = Σ_e dz_e.
 *
 * @module
 */

import { activationBackward, activationForward } from "./elementwise.ts";
import type { Activation } from "./linear.ts";

/** Sizes and indices of one case. */
export interface EdgeLinearCase {
  nodes: number;
  h: number;
  k: number;
  receivers: ArrayLike<number>;
  senders: ArrayLike<number>;
  act: Activation;
}

function preActivation(
  c: EdgeLinearCase,
  p: Float64Array,
  q: Float64Array,
  rest: Float64Array,
  w: Float64Array,
  b: Float64Array | null,
): Float64Array {
  const e = c.receivers.length, z = new Float64Array(e * c.h);
  for (let r = 0; r < e; r++) {
    for (let col = 0; col < c.h; col++) {
      let s = p[c.receivers[r] * c.h + col] + q[c.senders[r] * c.h + col];
      for (let t = 0; t < c.k; t++) s += rest[r * c.k + t] * w[t * c.h + col];
      z[r * c.h + col] = s + (b ? b[col] : 0);
    }
  }
  return z;
}

/** y = act(z). */
export function edgeLinearForward(
  c: EdgeLinearCase,
  p: Float64Array,
  q: Float64Array,
  rest: Float64Array,
  w: Float64Array,
  b: Float64Array | null,
): Float64Array {
  return activationForward(c.act, preActivation(c, p, q, rest, w, b));
}

/** [dP, dQ, drest, dW, db] given dy. */
export function edgeLinearBackward(
  c: EdgeLinearCase,
  p: Float64Array,
  q: Float64Array,
  rest: Float64Array,
  w: Float64Array,
  b: Float64Array | null,
  dy: Float64Array,
): [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array] {
  const z = preActivation(c, p, q, rest, w, b);
  const dz = activationBackward(c.act, z, dy);
  const e = c.receivers.length, h = c.h;
  const dp = new Float64Array(c.nodes * h), dq = new Float64Array(c.nodes * h);
  const drest = new Float64Array(e * c.k);
  const dw = new Float64Array(c.k * h), db = new Float64Array(h);
  for (let r = 0; r < e; r++) {
    for (let col = 0; col < h; col++) {
      const g = dz[r * h + col];
      dp[c.receivers[r] * h + col] += g;
      dq[c.senders[r] * h + col] += g;
      db[col] += g;
      for (let t = 0; t < c.k; t++) {
        drest[r * c.k + t] += g * w[t * h + col];
        dw[t * h + col] += rest[r * c.k + t] * g;
      }
    }
  }
  return [dp, dq, drest, dw, db];
}
