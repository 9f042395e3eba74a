/**
 * The Tensor Field Network baseline of the N-body experiment, laid out as the reference's
 * `OursTFN` inside `OurDynamics` (n_body_system/se3_dynamics): input fibre {type 0: the charge,
 * type 1: the velocity}, (numLayers − 1) × [SE3Conv → mid fibre, NormNonlinearity (one linear
 * layer)], then SE3Conv → {type 1: 1 channel}; the prediction is x + that vector.
 *
 * The reference's N-body setting (README: `--degree 2 --nf 32`): 4 layers, types 0 and 1 with
 * 16 channels each (nf / degree), ReLU, no edge attributes, fully connected graphs.
 *
 * @module
 */

import { ParameterSet } from "../../gpu/parameters.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { add } from "../../gpu/kernels/elementwise.ts";
import type { Activation } from "../../gpu/kernels/matmul.ts";
import { Random } from "../../random.ts";
import type { DeviceGraph } from "../device_graph.ts";
import { NormNonlinearity, SE3Conv } from "./conv.ts";
import { edgeGeometry, type Features, type Fibre, fibre, maxType } from "./fibre.ts";

/** Options of the N-body TFN; defaults are the reference's N-body run. */
export interface TFNOptions {
  /** Convolutions (default 4). */
  numLayers?: number;
  /** Channels of every hidden type (default 16 = nf 32 / degree 2). */
  channels?: number;
  /** Hidden types 0 … numDegrees − 1 (default 2). */
  numDegrees?: number;
  /** The activation of the radial networks and norm nonlinearities (default ReLU). */
  act?: Activation;
  /** Prefix of the parameter names (default `se3`, the reference's `OurDynamics.se3`). */
  prefix?: string;
  /** Seed of the initial values (default 0). */
  seed?: number;
}

/** The N-body TFN (see the module). */
export class TFN {
  /** Every parameter, built by the constructor. */
  readonly params: ParameterSet = new ParameterSet();
  /** `block0`: the convolutions and norm nonlinearities, alternating. */
  readonly blocks: (SE3Conv | NormNonlinearity)[] = [];
  /** The highest feature type (the basis is computed up to it). */
  readonly maxDegree: number;

  /** Declares the parameters with the reference's names and builds them (after `getGpu()`). */
  constructor(readonly options: TFNOptions = {}) {
    const rng = new Random(options.seed ?? 0);
    const numLayers = options.numLayers ?? 4, channels = options.channels ?? 16;
    const act = options.act ?? "relu";
    const p = `${options.prefix ?? "se3"}.block0`;
    const mid: Fibre = fibre(
      Object.fromEntries(Array.from({ length: options.numDegrees ?? 2 }, (_, l) => [l, channels])),
    );
    const fin = fibre({ 0: 1, 1: 1 }), fout = fibre({ 1: 1 });
    let f = fin;
    for (let i = 0; i < numLayers - 1; i++) {
      this.blocks.push(new SE3Conv(this.params, `${p}.${2 * i}`, f, mid, { act }, rng));
      this.blocks.push(
        new NormNonlinearity(this.params, `${p}.${2 * i + 1}`, mid, { numLayers: 1, act }, rng),
      );
      f = mid;
    }
    this.blocks.push(
      new SE3Conv(this.params, `${p}.${2 * (numLayers - 1)}`, f, fout, { act }, rng),
    );
    this.maxDegree = maxType(fin, mid, fout);
    this.params.build();
  }

  /**
   * The predicted positions x + TFN(x, v, q).
   *
   * @param x N×3 positions
   * @param vel N×3 velocities (type 1)
   * @param charges N×1 charges (type 0)
   * @param graph the batch's graph (fully connected systems)
   * @returns N×3
   */
  forward(x: Tensor, vel: Tensor, charges: Tensor, graph: DeviceGraph): Tensor {
    const geom = edgeGeometry(x, graph, this.maxDegree);
    let h: Features = new Map([[0, charges], [1, vel]]);
    for (const b of this.blocks) h = b instanceof SE3Conv ? b.forward(h, geom) : b.forward(h);
    return add(x, h.get(1)!);
  }
}
