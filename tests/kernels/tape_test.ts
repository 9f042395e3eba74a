// How gradients flow between ops within a step, beyond any one kernel: what a second
// `backward` in the same step does to the first loss's inputs.
import assert from "node:assert/strict";
import {
  backward,
  endStep,
  fromArray,
  getGpu,
  readMany,
  resetTape,
  scale,
  type Tensor,
} from "../../mod.ts";

function keptInput(values: number[]): Tensor {
  const t = fromArray(values, [values.length]).keep();
  t.requiresGrad = true;
  return t;
}

// A second `backward` in one step must not replay the first loss's nodes (that would add their
// gradients twice). The engine refuses it with an error; independent gradients would also do.
Deno.test("tape: a second backward in one step leaves the first loss's gradients alone (or throws)", async () => {
  await getGpu();
  const x1 = keptInput([1, 2, 3]), x2 = keptInput([4, 5, 6]);
  try {
    const ones = () => fromArray([1, 1, 1], [3]);
    backward(scale(x1, 2), ones());
    let refused = false;
    try {
      backward(scale(x2, 3), ones());
    } catch {
      refused = true;
    }
    if (!refused) {
      const [d1, d2] = await readMany([x1.grad!, x2.grad!]);
      assert.deepEqual(Array.from(d2), [3, 3, 3], "d(3·x2)/dx2");
      assert.deepEqual(
        Array.from(d1),
        [2, 2, 2],
        `d(2·x1)/dx1 became ${Array.from(d1)} after a second, unrelated backward: ` +
          `backward() re-ran the first graph (lib/gpu/tape.ts, backward)`,
      );
    }
  } finally {
    resetTape();
    endStep();
    x1.dispose();
    x2.dispose();
  }
});
