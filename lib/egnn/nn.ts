/**
 * Dense layers and small MLPs with the reference's (PyTorch's) parameter names and
 * initialisation, on a ParameterSet. Weights are stored in×out (PyTorch's `weight` transposed).
 *
 * PyTorch's default init of `nn.Linear(in, out)`: weight and bias U(±1/√in)
 * (kaiming-uniform with a = √5). `xavierGain` gives U(±g·√(6/(in+out))) for the weight, as the
 * reference's last layer of φx (gain 0.001). Values are drawn in PyTorch's (out, in) order.
 *
 * @module
 */

import type { ParameterSet } from "../gpu/parameters.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { linear } from "../gpu/kernels/linear.ts";
import type { Activation } from "../gpu/kernels/matmul.ts";
import type { Random } from "../random.ts";

/** A dense layer's parameters. */
export interface Dense {
  /** The PyTorch module path, e.g. `gcl_0.edge_mlp.0`. */
  name: string;
  /** in×out (PyTorch's `weight` transposed). */
  weight: Tensor;
  /** out, or null without a bias. */
  bias: Tensor | null;
  /** Input width. */
  inFeatures: number;
  /** Output width. */
  outFeatures: number;
}

/** Options of a dense layer. */
export interface DenseOptions {
  /** Whether the layer has a bias (default true). */
  bias?: boolean;
  /** Xavier-uniform weight init with this gain instead of PyTorch's default. */
  xavierGain?: number;
}

/**
 * Declares `nn.Linear(inFeatures, outFeatures)` as `<name>.weight` and `<name>.bias`.
 *
 * @param ps the parameter set
 * @param name the PyTorch module path, e.g. `gcl_0.edge_mlp.0`
 * @param inFeatures input width
 * @param outFeatures output width
 * @param rng the seeded generator for the initial values
 * @param o bias and init options
 */
export function dense(
  ps: ParameterSet,
  name: string,
  inFeatures: number,
  outFeatures: number,
  rng: Random,
  o: DenseOptions = {},
): Dense {
  const bound = o.xavierGain !== undefined
    ? o.xavierGain * Math.sqrt(6 / (inFeatures + outFeatures))
    : 1 / Math.sqrt(inFeatures);
  const w = new Float32Array(inFeatures * outFeatures);
  for (let out = 0; out < outFeatures; out++) {
    for (let i = 0; i < inFeatures; i++) w[i * outFeatures + out] = rng.uniformIn(-bound, bound);
  }
  const weight = ps.add(`${name}.weight`, [inFeatures, outFeatures], w);
  let bias: Tensor | null = null;
  if (o.bias ?? true) {
    const bb = 1 / Math.sqrt(inFeatures);
    const b = Float32Array.from({ length: outFeatures }, () => rng.uniformIn(-bb, bb));
    bias = ps.add(`${name}.bias`, [outFeatures], b);
  }
  return { name, weight, bias, inFeatures, outFeatures };
}

/**
 * Applies a dense layer with an optional fused activation.
 *
 * @param layer the layer
 * @param x N×in
 * @param act activation after the bias
 * @param residual N×out added to the output in the same dispatch (no activation; `linear`)
 * @returns N×out
 */
export function applyDense(
  layer: Dense,
  x: Tensor,
  act: Activation = "none",
  residual: Tensor | null = null,
): Tensor {
  return linear(x, layer.weight, layer.bias, act, residual);
}
