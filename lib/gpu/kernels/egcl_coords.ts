/**
 * The EGCL's coordinate path as two fused ops, each one pass forward and one or two backward:
 *
 * - `edgeDifferences(x, graph)`: every edge's x_i − x_j and ‖x_i − x_j‖² (eqs. 3 and 4) in one
 *   pass, instead of two gathers, a difference and a row norm. Backward, one pass per node:
 *   dx_i = Σ_{e into i} g_e − Σ_{e out of i} g_e, g_e = d(x_i − x_j)_e + 2 (x_i − x_j)_e d(r²)_e.
 * - `coordinateUpdate(...)`: eq. 4 and eq. 7 per node in one pass,
 *   x_i + w · (1/M_i) Σ_j clamp((x_i − x_j) φx(m_ij)) + φv(h_i) v_i (M_i: incoming edges, for the
 *   mean; the clamp to ±100 as the reference's), instead of a product, a clamp, a segment mean, a
 *   scale and two adds. Backward: one pass over the edges (d(x_i − x_j), dφx) and, with a
 *   velocity or an x whose gradient is not dX's own buffer, one over the nodes (dφv, dx).
 *
 * Edges are in the graph's order, sorted by receiver: node i's incoming edges are
 * `incoming.ptr[i]..ptr[i+1]`. Every sum runs in a fixed order, so equal inputs give equal bits.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, type Tensor } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp, shareGrad } from "../tape.ts";
import type { RowIndex, Segments } from "./segment.ts";

const differencesKernel = defineKernel({
  name: "edge_differences",
  workgroupSize: 64,
  constants: { DIM: "u32" },
  uniforms: { edges: "u32" },
  bindings: {
    x: { type: "f32", access: "read" },
    receivers: { type: "u32", access: "read" },
    senders: { type: "u32", access: "read" },
    diff: { type: "f32", access: "read_write" },
    radial: { type: "f32", access: "read_write" },
  },
  body: `
  if (index >= params.edges) { return; }
  let i = receivers[index];
  let j = senders[index];
  var s = 0.0;
  for (var d = 0u; d < DIM; d++) {
    let v = x[i * DIM + d] - x[j * DIM + d];
    diff[index * DIM + d] = v;
    s += v * v;
  }
  radial[index] = s;`,
});

const differencesBackwardKernel = defineKernel({
  name: "edge_differences_backward",
  workgroupSize: 64,
  constants: { DIM: "u32", D_DIFF: "bool", D_RADIAL: "bool", ACCUMULATE: "bool" },
  uniforms: { nodes: "u32" },
  bindings: {
    diff: { type: "f32", access: "read" },
    dDiff: { type: "f32", access: "read" },
    dRadial: { type: "f32", access: "read" },
    inPtr: { type: "u32", access: "read" },
    outPtr: { type: "u32", access: "read" },
    outPerm: { type: "u32", access: "read" },
    dx: { type: "f32", access: "read_write" },
  },
  body: (c) => {
    const g = (e: string) =>
      [
        c.D_DIFF ? `dDiff[${e} * DIM + d]` : "",
        c.D_RADIAL ? `2.0 * diff[${e} * DIM + d] * dRadial[${e}]` : "",
      ].filter((t) => t).join(" + ");
    return `
  if (index >= params.nodes * DIM) { return; }
  let i = index / DIM;
  let d = index % DIM;
  var s = 0.0;
  for (var e = inPtr[i]; e < inPtr[i + 1u]; e++) { s += ${g("e")}; }
  for (var k = outPtr[i]; k < outPtr[i + 1u]; k++) { let e = outPerm[k]; s -= ${g("e")}; }
  ${c.ACCUMULATE ? "dx[index] = dx[index] + s;" : "dx[index] = s;"}`;
  },
});

/** The graph structure both ops read: gathers by receiver and sender, incoming segments. */
export interface CoordinateGraph {
  /** Row e is node i of edge e. */
  receivers: RowIndex;
  /** Row e is node j of edge e, with the edges grouped by sender. */
  senders: RowIndex;
  /** Edges grouped by receiver (the edges' own order). */
  incoming: Segments;
}

/**
 * x_i − x_j and ‖x_i − x_j‖² of every edge (i, j), in one pass.
 *
 * @param x N×n coordinates
 * @param graph receivers, senders and incoming segments of the edges
 * @returns `diff` (E×n) and `radial` (E×1), temporaries
 * @example Two nodes, both directions
 * ```ts
 * import { edgeDifferences, fromArray, getGpu, read } from "../../../mod.ts";
 * import { fullyConnected, uploadGraph } from "../../../mod.ts";
 * await getGpu();
 * const graph = uploadGraph(fullyConnected([2]));
 * const { diff, radial } = edgeDifferences(fromArray([0, 0, 3, 4], [2, 2]), graph);
 * console.log(await read(diff), await read(radial)); // [-3, -4, 3, 4] [25, 25]
 * ```
 */
export function edgeDifferences(
  x: Tensor,
  graph: CoordinateGraph,
): { diff: Tensor; radial: Tensor } {
  if (x.shape.length !== 2) throw new Error(`edgeDifferences: x must be N×n, got [${x.shape}]`);
  const [nodes, dim] = x.shape;
  const edges = graph.receivers.index.size;
  if (graph.receivers.numSourceRows !== nodes || graph.senders.numSourceRows !== nodes) {
    throw new Error(
      `edgeDifferences: the graph has ${graph.receivers.numSourceRows} nodes, x ${nodes}`,
    );
  }
  if (graph.incoming.numSegments !== nodes || graph.incoming.ids.size !== edges) {
    throw new Error(
      `edgeDifferences: the incoming segments (${graph.incoming.numSegments} nodes, ` +
        `${graph.incoming.ids.size} edges) do not match the gathers (${nodes}, ${edges})`,
    );
  }
  const diff = empty([edges, dim]), radial = empty([edges, 1]);
  recordDispatch(
    differencesKernel.variant({ DIM: dim }),
    [x, graph.receivers.index, graph.senders.index, diff, radial],
    edges,
    { edges },
  );
  if (needsGrad(x)) {
    const backward = () => {
      const dDiff = gradOf(diff), dRadial = gradOf(radial);
      if (!dDiff && !dRadial) return;
      const s = gradSlot(x);
      recordDispatch(
        differencesBackwardKernel.variant({
          DIM: dim,
          D_DIFF: !!dDiff,
          D_RADIAL: !!dRadial,
          ACCUMULATE: s.accumulate,
        }),
        [
          diff,
          dDiff ?? diff,
          dRadial ?? diff,
          graph.incoming.ptr,
          graph.senders.inversePtr,
          graph.senders.inversePerm,
          s.grad,
        ],
        nodes * dim,
        { nodes },
      );
    };
    // One backward for both outputs, run once either has a gradient (both are complete then:
    // their consumers were all recorded after this op).
    recordOp("edgeDifferences", radial, backward, [diff]);
  }
  return { diff, radial };
}

const updateKernel = defineKernel({
  name: "coordinate_update",
  workgroupSize: 64,
  constants: {
    DIM: "u32",
    MEAN: "bool",
    WEIGHTED: "bool",
    CLAMP: "bool",
    VELOCITY: "bool",
    SCALED: "bool",
  },
  uniforms: { nodes: "u32", weight: "f32", lo: "f32", hi: "f32", outScale: "f32" },
  bindings: {
    x: { type: "f32", access: "read" },
    diff: { type: "f32", access: "read" },
    phi: { type: "f32", access: "read" },
    inPtr: { type: "u32", access: "read" },
    vel: { type: "f32", access: "read" },
    phiV: { type: "f32", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.nodes * DIM) { return; }
  let i = index / DIM;
  let d = index % DIM;
  var s = 0.0;
  for (var e = inPtr[i]; e < inPtr[i + 1u]; e++) {
    let p = diff[e * DIM + d] * phi[e];
    s += ${c.CLAMP ? "clamp(p, params.lo, params.hi)" : "p"};
  }
  ${c.MEAN ? "s = s / f32(max(inPtr[i + 1u] - inPtr[i], 1u));" : ""}
  ${c.WEIGHTED ? "s = s * params.weight;" : ""}
  var v = x[index] + s;
  ${c.VELOCITY ? "v = v + vel[index] * phiV[i];" : ""}
  ${c.SCALED ? "v = params.outScale * v;" : ""}
  out[index] = v;`,
});

const updateEdgeBackwardKernel = defineKernel({
  name: "coordinate_update_edge_backward",
  workgroupSize: 64,
  constants: {
    DIM: "u32",
    MEAN: "bool",
    CLAMP: "bool",
    D_DIFF: "bool",
    D_PHI: "bool",
    ACC_DIFF: "bool",
    ACC_PHI: "bool",
  },
  uniforms: { edges: "u32", weight: "f32", lo: "f32", hi: "f32" },
  bindings: {
    dOut: { type: "f32", access: "read" },
    diff: { type: "f32", access: "read" },
    phi: { type: "f32", access: "read" },
    inPtr: { type: "u32", access: "read" },
    inIds: { type: "u32", access: "read" },
    dDiff: { type: "f32", access: "read_write" },
    dPhi: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.edges) { return; }
  let i = inIds[index];
  var f = params.weight;
  ${c.MEAN ? "f = f / f32(max(inPtr[i + 1u] - inPtr[i], 1u));" : ""}
  let ph = phi[index];
  var sp = 0.0;
  for (var d = 0u; d < DIM; d++) {
    let dv = diff[index * DIM + d];
    let g = f * dOut[i * DIM + d];
    let p = dv * ph;
    let inside = ${c.CLAMP ? "p >= params.lo && p <= params.hi" : "true"};
    ${
    c.D_DIFF
      ? `let o = index * DIM + d;
    let dd = select(0.0, g * ph, inside);
    ${c.ACC_DIFF ? "dDiff[o] = dDiff[o] + dd;" : "dDiff[o] = dd;"}`
      : ""
  }
    sp += select(0.0, g * dv, inside);
  }
  ${c.D_PHI ? (c.ACC_PHI ? "dPhi[index] = dPhi[index] + sp;" : "dPhi[index] = sp;") : ""}`,
});

const updateNodeBackwardKernel = defineKernel({
  name: "coordinate_update_node_backward",
  workgroupSize: 64,
  constants: { DIM: "u32", D_PHIV: "bool", D_X: "bool", ACC_PHIV: "bool", ACC_X: "bool" },
  uniforms: { nodes: "u32", outScale: "f32" },
  bindings: {
    dOut: { type: "f32", access: "read" },
    vel: { type: "f32", access: "read" },
    dPhiV: { type: "f32", access: "read_write" },
    dx: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.nodes) { return; }
  var s = 0.0;
  for (var d = 0u; d < DIM; d++) {
    let o = index * DIM + d;
    let g = params.outScale * dOut[o];
    ${c.D_PHIV ? "s += g * vel[o];" : ""}
    ${c.D_X ? (c.ACC_X ? "dx[o] = dx[o] + g;" : "dx[o] = g;") : ""}
  }
  ${c.D_PHIV ? (c.ACC_PHIV ? "dPhiV[index] = dPhiV[index] + s;" : "dPhiV[index] = s;") : ""}`,
});

/** Options of {@linkcode coordinateUpdate}. */
export interface CoordinateUpdateOptions {
  /** Divide the sum over incoming edges by their number (eq. 4's C = 1/(M−1)); else sum. */
  mean: boolean;
  /** Scales the aggregated update (the reference's `coords_weight`; default 1). */
  weight?: number;
  /** Clamp each message (x_i − x_j) φx(m_ij) to [lo, hi] (the reference: ±100), or none. */
  clamp?: [number, number] | null;
  /** Eq. 7: the network's input velocities v (N×n) and φv(h) (N×1), or none. */
  velocity?: { vel: Tensor; phiV: Tensor } | null;
  /**
   * Multiplies the new coordinates (default 1): the autoencoder's decay x ← x − reg·x after
   * every layer, as (1 − reg)·x.
   */
  outScale?: number;
}

/**
 * Eq. 4 (and eq. 7): s · (x_i + w · agg_j clamp((x_i − x_j) φx(m_ij)) [+ φv(h_i) v_i]) in one
 * pass (s: `outScale`, default 1).
 *
 * @param x N×n coordinates
 * @param diff E×n, x_i − x_j per edge (possibly normalised)
 * @param phi E×1, φx(m_ij)
 * @param incoming the edges grouped by receiver (the edges' own order)
 * @param o mean or sum, weight, clamp and velocity
 * @returns N×n, the new coordinates
 */
export function coordinateUpdate(
  x: Tensor,
  diff: Tensor,
  phi: Tensor,
  incoming: Segments,
  o: CoordinateUpdateOptions,
): Tensor {
  const [nodes, dim] = x.shape;
  const edges = diff.shape[0];
  if (x.shape.length !== 2 || diff.shape.length !== 2 || diff.shape[1] !== dim) {
    throw new Error(`coordinateUpdate: x [${x.shape}] and diff [${diff.shape}] must be N×n, E×n`);
  }
  if (phi.size !== edges || incoming.numSegments !== nodes || incoming.ids.size !== edges) {
    throw new Error(
      `coordinateUpdate: phi [${phi.shape}] and the segments (${incoming.numSegments} nodes, ` +
        `${incoming.ids.size} edges) do not match E=${edges}, N=${nodes}`,
    );
  }
  const vel = o.velocity ?? null;
  if (vel && (vel.vel.size !== nodes * dim || vel.phiV.size !== nodes)) {
    throw new Error(
      `coordinateUpdate: velocity [${vel.vel.shape}] and φv [${vel.phiV.shape}] must be N×n, N×1`,
    );
  }
  if (vel?.vel.requiresGrad) {
    throw new Error("coordinateUpdate: the input velocity takes no gradient here");
  }
  const weight = o.weight ?? 1, outScale = o.outScale ?? 1;
  const [lo, hi] = o.clamp ?? [0, 0];
  const out = empty([nodes, dim]);
  recordDispatch(
    updateKernel.variant({
      DIM: dim,
      MEAN: o.mean,
      WEIGHTED: weight !== 1,
      CLAMP: !!o.clamp,
      VELOCITY: !!vel,
      SCALED: outScale !== 1,
    }),
    [x, diff, phi, incoming.ptr, vel?.vel ?? x, vel?.phiV ?? x, out],
    nodes * dim,
    { nodes, weight, lo, hi, outScale },
  );
  if (needsGrad(x, diff, phi, vel?.phiV)) {
    recordOp("coordinateUpdate", out, () => {
      const dOut = gradOf(out)!;
      if (diff.requiresGrad || phi.requiresGrad) {
        const sd = diff.requiresGrad ? gradSlot(diff) : null;
        const sp = phi.requiresGrad ? gradSlot(phi) : null;
        recordDispatch(
          updateEdgeBackwardKernel.variant({
            DIM: dim,
            MEAN: o.mean,
            CLAMP: !!o.clamp,
            D_DIFF: !!sd,
            D_PHI: !!sp,
            ACC_DIFF: !!sd?.accumulate,
            ACC_PHI: !!sp?.accumulate,
          }),
          // An unused output binds the other's buffer (writable: never a read input's).
          [dOut, diff, phi, incoming.ptr, incoming.ids, (sd ?? sp)!.grad, (sp ?? sd)!.grad],
          edges,
          { edges, weight: weight * outScale, lo, hi },
        );
      }
      // x's gradient is dOut itself where the tape allows (x is a plain temporary, the output
      // unscaled), else a copy.
      const shared = outScale === 1 && x.requiresGrad && shareGrad(x, dOut);
      const sx = x.requiresGrad && !shared ? gradSlot(x) : null;
      const sv = vel?.phiV.requiresGrad ? gradSlot(vel.phiV) : null;
      if (sx || sv) {
        recordDispatch(
          updateNodeBackwardKernel.variant({
            DIM: dim,
            D_PHIV: !!sv,
            D_X: !!sx,
            ACC_PHIV: !!sv?.accumulate,
            ACC_X: !!sx?.accumulate,
          }),
          [dOut, vel?.vel ?? dOut, (sv ?? sx)!.grad, (sx ?? sv)!.grad],
          nodes,
          { nodes, outScale },
        );
      }
    });
  }
  return out;
}
