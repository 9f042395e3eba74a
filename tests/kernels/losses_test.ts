// MSE, L1 and BCE-with-logits, mean and sum, against tests/reference/losses.ts. The backward
// seed is a random scalar (dObjective/dLoss ≠ 1), so its use in the backward is checked too.
// Targets take no gradient (checks: see check_op.ts).
import assert from "node:assert/strict";
import {
  add,
  bceWithLogitsLoss,
  fromArray,
  getGpu,
  l1Loss,
  LossMeter,
  mseLoss,
  type Tensor,
} from "../../mod.ts";
import { lossBackward, lossForward, type LossKind, type Reduction } from "../reference/losses.ts";
import { Random, toF32 } from "../reference/random.ts";
import { checkOp } from "./check_op.ts";

const GPU_LOSS: Record<LossKind, (p: Tensor, t: Tensor, r: Reduction) => Tensor> = {
  mse: mseLoss,
  l1: l1Loss,
  bceWithLogits: bceWithLogitsLoss,
};

/** Predictions and targets that suit each loss. */
function data(kind: LossKind, n: number, rng: Random): [Float64Array, Float64Array] {
  const prediction = rng.normals(n, kind === "bceWithLogits" ? 3 : 1);
  if (kind === "l1") {
    // Residuals at least 0.1 from L1's kink at 0, either sign.
    const offsets = rng.uniforms(n, 0.1, 1).map((v, i) => (i % 2 ? v : -v));
    return [prediction, toF32(prediction.map((v, i) => v + offsets[i]))];
  }
  if (kind === "bceWithLogits") {
    prediction[0] = 30; // large logits: the stable form must not overflow
    prediction[1] = -30;
    const target = rng.uniforms(n, 0, 1);
    target[2] = 0;
    target[3] = 1;
    return [prediction, target];
  }
  return [prediction, rng.normals(n)];
}

for (const kind of ["mse", "l1", "bceWithLogits"] as const) {
  for (const reduction of ["mean", "sum"] as const) {
    Deno.test(`${kind}Loss (${reduction}): value and gradient match the float64 reference (37×3)`, async () => {
      const rng = new Random(kind.length * 10 + reduction.length);
      const [prediction, target] = data(kind, 111, rng);
      // The mean MSE takes a [37, 1] prediction against a [37] target: sizes must agree, not shapes.
      const shapes = kind === "mse" && reduction === "mean"
        ? [[111, 1], [111]]
        : [[37, 3], [37, 3]];
      await checkOp({
        name: `${kind} ${reduction}`,
        inputs: [
          { name: "prediction", data: prediction, shape: shapes[0] },
          { name: "target", data: target, shape: shapes[1], grad: false },
        ],
        gpu: ([p, t]) => GPU_LOSS[kind](p, t, reduction),
        forward: ([p, t]) => Float64Array.of(lossForward(kind, p, t, reduction)),
        backward: ([p, t], seed) => [lossBackward(kind, p, t, reduction, seed[0]), null],
        kinks: kind === "l1" ? ([p, t]) => p.map((v, i) => v - t[i]) : undefined,
      });
    });
  }
}

Deno.test("losses: mse + l1 + bce of one prediction accumulate its gradient", async () => {
  const rng = new Random(81);
  const [prediction, target] = data("l1", 37, rng); // residuals away from L1's kink
  const kinds = ["mse", "l1", "bceWithLogits"] as const;
  const reductions = ["mean", "sum", "mean"] as const;
  await checkOp({
    name: "mse + l1 + bce",
    inputs: [
      { name: "prediction", data: prediction, shape: [37, 1] },
      {
        name: "target",
        data: target.map((v) => Math.fround(Math.min(Math.max(v, 0), 1))),
        shape: [37, 1],
        grad: false,
      },
    ],
    gpu: ([p, t]) => add(add(mseLoss(p, t), l1Loss(p, t, "sum")), bceWithLogitsLoss(p, t)),
    forward: ([p, t]) =>
      Float64Array.of(kinds.reduce((s, k, i) => s + lossForward(k, p, t, reductions[i]), 0)),
    backward: ([p, t], seed) => {
      const g = kinds.map((k, i) => lossBackward(k, p, t, reductions[i], seed[0]));
      return [p.map((_, j) => g[0][j] + g[1][j] + g[2][j]), null];
    },
    kinks: ([p, t]) => p.map((v, i) => v - t[i]),
  });
});

Deno.test("LossMeter: weighted mean, largest loss and count over steps, per meter, reset by reading", async () => {
  await getGpu();
  const rng = new Random(82);
  const a = new LossMeter(), b = new LossMeter();
  try {
    // Losses of either sign (a meter is not only for non-negative losses), weights not 1.
    const losses = Array.from(toF32(rng.normals(23, 5)));
    const weights = Array.from(toF32(rng.uniforms(23, 0.5, 3)));
    losses[7] = 40; // one step far above the rest
    for (let i = 0; i < losses.length; i++) a.add(fromArray([losses[i]], [1]), weights[i]);
    b.add(fromArray([-2], [1]));
    b.add(fromArray([-3], [1]));
    const [ra, rb] = await LossMeter.readAll([a, b]);
    const weightSum = weights.reduce((s, w) => s + w, 0);
    const mean = losses.reduce((s, v, i) => s + v * weights[i], 0) / weightSum;
    assert.ok(
      Math.abs(ra.mean - mean) <= 1e-5 * Math.max(1, Math.abs(mean)),
      `${ra.mean} vs ${mean}`,
    );
    assert.equal(ra.max, 40);
    assert.equal(ra.count, 23);
    // All negative: the maximum is the largest of them, not the meter's starting value.
    assert.deepEqual(rb, { mean: -2.5, max: -2, count: 2 });
    // Reading reset both: nothing added reads NaN; new losses start afresh.
    const empty = await a.read();
    assert.ok(Number.isNaN(empty.mean) && Number.isNaN(empty.max) && empty.count === 0);
    a.add(fromArray([1.5], [1]));
    assert.deepEqual(await a.read(), { mean: 1.5, max: 1.5, count: 1 });
  } finally {
    a.dispose();
    b.dispose();
  }
});
