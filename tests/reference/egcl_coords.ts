/**
 * Float64 reference of the EGCL's fused coordinate ops (lib/gpu/kernels/egcl_coords.ts), written
 * from the paper's equations edge by edge, with their backwards.
 *
 * @module
 */

/** The edges (i receives from j) and the node count. */
export interface EdgeList {
  receivers: ArrayLike<number>;
  senders: ArrayLike<number>;
  numNodes: number;
}

/** Rows [x_i − x_j, ‖x_i − x_j‖²] of every edge, E×(n+1). */
export function edgeDifferencesForward(x: Float64Array, g: EdgeList, n: number): Float64Array {
  const E = g.receivers.length;
  const out = new Float64Array(E * (n + 1));
  for (let e = 0; e < E; e++) {
    let r2 = 0;
    for (let d = 0; d < n; d++) {
      const v = x[g.receivers[e] * n + d] - x[g.senders[e] * n + d];
      out[e * (n + 1) + d] = v;
      r2 += v * v;
    }
    out[e * (n + 1) + n] = r2;
  }
  return out;
}

/** dx from the gradient of those rows (E×(n+1)). */
export function edgeDifferencesBackward(
  x: Float64Array,
  g: EdgeList,
  n: number,
  seed: Float64Array,
): Float64Array {
  const dx = new Float64Array(g.numNodes * n);
  for (let e = 0; e < g.receivers.length; e++) {
    const i = g.receivers[e], j = g.senders[e];
    for (let d = 0; d < n; d++) {
      const v = x[i * n + d] - x[j * n + d];
      const gv = seed[e * (n + 1) + d] + 2 * v * seed[e * (n + 1) + n];
      dx[i * n + d] += gv;
      dx[j * n + d] -= gv;
    }
  }
  return dx;
}

/** Options of the coordinate update, as `coordinateUpdate`'s. */
export interface UpdateOptions {
  mean: boolean;
  weight: number;
  clamp: [number, number] | null;
  /** N×n velocities (eq. 7), or none. */
  vel: Float64Array | null;
  /** Multiplies the result (default 1). */
  outScale?: number;
}

function incomingCounts(g: EdgeList): number[] {
  const c = new Array(g.numNodes).fill(0);
  for (let e = 0; e < g.receivers.length; e++) c[g.receivers[e]]++;
  return c;
}

/** x_i + w · agg_j clamp(diff_ij · φ_ij) (+ v_i · φv_i), N×n. */
export function coordinateUpdateForward(
  x: Float64Array,
  diff: Float64Array,
  phi: Float64Array,
  phiV: Float64Array | null,
  g: EdgeList,
  n: number,
  o: UpdateOptions,
): Float64Array {
  const count = incomingCounts(g);
  const agg = new Float64Array(g.numNodes * n);
  for (let e = 0; e < g.receivers.length; e++) {
    for (let d = 0; d < n; d++) {
      let p = diff[e * n + d] * phi[e];
      if (o.clamp) p = Math.min(o.clamp[1], Math.max(o.clamp[0], p));
      agg[g.receivers[e] * n + d] += p;
    }
  }
  const out = new Float64Array(g.numNodes * n);
  for (let i = 0; i < g.numNodes; i++) {
    const c = o.mean ? 1 / Math.max(1, count[i]) : 1;
    for (let d = 0; d < n; d++) {
      out[i * n + d] = (o.outScale ?? 1) * (x[i * n + d] + o.weight * c * agg[i * n + d] +
        (o.vel && phiV ? o.vel[i * n + d] * phiV[i] : 0));
    }
  }
  return out;
}

/** [dx, ddiff, dφ, dφv] given dL/d(out). */
export function coordinateUpdateBackward(
  diff: Float64Array,
  phi: Float64Array,
  g: EdgeList,
  n: number,
  o: UpdateOptions,
  outSeed: Float64Array,
): { dx: Float64Array; dDiff: Float64Array; dPhi: Float64Array; dPhiV: Float64Array } {
  const seed = outSeed.map((v) => (o.outScale ?? 1) * v); // through the final scale
  const count = incomingCounts(g);
  const E = g.receivers.length;
  const dDiff = new Float64Array(E * n), dPhi = new Float64Array(E);
  for (let e = 0; e < E; e++) {
    const i = g.receivers[e];
    const f = o.weight * (o.mean ? 1 / Math.max(1, count[i]) : 1);
    for (let d = 0; d < n; d++) {
      const p = diff[e * n + d] * phi[e];
      const inside = !o.clamp || (p >= o.clamp[0] && p <= o.clamp[1]);
      if (!inside) continue;
      dDiff[e * n + d] = f * seed[i * n + d] * phi[e];
      dPhi[e] += f * seed[i * n + d] * diff[e * n + d];
    }
  }
  const dPhiV = new Float64Array(g.numNodes);
  if (o.vel) {
    for (let i = 0; i < g.numNodes; i++) {
      for (let d = 0; d < n; d++) dPhiV[i] += seed[i * n + d] * o.vel[i * n + d];
    }
  }
  return { dx: Float64Array.from(seed), dDiff, dPhi, dPhiV };
}
