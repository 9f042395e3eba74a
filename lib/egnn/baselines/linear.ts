/**
 * The linear N-body baselines of the reference: `Linear` (Linear(6→3) on [x, v], 21 parameters)
 * and `LinearVel` (x + t·v with one learnable t initialised at 0.7).
 *
 * @module
 */

import { ParameterSet } from "../../gpu/parameters.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { add, mul } from "../../gpu/kernels/elementwise.ts";
import { Random } from "../../random.ts";
import { applyDense, type Dense, dense } from "../nn.ts";

/** `Linear(6→3)` applied per node to [x, v]. */
export class LinearBaseline {
  /** Every parameter of the model, built by the constructor. */
  readonly params: ParameterSet = new ParameterSet();
  /** `linear`: Linear(inputDim→outputDim), default 6→3. */
  readonly linear: Dense;

  /** Declares `linear.weight` and `linear.bias` and builds them (after `getGpu()`). */
  constructor(options: { inputDim?: number; outputDim?: number; seed?: number } = {}) {
    const rng = new Random(options.seed ?? 0);
    this.linear = dense(this.params, "linear", options.inputDim ?? 6, options.outputDim ?? 3, rng);
    this.params.build();
  }

  /** nodes: N×6 ([x, v]); returns N×3. */
  forward(nodes: Tensor): Tensor {
    return applyDense(this.linear, nodes);
  }
}

/** x + t·v with one learnable scalar t (init 0.7). */
export class LinearVelBaseline {
  /** Every parameter of the model, built by the constructor. */
  readonly params: ParameterSet = new ParameterSet();
  /** `time`: the learnable t, shape [1]. */
  readonly time: Tensor;

  constructor() {
    this.time = this.params.add("time", [1], new Float32Array([0.7]));
    this.params.build();
  }

  /** x, v: N×n. */
  forward(x: Tensor, v: Tensor): Tensor {
    return add(x, mul(v, this.time));
  }
}
