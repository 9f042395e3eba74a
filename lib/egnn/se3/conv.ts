/**
 * The layers of a Tensor Field Network, as the SE(3)-Transformer code (`GConvSE3Partial`,
 * `GConvSE3`, `GNormSE3`) that the EGNN reference forked for its N-body baselines.
 *
 * `SE3PartialConv` (GConvSE3Partial): per-edge messages, not aggregated,
 *   m^lo_{ij} = Σ_li Σ_J R^{lo←li}(‖x_i − x_j‖)·Q^J_{lo,li}(x_i − x_j)·f^li_j (`equivariantMessage`,
 *   as its two halves: the projection Σ_mi Q^J·f^li_j, which convolutions of the same features
 *   may share, then the contraction with R).
 *
 * `SE3Conv` (GConvSE3): for each output type lo,
 *   out_i = mean_{j → i} m^lo_{ij}  +  W_lo·f_i  (self-interaction, types of both fibres).
 * The reference adds W·f_i to every incoming message before the mean; for a node that receives
 * at least one edge that is the same thing.
 *
 * `NormNonlinearity` (GNormSE3): per type and channel, out = g(‖f‖)·f/‖f‖ with
 * g = act(LayerNorm over the channels of ‖f‖) [→ Linear(C → C) with `numLayers` = 1, as TFN],
 * ‖f‖ = √(Σ_m f² + ε) (the reference clamps ‖f‖ ≥ 1e-12 instead; both keep the phase finite).
 *
 * @module
 */

import type { ParameterSet } from "../../gpu/parameters.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { activation, add, mul, unary } from "../../gpu/kernels/elementwise.ts";
import { segmentMean } from "../../gpu/kernels/segment.ts";
import { rowSquaredNorm } from "../../gpu/kernels/rownorm.ts";
import { linear } from "../../gpu/kernels/linear.ts";
import { layerNorm } from "../../gpu/kernels/layer_norm.ts";
import { fibreLinear } from "../../gpu/kernels/fibre_linear.ts";
import {
  type BasisProjection,
  contractRadial,
  projectOnBasis,
} from "../../gpu/kernels/equivariant_message.ts";
import { view } from "../../gpu/kernels/view.ts";
import type { Activation } from "../../gpu/kernels/matmul.ts";
import type { Random } from "../../random.ts";
import { basisPair } from "./clebsch_gordan.ts";
import {
  type EdgeGeometry,
  type Features,
  type Fibre,
  kaimingLinear,
  layerNormParams,
  type Linear,
  RadialFunction,
} from "./fibre.ts";

/** The features of type l, or an error naming what is there. */
export function featuresOf(f: Features, l: number, where: string): Tensor {
  const t = f.get(l);
  if (!t) throw new Error(`${where}: no features of type ${l} (have ${[...f.keys()]})`);
  return t;
}

/** Options of an `SE3Conv`. */
export interface SE3ConvOptions {
  /** Add W_l·f_i for the types of both fibres (default true, as every reference layer). */
  selfInteraction?: boolean;
  /** Edge attributes besides the distance in the radial networks' input (default 0). */
  edgeDim?: number;
  /** Activation of the radial networks (default ReLU, the reference's). */
  act?: Activation;
}

/**
 * The per-edge messages from fibre `fin` to fibre `fout`, not aggregated (the reference's
 * `GConvSE3Partial`: the values and keys of the SE(3)-Transformer, and the neighbour term of a
 * TFN convolution): m^lo_e = Σ_li equivariantMessage(R^{lo←li}(‖r_e‖), Q(r_e), f^li).
 */
export class SE3PartialConv {
  /** The radial network of each pair, keyed `(li,lo)` as the reference's `kernel_unary`. */
  readonly radial: Map<string, RadialFunction> = new Map();

  /** Declares `<prefix>.kernel_unary.(li,lo).rp.net.*` for every pair of types. */
  constructor(
    ps: ParameterSet,
    prefix: string,
    readonly fin: Fibre,
    readonly fout: Fibre,
    o: Pick<SE3ConvOptions, "edgeDim" | "act">,
    rng: Random,
  ) {
    for (const i of fin) {
      for (const out of fout) {
        const rp = new RadialFunction(
          ps,
          `${prefix}.kernel_unary.(${i.l},${out.l}).rp`,
          2 * Math.min(i.l, out.l) + 1,
          i.channels,
          out.channels,
          o.edgeDim ?? 0,
          o.act ?? "relu",
          rng,
        );
        this.radial.set(`(${i.l},${out.l})`, rp);
      }
    }
  }

  /**
   * E × C·(2l+1) messages for every type l of `fout`.
   *
   * @param f the input features
   * @param geom the edge geometry
   * @param projections the basis projections of `f` by `(li,lo)` pair, shared with other
   *   convolutions of the same `f` and `geom` (the values and keys of an attention block): used
   *   where present, added where computed
   */
  forward(
    f: Features,
    geom: EdgeGeometry,
    projections: Map<string, BasisProjection> = new Map(),
  ): Features {
    const out: Features = new Map();
    for (const o of this.fout) {
      let sum: Tensor | null = null;
      for (const i of this.fin) {
        const key = `(${i.l},${o.l})`;
        const r = this.radial.get(key)!.forward(geom.edgeFeatures);
        let proj = projections.get(key);
        if (!proj) {
          const pair = basisPair(geom.layout, o.l, i.l);
          const feat = featuresOf(f, i.l, "SE3PartialConv");
          proj = projectOnBasis(geom.basis, pair, feat, geom.graph.senders);
          projections.set(key, proj);
        }
        const m = contractRadial(r, proj);
        sum = sum ? add(sum, m) : m;
      }
      out.set(o.l, sum!);
    }
    return out;
  }
}

/** A TFN convolution from fibre `fin` to fibre `fout` (see the module). */
export class SE3Conv {
  /** The neighbour messages (`kernel_unary`). */
  readonly messages: SE3PartialConv;
  /** Self-interaction weights CO×CI by type (the reference's `kernel_self`, 1×CO×CI). */
  readonly selfWeights: Map<number, Tensor> = new Map();

  /**
   * Declares `<prefix>.kernel_unary.(li,lo).rp.net.*` for every pair and
   * `<prefix>.kernel_self.<l>` for every type of both fibres (init N(0, 1)/√CI).
   */
  constructor(
    ps: ParameterSet,
    prefix: string,
    readonly fin: Fibre,
    readonly fout: Fibre,
    o: SE3ConvOptions,
    rng: Random,
  ) {
    this.messages = new SE3PartialConv(ps, prefix, fin, fout, o, rng);
    if (o.selfInteraction ?? true) {
      for (const i of fin) {
        const out = fout.find((t) => t.l === i.l);
        if (!out) continue;
        const s = 1 / Math.sqrt(i.channels);
        const w = Float32Array.from({ length: out.channels * i.channels }, () => rng.normal() * s);
        this.selfWeights.set(
          i.l,
          ps.add(`${prefix}.kernel_self.${i.l}`, [out.channels, i.channels], w),
        );
      }
    }
  }

  /** The output features of every type of `fout`. */
  forward(f: Features, geom: EdgeGeometry): Features {
    const messages = this.messages.forward(f, geom);
    const out: Features = new Map();
    for (const o of this.fout) {
      let h = segmentMean(messages.get(o.l)!, geom.graph.incoming);
      const w = this.selfWeights.get(o.l);
      if (w) h = add(h, fibreLinear(featuresOf(f, o.l, "SE3Conv"), w, o.l));
      out.set(o.l, h);
    }
    return out;
  }
}

/** Options of a `NormNonlinearity`. */
export interface NormNonlinearityOptions {
  /** Linear layers after LayerNorm → act (0: the SE(3)-Transformer's; 1: TFN's). */
  numLayers?: 0 | 1;
  /** The nonlinearity (default ReLU). */
  act?: Activation;
}

/** The norm nonlinearity of a fibre (see the module). */
export class NormNonlinearity {
  /** Per type: LayerNorm (`transform.<l>.0.bn`) and, with one layer, Linear (`transform.<l>.2`). */
  readonly transforms: Map<number, { norm: Linear; linear: Linear | null }> = new Map();
  /** The activation. */
  readonly act: Activation;

  /** Declares `<prefix>.transform.<l>.0.bn.*` [and `<prefix>.transform.<l>.2.*`] per type. */
  constructor(
    ps: ParameterSet,
    prefix: string,
    readonly fibre: Fibre,
    o: NormNonlinearityOptions,
    rng: Random,
  ) {
    this.act = o.act ?? "relu";
    for (const t of fibre) {
      const p = `${prefix}.transform.${t.l}`;
      const norm = layerNormParams(ps, `${p}.0.bn`, t.channels);
      const lin = o.numLayers === 1
        ? kaimingLinear(ps, `${p}.2`, t.channels, t.channels, rng)
        : null;
      this.transforms.set(t.l, { norm, linear: lin });
    }
  }

  /** g(‖f‖)·f/‖f‖ for every type and channel. */
  forward(f: Features): Features {
    const out: Features = new Map();
    for (const t of this.fibre) {
      const x = featuresOf(f, t.l, "NormNonlinearity");
      const n = x.shape[0], c = t.channels, d = 2 * t.l + 1;
      const rows = view(x, [n * c, d]);
      const sq = view(rowSquaredNorm(rows), [n, c]);
      const norm = unary(sq, "fibreNorm", "safeSqrt(av)", "0.5 / safeSqrt(bv)");
      const invNorm = unary(
        sq,
        "fibreInvNorm",
        "1.0 / safeSqrt(av)",
        "-0.5 / (safeSqrt(bv) * safeSqrt(bv) * safeSqrt(bv))",
      );
      const { norm: ln, linear: lin } = this.transforms.get(t.l)!;
      let g = activation(layerNorm(norm, ln.weight, ln.bias), this.act);
      if (lin) g = linear(g, lin.weight, lin.bias);
      const gain = view(mul(g, invNorm), [n * c, 1]);
      out.set(t.l, view(mul(rows, gain), [n, c * d]));
    }
    return out;
  }
}
