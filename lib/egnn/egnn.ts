/**
 * EGNN models: the general EGNN (embedding → L × EGCL → output, in any coordinate dimension n,
 * as the reference's `egnn_clean.EGNN`) and the reference's N-body `EGNN_vel` wiring.
 *
 * @module
 */

import { ParameterSet } from "../gpu/parameters.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { Activation } from "../gpu/kernels/matmul.ts";
import { Random } from "../random.ts";
import { applyDense, type Dense, dense } from "./nn.ts";
import { EGCL, type EGCLOptions } from "./egcl.ts";
import type { DeviceGraph } from "./device_graph.ts";

/** Options of the general EGNN. */
export interface EGNNOptions {
  /** Width of the input node features. */
  inNodeNf: number;
  /** Width of every EGCL (h and messages). */
  hiddenNf: number;
  /** Width of the output node features. */
  outNodeNf: number;
  /** Edge attribute width (default 0). */
  inEdgeNf?: number;
  /** Layers (default 4). */
  nLayers?: number;
  /** Activation of the MLPs (default SiLU). */
  act?: Activation;
  /** h ← h + φh(·) in every layer (default true). */
  residual?: boolean;
  /** Eq. 8's soft edges in every layer (default false). */
  attention?: boolean;
  /** Normalisation of x_i − x_j, as `EGCLOptions.normalize` (default none). */
  normalize?: EGCLOptions["normalize"];
  /** Bound φx's output with tanh (default false). */
  tanh?: boolean;
  /** Aggregation of coordinate messages in eq. 4: mean (default) or sum. */
  coordsAgg?: "mean" | "sum";
  /** Update coordinates in every layer (default true). */
  updateCoords?: boolean;
  /** Seed of the parameter initialisation (default 0). */
  seed?: number;
}

/**
 * The general EGNN of egnn_clean.py: `embedding_in`, `gcl_0 … gcl_{L−1}`, `embedding_out`.
 *
 * @example A 2-layer EGNN on a triangle in 3-D
 * ```ts
 * import { EGNN, fromArray, fullyConnected, getGpu, read, uploadGraph } from "../../mod.ts";
 * await getGpu();
 * const batch = fullyConnected([3]);
 * const model = new EGNN({ inNodeNf: 1, hiddenNf: 16, outNodeNf: 1, nLayers: 2 });
 * const graph = uploadGraph(batch);
 * const h = fromArray([1, 1, 1], [3, 1]);
 * const x = fromArray([0, 0, 0, 1, 0, 0, 0, 1, 0], [3, 3]);
 * const out = model.forward(h, x, graph);
 * console.log((await read(out.x)).length); // 9
 * ```
 */
export class EGNN {
  /** Every parameter of the model, built by the constructor. */
  readonly params: ParameterSet = new ParameterSet();
  /** `embedding_in`: Linear(inNodeNf→hiddenNf). */
  readonly embeddingIn: Dense;
  /** `gcl_0 … gcl_{L−1}`: the EGCLs, in order. */
  readonly layers: EGCL[] = [];
  /** `embedding_out`: Linear(hiddenNf→outNodeNf). */
  readonly embeddingOut: Dense;

  /** Declares the parameters with egnn_clean's names and builds them (after `getGpu()`). */
  constructor(readonly options: EGNNOptions) {
    const o = options;
    const rng = new Random(o.seed ?? 0);
    const H = o.hiddenNf;
    this.embeddingIn = dense(this.params, "embedding_in", o.inNodeNf, H, rng);
    for (let i = 0; i < (o.nLayers ?? 4); i++) {
      this.layers.push(
        new EGCL(this.params, `gcl_${i}`, {
          inputNf: H,
          outputNf: H,
          hiddenNf: H,
          edgesInD: o.inEdgeNf ?? 0,
          act: o.act ?? "silu",
          residual: o.residual ?? true,
          attention: o.attention ?? false,
          normalize: o.normalize ?? "none",
          tanh: o.tanh ?? false,
          coordsAgg: o.coordsAgg ?? "mean",
          updateCoords: o.updateCoords ?? true,
          clampMessages: false, // egnn_clean has no clamp
        }, rng),
      );
    }
    this.embeddingOut = dense(this.params, "embedding_out", H, o.outNodeNf, rng);
    this.params.build();
  }

  /** h: N×inNodeNf, x: N×n; returns the output features and coordinates. */
  forward(
    h: Tensor,
    x: Tensor,
    graph: DeviceGraph,
    edgeAttr?: Tensor | null,
  ): { h: Tensor; x: Tensor } {
    let hh = applyDense(this.embeddingIn, h);
    let xx = x;
    for (const layer of this.layers) {
      ({ h: hh, x: xx } = layer.forward({ h: hh, x: xx, graph, edgeAttr }));
    }
    return { h: applyDense(this.embeddingOut, hh), x: xx };
  }
}

/** Options of the N-body EGNN_vel (defaults: the reference's main_nbody.py). */
export interface EGNNVelOptions {
  /** Width of h⁰ (default 1: ‖v‖). */
  inNodeNf?: number;
  /** Edge attribute width (default 2: q_i q_j and ‖x⁰_i − x⁰_j‖²). */
  inEdgeNf?: number;
  /** Width of every layer (default 64). */
  hiddenNf?: number;
  /** Layers (default 4). */
  nLayers?: number;
  /** Eq. 8's soft edges in every layer (default false). */
  attention?: boolean;
  /** gcl.py `norm_diff` (default false). */
  normDiff?: boolean;
  /** Bound φx's output with tanh (default false). */
  tanh?: boolean;
  /** Scales the aggregated coordinate update (the reference's `coords_weight`, default 1). */
  coordsWeight?: number;
  /** Seed of the parameter initialisation (default 0). */
  seed?: number;
}

/**
 * The reference's N-body `EGNN_vel`: h⁰ = ‖v‖ → `embedding` Linear(1→64), then 4 × `E_GCL_vel`
 * (`gcl_0 …`), edge attributes [q_i q_j, ‖x⁰_i − x⁰_j‖²]; the output is the final coordinates.
 * 134,020 parameters at the defaults.
 */
export class EGNNVel {
  /** Every parameter of the model, built by the constructor. */
  readonly params: ParameterSet = new ParameterSet();
  /** `embedding`: Linear(inNodeNf→hiddenNf) of h⁰. */
  readonly embedding: Dense;
  /** `gcl_0 …`: the `E_GCL_vel` layers, in order. */
  readonly layers: EGCL[] = [];

  /** Declares the parameters with the reference's names and builds them (after `getGpu()`). */
  constructor(readonly options: EGNNVelOptions = {}) {
    const rng = new Random(options.seed ?? 0);
    const H = options.hiddenNf ?? 64;
    this.embedding = dense(this.params, "embedding", options.inNodeNf ?? 1, H, rng);
    for (let i = 0; i < (options.nLayers ?? 4); i++) {
      this.layers.push(
        new EGCL(this.params, `gcl_${i}`, {
          inputNf: H,
          outputNf: H,
          hiddenNf: H,
          edgesInD: options.inEdgeNf ?? 2,
          act: "silu",
          residual: true,
          attention: options.attention ?? false,
          normalize: options.normDiff ? "plusOne" : "none",
          tanh: options.tanh ?? false,
          coordsWeight: options.coordsWeight ?? 1,
          velocity: true,
        }, rng),
      );
    }
    this.params.build();
  }

  /**
   * Runs the layers from h and x, adding φv(h_i)·v_i with the input velocity in each (eq. 7).
   *
   * @param h N×1 node features (‖v‖)
   * @param x N×n positions
   * @param vel N×n velocities
   * @param graph the batch's device graph
   * @param edgeAttr E×2 edge attributes
   * @returns the predicted positions, N×n
   */
  forward(h: Tensor, x: Tensor, vel: Tensor, graph: DeviceGraph, edgeAttr: Tensor | null): Tensor {
    let hh = applyDense(this.embedding, h);
    let xx = x;
    for (const layer of this.layers) {
      ({ h: hh, x: xx } = layer.forward({ h: hh, x: xx, graph, edgeAttr, vel }));
    }
    return xx;
  }
}
