/**
 * Float64 reference of the graph autoencoders of the paper's §5.2, written from the spec
 * (shared/spec/reference_implementation.md §5, the reference's models/ae.py) on the float64 tape of
 * `tape64.ts`, composed from the layer references of `egnn.ts` and `baselines.ts`:
 *
 * - `egnn` (`AE_EGNN`): h⁰ = ones(N, 1), x⁰ = the `noise` input (N×K); `gcl_0` = E_GCL(1 → H, not
 *   recurrent), `gcl_1 …` = E_GCL(H, recurrent), edge attribute a_ij (width 1), mean coordinate
 *   aggregation, the ±100 clamp of gcl.py (always on); after every layer x ← x − reg·x; z = x.
 * - `rf` (`AE_rf`): x⁰ = `noise` (N×K); `gcl_0 …` = GCL_rf(H, edge_attr_nf 1, clamp, reg); z = x.
 * - `gnn` / `noise_gnn` (`AE`): `gcl_0` (not recurrent), `gcl_1 …`, `fc_emb`, on ones(N, 1) or on
 *   the N×1 `noise` input.
 *
 * Decoders, one logit per edge (i, j) of the graph (receiver i, sender j):
 * - `egnn`, `rf`: w·‖z_i − z_j‖² + b with the scalars `w` (1×1) and `b` (1);
 * - `gnn`, `noise_gnn`: `fc_dec`((z_i − z_j)² elementwise), Linear(K → 1).
 *
 * The adjacency's BCE and the sigmoid are left out: the model's output is the logits
 * (`autoencoderModel`), or the logits beside the receivers' embeddings z_i
 * (`autoencoderEmbeddingModel`; with the GNN decoder a bias of `fc_emb` or of the last layer's
 * φh shifts every z_i alike, so the logits' gradients with respect to it are exactly zero, and
 * only z itself gives them a scale to be compared at).
 *
 * @module
 */

import type { Mat } from "./tape64.ts";
import { egcl, input, optional, type ReferenceGraph, type ReferenceModel } from "./egnn.ts";
import { gnnEncoder, radialFieldLayer } from "./baselines.ts";
import type { Parameters } from "./egnn.ts";

/** The four encoders (names as lib/egnn/autoencoder.ts `AutoencoderKind`). */
export type ReferenceAutoencoderKind = "gnn" | "noise_gnn" | "rf" | "egnn";

/** Options of the reference autoencoder; names and defaults as `GraphAutoencoderOptions`. */
export interface ReferenceAutoencoderOptions {
  encoder: ReferenceAutoencoderKind;
  /** Width of every layer (default 64). */
  hiddenNf?: number;
  /** Layers (default 4). */
  nLayers?: number;
  /** Width K of z (default 8). */
  embeddingNf?: number;
  /** Coordinate decay of `egnn` and `rf` (default 1e-3). */
  reg?: number;
}

/** ones(N, 1), a constant on the tape. */
function ones(p: Parameters, n: number): Mat {
  return p.tape.leaf(new Float64Array(n).fill(1), n, 1);
}

/**
 * The encoder: z, N × K. `noise` is x⁰ (N×K) for `egnn` and `rf`, the N×1 node input of
 * `noise_gnn`, unused by `gnn`.
 */
export function autoencoderEncode(
  p: Parameters,
  o: ReferenceAutoencoderOptions,
  graph: ReferenceGraph,
  adjacency: Mat,
  noise: Mat | null,
): Mat {
  const t = p.tape;
  const H = o.hiddenNf ?? 64, L = o.nLayers ?? 4, K = o.embeddingNf ?? 8, reg = o.reg ?? 1e-3;
  const need = (cols: number): Mat => {
    if (!noise) throw new Error(`reference autoencoder ${o.encoder}: needs the noise input`);
    if (noise.cols !== cols) {
      throw new Error(
        `reference autoencoder ${o.encoder}: noise has ${noise.cols} cols, not ${cols}`,
      );
    }
    return noise;
  };
  switch (o.encoder) {
    case "gnn":
    case "noise_gnn": {
      const nodes = o.encoder === "gnn" ? ones(p, graph.numNodes) : need(1);
      const opts = { hiddenNf: H, nLayers: L, embeddingNf: K, edgesInNf: 1 };
      return gnnEncoder(p, opts, nodes, graph, adjacency);
    }
    case "rf": {
      let x = need(K);
      for (let l = 0; l < L; l++) {
        x = radialFieldLayer(p, `gcl_${l}`, {
          hiddenNf: H,
          edgeAttrNf: 1,
          clampMessages: true,
          reg,
        }, { x, graph, edgeAttr: adjacency });
      }
      return x;
    }
    case "egnn": {
      let h = ones(p, graph.numNodes);
      let x = need(K);
      for (let l = 0; l < L; l++) {
        ({ h, x } = egcl(p, `gcl_${l}`, {
          inputNf: l === 0 ? 1 : H,
          outputNf: H,
          hiddenNf: H,
          edgesInD: 1,
          act: "silu",
          residual: l > 0,
          attention: false,
          coordsAgg: "mean",
          clampMessages: true,
        }, { h, x, graph, edgeAttr: adjacency }));
        x = t.sub(x, t.scale(x, reg)); // x ← x − reg·x (AE_EGNN.encode, in place there)
      }
      return x;
    }
  }
}

/** The decoder: one logit per edge of `graph`, E × 1. */
export function autoencoderDecode(
  p: Parameters,
  o: ReferenceAutoencoderOptions,
  graph: ReferenceGraph,
  z: Mat,
): Mat {
  const t = p.tape;
  const diff = t.sub(t.gather(z, graph.receivers), t.gather(z, graph.senders));
  if (o.encoder === "gnn" || o.encoder === "noise_gnn") {
    // AE.decode: fc_dec((z_i − z_j)²), a learned per-dimension weighting plus a bias
    return p.dense("fc_dec", t.mul(diff, diff), 1);
  }
  // AE_rf / AE_EGNN.decode: C·Σ_k (z_ik − z_jk)² + b with C = w
  const w = p.get("w", 1, 1), b = p.get("b", 1, 1);
  return t.add(t.mul(t.rowSquaredNorm(diff), w), b);
}

/**
 * A graph autoencoder as a model: inputs `edgeAttr` (E×1, the adjacency a_ij) and, except for
 * `gnn`, `noise`; output the E×1 logits.
 */
export function autoencoderModel(
  graph: ReferenceGraph,
  o: ReferenceAutoencoderOptions,
): ReferenceModel {
  return (p, xs) => {
    const z = autoencoderEncode(p, o, graph, input(xs, "edgeAttr"), optional(xs, "noise"));
    return autoencoderDecode(p, o, graph, z);
  };
}

/**
 * The logits and the receivers' embeddings side by side, E × (1 + K): row e is
 * [logit_e, z_{receiver(e)}]. Inputs as `autoencoderModel`.
 */
export function autoencoderEmbeddingModel(
  graph: ReferenceGraph,
  o: ReferenceAutoencoderOptions,
): ReferenceModel {
  return (p, xs) => {
    const z = autoencoderEncode(p, o, graph, input(xs, "edgeAttr"), optional(xs, "noise"));
    return p.tape.concat([autoencoderDecode(p, o, graph, z), p.tape.gather(z, graph.receivers)]);
  };
}
