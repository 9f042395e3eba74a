/**
 * `egclLayerForward`: a whole EGCL (eqs. 3–8) in one dispatch, one workgroup per receiving node,
 * for passes without gradients (evaluation, inference). The unfused layer takes ~15 dispatches;
 * this one reads every weight straight from the model's flat parameter buffer.
 *
 * Workgroup i holds h_i and x_i and walks node i's incoming edges (contiguous: edges are sorted
 * by receiver) in chunks of C, with its invocations along the hidden channels:
 *
 * 1. z_e = act(h_i·W_i + h_j·W_j + r²_ij·w_r + a_ij·W_a + b)      (φe's first layer, eq. 3)
 * 2. m_e = act(z_e·W₂ + b₂); with attention m_e ← m_e · sigmoid(m_e·w_att + b_att)   (eq. 8);
 *    m_i += m_e                                                    (eq. 5, in edge order)
 * 3. φx(m_e) = act(m_e·W₃ + b₃)·w₄ (tanh-bounded if asked); x_agg += clamp((x_i − x_j) φx) (eq. 4)
 *
 * then the node stage: h_i' = [h_i +] act([h_i, m_i, a_i]·W_h + b_h)·W_h2 + b_h2 (eq. 6) and
 * x_i' = x_i + C·x_agg [+ φv(h_i) v_i] (eqs. 4, 7). Sums run in the unfused layer's order (edges
 * in sorted order, products over k in order), so outputs differ from it only by float rounding.
 *
 * The layout of the weights is `linear`'s (in×out, rows in the concatenation order of the
 * reference: [h_i, h_j, r², a_ij] and [h_i, m_i, a_i]); the caller passes their offsets.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, type Tensor, unusedBinding } from "../tensor.ts";
import { type Activation, activationExpr } from "./matmul.ts";

/** The layer's shape and options, as compile-time constants of the kernel. */
export interface EGCLLayerShape {
  /** Width of the input h. */
  inputNf: number;
  /** Width of m_ij and of the MLPs' hidden layers. */
  hiddenNf: number;
  /** Width of the output h. */
  outputNf: number;
  /** Width of a_ij (0: none). */
  edgesInD: number;
  /** Width of node attributes appended to φh's input (0: none). */
  nodesAttDim: number;
  /** Coordinate dimension n. */
  coordDim: number;
  /** The MLPs' activation. */
  act: Activation;
  /** h ← h + φh(·). */
  residual: boolean;
  /** Eq. 8's soft edges. */
  attention: boolean;
  /** Eq. 4 (false: x passes through, unless `velocity`). */
  updateCoords: boolean;
  /** Mean (true) or sum over incoming edges in eq. 4. */
  coordsMean: boolean;
  /** Factor of the aggregated coordinate update. */
  coordsWeight: number;
  /** How x_i − x_j is scaled: none, ÷ ‖·‖ (detached), ÷ (‖·‖ + 1). */
  normalize: "none" | "detached" | "plusOne";
  /** Bound φx with tanh, times `coordsRange`. */
  tanh: boolean;
  /** Scale of the tanh-bounded φx. */
  coordsRange: number;
  /** Clamp each coordinate message to ±100. */
  clampMessages: boolean;
  /** Eq. 7's velocity term. */
  velocity: boolean;
}

/**
 * The layer's weights, by the uniform that carries each one's offset into the flat parameter
 * buffer: φe's two layers (`edge0`: (2F + 1 + A)×H, `edge1`: H×H), φh's (`node0`: (F + H + NA)×H,
 * `node1`: H×O), φx's (`coord0`: H×H, `coord1`: H×1 without bias), eq. 8's gate (`att`: H×1) and
 * φv's (`vel0`: F×H, `vel1`: H×1); `…Bias` their biases.
 */
export const EGCL_WEIGHT_SLOTS = [
  "edge0",
  "edge0Bias",
  "edge1",
  "edge1Bias",
  "node0",
  "node0Bias",
  "node1",
  "node1Bias",
  "coord0",
  "coord0Bias",
  "coord1",
  "att",
  "attBias",
  "vel0",
  "vel0Bias",
  "vel1",
  "vel1Bias",
] as const;

/** Offsets in floats into the flat parameter buffer, by slot; null where the layer has none. */
export type EGCLLayerWeights = Record<(typeof EGCL_WEIGHT_SLOTS)[number], number | null>;

const WG = 64;

function body(c: Record<string, string | number | boolean>): string {
  const act = c.ACT as Activation;
  const a = (v: string) => activationExpr(act, v);
  const scaleDiff = c.NORMALIZE === "plusOne"
    ? "diff = diff / (safeSqrt(r2) + 1.0);"
    : c.NORMALIZE === "detached"
    ? "diff = diff / safeSqrt(r2);"
    : "";
  return `
  let i = groupIndex;
  if (i >= params.nodes) { return; }
  let lane = localIndex;
  for (var k = lane; k < F; k += WORKGROUP_SIZE) { hi[k] = h[i * F + k]; }
  for (var d = lane; d < D; d += WORKGROUP_SIZE) { xi[d] = x[i * D + d]; xa[d] = 0.0; }
  if (lane == 0u) { edgeRange[0] = ptr[i]; edgeRange[1] = ptr[i + 1u]; }
  workgroupBarrier();
  // h_i·W_i + b (φe's first layer, the receiver's rows), and the m_i accumulators
  for (var col = lane; col < H; col += WORKGROUP_SIZE) {
    var s = w[params.edge0Bias + col];
    for (var k = 0u; k < F; k++) { s += hi[k] * w[params.edge0 + k * H + col]; }
    pi[col] = s;
    mi[col] = 0.0;
  }
  let e0 = workgroupUniformLoad(&edgeRange[0]);
  let e1 = workgroupUniformLoad(&edgeRange[1]);
  for (var start = e0; start < e1; start += C) {
    let count = min(C, e1 - start);
    // eq. 3, first layer: act(h_i·W_i + h_j·W_j + r²·w_r + a_ij·W_a + b)
    for (var col = lane; col < H; col += WORKGROUP_SIZE) {
      for (var t = 0u; t < count; t++) {
        let e = start + t;
        let j = send[e];
        var s = pi[col];
        for (var k = 0u; k < F; k++) {
          s += h[j * F + k] * w[params.edge0 + (F + k) * H + col];
        }
        var r2 = 0.0;
        for (var d = 0u; d < D; d++) { let df = xi[d] - x[j * D + d]; r2 += df * df; }
        s += r2 * w[params.edge0 + 2u * F * H + col];
        for (var q = 0u; q < A; q++) {
          s += attr[e * A + q] * w[params.edge0 + (2u * F + 1u + q) * H + col];
        }
        z[t * H + col] = ${a("s")};
      }
    }
    workgroupBarrier();
    // eq. 3, second layer: m_e = act(z_e·W₂ + b₂)
    for (var col = lane; col < H; col += WORKGROUP_SIZE) {
      for (var t = 0u; t < count; t++) {
        var s = w[params.edge1Bias + col];
        for (var k = 0u; k < H; k++) { s += z[t * H + k] * w[params.edge1 + k * H + col]; }
        let mv = ${a("s")};
        m[t * H + col] = mv;
        ${c.ATTENTION ? "" : "mi[col] += mv;"}
      }
    }
    workgroupBarrier();
    ${
    c.ATTENTION
      ? `// eq. 8: m_e ← m_e · sigmoid(m_e·w + b)
    for (var t = lane; t < count; t += WORKGROUP_SIZE) {
      var s = w[params.attBias];
      for (var k = 0u; k < H; k++) { s += m[t * H + k] * w[params.att + k]; }
      gate[t] = sigmoid(s);
    }
    workgroupBarrier();
    for (var col = lane; col < H; col += WORKGROUP_SIZE) {
      for (var t = 0u; t < count; t++) {
        let mv = m[t * H + col] * gate[t];
        m[t * H + col] = mv;
        mi[col] += mv;
      }
    }
    workgroupBarrier();`
      : ""
  }
    ${
    c.UPDATE_COORDS
      ? `// eq. 4: φx(m_e) = act(m_e·W₃ + b₃)·w₄, summed over channels in order
    for (var col = lane; col < H; col += WORKGROUP_SIZE) {
      for (var t = 0u; t < count; t++) {
        var s = w[params.coord0Bias + col];
        for (var k = 0u; k < H; k++) { s += m[t * H + k] * w[params.coord0 + k * H + col]; }
        z[t * H + col] = ${a("s")};
      }
    }
    workgroupBarrier();
    for (var t = lane; t < count; t += WORKGROUP_SIZE) {
      var s = 0.0;
      for (var k = 0u; k < H; k++) { s += z[t * H + k] * w[params.coord1 + k]; }
      phi[t] = ${c.TANH ? `tanh(s) * COORDS_RANGE` : "s"};
    }
    workgroupBarrier();
    for (var d = lane; d < D; d += WORKGROUP_SIZE) {
      var acc = xa[d];
      for (var t = 0u; t < count; t++) {
        let j = send[start + t];
        var diff = xi[d] - x[j * D + d];
        ${
        scaleDiff
          ? `var r2 = 0.0;
        for (var dd = 0u; dd < D; dd++) { let df = xi[dd] - x[j * D + dd]; r2 += df * df; }
        ${scaleDiff}`
          : ""
      }
        let tr = diff * phi[t];
        acc += ${c.CLAMP ? "clamp(tr, -100.0, 100.0)" : "tr"};
      }
      xa[d] = acc;
    }
    workgroupBarrier();`
      : ""
  }
  }
  workgroupBarrier();
  // eq. 6: φh's hidden layer on [h_i, m_i, a_i]; eq. 7's φv hidden layer on h_i
  for (var col = lane; col < H; col += WORKGROUP_SIZE) {
    var s = w[params.node0Bias + col];
    for (var k = 0u; k < F; k++) { s += hi[k] * w[params.node0 + k * H + col]; }
    for (var k = 0u; k < H; k++) { s += mi[k] * w[params.node0 + (F + k) * H + col]; }
    for (var k = 0u; k < NA; k++) {
      s += nodeAttr[i * NA + k] * w[params.node0 + (F + H + k) * H + col];
    }
    u[col] = ${a("s")};
    ${
    c.VELOCITY
      ? `var v = w[params.vel0Bias + col];
    for (var k = 0u; k < F; k++) { v += hi[k] * w[params.vel0 + k * H + col]; }
    z[col] = ${a("v")};`
      : ""
  }
  }
  workgroupBarrier();
  for (var col = lane; col < O; col += WORKGROUP_SIZE) {
    var s = w[params.node1Bias + col];
    for (var k = 0u; k < H; k++) { s += u[k] * w[params.node1 + k * O + col]; }
    hOut[i * O + col] = ${c.RESIDUAL ? "hi[col] + s" : "s"};
  }
  ${
    c.UPDATE_COORDS || c.VELOCITY
      ? `
  ${
        c.VELOCITY
          ? `var sv = w[params.vel1Bias];
  for (var k = 0u; k < H; k++) { sv += z[k] * w[params.vel1 + k]; }`
          : ""
      }
  for (var d = lane; d < D; d += WORKGROUP_SIZE) {
    var xn = xi[d];
    ${
        c.UPDATE_COORDS
          ? `var agg = xa[d];
    ${c.MEAN ? "agg = agg * (1.0 / f32(max(1u, e1 - e0)));" : ""}
    ${c.COORDS_WEIGHT === 1 ? "" : "agg = agg * COORDS_WEIGHT;"}
    xn = xn + agg;`
          : ""
      }
    ${c.VELOCITY ? "xn = xn + vel[i * D + d] * sv;" : ""}
    xOut[i * D + d] = xn;
  }`
      : ""
  }`;
}

const egclLayerKernel = defineKernel({
  name: "egcl_layer_forward",
  workgroupSize: WG,
  constants: {
    F: "u32",
    H: "u32",
    O: "u32",
    A: "u32",
    NA: "u32",
    D: "u32",
    C: "u32",
    COORDS_WEIGHT: "f32",
    COORDS_RANGE: "f32",
  },
  uniforms: {
    nodes: "u32",
    ...Object.fromEntries(EGCL_WEIGHT_SLOTS.map((n) => [n, "u32" as const])),
  },
  bindings: {
    h: { type: "f32", access: "read" },
    x: { type: "f32", access: "read" },
    vel: { type: "f32", access: "read" },
    attr: { type: "f32", access: "read" },
    nodeAttr: { type: "f32", access: "read" },
    ptr: { type: "u32", access: "read" },
    send: { type: "u32", access: "read" },
    w: { type: "f32", access: "read" },
    hOut: { type: "f32", access: "read_write" },
    xOut: { type: "f32", access: "read_write" },
  },
  functions: (c) => `
var<workgroup> hi: array<f32, ${Math.max(1, c.F as number)}>;
var<workgroup> xi: array<f32, ${c.D}>;
var<workgroup> xa: array<f32, ${c.D}>;
var<workgroup> pi: array<f32, ${c.H}>;
var<workgroup> mi: array<f32, ${c.H}>;
var<workgroup> u: array<f32, ${c.H}>;
var<workgroup> z: array<f32, ${(c.C as number) * (c.H as number)}>;
var<workgroup> m: array<f32, ${(c.C as number) * (c.H as number)}>;
var<workgroup> phi: array<f32, ${c.C}>;
var<workgroup> gate: array<f32, ${c.C}>;
var<workgroup> edgeRange: array<u32, 2>;`,
  body,
});

/** Edges per chunk: the two C×H chunk buffers stay within 8 KiB of workgroup memory. */
function egclChunk(hiddenNf: number): number {
  return Math.max(1, Math.min(16, Math.floor(1024 / hiddenNf)));
}

/** The graph structure the kernel walks. */
export interface EGCLLayerGraph {
  /** u32, N + 1: node i's incoming edges are ptr[i] .. ptr[i + 1] (edges sorted by receiver). */
  ptr: Tensor;
  /** u32, E: the sender j of each edge. */
  senders: Tensor;
  /** E×A edge attributes, or null. */
  edgeAttr: Tensor | null;
}

/**
 * One EGCL's forward pass in one dispatch (see the module). No gradient is recorded: use it where
 * nothing requires one (the EGCL class chooses it inside `noGrad` when the adapter profits).
 *
 * @param shape the layer's widths and options
 * @param params the model's flat parameter buffer (`ParameterSet.flat`)
 * @param weights offsets of the layer's weights in it
 * @param h N×F node features
 * @param x N×D coordinates
 * @param graph incoming-edge segments, senders and edge attributes
 * @param nodeAttr N×NA node attributes, or null
 * @param vel N×D velocities (with `velocity`), or null
 * @returns h' (N×O) and x' (N×D; `x` itself when neither eq. 4 nor eq. 7 applies)
 */
export function egclLayerForward(
  shape: EGCLLayerShape,
  params: Tensor,
  weights: EGCLLayerWeights,
  h: Tensor,
  x: Tensor,
  graph: EGCLLayerGraph,
  nodeAttr: Tensor | null,
  vel: Tensor | null,
): { h: Tensor; x: Tensor } {
  const s = shape;
  const [n, f] = h.shape;
  const d = x.shape[1];
  if (f !== s.inputNf || x.shape[0] !== n || d !== s.coordDim) {
    throw new Error(
      `egclLayerForward: h is [${h.shape}] and x [${x.shape}], expected [N, ${s.inputNf}] and ` +
        `[N, ${s.coordDim}]`,
    );
  }
  if (graph.ptr.size !== n + 1) {
    throw new Error(`egclLayerForward: ${graph.ptr.size - 1} segments for ${n} nodes`);
  }
  if (s.edgesInD > 0 && graph.edgeAttr?.shape[1] !== s.edgesInD) {
    throw new Error(`egclLayerForward: edge attributes must be [E, ${s.edgesInD}]`);
  }
  if (s.nodesAttDim > 0 && nodeAttr?.shape.join() !== `${n},${s.nodesAttDim}`) {
    throw new Error(`egclLayerForward: node attributes must be [${n}, ${s.nodesAttDim}]`);
  }
  if (s.velocity && vel?.shape.join() !== x.shape.join()) {
    throw new Error(`egclLayerForward: vel must be [${x.shape}]`);
  }
  const hOut = empty([n, s.outputNf]);
  const movesX = s.updateCoords || s.velocity;
  const xOut = movesX ? empty([n, d]) : x;
  const v = egclLayerKernel.variant({
    F: s.inputNf,
    H: s.hiddenNf,
    O: s.outputNf,
    A: s.edgesInD,
    NA: s.nodesAttDim,
    D: d,
    C: egclChunk(s.hiddenNf),
    COORDS_WEIGHT: s.coordsWeight,
    COORDS_RANGE: s.coordsRange,
    ACT: s.act,
    RESIDUAL: s.residual,
    ATTENTION: s.attention,
    UPDATE_COORDS: s.updateCoords,
    MEAN: s.coordsMean,
    NORMALIZE: s.normalize,
    TANH: s.tanh,
    CLAMP: s.clampMessages,
    VELOCITY: s.velocity,
  });
  const uniforms: Record<string, number> = { nodes: n };
  for (const k of EGCL_WEIGHT_SLOTS) uniforms[k] = weights[k] ?? 0; // absent: never read
  recordDispatch(
    v,
    [
      h,
      x,
      vel ?? unusedBinding(),
      graph.edgeAttr ?? unusedBinding(),
      nodeAttr ?? unusedBinding(),
      graph.ptr,
      graph.senders,
      params,
      hOut,
      movesX ? xOut : empty([4]), // not written; a read-only placeholder can't take a writable binding
    ],
    n * WG,
    uniforms,
  );
  return { h: hOut, x: xOut };
}
