/**
 * The SE(3)-Transformer baseline of the N-body experiment (Fuchs et al. 2020), laid out as the
 * reference's `OurSE3Transformer` inside `OurDynamics`: numLayers × [attention block (`GSE3Res`),
 * norm nonlinearity (`GNormSE3`, LayerNorm → ReLU)], then an `SE3Conv` to one type-1 channel,
 * times a learned scalar (`scalar_trick`, initially 0.01); the prediction is x + that vector.
 * README setting: `--degree 3 --nf 64 --div 1`: types 0–2 with 21 channels (nf / degree), one
 * head, no skip connection (the reference comments it out).
 *
 * Attention block (`SE3Attention`, one head), for an edge e = (i ← j):
 *   values v_e = Σ_li m^{·←li}_e and keys k_e (per-edge TFN messages, `SE3PartialConv`; keys of
 *   the types the input has), queries q_i = W_l·f_i (self-interaction, `G1x1SE3`),
 *   a_e = softmax over the edges into i of ⟨k_e, q_i⟩/√(Σ_l C_l(2l+1)) (all key types
 *   concatenated), out_i = Σ_e a_e·v_e. Logits are invariant (inner products of features of the
 *   same type), so the block is equivariant.
 *
 * @module
 */

import { ParameterSet } from "../../gpu/parameters.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { add, mul, scale } from "../../gpu/kernels/elementwise.ts";
import { gatherRows, segmentSum } from "../../gpu/kernels/segment.ts";
import { fibreLinear } from "../../gpu/kernels/fibre_linear.ts";
import { rowDot, segmentSoftmax } from "../../gpu/kernels/attention.ts";
import type { Activation } from "../../gpu/kernels/matmul.ts";
import { Random } from "../../random.ts";
import type { DeviceGraph } from "../device_graph.ts";
import { featuresOf, NormNonlinearity, SE3Conv, SE3PartialConv } from "./conv.ts";
import {
  type EdgeGeometry,
  edgeGeometry,
  type Features,
  type Fibre,
  fibre,
  maxType,
} from "./fibre.ts";

/** Options of an attention block. */
export interface SE3AttentionOptions {
  /** Value channels = output channels / div (default 1, the N-body setting). */
  div?: number;
  /** Edge attributes besides the distance (default 0). */
  edgeDim?: number;
  /** Activation of the radial networks (default ReLU). */
  act?: Activation;
}

/** One SE(3)-Transformer attention block, one head (see the module). */
export class SE3Attention {
  /** Values `GMAB.v`: fin → fout with channels / div. */
  readonly values: SE3PartialConv;
  /** Keys `GMAB.k`: fin → the value fibre's types that fin has. */
  readonly keys: SE3PartialConv;
  /** Query weights `GMAB.q.transform.<l>`, C_key×C_in per key type. */
  readonly queries: Map<number, Tensor> = new Map();
  /** Σ_l C_l(2l+1) over the key fibre: the logits are divided by its square root. */
  readonly keyFeatures: number;

  /** Declares `<prefix>.GMAB.{v,k}.kernel_unary.*` and `<prefix>.GMAB.q.transform.<l>`. */
  constructor(
    ps: ParameterSet,
    prefix: string,
    readonly fin: Fibre,
    fout: Fibre,
    o: SE3AttentionOptions,
    rng: Random,
  ) {
    const div = o.div ?? 1;
    const fValue = fout.map((t) => ({ l: t.l, channels: Math.floor(t.channels / div) }));
    const fKey = fValue.filter((t) => fin.some((i) => i.l === t.l));
    this.values = new SE3PartialConv(ps, `${prefix}.GMAB.v`, fin, fValue, o, rng);
    this.keys = new SE3PartialConv(ps, `${prefix}.GMAB.k`, fin, fKey, o, rng);
    for (const k of fKey) {
      const cin = fin.find((i) => i.l === k.l)!.channels;
      const s = 1 / Math.sqrt(cin);
      const w = Float32Array.from({ length: k.channels * cin }, () => rng.normal() * s);
      this.queries.set(k.l, ps.add(`${prefix}.GMAB.q.transform.${k.l}`, [k.channels, cin], w));
    }
    this.keyFeatures = fKey.reduce((a, t) => a + t.channels * (2 * t.l + 1), 0);
  }

  /** Attention-weighted sums of the values over each node's incoming edges. */
  forward(f: Features, geom: EdgeGeometry): Features {
    // Values and keys convolve the same features: they share the basis projections.
    const projections: Parameters<SE3PartialConv["forward"]>[2] = new Map();
    const v = this.values.forward(f, geom, projections);
    const k = this.keys.forward(f, geom, projections);
    let logits: Tensor | null = null;
    for (const [l, w] of this.queries) {
      const q = gatherRows(
        fibreLinear(featuresOf(f, l, "SE3Attention"), w, l),
        geom.graph.receivers,
      );
      const d = rowDot(k.get(l)!, q);
      logits = logits ? add(logits, d) : d;
    }
    const a = segmentSoftmax(scale(logits!, 1 / Math.sqrt(this.keyFeatures)), geom.graph.incoming);
    const out: Features = new Map();
    for (const [l, values] of v) out.set(l, segmentSum(mul(values, a), geom.graph.incoming));
    return out;
  }
}

/** Options of the N-body SE(3)-Transformer; defaults are the reference's N-body run. */
export interface SE3TransformerOptions {
  /** Attention blocks (default 4). */
  numLayers?: number;
  /** Channels of every hidden type (default 21 = nf 64 / degree 3). */
  channels?: number;
  /** Hidden types 0 … numDegrees − 1 (default 3). */
  numDegrees?: number;
  /** Value channels divisor (default 1). */
  div?: number;
  /** The activation (default ReLU). */
  act?: Activation;
  /** Initial output scale `scalar_trick` (default 0.01). */
  outputScale?: number;
  /** Prefix of the parameter names (default `se3`). */
  prefix?: string;
  /** Seed of the initial values (default 0). */
  seed?: number;
}

/** The N-body SE(3)-Transformer (see the module). */
export class SE3Transformer {
  /** Every parameter, built by the constructor. */
  readonly params: ParameterSet = new ParameterSet();
  /** `Gblock`: attention blocks and norm nonlinearities alternating, then the output conv. */
  readonly blocks: (SE3Attention | NormNonlinearity | SE3Conv)[] = [];
  /** The learned output scale (`scalar_trick`, 1 value). */
  readonly outputScale: Tensor;
  /** The highest feature type (the basis is computed up to it). */
  readonly maxDegree: number;

  /** Declares the parameters with the reference's names and builds them (after `getGpu()`). */
  constructor(readonly options: SE3TransformerOptions = {}) {
    const rng = new Random(options.seed ?? 0);
    const numLayers = options.numLayers ?? 4, channels = options.channels ?? 21;
    const act = options.act ?? "relu", prefix = options.prefix ?? "se3";
    const p = `${prefix}.Gblock`;
    const mid = fibre(
      Object.fromEntries(Array.from({ length: options.numDegrees ?? 3 }, (_, l) => [l, channels])),
    );
    const fin = fibre({ 0: 1, 1: 1 }), fout = fibre({ 1: 1 });
    let f = fin;
    for (let i = 0; i < numLayers; i++) {
      const o = { div: options.div ?? 1, act };
      this.blocks.push(new SE3Attention(this.params, `${p}.${2 * i}`, f, mid, o, rng));
      this.blocks.push(new NormNonlinearity(this.params, `${p}.${2 * i + 1}`, mid, { act }, rng));
      f = mid;
    }
    this.blocks.push(new SE3Conv(this.params, `${p}.${2 * numLayers}`, f, fout, { act }, rng));
    this.outputScale = this.params.add(
      `${prefix}.scalar_trick`,
      [1],
      Float32Array.of(options.outputScale ?? 0.01),
    );
    this.maxDegree = maxType(fin, mid, fout);
    this.params.build();
  }

  /**
   * The predicted positions x + s·SE3Transformer(x, v, q).
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
    for (const b of this.blocks) {
      h = b instanceof NormNonlinearity ? b.forward(h) : b.forward(h, geom);
    }
    return add(x, mul(h.get(1)!, this.outputScale));
  }
}
