/**
 * What the SE(3) baselines (TFN, SE(3)-Transformer) share: fibres (how many channels of each
 * feature type), feature maps, the per-edge geometry computed once per forward pass (x_i − x_j,
 * its length, the kernel basis), the radial network of each (input type, output type) pair,
 * and the reference's initialisations.
 *
 * Features of type l are N × C·(2l+1) tensors laid out [c][m] (the reference's N × C × (2l+1)).
 * Edges are (receiver i, sender j) and messages flow j → i, with r = x_i − x_j (the reference's
 * `x[dst] − x[src]`).
 *
 * @module
 */

import type { ParameterSet } from "../../gpu/parameters.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { activation, sub, unary } from "../../gpu/kernels/elementwise.ts";
import { gatherRows } from "../../gpu/kernels/segment.ts";
import { concat } from "../../gpu/kernels/columns.ts";
import { rowSquaredNorm } from "../../gpu/kernels/rownorm.ts";
import { linear } from "../../gpu/kernels/linear.ts";
import { layerNorm } from "../../gpu/kernels/layer_norm.ts";
import { sphericalBasis } from "../../gpu/kernels/spherical_basis.ts";
import type { Activation } from "../../gpu/kernels/matmul.ts";
import type { Random } from "../../random.ts";
import type { DeviceGraph } from "../device_graph.ts";
import { type BasisLayout, basisLayout } from "./clebsch_gordan.ts";

/** Channels of one feature type. */
export interface FibreType {
  /** The type (degree) l: 2l+1 components. */
  l: number;
  /** Multiplicity: how many features of this type. */
  channels: number;
}

/** A fibre: feature types with their channels, in increasing type (the reference's `Fiber`). */
export type Fibre = readonly FibreType[];

/** Feature tensors by type: type l → N × C·(2l+1). */
export type Features = Map<number, Tensor>;

/**
 * A fibre from a {type: channels} record.
 *
 * @param spec e.g. `{0: 1, 1: 1}` for one charge and one velocity
 * @returns the fibre, sorted by type
 */
export function fibre(spec: Record<number, number>): Fibre {
  return Object.entries(spec).map(([l, channels]) => ({ l: Number(l), channels }))
    .sort((a, b) => a.l - b.l);
}

/** The highest type of some fibres. */
export function maxType(...fibres: Fibre[]): number {
  return Math.max(0, ...fibres.flatMap((f) => f.map((t) => t.l)));
}

/** The per-edge quantities every layer of a forward pass reads. */
export interface EdgeGeometry {
  /** The batch's graph. */
  graph: DeviceGraph;
  /** E×3: x_i − x_j. */
  rel: Tensor;
  /** E×(1 + A): the radial networks' input, [edge attributes, |x_i − x_j|]. */
  edgeFeatures: Tensor;
  /** E×width: the kernel basis (`sphericalBasis`). */
  basis: Tensor;
  /** Where each (lo, li) block lies in a basis row. */
  layout: BasisLayout;
}

/**
 * x_i − x_j, its length √(r² + ε) and the kernel basis for types ≤ maxDegree: the reference's
 * `get_basis_and_r`, once per forward pass, shared by every layer.
 *
 * @param x N×3 coordinates
 * @param graph the batch's graph
 * @param maxDegree the highest feature type of the model
 * @param edgeAttr E×A edge attributes put before the distance, or null (the N-body models)
 */
export function edgeGeometry(
  x: Tensor,
  graph: DeviceGraph,
  maxDegree: number,
  edgeAttr: Tensor | null = null,
): EdgeGeometry {
  const rel = sub(gatherRows(x, graph.receivers), gatherRows(x, graph.senders));
  const dist = unary(rowSquaredNorm(rel), "distance", "safeSqrt(av)", "0.5 / safeSqrt(bv)");
  return {
    graph,
    rel,
    edgeFeatures: edgeAttr ? concat([edgeAttr, dist]) : dist,
    basis: sphericalBasis(rel, maxDegree),
    layout: basisLayout(maxDegree),
  };
}

/** A dense layer with the parameter names of `nn.Linear` (weight stored in×out). */
export interface Linear {
  /** in×out. */
  weight: Tensor;
  /** out values. */
  bias: Tensor;
}

/**
 * `nn.Linear(in, out)` followed by the reference's `nn.init.kaiming_uniform_` of the weight
 * (U(±√(6/in))); the bias keeps PyTorch's default U(±1/√in). Drawn in PyTorch's (out, in) order.
 */
export function kaimingLinear(
  ps: ParameterSet,
  name: string,
  inFeatures: number,
  outFeatures: number,
  rng: Random,
): Linear {
  const bound = Math.sqrt(6 / inFeatures), bb = 1 / Math.sqrt(inFeatures);
  const w = new Float32Array(inFeatures * outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    for (let i = 0; i < inFeatures; i++) w[i * outFeatures + o] = rng.uniformIn(-bound, bound);
  }
  const b = Float32Array.from({ length: outFeatures }, () => rng.uniformIn(-bb, bb));
  return {
    weight: ps.add(`${name}.weight`, [inFeatures, outFeatures], w),
    bias: ps.add(`${name}.bias`, [outFeatures], b),
  };
}

/** `nn.LayerNorm(c)` (the reference's `BN`): `<name>.weight` = ones, `<name>.bias` = zeros. */
export function layerNormParams(ps: ParameterSet, name: string, c: number): Linear {
  return {
    weight: ps.add(`${name}.weight`, [c], new Float32Array(c).fill(1)),
    bias: ps.add(`${name}.bias`, [c], new Float32Array(c)),
  };
}

/**
 * The radial network of one (input type, output type) pair (the reference's `RadialFunc`):
 * Linear(1 + A → 32) → LayerNorm → act → Linear(32 → 32) → LayerNorm → act →
 * Linear(32 → NJ·CI·CO), one weight per (co, ci, J) for every edge.
 */
export class RadialFunction {
  /** `net.0`, `net.3`, `net.6`. */
  readonly layers: [Linear, Linear, Linear];
  /** `net.1.bn`, `net.4.bn`. */
  readonly norms: [Linear, Linear];

  /**
   * Declares `<prefix>.net.{0,1.bn,3,4.bn,6}`.
   *
   * @param ps the parameter set
   * @param prefix e.g. `se3.block0.0.kernel_unary.(0,1).rp`
   * @param numFreq NJ = 2·min(li, lo) + 1
   * @param inChannels CI
   * @param outChannels CO
   * @param edgeDim A, edge attributes besides the distance
   * @param act the activation (the reference's ReLU)
   * @param rng initial values
   */
  constructor(
    ps: ParameterSet,
    prefix: string,
    numFreq: number,
    inChannels: number,
    outChannels: number,
    edgeDim: number,
    readonly act: Activation,
    rng: Random,
  ) {
    const mid = 32;
    const l0 = kaimingLinear(ps, `${prefix}.net.0`, edgeDim + 1, mid, rng);
    const n1 = layerNormParams(ps, `${prefix}.net.1.bn`, mid);
    const l3 = kaimingLinear(ps, `${prefix}.net.3`, mid, mid, rng);
    const n4 = layerNormParams(ps, `${prefix}.net.4.bn`, mid);
    const l6 = kaimingLinear(ps, `${prefix}.net.6`, mid, numFreq * inChannels * outChannels, rng);
    this.layers = [l0, l3, l6];
    this.norms = [n1, n4];
  }

  /** E×(1 + A) edge features → E × CO·CI·NJ radial weights, laid out [co][ci][J]. */
  forward(edgeFeatures: Tensor): Tensor {
    let h = edgeFeatures;
    for (let k = 0; k < 2; k++) {
      h = linear(h, this.layers[k].weight, this.layers[k].bias);
      h = activation(layerNorm(h, this.norms[k].weight, this.norms[k].bias), this.act);
    }
    return linear(h, this.layers[2].weight, this.layers[2].bias);
  }
}
