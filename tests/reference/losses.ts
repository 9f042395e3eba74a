/**
 * Float64 reference of the losses (MSE, L1, BCE-with-logits; mean or sum) and their gradient
 * with respect to the prediction, PyTorch's definitions (L1's derivative at 0 is 0).
 *
 * @module
 */

/** Which loss. */
export type LossKind = "mse" | "l1" | "bceWithLogits";
/** How the per-element losses are reduced. */
export type Reduction = "mean" | "sum";

function elementLoss(kind: LossKind, x: number, y: number): number {
  switch (kind) {
    case "mse":
      return (x - y) ** 2;
    case "l1":
      return Math.abs(x - y);
    case "bceWithLogits":
      // −[y·log σ(x) + (1−y)·log(1−σ(x))], written without overflow.
      return Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
  }
}

function elementGrad(kind: LossKind, x: number, y: number): number {
  switch (kind) {
    case "mse":
      return 2 * (x - y);
    case "l1":
      return Math.sign(x - y);
    case "bceWithLogits":
      return 1 / (1 + Math.exp(-x)) - y;
  }
}

/** The reduced loss of a prediction against a target of the same size. */
export function lossForward(
  kind: LossKind,
  prediction: Float64Array,
  target: Float64Array,
  reduction: Reduction,
): number {
  let s = 0;
  for (let i = 0; i < prediction.length; i++) s += elementLoss(kind, prediction[i], target[i]);
  return reduction === "mean" ? s / Math.max(1, prediction.length) : s;
}

/** d(objective)/d(prediction), given dLoss = d(objective)/d(loss). */
export function lossBackward(
  kind: LossKind,
  prediction: Float64Array,
  target: Float64Array,
  reduction: Reduction,
  dLoss: number,
): Float64Array {
  const f = reduction === "mean" ? 1 / Math.max(1, prediction.length) : 1;
  return prediction.map((x, i) => f * dLoss * elementGrad(kind, x, target[i]));
}
