/**
 * The graph-autoencoder GNN encoder of the reference (models/ae.py `AE`), and its Noise-GNN form:
 * with `noiseDim > 0` the node input is replaced by fresh N(0, 1) noise of that width at every
 * forward pass (training and test), which breaks the symmetry of identical nodes.
 *
 * Layout: `gcl_0` = GCL(max(1, noiseDim) → H, edge attribute 1, not recurrent), `gcl_1 …` =
 * GCL(H, recurrent), `fc_emb` = Linear(H → embedding width). 88,008 parameters at the reference's
 * settings (H = 64, 4 layers, embedding 8; its `fc_dec` decoder adds 9).
 *
 * @module
 */

import { ParameterSet } from "../../gpu/parameters.ts";
import { fromArray, type Tensor } from "../../gpu/tensor.ts";
import { Random } from "../../random.ts";
import { applyDense, type Dense, dense } from "../nn.ts";
import type { DeviceGraph } from "../device_graph.ts";
import { GCL } from "./gnn.ts";

/** Options of the GNN encoder. */
export interface GNNEncoderOptions {
  /** Width of the noise input (1 = Noise-GNN as in the paper; 0 = the given node features). */
  noiseDim?: number;
  /** Width H of every layer (default 64). */
  hiddenNf?: number;
  /** Layers (default 4). */
  nLayers?: number;
  /** Width of the embedding z (default 8). */
  embeddingNf?: number;
  /** Edge attribute width (default 1: edge present or not). */
  edgesInNf?: number;
  /** Seed of the parameters; the noise stream is seeded by `noiseSeed` (default seed + 1). */
  seed?: number;
  /** Seed of the noise stream (default seed + 1). */
  noiseSeed?: number;
  /**
   * Also declare the reference autoencoder's decoder `fc_dec` = Linear(embedding width → 1) on
   * (z_i − z_j)² (default false; 9 more parameters at the reference's settings).
   */
  decoder?: boolean;
}

/**
 * GNN / Noise-GNN encoder: nodes → z (N×embeddingNf).
 *
 * @example Noise-GNN embeddings of a 4-node graph
 * ```ts
 * import { fullyConnected, getGpu, GNNEncoder, read, uploadGraph, fromArray } from "../../../mod.ts";
 * await getGpu();
 * const enc = new GNNEncoder({ noiseDim: 1, hiddenNf: 8 });
 * const batch = fullyConnected([4]);
 * const g = uploadGraph(batch);
 * const attr = fromArray(new Float32Array(batch.numEdges).fill(1), [batch.numEdges, 1]);
 * console.log((await read(enc.forward(null, g, attr))).length); // 32
 * ```
 */
export class GNNEncoder {
  /** All parameters, named as the reference's state dict. */
  readonly params: ParameterSet = new ParameterSet();
  /** `gcl_0 …`. */
  readonly layers: GCL[] = [];
  /** `fc_emb`: Linear(H → embedding width). */
  readonly fcEmb: Dense;
  /** `fc_dec`: Linear(embedding width → 1), or null without `decoder`. */
  readonly fcDec: Dense | null;
  /** The noise generator (its state belongs in checkpoints). */
  readonly noise: Random;
  private readonly noiseDim: number;

  /** Declares and initialises the parameters (seeded). */
  constructor(options: GNNEncoderOptions = {}) {
    const seed = options.seed ?? 0;
    const rng = new Random(seed);
    this.noise = new Random(options.noiseSeed ?? seed + 1);
    this.noiseDim = options.noiseDim ?? 1;
    const H = options.hiddenNf ?? 64, edges = options.edgesInNf ?? 1;
    for (let i = 0; i < (options.nLayers ?? 4); i++) {
      this.layers.push(
        new GCL(this.params, `gcl_${i}`, {
          inputNf: i === 0 ? Math.max(1, this.noiseDim) : H,
          outputNf: H,
          hiddenNf: H,
          edgesInNf: edges,
          recurrent: i > 0,
        }, rng),
      );
    }
    const K = options.embeddingNf ?? 8;
    this.fcEmb = dense(this.params, "fc_emb", H, K, rng);
    this.fcDec = options.decoder ? dense(this.params, "fc_dec", K, 1, rng) : null;
    this.params.build();
  }

  /**
   * Embeds the nodes: the GCLs, then `fc_emb`; with noiseDim > 0 the input is fresh N(0, 1) noise.
   *
   * @param nodes N×1 node features (ignored, may be null, when noiseDim > 0)
   * @param graph the device graph
   * @param edgeAttr E×edgesInNf
   * @returns z, N×embeddingNf
   */
  forward(nodes: Tensor | null, graph: DeviceGraph, edgeAttr: Tensor | null): Tensor {
    let h: Tensor;
    if (this.noiseDim > 0) {
      const n = graph.numNodes * this.noiseDim;
      h = fromArray(Float32Array.from({ length: n }, () => this.noise.normal()), [
        graph.numNodes,
        this.noiseDim,
      ]);
    } else {
      if (!nodes) throw new Error("GNNEncoder: noiseDim is 0, so node features are needed");
      h = nodes;
    }
    for (const layer of this.layers) h = layer.forward(h, graph, edgeAttr);
    return applyDense(this.fcEmb, h);
  }
}
