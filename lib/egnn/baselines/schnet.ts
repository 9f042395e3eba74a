/**
 * SchNet (Schütt et al. 2017), the E(n)-invariant continuous-filter convolution of the paper's
 * Table 1: m_ij = φcf(‖x_i − x_j‖) ⊙ φs(h_j), h_i ← h_i + φout(Σ_j m_ij).
 *
 * Distances are expanded on Gaussians exp(−γ(d − μ_k)²) with K centres evenly spaced on
 * [0, cutoff]; the filter network is Dense(K→F, ssp) → Dense(F→F); `in2f` is Dense(H→F, no bias)
 * and `f2out` Dense(F→H, ssp) → Dense(H→H), with ssp(x) = softplus(x) − ln 2 (schnetpack's
 * layout; no cosine cutoff, as graphs here are given explicitly). The readout is an atom-wise
 * MLP followed by a sum over each graph's nodes.
 *
 * @module
 */

import { ParameterSet } from "../../gpu/parameters.ts";
import { defineKernel } from "../../gpu/dsl.ts";
import { recordDispatch } from "../../gpu/commands.ts";
import { empty, type Tensor } from "../../gpu/tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../../gpu/tape.ts";
import { add, mul, sub, unary } from "../../gpu/kernels/elementwise.ts";
import { gatherRows, segmentSum } from "../../gpu/kernels/segment.ts";
import { rowSquaredNorm } from "../../gpu/kernels/rownorm.ts";
import { Random } from "../../random.ts";
import { applyDense, type Dense, dense } from "../nn.ts";
import type { DeviceGraph } from "../device_graph.ts";

const rbfKernel = defineKernel({
  name: "gaussian_rbf",
  workgroupSize: 64,
  constants: { K: "u32", SPACING: "f32", GAMMA: "f32" },
  uniforms: { rows: "u32" },
  bindings: { r2: { type: "f32", access: "read" }, out: { type: "f32", access: "read_write" } },
  body: `
  if (index >= params.rows * K) { return; }
  let d = safeSqrt(r2[index / K]) - f32(index % K) * SPACING;
  out[index] = exp(-GAMMA * d * d);`,
});

const rbfBackwardKernel = defineKernel({
  name: "gaussian_rbf_backward",
  workgroupSize: 64,
  constants: { K: "u32", SPACING: "f32", GAMMA: "f32", ACCUMULATE: "bool" },
  uniforms: { rows: "u32" },
  bindings: {
    r2: { type: "f32", access: "read" },
    dout: { type: "f32", access: "read" },
    dr2: { type: "f32", access: "read_write" },
  },
  // d/d(r²) of exp(−γ(√(r²+ε) − μ)²) = exp(·) · (−2γ(√· − μ)) · 1/(2√·)
  body: (c) => `
  if (index >= params.rows) { return; }
  let s = safeSqrt(r2[index]);
  var g = 0.0;
  for (var k = 0u; k < K; k++) {
    let d = s - f32(k) * SPACING;
    g += dout[index * K + k] * exp(-GAMMA * d * d) * (-2.0 * GAMMA * d);
  }
  g = g * 0.5 / s;
  ${c.ACCUMULATE ? "dr2[index] = dr2[index] + g;" : "dr2[index] = g;"}`,
});

/**
 * Gaussian expansion of distances given as squared distances: E×1 → E×K.
 *
 * @param r2 squared distances, E×1
 * @param k number of Gaussians (centres 0 … cutoff)
 * @param cutoff the last centre
 * @param gamma the width parameter γ
 */
export function gaussianRbf(r2: Tensor, k: number, cutoff: number, gamma: number): Tensor {
  const rows = r2.size;
  const out = empty([rows, k]);
  const constants = { K: k, SPACING: k > 1 ? cutoff / (k - 1) : 0, GAMMA: gamma };
  recordDispatch(rbfKernel.variant(constants), [r2, out], rows * k, { rows });
  if (needsGrad(r2)) {
    recordOp("gaussianRbf", out, () => {
      const s = gradSlot(r2);
      recordDispatch(
        rbfBackwardKernel.variant({ ...constants, ACCUMULATE: s.accumulate }),
        [r2, gradOf(out)!, s.grad],
        rows,
        { rows },
      );
    });
  }
  return out;
}

const LN2 = "0.6931471805599453";

/** Shifted softplus ssp(x) = ln(1 + eˣ) − ln 2. */
export function shiftedSoftplus(x: Tensor): Tensor {
  return unary(x, "ssp", `softplus(av) - ${LN2}`, "sigmoid(bv)");
}

/** Options of SchNet. */
export interface SchNetOptions {
  /** Width of the input node features h⁰. */
  inNodeNf: number;
  /** Width H of the node features (default 128). */
  hiddenNf?: number;
  /** Width F of the continuous filters (default 128). */
  filterNf?: number;
  /** Interaction blocks (default 3). */
  nInteractions?: number;
  /** Gaussians K of the distance expansion (default 50). */
  nGaussians?: number;
  /** The last Gaussian centre, in the coordinates' units (default 5). */
  cutoff?: number;
  /** Width parameter γ of the Gaussians (default 10). */
  gamma?: number;
  /** Outputs per graph (default 1). */
  outNf?: number;
  /** Seed of the parameter initialisation (default 0). */
  seed?: number;
}

/** One interaction block's layers: m_ij = φcf(d_ij) ⊙ φs(h_j), h_i ← h_i + φout(Σ_j m_ij). */
export interface Interaction {
  /** φs: Dense(H→F, no bias) of the sender's features. */
  in2f: Dense;
  /** φcf: the filter network Dense(K→F, ssp) → Dense(F→F) on the Gaussian expansion. */
  filter: [Dense, Dense];
  /** φout: Dense(F→H, ssp) → Dense(H→H) of the aggregated messages. */
  f2out: [Dense, Dense];
}

/** SchNet: embedding, interaction blocks, atom-wise readout and sum pooling per graph. */
export class SchNet {
  /** Every parameter of the model, built by the constructor. */
  readonly params: ParameterSet = new ParameterSet();
  /** `embedding`: Dense(inNodeNf→H) of h⁰. */
  readonly embedding: Dense;
  /** `interactions.0 …`: the interaction blocks, in order. */
  readonly interactions: Interaction[] = [];
  /** `readout`: the atom-wise MLP Dense(H→H/2, ssp) → Dense(H/2→outNf). */
  readonly readout: [Dense, Dense];
  /** The options with their defaults filled in. */
  readonly o: Required<SchNetOptions>;

  /** Declares the parameters with schnetpack's names and builds them (after `getGpu()`). */
  constructor(options: SchNetOptions) {
    const o = this.o = {
      hiddenNf: 128,
      filterNf: 128,
      nInteractions: 3,
      nGaussians: 50,
      cutoff: 5,
      gamma: 10,
      outNf: 1,
      seed: 0,
      ...options,
    };
    const rng = new Random(o.seed);
    const H = o.hiddenNf, F = o.filterNf;
    this.embedding = dense(this.params, "embedding", o.inNodeNf, H, rng);
    for (let i = 0; i < o.nInteractions; i++) {
      const p = `interactions.${i}`;
      this.interactions.push({
        in2f: dense(this.params, `${p}.in2f`, H, F, rng, { bias: false }),
        filter: [
          dense(this.params, `${p}.filter_network.0`, o.nGaussians, F, rng),
          dense(this.params, `${p}.filter_network.1`, F, F, rng),
        ],
        f2out: [
          dense(this.params, `${p}.f2out.0`, F, H, rng),
          dense(this.params, `${p}.f2out.1`, H, H, rng),
        ],
      });
    }
    this.readout = [
      dense(this.params, "readout.0", H, H / 2, rng),
      dense(this.params, "readout.1", H / 2, o.outNf, rng),
    ];
    this.params.build();
  }

  /** Node-level features after the interactions (N×H). */
  nodeFeatures(h0: Tensor, x: Tensor, graph: DeviceGraph): Tensor {
    const o = this.o;
    const diff = sub(gatherRows(x, graph.receivers), gatherRows(x, graph.senders));
    const rbf = gaussianRbf(rowSquaredNorm(diff), o.nGaussians, o.cutoff, o.gamma);
    let h = applyDense(this.embedding, h0);
    for (const it of this.interactions) {
      const w = applyDense(it.filter[1], shiftedSoftplus(applyDense(it.filter[0], rbf)));
      const v = gatherRows(applyDense(it.in2f, h), graph.senders);
      const agg = segmentSum(mul(v, w), graph.incoming); // Σ_j φs(h_j) ⊙ φcf(d_ij)
      h = add(h, applyDense(it.f2out[1], shiftedSoftplus(applyDense(it.f2out[0], agg))));
    }
    return h;
  }

  /** One prediction per graph: G×outNf. */
  forward(h0: Tensor, x: Tensor, graph: DeviceGraph): Tensor {
    const h = this.nodeFeatures(h0, x, graph);
    const y = applyDense(this.readout[1], shiftedSoftplus(applyDense(this.readout[0], h)));
    return segmentSum(y, graph.nodesOfGraph);
  }
}
