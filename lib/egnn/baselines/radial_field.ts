/**
 * The Radial Field baseline (Köhler et al. 2019) as the reference's `GCL_rf_vel` / `RF_vel`
 * (N-body, 2,052 parameters) and `GCL_rf` (autoencoder): coordinates only, no node features.
 *
 * m_ij = (x_i − x_j) · φ([‖x_i − x_j‖, a_ij]), φ = Linear→SiLU→Linear(no bias, xavier 0.001)
 * [→ Tanh for the velocity variant]; x_i ← x_i + mean_j m_ij [+ v_i · φv(‖v_i‖)]
 * [− reg · x_i for the autoencoder]. The distance is not squared, and is taken as
 * √(r² + ε) so its gradient stays finite at coincident points.
 *
 * @module
 */

import { ParameterSet } from "../../gpu/parameters.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { add, clampedMul, mul, scale, sub, unary } from "../../gpu/kernels/elementwise.ts";
import { gatherRows, segmentMean } from "../../gpu/kernels/segment.ts";
import { concat } from "../../gpu/kernels/columns.ts";
import { rowSquaredNorm } from "../../gpu/kernels/rownorm.ts";
import { Random } from "../../random.ts";
import { applyDense, type Dense, dense } from "../nn.ts";
import type { DeviceGraph } from "../device_graph.ts";

/** Options of one Radial Field layer. */
export interface RadialFieldLayerOptions {
  /** Hidden width of φ (and φv). */
  hiddenNf: number;
  /** Width of a_ij (default 0). */
  edgeAttrNf?: number;
  /** Velocity variant (`GCL_rf_vel`): tanh on φ and + v·φv(‖v‖). */
  velocity?: boolean;
  /** Clamp messages to ±100 (`GCL_rf` with clamp, the autoencoder). */
  clampMessages?: boolean;
  /** x ← x − reg·x after the update (`GCL_rf`'s reg, the autoencoder: 1e-3). */
  reg?: number;
}

/** One Radial Field layer. */
export class RadialFieldLayer {
  /** φ: Linear([‖x_i − x_j‖, a_ij]→H)→SiLU→Linear(H→1, no bias) [→ Tanh]. */
  readonly phi: [Dense, Dense];
  /** φv: Linear(1→H)→SiLU→Linear(H→1) of ‖v_i‖, or null without `velocity`. */
  readonly velMlp: [Dense, Dense] | null;
  /** Width of a_ij. */
  readonly edgeAttrNf: number;

  /**
   * Declares the layer's parameters under `prefix` with the reference's names
   * (`coord_mlp_vel.0`, `coord_mlp_vel.2`, `phi.0`, `phi.2`).
   */
  constructor(ps: ParameterSet, prefix: string, readonly o: RadialFieldLayerOptions, rng: Random) {
    const p = prefix ? prefix + "." : "";
    this.edgeAttrNf = o.edgeAttrNf ?? 0;
    const H = o.hiddenNf;
    // Declaration order of the reference: coord_mlp_vel first (GCL_rf_vel), then phi.
    this.velMlp = o.velocity
      ? [dense(ps, `${p}coord_mlp_vel.0`, 1, H, rng), dense(ps, `${p}coord_mlp_vel.2`, H, 1, rng)]
      : null;
    this.phi = [
      dense(ps, `${p}phi.0`, 1 + this.edgeAttrNf, H, rng),
      dense(ps, `${p}phi.2`, H, 1, rng, { bias: false, xavierGain: 0.001 }),
    ];
  }

  /** x: N×n; velNorm N×1 and vel N×n for the velocity variant. */
  forward(
    x: Tensor,
    graph: DeviceGraph,
    edgeAttr?: Tensor | null,
    velNorm?: Tensor | null,
    vel?: Tensor | null,
  ): Tensor {
    const diff = sub(gatherRows(x, graph.receivers), gatherRows(x, graph.senders));
    const dist = unary(rowSquaredNorm(diff), "distance", "safeSqrt(av)", "0.5 / safeSqrt(bv)");
    const parts = [dist];
    if (this.edgeAttrNf > 0) {
      if (!edgeAttr) throw new Error("RadialFieldLayer: edgeAttrNf > 0 but no edgeAttr given");
      parts.push(edgeAttr);
    }
    const phi = applyDense(
      this.phi[1],
      applyDense(this.phi[0], parts.length > 1 ? concat(parts) : dist, "silu"),
      this.o.velocity ? "tanh" : "none",
    );
    const m = this.o.clampMessages ? clampedMul(diff, phi, -100, 100) : mul(diff, phi);
    let out = add(x, segmentMean(m, graph.incoming));
    if (this.velMlp) {
      if (!velNorm || !vel) throw new Error("RadialFieldLayer: velocity variant needs vel");
      out = add(
        out,
        mul(vel, applyDense(this.velMlp[1], applyDense(this.velMlp[0], velNorm, "silu"))),
      );
    }
    if (this.o.reg) out = sub(out, scale(x, this.o.reg)); // the reference decays the layer's input x
    return out;
  }
}

/** Options of the N-body Radial Field model. */
export interface RadialFieldOptions {
  /** Hidden width of every layer (default 64). */
  hiddenNf?: number;
  /** Edge attribute width (default 2: q_i q_j and ‖x⁰_i − x⁰_j‖²). */
  edgeAttrNf?: number;
  /** Layers (default 4). */
  nLayers?: number;
  /** Seed of the parameter initialisation (default 0). */
  seed?: number;
}

/** The reference's N-body `RF_vel`: 4 × `GCL_rf_vel(64, edge_attr_nf=2)`, output positions. */
export class RadialField {
  /** Every parameter of the model, built by the constructor. */
  readonly params: ParameterSet = new ParameterSet();
  /** `gcl_0 …`: the `GCL_rf_vel` layers, in order. */
  readonly layers: RadialFieldLayer[] = [];

  /** Declares the parameters with the reference's names and builds them (after `getGpu()`). */
  constructor(readonly options: RadialFieldOptions = {}) {
    const rng = new Random(options.seed ?? 0);
    for (let i = 0; i < (options.nLayers ?? 4); i++) {
      this.layers.push(
        new RadialFieldLayer(this.params, `gcl_${i}`, {
          hiddenNf: options.hiddenNf ?? 64,
          edgeAttrNf: options.edgeAttrNf ?? 2,
          velocity: true,
        }, rng),
      );
    }
    this.params.build();
  }

  /** x, vel: N×n; velNorm: N×1; edgeAttr: E×2 ([q_i q_j, ‖x⁰_i − x⁰_j‖²]). */
  forward(
    x: Tensor,
    velNorm: Tensor,
    vel: Tensor,
    graph: DeviceGraph,
    edgeAttr: Tensor | null,
  ): Tensor {
    let xx = x;
    for (const layer of this.layers) xx = layer.forward(xx, graph, edgeAttr, velNorm, vel);
    return xx;
  }
}
