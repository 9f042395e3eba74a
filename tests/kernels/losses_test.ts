// MSE, L1 and BCE-with-logits, mean and sum, against tests/reference/losses.ts. The backward
// seed is a random scalar (dObjective/dLoss ≠ 1), so its use in the backward is checked too.
// Targets take no gradient (checks: see check_op.ts).
import { add, bceWithLogitsLoss, l1Loss, mseLoss, type Tensor } from "../../mod.ts";
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
