// How gradients flow between ops within a step, beyond any one kernel: what a second
// `backward` in the same step does to the first loss's inputs, and an add's input sharing its
// output's gradient.
import assert from "node:assert/strict";
import {
  add,
  backward,
  endStep,
  fromArray,
  getGpu,
  readMany,
  resetTape,
  scale,
  type Tensor,
} from "../../mod.ts";
import { tapeSwitches } from "../../lib/gpu/tape.ts";
import { pendingCount } from "../../lib/gpu/commands.ts";

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

// An add's input takes the output's gradient as its own (`shareGrad`, no copy): the input's later
// contributions then add into that buffer. Every pattern that could go wrong — an input used
// again after the add (its other contribution comes later in the backward), both inputs the same
// tensor, the other input also eligible (it must get a copy, not the same buffer), a chain of
// adds, and the loss itself an add (the seed must not be written) — gives the gradients of the
// hand-computed derivative, with sharing on and off.
Deno.test("tape: an add's input sharing the output's gradient gives the same gradients as a copy", async () => {
  await getGpu();
  const commands: number[] = [];
  for (const share of [true, false]) {
    tapeSwitches.shareGrads = share;
    try {
      const x = fromArray([1, 2, 3], [3]), y = fromArray([-1, 0.5, 2], [3]);
      x.requiresGrad = y.requiresGrad = true;
      // L = Σ s ⊙ [ (2x + y) + (x + x) + ((x + y) + 3y) ], s the seed
      const a = add(scale(x, 2), y); // x used again below
      const b = add(x, x); // both inputs the same tensor
      const c = add(add(x, y), scale(y, 3)); // a chain: the inner add's inputs are eligible too
      const loss = add(add(a, b), c);
      const seed = fromArray([1, -2, 0.5], [3]);
      const before = pendingCount();
      backward(loss, seed);
      commands.push(pendingCount() - before);
      const [gx, gy, s] = await readMany([x.grad!, y.grad!, seed]);
      // dL/dx = s·(2 + 2 + 1) = 5s; dL/dy = s·(1 + 1 + 3) = 5s
      assert.deepEqual([...gx], [5, -10, 2.5], `dL/dx, sharing ${share}`);
      assert.deepEqual([...gy], [5, -10, 2.5], `dL/dy, sharing ${share}`);
      assert.deepEqual([...s], [1, -2, 0.5], `the seed is left alone, sharing ${share}`);
    } finally {
      tapeSwitches.shareGrads = true;
      resetTape();
      endStep();
    }
  }
  assert.ok(commands[0] < commands[1], `sharing records fewer commands: ${commands}`);
});
