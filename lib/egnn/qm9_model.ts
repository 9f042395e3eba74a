/**
 * The reference's QM9 model (qm9/models.py `EGNN`, 745,224 parameters at the defaults): an
 * E(3)-invariant network on fixed distances — `embedding` Linear(15→128), 7 × `E_GCL_mask` with
 * edge inference (eq. 8) and no coordinate update, `node_dec` MLP, a sum over each molecule's
 * atoms, `graph_dec` MLP to one value per molecule.
 *
 * Molecules of different sizes are batched without padding: the reference's `edge_mask` and
 * `node_mask` are implicit (only real atoms and i ≠ j edges exist).
 *
 * @module
 */

import { ParameterSet } from "../gpu/parameters.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { segmentSum } from "../gpu/kernels/segment.ts";
import { Random } from "../random.ts";
import { applyDense, type Dense, dense } from "./nn.ts";
import { EGCL } from "./egcl.ts";
import type { DeviceGraph } from "./device_graph.ts";

/** Options of the QM9 model (defaults: the paper's Table 3 runs). */
export interface QM9ModelOptions {
  /** Node feature width (one-hot(H,C,N,O,F) ⊗ (Z/9)^0..2 = 15). */
  inNodeNf?: number;
  /** Width H of every layer (default 128). */
  hiddenNf?: number;
  /** Layers (default 7). */
  nLayers?: number;
  /** Edge inference, eq. 8 (default true). */
  attention?: boolean;
  /** Append the input features to every φh input (`--node_attr 1`, default false). */
  nodeAttr?: boolean;
  /** Values predicted per molecule (default 1; more: one per property, trained jointly). */
  outNf?: number;
  /** Seed of the parameter initialisation (default 0). */
  seed?: number;
}

/**
 * The QM9 property regressor.
 *
 * @example One prediction per molecule
 * ```ts
 * import { fromArray, fullyConnected, getGpu, QM9Model, read, uploadGraph } from "../../mod.ts";
 * await getGpu();
 * const model = new QM9Model({ hiddenNf: 8, nLayers: 2 });
 * const g = uploadGraph(fullyConnected([3, 2]));
 * const h0 = fromArray(new Float32Array(5 * 15).fill(0.1), [5, 15]);
 * const x = fromArray([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1], [5, 3]);
 * console.log((await read(model.forward(h0, x, g))).length); // 2
 * ```
 */
export class QM9Model {
  /** All parameters, named as the reference's state dict (weights in×out). */
  readonly params: ParameterSet = new ParameterSet();
  /** `embedding`: Linear(in→H). */
  readonly embedding: Dense;
  /** `gcl_0 …`: invariant EGCLs with edge inference. */
  readonly layers: EGCL[] = [];
  /** `node_dec`: Linear→SiLU→Linear on every atom. */
  readonly nodeDec: [Dense, Dense];
  /** `graph_dec`: Linear→SiLU→Linear(H→1) on each molecule's sum. */
  readonly graphDec: [Dense, Dense];

  /** Declares and initialises the parameters (seeded). */
  constructor(readonly options: QM9ModelOptions = {}) {
    const rng = new Random(options.seed ?? 0);
    const inNf = options.inNodeNf ?? 15, H = options.hiddenNf ?? 128;
    this.embedding = dense(this.params, "embedding", inNf, H, rng);
    for (let i = 0; i < (options.nLayers ?? 7); i++) {
      this.layers.push(
        new EGCL(this.params, `gcl_${i}`, {
          inputNf: H,
          outputNf: H,
          hiddenNf: H,
          nodesAttDim: options.nodeAttr ? inNf : 0,
          attention: options.attention ?? true,
          updateCoords: false,
        }, rng),
      );
    }
    this.nodeDec = [
      dense(this.params, "node_dec.0", H, H, rng),
      dense(this.params, "node_dec.2", H, H, rng),
    ];
    this.graphDec = [
      dense(this.params, "graph_dec.0", H, H, rng),
      dense(this.params, "graph_dec.2", H, options.outNf ?? 1, rng),
    ];
    this.params.build();
  }

  /**
   * Predicts one value per molecule: the EGCLs on fixed x, `node_dec`, a sum, `graph_dec`.
   *
   * @param h0 N×inNodeNf atom features
   * @param x N×3 positions (fixed: only their distances enter)
   * @param graph the molecules' device graph (fully connected within each molecule)
   * @returns G×outNf predictions (normalised units)
   */
  forward(h0: Tensor, x: Tensor, graph: DeviceGraph): Tensor {
    let h = applyDense(this.embedding, h0);
    const nodeAttr = this.options.nodeAttr ? h0 : null;
    for (const layer of this.layers) ({ h } = layer.forward({ h, x, graph, nodeAttr }));
    h = applyDense(this.nodeDec[1], applyDense(this.nodeDec[0], h, "silu"));
    const perMolecule = segmentSum(h, graph.nodesOfGraph);
    return applyDense(this.graphDec[1], applyDense(this.graphDec[0], perMolecule, "silu"));
  }
}
