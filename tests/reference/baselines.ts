/**
 * Float64 reference of the non-equivariant and Radial Field baselines, written from the spec
 * (shared/spec/reference_implementation.md §2 table "Other N-body models" and §5) on the float64
 * tape of `tape64.ts`, with the parameter handling of `egnn.ts`:
 *
 * - `gcl`: the reference's `GCL` (models/gcl.py): m_ij = φe([h_i, h_j, a_ij]) with
 *   φe = Linear→act→Linear→act; h_i ← [h_i +] φh([h_i, Σ_j m_ij]) with φh = Linear→act→Linear.
 * - `gnn`: the N-body `GNN` (n_body_system/model.py): `embedding.0` on [x, v], L × GCL
 *   (recurrent, edge attribute q_i q_j), `decoder.0` → SiLU → `decoder.2`.
 * - `gnnEncoder`: models/ae.py `AE`'s encoder with deterministic node input (noise_dim 0):
 *   `gcl_0` (not recurrent), `gcl_1 …` (recurrent), `fc_emb`.
 * - `radialFieldLayer`: `GCL_rf_vel` (velocity, tanh on φ) and `GCL_rf` (optional clamp ±100,
 *   reg): m_ij = (x_i − x_j)·φ([‖x_i − x_j‖, a_ij]), φ = Linear→SiLU→Linear(no bias) [→ tanh];
 *   x_i ← x_i + mean_j m_ij [+ v_i·φv(‖v_i‖)] [− reg·x_i, x the layer's input].
 * - `radialField`: the N-body `RF_vel`, L × `GCL_rf_vel` with the same velocity every layer.
 *
 * The distance is taken as √(‖x_i − x_j‖² + 1e-8), the ε of lib/egnn/baselines/radial_field.ts
 * (the reference code has none; at unit distances the two differ by ~5e-9 relative).
 *
 * Parameter names are the reference's state-dict names (weights in×out), so a test can check the
 * GPU model declares exactly the parameters the reference layer uses.
 *
 * @module
 */

import type { Activation } from "./linear.ts";
import type { Mat } from "./tape64.ts";
import {
  input,
  optional,
  type Parameters,
  type ReferenceGraph,
  type ReferenceModel,
} from "./egnn.ts";

/** Options of the reference GCL; names and defaults as lib/egnn/baselines/gnn.ts `GCLOptions`. */
export interface ReferenceGCLOptions {
  inputNf: number;
  outputNf: number;
  hiddenNf: number;
  edgesInNf?: number;
  act?: Activation;
  recurrent?: boolean;
}

/** One GCL; parameters under `prefix`: `edge_mlp.0`, `edge_mlp.2`, `node_mlp.0`, `node_mlp.2`. */
export function gcl(
  p: Parameters,
  prefix: string,
  o: ReferenceGCLOptions,
  h: Mat,
  graph: ReferenceGraph,
  edgeAttr: Mat | null,
): Mat {
  const t = p.tape;
  const act = o.act ?? "silu";
  const H = o.hiddenNf;
  const name = (s: string) => (prefix ? `${prefix}.${s}` : s);
  // m_ij = φe([h_i, h_j, a_ij]) (source = h[row] = receiver i, target = h[col] = sender j)
  const parts = [t.gather(h, graph.receivers), t.gather(h, graph.senders)];
  if ((o.edgesInNf ?? 0) > 0) {
    if (!edgeAttr) throw new Error("reference gcl: edgesInNf > 0 but no edgeAttr");
    parts.push(edgeAttr);
  }
  let m = p.dense(name("edge_mlp.0"), t.concat(parts), H, act);
  m = p.dense(name("edge_mlp.2"), m, H, act);
  // h_i ← [h_i +] φh([h_i, Σ_j m_ij]) (a sum; a node without incoming edges aggregates 0)
  let out = p.dense(name("node_mlp.0"), t.concat([h, t.segmentSum(m, graph.receiverPtr)]), H, act);
  out = p.dense(name("node_mlp.2"), out, o.outputNf);
  return (o.recurrent ?? true) ? t.add(h, out) : out;
}

/** Options of the reference N-body GNN; names and defaults as `GNNOptions`. */
export interface ReferenceGNNOptions {
  inputDim?: number;
  hiddenNf?: number;
  nLayers?: number;
  edgesInNf?: number;
  outputDim?: number;
}

/** The N-body GNN: `embedding.0`, `gcl_0 … gcl_{L−1}` (recurrent), `decoder.0` → SiLU → `.2`. */
export function gnn(
  p: Parameters,
  o: ReferenceGNNOptions,
  nodes: Mat,
  graph: ReferenceGraph,
  edgeAttr: Mat | null,
): Mat {
  const H = o.hiddenNf ?? 64;
  if (nodes.cols !== (o.inputDim ?? 6)) throw new Error("reference gnn: node width ≠ inputDim");
  let h = p.dense("embedding.0", nodes, H);
  for (let l = 0; l < (o.nLayers ?? 4); l++) {
    h = gcl(
      p,
      `gcl_${l}`,
      {
        inputNf: H,
        outputNf: H,
        hiddenNf: H,
        edgesInNf: o.edgesInNf ?? 1,
        recurrent: true,
      },
      h,
      graph,
      edgeAttr,
    );
  }
  return p.dense("decoder.2", p.dense("decoder.0", h, H, "silu"), o.outputDim ?? 3);
}

/** Options of the reference GNN encoder (noise_dim 0); names, defaults as `GNNEncoderOptions`. */
export interface ReferenceGNNEncoderOptions {
  hiddenNf?: number;
  nLayers?: number;
  embeddingNf?: number;
  edgesInNf?: number;
}

/** models/ae.py `AE.encode` without noise: `gcl_0` (not recurrent), `gcl_1 …`, `fc_emb`. */
export function gnnEncoder(
  p: Parameters,
  o: ReferenceGNNEncoderOptions,
  nodes: Mat,
  graph: ReferenceGraph,
  edgeAttr: Mat | null,
): Mat {
  const H = o.hiddenNf ?? 64;
  let h = nodes;
  for (let l = 0; l < (o.nLayers ?? 4); l++) {
    h = gcl(
      p,
      `gcl_${l}`,
      {
        inputNf: l === 0 ? nodes.cols : H,
        outputNf: H,
        hiddenNf: H,
        edgesInNf: o.edgesInNf ?? 1,
        recurrent: l > 0,
      },
      h,
      graph,
      edgeAttr,
    );
  }
  return p.dense("fc_emb", h, o.embeddingNf ?? 8);
}

/** Options of the reference Radial Field layer; names as `RadialFieldLayerOptions`. */
export interface ReferenceRadialFieldLayerOptions {
  hiddenNf: number;
  edgeAttrNf?: number;
  velocity?: boolean;
  clampMessages?: boolean;
  reg?: number;
}

/** Inputs of one Radial Field layer on the tape. */
export interface ReferenceRadialFieldInput {
  x: Mat;
  graph: ReferenceGraph;
  edgeAttr?: Mat | null;
  /** ‖v_i‖, N×1 (velocity variant). */
  velNorm?: Mat | null;
  /** v_i, N×n (velocity variant). */
  vel?: Mat | null;
}

const DISTANCE_EPS = 1e-8;

/** One `GCL_rf` / `GCL_rf_vel` with parameters under `prefix`; returns the new x. */
export function radialFieldLayer(
  p: Parameters,
  prefix: string,
  o: ReferenceRadialFieldLayerOptions,
  input: ReferenceRadialFieldInput,
): Mat {
  const t = p.tape;
  const H = o.hiddenNf;
  const { x, graph } = input;
  const name = (s: string) => (prefix ? `${prefix}.${s}` : s);
  const diff = t.sub(t.gather(x, graph.receivers), t.gather(x, graph.senders));
  // ‖x_i − x_j‖ (not squared), as √(r² + ε)
  const dist = t.map(
    t.rowSquaredNorm(diff),
    (r) => Math.sqrt(r + DISTANCE_EPS),
    (r) => 0.5 / Math.sqrt(r + DISTANCE_EPS),
  );
  let phiIn = dist;
  if ((o.edgeAttrNf ?? 0) > 0) {
    if (!input.edgeAttr) throw new Error("reference radialFieldLayer: no edgeAttr");
    phiIn = t.concat([dist, input.edgeAttr]);
  }
  const phi = p.dense(
    name("phi.2"),
    p.dense(name("phi.0"), phiIn, H, "silu"),
    1,
    o.velocity ? "tanh" : "none",
    false,
  );
  let m = t.mul(diff, phi);
  if (o.clampMessages) m = t.clamp(m, -100, 100);
  let out = t.add(x, t.segmentSum(m, graph.receiverPtr, true));
  if (o.velocity) {
    if (!input.vel || !input.velNorm) throw new Error("reference radialFieldLayer: needs vel");
    const phiV = p.dense(
      name("coord_mlp_vel.2"),
      p.dense(name("coord_mlp_vel.0"), input.velNorm, H, "silu"),
      1,
    );
    out = t.add(out, t.mul(input.vel, phiV));
  }
  if (o.reg) out = t.sub(out, t.scale(x, o.reg));
  return out;
}

/** Options of the reference N-body Radial Field; names and defaults as `RadialFieldOptions`. */
export interface ReferenceRadialFieldOptions {
  hiddenNf?: number;
  edgeAttrNf?: number;
  nLayers?: number;
}

/** `RF_vel`: `gcl_0 … gcl_{L−1}`, each a `GCL_rf_vel` given the network's input velocity. */
export function radialField(
  p: Parameters,
  o: ReferenceRadialFieldOptions,
  input: ReferenceRadialFieldInput,
): Mat {
  let x = input.x;
  for (let l = 0; l < (o.nLayers ?? 4); l++) {
    x = radialFieldLayer(p, `gcl_${l}`, {
      hiddenNf: o.hiddenNf ?? 64,
      edgeAttrNf: o.edgeAttrNf ?? 2,
      velocity: true,
    }, { ...input, x });
  }
  return x;
}

/** One GCL as a model: inputs `h`, optional `edgeAttr`; output h (N × outputNf). */
export function gclModel(
  graph: ReferenceGraph,
  prefix: string,
  o: ReferenceGCLOptions,
): ReferenceModel {
  return (p, xs) => gcl(p, prefix, o, input(xs, "h"), graph, optional(xs, "edgeAttr"));
}

/**
 * The N-body GNN as a model: inputs `x` and `vel` (concatenated into the node input [x, v]),
 * optional `edgeAttr`; output the positions (N × outputDim).
 */
export function gnnModel(graph: ReferenceGraph, o: ReferenceGNNOptions): ReferenceModel {
  return (p, xs) => {
    const nodes = p.tape.concat([input(xs, "x"), input(xs, "vel")]);
    return gnn(p, o, nodes, graph, optional(xs, "edgeAttr"));
  };
}

/** The GNN encoder as a model: inputs `h`, optional `edgeAttr`; output z (N × embeddingNf). */
export function gnnEncoderModel(
  graph: ReferenceGraph,
  o: ReferenceGNNEncoderOptions,
): ReferenceModel {
  return (p, xs) => gnnEncoder(p, o, input(xs, "h"), graph, optional(xs, "edgeAttr"));
}

/**
 * One Radial Field layer as a model: inputs `x`, optional `edgeAttr`, `velNorm`, `vel`; output
 * the new x.
 */
export function radialFieldLayerModel(
  graph: ReferenceGraph,
  prefix: string,
  o: ReferenceRadialFieldLayerOptions,
): ReferenceModel {
  return (p, xs) =>
    radialFieldLayer(p, prefix, o, {
      x: input(xs, "x"),
      graph,
      edgeAttr: optional(xs, "edgeAttr"),
      velNorm: optional(xs, "velNorm"),
      vel: optional(xs, "vel"),
    });
}

/** `RF_vel` as a model: inputs `x`, `velNorm`, `vel`, optional `edgeAttr`; output x. */
export function radialFieldModel(
  graph: ReferenceGraph,
  o: ReferenceRadialFieldOptions,
): ReferenceModel {
  return (p, xs) =>
    radialField(p, o, {
      x: input(xs, "x"),
      graph,
      edgeAttr: optional(xs, "edgeAttr"),
      velNorm: input(xs, "velNorm"),
      vel: input(xs, "vel"),
    });
}
