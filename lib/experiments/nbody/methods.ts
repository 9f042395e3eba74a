/**
 * The methods of Table 2 wired as the reference's main_nbody.py wires them: inputs, edge
 * attributes and learning rates, plus the paper's numbers for the table.
 *
 * @module
 */

import type { Tensor } from "../../gpu/tensor.ts";
import type { ParameterSet } from "../../gpu/parameters.ts";
import type { DeviceGraph } from "../../egnn/device_graph.ts";
import { EGNNVel } from "../../egnn/egnn.ts";
import { GNN } from "../../egnn/baselines/gnn.ts";
import { RadialField } from "../../egnn/baselines/radial_field.ts";
import { LinearBaseline, LinearVelBaseline } from "../../egnn/baselines/linear.ts";
import { TFN } from "../../egnn/se3/tfn.ts";
import { SE3Transformer } from "../../egnn/se3/se3_transformer.ts";
import type { NBodyMethod } from "./config.ts";

/** One batch's inputs on the device. */
export interface NBodyBatchTensors {
  /** Positions at the input frame, (B·n)×dim. */
  x: Tensor;
  /** Velocities at the input frame, (B·n)×dim. */
  v: Tensor;
  /** ‖v_i‖, (B·n)×1. */
  vNorm: Tensor;
  /** [x, v] per node, (B·n)×2dim (GNN and Linear inputs). */
  nodes: Tensor;
  /** [q_i q_j, ‖x_i − x_j‖²] per edge, E×2. */
  edgeAttr: Tensor;
  /** q_i q_j per edge, E×1 (the GNN's edge attribute). */
  chargeProduct: Tensor;
  /** q_i per node, (B·n)×1 (the SE(3) models' type-0 input). */
  charges: Tensor;
  /** Positions at the target frame. */
  target: Tensor;
  graph: DeviceGraph;
}

/** A method ready to train: its parameters (null: nothing to train) and forward pass. */
export interface NBodyModel {
  params: ParameterSet | null;
  forward: (b: NBodyBatchTensors) => Tensor;
}

/** The paper's Table 2 row of a method (test MSE; forward time in s on a GTX 1080 Ti). */
export const PAPER_TABLE2: Record<
  NBodyMethod,
  { label: string; mse: number | null; forwardS: number | null }
> = {
  linear: { label: "Linear", mse: 0.0819, forwardS: 0.0001 },
  linear_vel: { label: "Linear (x + t·v)", mse: null, forwardS: null },
  identity: { label: "Identity (x_T = x_0)", mse: null, forwardS: null },
  gnn: { label: "Graph Neural Network", mse: 0.0107, forwardS: 0.0032 },
  tfn: { label: "Tensor Field Network", mse: 0.0155, forwardS: 0.0343 },
  se3_transformer: { label: "SE(3) Transformer", mse: 0.0244, forwardS: 0.1346 },
  rf: { label: "Radial Field", mse: 0.0104, forwardS: 0.0039 },
  egnn: { label: "EGNN", mse: 0.0071, forwardS: 0.0062 },
};

/** The learning rates of the reference's README (main_nbody.py's default 5e-4 otherwise). */
export const REFERENCE_LR: Record<NBodyMethod, number> = {
  egnn: 5e-4,
  gnn: 1e-3,
  rf: 2e-4,
  tfn: 1e-3,
  se3_transformer: 5e-3,
  linear: 5e-4,
  linear_vel: 5e-4,
  identity: 5e-4,
};

/**
 * Builds a method's model.
 *
 * @param method the method
 * @param o widths, depth, coordinate dimension and seed
 */
export function buildNBodyModel(
  method: NBodyMethod,
  o: { hiddenNf: number; nLayers: number; dim: number; seed: number },
): NBodyModel {
  switch (method) {
    case "egnn": {
      const m = new EGNNVel({ hiddenNf: o.hiddenNf, nLayers: o.nLayers, seed: o.seed });
      return {
        params: m.params,
        forward: (b) => m.forward(b.vNorm, b.x, b.v, b.graph, b.edgeAttr),
      };
    }
    case "gnn": {
      const m = new GNN({
        hiddenNf: o.hiddenNf,
        nLayers: o.nLayers,
        inputDim: 2 * o.dim,
        outputDim: o.dim,
        seed: o.seed,
      });
      return { params: m.params, forward: (b) => m.forward(b.nodes, b.graph, b.chargeProduct) };
    }
    case "rf": {
      const m = new RadialField({ hiddenNf: o.hiddenNf, nLayers: o.nLayers, seed: o.seed });
      return {
        params: m.params,
        forward: (b) => m.forward(b.x, b.vNorm, b.v, b.graph, b.edgeAttr),
      };
    }
    case "tfn": {
      const m = new TFN({ seed: o.seed });
      return { params: m.params, forward: (b) => m.forward(b.x, b.v, b.charges, b.graph) };
    }
    case "se3_transformer": {
      const m = new SE3Transformer({ seed: o.seed });
      return { params: m.params, forward: (b) => m.forward(b.x, b.v, b.charges, b.graph) };
    }
    case "linear": {
      const m = new LinearBaseline({ inputDim: 2 * o.dim, outputDim: o.dim, seed: o.seed });
      return { params: m.params, forward: (b) => m.forward(b.nodes) };
    }
    case "linear_vel": {
      const m = new LinearVelBaseline();
      return { params: m.params, forward: (b) => m.forward(b.x, b.v) };
    }
    case "identity":
      return { params: null, forward: (b) => b.x };
  }
}
