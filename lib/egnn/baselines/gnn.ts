/**
 * The plain (non-equivariant) GNN baseline: the reference's `GCL` layer and its N-body `GNN`
 * model (104,387 parameters at the defaults). Positions enter as node features, so the model is
 * not E(n)-equivariant — the equivariance suite checks that it fails.
 *
 * @module
 */

import { ParameterSet } from "../../gpu/parameters.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { add } from "../../gpu/kernels/elementwise.ts";
import { gatherRows, segmentSum } from "../../gpu/kernels/segment.ts";
import { concat } from "../../gpu/kernels/columns.ts";
import type { Activation } from "../../gpu/kernels/matmul.ts";
import { Random } from "../../random.ts";
import { applyDense, type Dense, dense } from "../nn.ts";
import type { DeviceGraph } from "../device_graph.ts";

/** Options of one GCL. */
export interface GCLOptions {
  /** Width of the input h. */
  inputNf: number;
  /** Width of the output h. */
  outputNf: number;
  /** Width of the messages m_ij and of the MLPs' hidden layers. */
  hiddenNf: number;
  /** Width of a_ij (default 0). */
  edgesInNf?: number;
  /** Activation of the MLPs (default SiLU). */
  act?: Activation;
  /** h ← h + φh(·) (the reference's `recurrent`, default true). */
  recurrent?: boolean;
}

/**
 * The reference's `GCL`: m_ij = φe([h_i, h_j, a_ij]) (Linear→act→Linear→act),
 * h_i ← [h_i +] φh([h_i, Σ_j m_ij]) (Linear→act→Linear).
 */
export class GCL {
  /** φe: the edge MLP's two layers. */
  readonly edgeMlp: [Dense, Dense];
  /** φh: the node MLP's two layers. */
  readonly nodeMlp: [Dense, Dense];
  /** Activation of the MLPs. */
  readonly act: Activation;
  /** Whether h ← h + φh(·). */
  readonly recurrent: boolean;
  /** Width of a_ij. */
  readonly edgesInNf: number;

  /**
   * Declares the layer's parameters under `prefix` with the reference's names
   * (`edge_mlp.0`, `edge_mlp.2`, `node_mlp.0`, `node_mlp.2`).
   */
  constructor(ps: ParameterSet, prefix: string, o: GCLOptions, rng: Random) {
    const p = prefix ? prefix + "." : "";
    this.act = o.act ?? "silu";
    this.recurrent = o.recurrent ?? true;
    this.edgesInNf = o.edgesInNf ?? 0;
    if (this.recurrent && o.inputNf !== o.outputNf) {
      throw new Error(`GCL ${prefix}: recurrent needs inputNf = outputNf`);
    }
    this.edgeMlp = [
      dense(ps, `${p}edge_mlp.0`, 2 * o.inputNf + this.edgesInNf, o.hiddenNf, rng),
      dense(ps, `${p}edge_mlp.2`, o.hiddenNf, o.hiddenNf, rng),
    ];
    this.nodeMlp = [
      dense(ps, `${p}node_mlp.0`, o.hiddenNf + o.inputNf, o.hiddenNf, rng),
      dense(ps, `${p}node_mlp.2`, o.hiddenNf, o.outputNf, rng),
    ];
  }

  /** h: N×inputNf; edgeAttr: E×edgesInNf in the graph's edge order. */
  forward(h: Tensor, graph: DeviceGraph, edgeAttr?: Tensor | null): Tensor {
    const parts = [gatherRows(h, graph.receivers), gatherRows(h, graph.senders)];
    if (this.edgesInNf > 0) {
      if (!edgeAttr) throw new Error("GCL: edgesInNf > 0 but no edgeAttr given");
      parts.push(edgeAttr);
    }
    const m = applyDense(
      this.edgeMlp[1],
      applyDense(this.edgeMlp[0], concat(parts), this.act),
      this.act,
    );
    const agg = segmentSum(m, graph.incoming);
    const out = applyDense(
      this.nodeMlp[1],
      applyDense(this.nodeMlp[0], concat([h, agg]), this.act),
    );
    return this.recurrent ? add(h, out) : out;
  }
}

/** Options of the N-body GNN (defaults: the reference's main_nbody.py). */
export interface GNNOptions {
  /** Width of the input node features (default 6: [x, v]). */
  inputDim?: number;
  /** Width of every layer (default 64). */
  hiddenNf?: number;
  /** Layers (default 4). */
  nLayers?: number;
  /** Edge attribute width (default 1: q_i q_j). */
  edgesInNf?: number;
  /** Width of the output (default 3: the position). */
  outputDim?: number;
  /** Seed of the parameter initialisation (default 0). */
  seed?: number;
}

/**
 * The reference's N-body `GNN`: `embedding` Linear(6→64) on [x, v], 4 × GCL with edge attribute
 * q_i q_j, `decoder` Linear→SiLU→Linear(64→3) giving the absolute position.
 */
export class GNN {
  /** Every parameter of the model, built by the constructor. */
  readonly params: ParameterSet = new ParameterSet();
  /** `embedding.0`: Linear(inputDim→hiddenNf). */
  readonly embedding: Dense;
  /** `gcl_0 …`: the GCLs, in order. */
  readonly layers: GCL[] = [];
  /** `decoder.0`, `decoder.2`: Linear→SiLU→Linear(hiddenNf→outputDim). */
  readonly decoder: [Dense, Dense];

  /** Declares the parameters with the reference's names and builds them (after `getGpu()`). */
  constructor(readonly options: GNNOptions = {}) {
    const rng = new Random(options.seed ?? 0);
    const H = options.hiddenNf ?? 64;
    this.embedding = dense(this.params, "embedding.0", options.inputDim ?? 6, H, rng); // nn.Sequential(Linear)
    for (let i = 0; i < (options.nLayers ?? 4); i++) {
      this.layers.push(
        new GCL(this.params, `gcl_${i}`, {
          inputNf: H,
          outputNf: H,
          hiddenNf: H,
          edgesInNf: options.edgesInNf ?? 1,
          recurrent: true,
        }, rng),
      );
    }
    this.decoder = [
      dense(this.params, "decoder.0", H, H, rng),
      dense(this.params, "decoder.2", H, options.outputDim ?? 3, rng),
    ];
    this.params.build();
  }

  /** nodes: N×inputDim ([x, v]); returns N×outputDim. */
  forward(nodes: Tensor, graph: DeviceGraph, edgeAttr: Tensor | null): Tensor {
    let h = applyDense(this.embedding, nodes);
    for (const layer of this.layers) h = layer.forward(h, graph, edgeAttr);
    return applyDense(this.decoder[1], applyDense(this.decoder[0], h, "silu"));
  }
}
