/**
 * The E(n)-equivariant graph convolutional layer (EGCL), eqs. 3–8 of the paper, laid out exactly
 * as the reference's `E_GCL` (models/gcl.py) and, with `velocity`, `E_GCL_vel`.
 *
 * Reads top to bottom like the paper: eq. 3 (messages) → eq. 8 (soft edges) → eq. 4 / eq. 7
 * (coordinates) → eq. 5 (aggregation) → eq. 6 (node update).
 *
 * @module
 */

import type { ParameterSet } from "../gpu/parameters.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { needsGrad } from "../gpu/tape.ts";
import { gpuSync } from "../gpu/device.ts";
import { kernelProfile } from "../gpu/tuning.ts";
import { egclLayerForward, type EGCLLayerWeights } from "../gpu/kernels/egcl_layer.ts";
import {
  activation,
  add,
  clampedMul,
  mapInto,
  mul,
  scale,
  sub,
  unary,
} from "../gpu/kernels/elementwise.ts";
import { linear } from "../gpu/kernels/linear.ts";
import { edgeLinear } from "../gpu/kernels/edge_linear.ts";
import { appendSegmentSum, gatherRows, segmentMean, segmentSum } from "../gpu/kernels/segment.ts";
import { coordinateUpdate, edgeDifferences } from "../gpu/kernels/egcl_coords.ts";
import { concat, rowBlock } from "../gpu/kernels/columns.ts";
import { rowSquaredNorm } from "../gpu/kernels/rownorm.ts";
import type { Activation } from "../gpu/kernels/matmul.ts";
import { empty } from "../gpu/tensor.ts";
import { applyDense, type Dense, dense } from "./nn.ts";
import type { DeviceGraph } from "./device_graph.ts";
import type { Random } from "../random.ts";

/**
 * `wholeLayer`: whether an EGCL pass without gradients runs as one whole-layer dispatch: `"auto"`
 * (default) as the adapter's kernel profile says (`wholeLayerForward`), or always / never (tests,
 * benches). `fuseNodeStage` (default true): eq. 5's sum written straight into φh's input
 * (`appendSegmentSum`) and the residual added in φh's output product. `fuseCoordinates` (default
 * true): x_i − x_j and its squared norm in one pass (`edgeDifferences`), and eq. 4's update with
 * eq. 7's velocity term in another (`coordinateUpdate`). False runs them as separate ops (the
 * fusion tests compare the two).
 */
export const egclSwitches: {
  wholeLayer: "auto" | boolean;
  fuseNodeStage: boolean;
  fuseCoordinates: boolean;
} = {
  wholeLayer: "auto",
  fuseNodeStage: true,
  fuseCoordinates: true,
};

/** Options of an EGCL; defaults are the reference's as its experiments call it. */
export interface EGCLOptions {
  /** Width of the input h. */
  inputNf: number;
  /** Width of the output h. */
  outputNf: number;
  /** Width of the messages m_ij and of the MLPs' hidden layers. */
  hiddenNf: number;
  /** Width of a_ij (default 0). */
  edgesInD?: number;
  /** Width of extra node attributes appended to φh's input (default 0). */
  nodesAttDim?: number;
  /** Activation of the MLPs (default SiLU, as every experiment). */
  act?: Activation;
  /** h ← h + φh(·): the reference's `recurrent`/`residual` (default true). */
  residual?: boolean;
  /** Eq. 8: gate each message by sigmoid(Linear(m_ij)) (default false). */
  attention?: boolean;
  /** Aggregation of coordinate messages: mean (the paper's C = 1/(M−1)) or sum. */
  coordsAgg?: "mean" | "sum";
  /** Scales the aggregated coordinate update (the reference's `coords_weight`, default 1). */
  coordsWeight?: number;
  /**
   * Divide x_i − x_j by its norm: `"detached"` as egnn_clean's `normalize` (no gradient through
   * the norm), `"plusOne"` as gcl.py's `norm_diff` (÷ (‖·‖ + 1)), or none (default).
   */
  normalize?: "none" | "detached" | "plusOne";
  /** Bound φx's output with tanh, times `coordsRange` (default false; range 1 = reference). */
  tanh?: boolean;
  /** Scale of φx's tanh-bounded output (with `tanh`, default 1). */
  coordsRange?: number;
  /** Clamp each coordinate message to ±100 as the reference does (default true). */
  clampMessages?: boolean;
  /**
   * Evaluate φe's first layer by input block: W·[h_i, h_j, r², a_ij] + b =
   * (hW_i)[i] + (hW_j)[j] + [r², a_ij]·W_ra + b, with hW_i and hW_j computed once per node, not
   * once per edge (E/N times fewer multiply-adds; the same values up to float rounding), the
   * gathers, sum and activation in one pass (`edgeLinear`). `"auto"` (default): when the hidden
   * width is a multiple of 4 (the fused kernel's form). On Mesa's CPU adapter the QM9 model's
   * forward pass (128×7, 96 molecules) takes 7.5–9 s split against 22 s concatenated; at 32×3 the
   * two are even. False concatenates the edge inputs as the reference does.
   */
  splitEdgeInput?: boolean | "auto";
  /** Update coordinates (default true); off gives the invariant layer of the QM9 model. */
  updateCoords?: boolean;
  /** Eq. 7: add φv(h_i)·v_i with the network's input velocity (`E_GCL_vel`, default false). */
  velocity?: boolean;
  /**
   * Multiply the layer's new coordinates by this (default 1): the autoencoder's decay
   * x ← x − reg·x after every layer, folded into the coordinate update's pass.
   */
  coordsOutScale?: number;
}

/** Inputs of one layer application. */
export interface EGCLInput {
  /** N×inputNf node features. */
  h: Tensor;
  /** N×n coordinates (any n). */
  x: Tensor;
  /** The batch's device graph: edges (i, j) and their groupings. */
  graph: DeviceGraph;
  /** E×edgesInD edge attributes in the graph's sorted edge order. */
  edgeAttr?: Tensor | null;
  /** N×nodesAttDim node attributes. */
  nodeAttr?: Tensor | null;
  /** N×n input velocities (with `velocity`). */
  vel?: Tensor | null;
}

/** One EGCL's parameters and forward pass. */
export class EGCL {
  /** The options with their defaults filled in. */
  readonly options: Required<EGCLOptions>;
  /** φe: the edge MLP's two layers (eq. 3). */
  readonly edgeMlp: [Dense, Dense];
  /** φh: the node MLP's two layers (eq. 6). */
  readonly nodeMlp: [Dense, Dense];
  /** φx: the coordinate MLP's two layers (eq. 4), or null without `updateCoords`. */
  readonly coordMlp: [Dense, Dense] | null;
  /** φinf: the soft-edge gate's layer (eq. 8), or null without `attention`. */
  readonly attMlp: Dense | null;
  /** φv: the velocity MLP's two layers (eq. 7), or null without `velocity`. */
  readonly velMlp: [Dense, Dense] | null;
  /** The layer's parameter tensors. */
  private readonly parameters: Tensor[];
  /** Where each weight sits in the parameter buffer, for the whole-layer kernel. */
  private readonly wholeLayerWeights: EGCLLayerWeights;

  /**
   * Declares the layer's parameters under `prefix` with the reference's names
   * (`edge_mlp.0`, `edge_mlp.2`, `node_mlp.0`, `node_mlp.2`, `coord_mlp.0`, `coord_mlp.2`,
   * `att_mlp.0`, `coord_mlp_vel.0`, `coord_mlp_vel.2`).
   */
  constructor(
    private readonly ps: ParameterSet,
    prefix: string,
    options: EGCLOptions,
    rng: Random,
  ) {
    const o = this.options = {
      edgesInD: 0,
      nodesAttDim: 0,
      act: "silu",
      residual: true,
      attention: false,
      coordsAgg: "mean",
      coordsWeight: 1,
      normalize: "none",
      tanh: false,
      coordsRange: 1,
      clampMessages: true,
      updateCoords: true,
      velocity: false,
      splitEdgeInput: "auto",
      coordsOutScale: 1,
      ...options,
    };
    if (o.residual && o.inputNf !== o.outputNf) {
      throw new Error(
        `EGCL ${prefix}: residual needs inputNf = outputNf (${o.inputNf}, ${o.outputNf})`,
      );
    }
    const H = o.hiddenNf;
    const p = prefix ? prefix + "." : "";
    // Declaration order follows the reference's constructors (edge, node, coord, att; then vel).
    this.edgeMlp = [
      dense(ps, `${p}edge_mlp.0`, 2 * o.inputNf + 1 + o.edgesInD, H, rng),
      dense(ps, `${p}edge_mlp.2`, H, H, rng),
    ];
    this.nodeMlp = [
      dense(ps, `${p}node_mlp.0`, H + o.inputNf + o.nodesAttDim, H, rng),
      dense(ps, `${p}node_mlp.2`, H, o.outputNf, rng),
    ];
    this.coordMlp = o.updateCoords
      ? [
        dense(ps, `${p}coord_mlp.0`, H, H, rng),
        dense(ps, `${p}coord_mlp.2`, H, 1, rng, { bias: false, xavierGain: 0.001 }),
      ]
      : null;
    this.attMlp = o.attention ? dense(ps, `${p}att_mlp.0`, H, 1, rng) : null;
    this.velMlp = o.velocity
      ? [
        dense(ps, `${p}coord_mlp_vel.0`, o.inputNf, H, rng),
        dense(ps, `${p}coord_mlp_vel.2`, H, 1, rng),
      ]
      : null;
    const layers = [
      ...this.edgeMlp,
      ...this.nodeMlp,
      ...(this.coordMlp ?? []),
      ...(this.attMlp ? [this.attMlp] : []),
      ...(this.velMlp ?? []),
    ];
    this.parameters = layers.flatMap((l) => (l.bias ? [l.weight, l.bias] : [l.weight]));
    // Offsets into the parameter buffer, fixed at declaration (ParameterSet.add).
    const at = (t: Tensor | null | undefined) => (t ? t.offset / 4 : null);
    this.wholeLayerWeights = {
      edge0: at(this.edgeMlp[0].weight),
      edge0Bias: at(this.edgeMlp[0].bias),
      edge1: at(this.edgeMlp[1].weight),
      edge1Bias: at(this.edgeMlp[1].bias),
      node0: at(this.nodeMlp[0].weight),
      node0Bias: at(this.nodeMlp[0].bias),
      node1: at(this.nodeMlp[1].weight),
      node1Bias: at(this.nodeMlp[1].bias),
      coord0: at(this.coordMlp?.[0].weight),
      coord0Bias: at(this.coordMlp?.[0].bias),
      coord1: at(this.coordMlp?.[1].weight),
      att: at(this.attMlp?.weight),
      attBias: at(this.attMlp?.bias),
      vel0: at(this.velMlp?.[0].weight),
      vel0Bias: at(this.velMlp?.[0].bias),
      vel1: at(this.velMlp?.[1].weight),
      vel1Bias: at(this.velMlp?.[1].bias),
    };
  }

  /** The inputs the options call for are there (both forms of the pass need them). */
  private checkInput(input: EGCLInput): void {
    const o = this.options;
    if (o.edgesInD > 0 && !input.edgeAttr) {
      throw new Error("EGCL: edgesInD > 0 but no edgeAttr given");
    }
    if (o.nodesAttDim > 0 && !input.nodeAttr) {
      throw new Error("EGCL: nodesAttDim > 0 but no nodeAttr given");
    }
    if (o.velocity && !input.vel) throw new Error("EGCL: velocity layer needs vel");
  }

  /** φe's first layer with its activation, on [h_i, h_j, ‖x_i − x_j‖², a_ij]. */
  private edgeInputLayer(h: Tensor, edgeIn: Tensor[], graph: DeviceGraph): Tensor {
    const { act, splitEdgeInput, inputNf: F } = this.options;
    const layer = this.edgeMlp[0];
    const split = splitEdgeInput === "auto" ? layer.outFeatures % 4 === 0 : splitEdgeInput;
    if (!split) {
      const parts = [gatherRows(h, graph.receivers), gatherRows(h, graph.senders), ...edgeIn];
      return applyDense(layer, concat(parts), act);
    }
    const w = layer.weight, H = layer.outFeatures;
    const rest = edgeIn.length === 1 ? edgeIn[0] : concat(edgeIn);
    const wRest = rowBlock(w, 2 * F, layer.inFeatures);
    if (H % 4 === 0) {
      // P = h·W_i and Q = h·W_j once per node; one fused pass per edge (edge_linear.ts).
      const p = linear(h, rowBlock(w, 0, F), null), q = linear(h, rowBlock(w, F, 2 * F), null);
      return edgeLinear(p, q, graph.receivers, graph.senders, rest, wRest, layer.bias, act);
    }
    const fromReceiver = gatherRows(linear(h, rowBlock(w, 0, F), null), graph.receivers);
    const fromSender = gatherRows(linear(h, rowBlock(w, F, 2 * F), null), graph.senders);
    const fromEdge = linear(rest, wRest, layer.bias);
    return activation(add(add(fromReceiver, fromSender), fromEdge), act);
  }

  /**
   * Whether this pass runs as one `egcl_layer_forward` dispatch: only where no gradient is
   * recorded, and as `egclSwitches.wholeLayer` says (by default where the adapter's profile
   * says it wins).
   */
  private runsWholeLayer(input: EGCLInput): boolean {
    const mode = egclSwitches.wholeLayer;
    if (mode === false) return false;
    const inputs = [input.h, input.x, input.vel, input.edgeAttr, input.nodeAttr];
    if (needsGrad(...inputs, ...this.parameters)) return false;
    if (gpuSync().info.maxStorageBuffersPerShaderStage < 10) return false;
    return mode === true || kernelProfile().wholeLayerForward;
  }

  /** The forward pass as one dispatch (egcl_layer.ts); the same values up to float rounding. */
  private forwardWholeLayer(input: EGCLInput): { h: Tensor; x: Tensor } {
    const o = this.options;
    const out = egclLayerForward(
      {
        ...o,
        coordDim: input.x.shape[1],
        coordsMean: o.coordsAgg === "mean",
      },
      this.ps.flat,
      this.wholeLayerWeights,
      input.h,
      input.x,
      {
        ptr: input.graph.incoming.ptr,
        senders: input.graph.senders.index,
        edgeAttr: o.edgesInD > 0 ? input.edgeAttr! : null,
      },
      o.nodesAttDim > 0 ? input.nodeAttr! : null,
      o.velocity ? input.vel! : null,
    );
    return o.coordsOutScale === 1 ? out : { h: out.h, x: scale(out.x, o.coordsOutScale) };
  }

  /** Applies the layer: returns the new h and x (x unchanged when coordinates are not updated). */
  forward(input: EGCLInput): { h: Tensor; x: Tensor } {
    this.checkInput(input);
    if (this.runsWholeLayer(input)) return this.forwardWholeLayer(input);
    const o = this.options;
    const { h, x, graph } = input;
    const act = o.act;

    const fuseCoords = egclSwitches.fuseCoordinates;
    // x_i − x_j and ‖x_i − x_j‖²
    let { diff, radial } = fuseCoords ? edgeDifferences(x, graph) : this.differences(x, graph);
    if (o.normalize === "detached") {
      const inv = empty(radial.shape);
      mapInto("1.0 / safeSqrt(av)", inv, radial, radial, radial); // no tape: no gradient
      diff = mul(diff, inv);
    } else if (o.normalize === "plusOne") {
      diff = mul(
        diff,
        unary(
          radial,
          "normPlusOne",
          "1.0 / (safeSqrt(av) + 1.0)",
          "-0.5 / (safeSqrt(bv) * (safeSqrt(bv) + 1.0) * (safeSqrt(bv) + 1.0))",
        ),
      );
    }

    // eq. 3: m_ij = φe(h_i, h_j, ‖x_i − x_j‖², a_ij)
    const edgeIn = [radial];
    if (o.edgesInD > 0) edgeIn.push(input.edgeAttr!);
    let m = applyDense(this.edgeMlp[1], this.edgeInputLayer(h, edgeIn, graph), act);

    // eq. 8: m_ij ← e_ij · m_ij, e_ij = sigmoid(Linear(m_ij))
    if (this.attMlp) m = mul(m, applyDense(this.attMlp, m, "sigmoid"));

    // eq. 4: x_i ← x_i + C Σ_j (x_i − x_j) φx(m_ij) ; eq. 7: + φv(h_i) v_i, with the layer's
    // input h and the network's input velocity
    let xNew = x;
    const phiV = () => applyDense(this.velMlp![1], applyDense(this.velMlp![0], h, act));
    if (this.coordMlp) {
      let phi = applyDense(
        this.coordMlp[1],
        applyDense(this.coordMlp[0], m, act),
        o.tanh ? "tanh" : "none",
      );
      if (o.tanh && o.coordsRange !== 1) phi = scale(phi, o.coordsRange);
      if (fuseCoords && !input.vel?.requiresGrad) {
        // eqs. 4 and 7, and the output scale, in one pass
        const fused = coordinateUpdate(x, diff, phi, graph.incoming, {
          mean: o.coordsAgg === "mean",
          weight: o.coordsWeight,
          clamp: o.clampMessages ? [-100, 100] : null,
          velocity: this.velMlp ? { vel: input.vel!, phiV: phiV() } : null,
          outScale: o.coordsOutScale,
        });
        return { h: this.nodeStage(input, m), x: fused };
      }
      const trans = o.clampMessages ? clampedMul(diff, phi, -100, 100) : mul(diff, phi);
      let agg = o.coordsAgg === "mean"
        ? segmentMean(trans, graph.incoming)
        : segmentSum(trans, graph.incoming);
      if (o.coordsWeight !== 1) agg = scale(agg, o.coordsWeight);
      xNew = add(x, agg);
      if (this.velMlp) xNew = add(xNew, mul(input.vel!, phiV()));
    } else if (this.velMlp) xNew = add(xNew, mul(input.vel!, phiV()));
    if (o.coordsOutScale !== 1) xNew = scale(xNew, o.coordsOutScale);
    return { h: this.nodeStage(input, m), x: xNew };
  }

  /** Eq. 5: m_i = Σ_j m_ij ; eq. 6: h_i ← h_i + φh(h_i, m_i). */
  private nodeStage(input: EGCLInput, m: Tensor): Tensor {
    const o = this.options;
    const { h, graph } = input;
    const fused = egclSwitches.fuseNodeStage;
    let nodeIn: Tensor;
    if (fused && o.nodesAttDim === 0) {
      nodeIn = appendSegmentSum(h, m, graph.incoming); // [h_i, m_i], m_i summed in place
    } else {
      const parts = [h, segmentSum(m, graph.incoming)];
      if (o.nodesAttDim > 0) parts.push(input.nodeAttr!);
      nodeIn = concat(parts);
    }
    const u = applyDense(this.nodeMlp[0], nodeIn, o.act);
    // the residual added in φh's output product
    if (fused) return applyDense(this.nodeMlp[1], u, "none", o.residual ? h : null);
    const hNew = applyDense(this.nodeMlp[1], u);
    return o.residual ? add(h, hNew) : hNew;
  }

  /** x_i − x_j and ‖x_i − x_j‖² by separate ops (`fuseCoordinates` off). */
  private differences(x: Tensor, graph: DeviceGraph): { diff: Tensor; radial: Tensor } {
    const diff = sub(gatherRows(x, graph.receivers), gatherRows(x, graph.senders));
    return { diff, radial: rowSquaredNorm(diff) };
  }
}
