/**
 * The graph autoencoders of the paper's section 5.2 (the reference's models/ae.py): a graph's
 * nodes are embedded as points z_i, and the adjacency is decoded from their distances,
 * Â_ij = σ(w‖z_i − z_j‖² + b).
 *
 * Encoders, as the reference wires them (4 layers, 64 hidden, SiLU, z ∈ R^8 by default):
 * - `egnn` (`AE_EGNN`): h⁰ = 1, x⁰ ~ N(0, σ²I) drawn at every forward pass; E_GCL(1 → H, not
 *   recurrent) + (L − 1) × E_GCL(H, recurrent), edge attribute a_ij = 1 for an edge, mean
 *   coordinate aggregation; x ← x − reg·x after every layer; z = the final x. 104,642 parameters.
 * - `rf` (`AE_rf`): x⁰ ~ N(0, σ²I); L × GCL_rf (m_ij = (x_i − x_j)·φ([‖x_i − x_j‖, a_ij]), clamped
 *   to ±100, x ← x + mean_j m_ij − reg·x). 1,026 parameters (the reference's 1,218 include an unused
 *   192-parameter layer, not declared here).
 * - `gnn` / `noise_gnn` (`AE`, `--noise_dim 1`): the GCL encoder with `fc_emb` (lib/egnn/baselines/
 *   noise_gnn.ts); its decoder is `fc_dec` = Linear(K → 1) on (z_i − z_j)² elementwise — a learned
 *   per-dimension weighted distance. 88,017 parameters.
 *
 * The decoder's logits are returned per directed edge of the fully connected graph (all i ≠ j,
 * the graph's sorted order); the reference zeroes the diagonal, which then adds nothing to the
 * BCE, so the loss is `bceWithLogitsLoss(logits, A_ij, "sum")` over these edges.
 *
 * @module
 */

import { ParameterSet } from "../gpu/parameters.ts";
import { fromArray, type Tensor } from "../gpu/tensor.ts";
import { mul } from "../gpu/kernels/elementwise.ts";
import { edgeDifferences } from "../gpu/kernels/egcl_coords.ts";
import { Random } from "../random.ts";
import { applyDense, type Dense } from "./nn.ts";
import { EGCL } from "./egcl.ts";
import { GNNEncoder } from "./baselines/noise_gnn.ts";
import { RadialFieldLayer } from "./baselines/radial_field.ts";
import type { DeviceGraph } from "./device_graph.ts";

/** The encoders of Figure 5's table. */
export type AutoencoderKind = "gnn" | "noise_gnn" | "rf" | "egnn";

/** Options of a graph autoencoder; defaults are the reference's. */
export interface GraphAutoencoderOptions {
  /** Which encoder. */
  encoder: AutoencoderKind;
  /** Width of every layer (default 64). */
  hiddenNf?: number;
  /** Layers (default 4). */
  nLayers?: number;
  /** Width K of the embedding z (the space dimension of EGNN and Radial Field; default 8). */
  embeddingNf?: number;
  /** Coordinate decay x ← x − reg·x after every layer (EGNN, Radial Field; default 1e-3). */
  reg?: number;
  /** Standard deviation of the initial coordinates x⁰ (EGNN, Radial Field; default 1). */
  noiseSigma?: number;
  /** Seed of the parameters (default 0). */
  seed?: number;
  /** Seed of the noise drawn at every forward pass (default seed + 1). */
  noiseSeed?: number;
}

/**
 * A graph autoencoder: `encode` → z (N×K), `decode` → one logit per directed edge.
 *
 * @example Edge logits of a 3-node path with the EGNN encoder
 * ```ts
 * import { fromArray, fullyConnected, getGpu, GraphAutoencoder, read, uploadGraph } from "../../mod.ts";
 * await getGpu();
 * const model = new GraphAutoencoder({ encoder: "egnn", hiddenNf: 16, nLayers: 2 });
 * const graph = uploadGraph(fullyConnected([3]));
 * // edges (0,1) (0,2) (1,0) (1,2) (2,0) (2,1): a path 0 – 1 – 2
 * const adjacency = fromArray([1, 0, 1, 1, 0, 1], [6, 1]);
 * console.log((await read(model.forward(graph, adjacency))).length); // 6
 * ```
 */
export class GraphAutoencoder {
  /** Every parameter, named as the reference's state dict. */
  readonly params: ParameterSet;
  /** The generator of the per-forward noise (its state belongs in checkpoints). */
  readonly noise: Random;
  /** The options with defaults filled in. */
  readonly options: Required<GraphAutoencoderOptions>;
  private readonly gnn: GNNEncoder | null = null;
  private readonly egcls: EGCL[] = [];
  private readonly rfLayers: RadialFieldLayer[] = [];
  private readonly distanceDecoder: Dense | null = null;

  /** Declares and initialises the parameters (seeded; after `getGpu()`). */
  constructor(options: GraphAutoencoderOptions) {
    const seed = options.seed ?? 0;
    const o = this.options = {
      encoder: options.encoder,
      hiddenNf: options.hiddenNf ?? 64,
      nLayers: options.nLayers ?? 4,
      embeddingNf: options.embeddingNf ?? 8,
      reg: options.reg ?? 1e-3,
      noiseSigma: options.noiseSigma ?? 1,
      seed,
      noiseSeed: options.noiseSeed ?? seed + 1,
    };
    const H = o.hiddenNf;
    this.noise = new Random(o.noiseSeed);
    if (o.encoder === "gnn" || o.encoder === "noise_gnn") {
      // Noise-GNN's noise is drawn here (the encoder's own input width is 1 either way).
      this.gnn = new GNNEncoder({
        noiseDim: 0,
        hiddenNf: H,
        nLayers: o.nLayers,
        embeddingNf: o.embeddingNf,
        edgesInNf: 1,
        seed,
        decoder: true,
      });
      this.params = this.gnn.params;
      return;
    }
    this.params = new ParameterSet();
    const rng = new Random(seed);
    for (let i = 0; i < o.nLayers; i++) {
      if (o.encoder === "egnn") {
        this.egcls.push(
          new EGCL(this.params, `gcl_${i}`, {
            inputNf: i === 0 ? 1 : H,
            outputNf: H,
            hiddenNf: H,
            edgesInD: 1,
            residual: i > 0,
            coordsAgg: "mean",
            coordsOutScale: 1 - o.reg, // x ← x − reg·x after every layer
          }, rng),
        );
      } else {
        this.rfLayers.push(
          new RadialFieldLayer(this.params, `gcl_${i}`, {
            hiddenNf: H,
            edgeAttrNf: 1,
            clampMessages: true,
            reg: o.reg,
          }, rng),
        );
      }
    }
    // The decoder's scalars: the reference's `w` (init −0.1) and `b` (init 1).
    const w = this.params.add("w", [1, 1], Float32Array.of(-0.1));
    const b = this.params.add("b", [1], Float32Array.of(1));
    this.distanceDecoder = { name: "", weight: w, bias: b, inFeatures: 1, outFeatures: 1 };
    this.params.build();
  }

  /**
   * Embeds the nodes of fully connected graphs.
   *
   * @param graph the device graph (fully connected: every i ≠ j)
   * @param adjacency E×1, 1 where (i, j) is an edge of the graph, else 0
   * @param noise the random input instead of a fresh draw from `noise` (tests, checks): x⁰ (N×K)
   *   for EGNN and Radial Field, the N×1 node input of Noise-GNN; ignored by the GNN
   * @returns z, N×K
   */
  encode(graph: DeviceGraph, adjacency: Tensor, noise?: Tensor): Tensor {
    const o = this.options;
    const N = graph.numNodes;
    const draw = (cols: number, sigma: number) => {
      if (noise && (noise.shape[0] !== N || noise.size !== N * cols)) {
        throw new Error(
          `GraphAutoencoder (${o.encoder}): noise is [${noise.shape}], expected [${N}, ${cols}]`,
        );
      }
      return noise ?? fromArray(
        Float32Array.from({ length: N * cols }, () => sigma * this.noise.normal()),
        [N, cols],
      );
    };
    const ones = () => fromArray(new Float32Array(N).fill(1), [N, 1]);
    if (this.gnn) {
      return this.gnn.forward(o.encoder === "gnn" ? ones() : draw(1, 1), graph, adjacency);
    }
    let x = draw(o.embeddingNf, o.noiseSigma);
    if (this.rfLayers.length > 0) {
      for (const layer of this.rfLayers) x = layer.forward(x, graph, adjacency);
      return x;
    }
    let h = ones();
    for (const layer of this.egcls) {
      ({ h, x } = layer.forward({ h, x, graph, edgeAttr: adjacency })); // then x ← x − reg·x
    }
    return x;
  }

  /**
   * The adjacency logits of every directed edge: w‖z_i − z_j‖² + b, or `fc_dec((z_i − z_j)²)`.
   *
   * @param z N×K embeddings
   * @param graph the device graph they belong to
   * @returns E×1 logits (σ of them is Â_ij)
   */
  decode(z: Tensor, graph: DeviceGraph): Tensor {
    const { diff, radial } = edgeDifferences(z, graph); // z_i − z_j and ‖z_i − z_j‖², one pass
    if (this.gnn) return applyDense(this.gnn.fcDec!, mul(diff, diff));
    return applyDense(this.distanceDecoder!, radial);
  }

  /** `decode(encode(graph, adjacency, noise), graph)`: E×1 logits. */
  forward(graph: DeviceGraph, adjacency: Tensor, noise?: Tensor): Tensor {
    return this.decode(this.encode(graph, adjacency, noise), graph);
  }
}
