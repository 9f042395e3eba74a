/**
 * Float64 reference of `edgeLinear` (lib/gpu/kernels/edge_linear.ts), written from its
 * definition, independently of the GPU code:
 *
 *   z_e = PQ[i_e, 0:H] + PQ[j_e, H:2H] + Σ_k rest[e, k]·W[k, :] + b,   y_e = act(z_e)
 *
 * and its backward: dz = dy ⊙ act'(z); dPQ[n, 0:H] = Σ_{e: i_e = n} dz_e, dPQ[n, H:2H] =
 * Σ_{e: j_e = n} dz_e; drest = dz·Wᵀ; dW = restᵀ·dz; db = Σ_e dz_e.
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
  pq: Float64Array,
  rest: Float64Array,
  w: Float64Array,
  b: Float64Array | null,
): Float64Array {
  const e = c.receivers.length, z = new Float64Array(e * c.h);
  for (let r = 0; r < e; r++) {
    for (let col = 0; col < c.h; col++) {
      let s = pq[c.receivers[r] * 2 * c.h + col] + pq[c.senders[r] * 2 * c.h + c.h + col];
      for (let q = 0; q < c.k; q++) s += rest[r * c.k + q] * w[q * c.h + col];
      z[r * c.h + col] = s + (b ? b[col] : 0);
    }
  }
  return z;
}

/** y = act(z). */
export function edgeLinearForward(
  c: EdgeLinearCase,
  pq: Float64Array,
  rest: Float64Array,
  w: Float64Array,
  b: Float64Array | null,
): Float64Array {
  return activationForward(c.act, preActivation(c, pq, rest, w, b));
}

/** [dPQ, drest, dW, db] given dy. */
export function edgeLinearBackward(
  c: EdgeLinearCase,
  pq: Float64Array,
  rest: Float64Array,
  w: Float64Array,
  b: Float64Array | null,
  dy: Float64Array,
): [Float64Array, Float64Array, Float64Array, Float64Array] {
  const z = preActivation(c, pq, rest, w, b);
  const dz = activationBackward(c.act, z, dy);
  const e = c.receivers.length, h = c.h;
  const dpq = new Float64Array(c.nodes * 2 * h), drest = new Float64Array(e * c.k);
  const dw = new Float64Array(c.k * h), db = new Float64Array(h);
  for (let r = 0; r < e; r++) {
    for (let col = 0; col < h; col++) {
      const g = dz[r * h + col];
      dpq[c.receivers[r] * 2 * h + col] += g;
      dpq[c.senders[r] * 2 * h + h + col] += g;
      db[col] += g;
      for (let q = 0; q < c.k; q++) {
        drest[r * c.k + q] += g * w[q * h + col];
        dw[q * h + col] += rest[r * c.k + q] * g;
      }
    }
  }
  return [dpq, drest, dw, db];
}
