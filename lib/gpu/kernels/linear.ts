/**
 * `linear`: `y = act(x·W + b)` with W stored in×out (K×N), and its backward:
 * `dZ = dY ⊙ act'`, `dX = dZ·Wᵀ`, `dW = Xᵀ·dZ`, `db = Σ_rows dZ`. The layer declares its
 * activation to the tape, so a following layer's dX product can write this layer's dZ directly
 * (its epilogue multiplies by act'), and it takes its own input's gradient the same way.
 *
 * @module
 */

import { empty, type Tensor } from "../tensor.ts";
import {
  declareActivation,
  gradSlot,
  gradSlotThroughActivation,
  needsGrad,
  recordOp,
  shareGrad,
} from "../tape.ts";
import { type Activation, matmul } from "./matmul.ts";
import { activationOf, mapInto, preActivationGrad } from "./elementwise.ts";
import { recordClear, recordCopy } from "../commands.ts";
import { columnSum } from "./reduce.ts";

/** Whether `below` (n values) starts right after the K×N matrix `above` in the same buffer. */
function follows(above: Tensor, below: Tensor): boolean {
  return above.shape.length === 2 && below.size === above.shape[1] &&
    below.buffer === above.buffer && below.offset === above.offset + above.bytes;
}

/** Whether [dW; db] may be one product (switch for the comparison tests; default true). */
export const linearSwitches: { jointBiasGrad: boolean } = { jointBiasGrad: true };

/**
 * Records a layer's dW = Xᵀ·dZ (K×N) and db = 1ᵀ·dZ: one product [dW; db] (`matmul`'s
 * `onesRow`) when the bias's gradient follows the weight's in one buffer, as in a ParameterSet
 * (a slot that would be overwritten is cleared first, when the other adds), else two.
 *
 * @param x the layer's input, M×K
 * @param dz the gradient of its pre-activation, M×N
 * @param weight K×N (or a row view of a larger weight, see `rowBlock`)
 * @param bias N values, or null
 * @param m rows of x
 * @param k columns of x
 * @param n columns of dz
 */
export function weightAndBiasGrads(
  x: Tensor,
  dz: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  m: number,
  k: number,
  n: number,
): void {
  const sw = weight.requiresGrad ? gradSlot(weight) : null;
  const sb = bias?.requiresGrad ? gradSlot(bias) : null;
  if (linearSwitches.jointBiasGrad && sw && sb && follows(sw.grad, sb.grad)) {
    const accumulate = sw.accumulate || sb.accumulate;
    if (accumulate && !sw.accumulate) recordClear(sw.grad);
    if (accumulate && !sb.accumulate) recordClear(sb.grad);
    matmul(x, dz, sw.grad.spanRows(k + 1), {
      m: k + 1,
      n,
      k: m,
      transA: true,
      accumulate,
      fixedK: false,
      onesRow: true,
    });
    return;
  }
  if (sw) {
    matmul(x, dz, sw.grad, {
      m: k,
      n,
      k: m,
      transA: true,
      accumulate: sw.accumulate,
      fixedK: false,
    });
  }
  if (sb) columnSum(dz, sb.grad, m, n, sb.accumulate);
}

function check2d(t: Tensor, what: string): [number, number] {
  if (t.shape.length !== 2) throw new Error(`linear: ${what} must be 2-D, got [${t.shape}]`);
  return [t.shape[0], t.shape[1]];
}

/**
 * A dense layer with optional fused activation.
 *
 * @param x input, M×K
 * @param weight K×N (in×out; PyTorch's `weight` transposed)
 * @param bias N values, or null
 * @param activation applied after the bias
 * @param residual M×N added to the output (eq. 6's h + φh(·)), only without activation: y starts
 *   as a copy of it and the product and bias are added in the same dispatch; its gradient is the
 *   output's, with no copy for the product's own
 * @returns y, M×N (a temporary)
 * @example A 2→3 layer on one row
 * ```ts
 * import { fromArray, getGpu, linear, read } from "../../../mod.ts";
 * await getGpu();
 * const x = fromArray([1, 2], [1, 2]);
 * const w = fromArray([1, 0, 1, 0, 1, 1], [2, 3]);
 * const y = linear(x, w, fromArray([0, 0, 0.5], [3]), "relu");
 * console.log(await read(y)); // Float32Array [1, 2, 3.5]
 * ```
 */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  activation: Activation = "none",
  residual: Tensor | null = null,
): Tensor {
  const [m, k] = check2d(x, "x");
  const [wk, n] = check2d(weight, "weight");
  if (wk !== k) {
    throw new Error(
      `linear: x is [${x.shape}] but weight is [${weight.shape}] (expected [${k}, n])`,
    );
  }
  if (bias && bias.size !== n) {
    throw new Error(`linear: bias has ${bias.size} values for ${n} outputs`);
  }
  if (residual && (activation !== "none" || residual.shape.join() !== `${m},${n}`)) {
    throw new Error(
      `linear: a residual must be [${m}, ${n}] with no activation, got [${residual.shape}] ` +
        `and ${activation}`,
    );
  }
  const y = empty([m, n]);
  const grad = needsGrad(x, weight, bias, residual);
  const z = grad && activation === "silu" ? empty([m, n]) : null;
  if (residual) {
    recordCopy(residual, y);
    matmul(x, weight, y, { m, n, k, bias, accumulate: true });
  } else matmul(x, weight, y, { m, n, k, bias, activation, z });
  if (grad) {
    declareActivation(y, activationOf(activation, z ?? y));
    recordOp("linear", y, () => {
      const dz = preActivationGrad(y, activation, z ?? y);
      // The residual may take dZ as its gradient unless it is x too (dX would then be added
      // into the dZ its own product reads).
      if (residual?.requiresGrad && (residual === x || !shareGrad(residual, dz))) {
        const s = gradSlot(residual);
        if (s.accumulate) mapInto("av", s.grad, dz, dz, dz, { accumulate: true });
        else recordCopy(dz, s.grad);
      }
      if (x.requiresGrad) {
        // When x is itself an activation's output, dX comes out as its layer's dZ.
        const s = gradSlotThroughActivation(x);
        matmul(dz, weight, s.grad, {
          m,
          n: k,
          k: n,
          transB: true,
          accumulate: s.accumulate,
          activationGrad: s.activation,
        });
      }
      weightAndBiasGrads(x, dz, weight, bias, m, k, n);
    });
  }
  return y;
}
