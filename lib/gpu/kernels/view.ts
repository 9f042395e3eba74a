/**
 * `view`: a differentiable reshape. `Tensor.reshape` shares the buffer but carries no gradient
 * path; this op copies the data into a temporary of the new shape (one copy command) and its
 * backward copies (or adds) the gradient back in the old shape. A copy rather than an aliasing
 * view so that the output is an ordinary temporary whose gradient the tape frees with the step.
 *
 * @module
 */

import { recordCopy } from "../commands.ts";
import { empty, type Tensor } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";
import { mapInto } from "./elementwise.ts";

/**
 * The same values in another shape of the same size, with the gradient flowing back.
 *
 * @param x any tensor
 * @param shape the new dimensions (same number of elements)
 * @returns a temporary copy of x with that shape
 * @example Rows of three as one row
 * ```ts
 * import { fromArray, getGpu, read } from "../../../mod.ts";
 * import { view } from "./view.ts";
 * await getGpu();
 * console.log((await read(view(fromArray([1, 2, 3, 4, 5, 6], [2, 3]), [1, 6]))).length); // 6
 * ```
 */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== x.size) throw new Error(`view: [${x.shape}] has ${x.size} elements, not ${n}`);
  const out = empty(shape, x.dtype);
  recordCopy(x, out);
  if (needsGrad(x)) {
    recordOp("view", out, () => {
      const d = gradOf(out)!;
      const s = gradSlot(x);
      if (s.accumulate) {
        const g = s.grad.reshape(shape);
        mapInto("av", g, d, d, d, { accumulate: true });
      } else recordCopy(d, s.grad);
    });
  }
  return out;
}
