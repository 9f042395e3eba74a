/**
 * Losses reduced to one value on the device: MSE, L1 and BCE-with-logits (mean or sum), with
 * their backward kernels; and a device-side meter that accumulates losses across steps so they
 * are read back only when asked.
 *
 * @module
 */

import { empty, fromArray, readMany, type Tensor, unusedBinding } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";
import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { mapInto } from "./elementwise.ts";
import { columnSum, sumAll } from "./reduce.ts";

/** How a loss reduces its elements. */
export type Reduction = "mean" | "sum";

interface LossDef {
  name: string;
  /** Per-element value from prediction av and target bv. */
  value: string;
  /** Per-element d/d(prediction), times cv = d(objective)/d(loss) and params.alpha. */
  grad: string;
}

const MSE: LossDef = { name: "mse", value: "(av - bv) * (av - bv)", grad: "2.0 * (av - bv)" };
const L1: LossDef = { name: "l1", value: "abs(av - bv)", grad: "sign(av - bv)" };
const BCE: LossDef = {
  name: "bceWithLogits",
  // Stable: max(x, 0) − x·y + log(1 + e^−|x|).
  value: "max(av, 0.0) - av * bv + log(1.0 + exp(-abs(av)))",
  grad: "(sigmoid(av) - bv)",
};

function loss(def: LossDef, prediction: Tensor, target: Tensor, reduction: Reduction): Tensor {
  if (prediction.size !== target.size) {
    throw new Error(
      `${def.name}: prediction [${prediction.shape}] and target [${target.shape}] differ in size`,
    );
  }
  const n = prediction.size;
  const alpha = reduction === "mean" ? 1 / Math.max(1, n) : 1;
  const elements = empty([n]);
  mapInto(def.value, elements, prediction, target, prediction);
  const out = empty([1]);
  sumAll(elements, out, false, alpha);
  if (needsGrad(prediction)) {
    recordOp(def.name, out, () => {
      const s = gradSlot(prediction);
      mapInto(`params.alpha * ${def.grad} * cv`, s.grad, prediction, target, gradOf(out)!, {
        cBroadcast: "scalar",
        accumulate: s.accumulate,
        alpha,
      });
    });
  }
  return out;
}

/**
 * Mean (or summed) squared error.
 *
 * @example The MSE of two vectors
 * ```ts
 * import { fromArray, getGpu, mseLoss, read } from "../../../mod.ts";
 * await getGpu();
 * const l = mseLoss(fromArray([1, 2, 3], [3]), fromArray([1, 2, 5], [3]));
 * console.log(await read(l)); // Float32Array [1.3333333730697632]
 * ```
 */
export function mseLoss(
  prediction: Tensor,
  target: Tensor,
  reduction: Reduction = "mean",
): Tensor {
  return loss(MSE, prediction, target, reduction);
}

/** Mean (or summed) absolute error. */
export function l1Loss(
  prediction: Tensor,
  target: Tensor,
  reduction: Reduction = "mean",
): Tensor {
  return loss(L1, prediction, target, reduction);
}

/** Binary cross-entropy on logits, numerically stable. Targets in [0, 1]. */
export function bceWithLogitsLoss(
  logits: Tensor,
  target: Tensor,
  reduction: Reduction = "mean",
): Tensor {
  return loss(BCE, logits, target, reduction);
}

/** Below any loss: the running maximum of a meter with nothing added (an f32). */
const NO_LOSS = -3.4e38;

/**
 * A loss meter's update in one invocation: `acc[0] += alpha · loss[0]` (the weighted sum) and
 * `acc[1] = max(acc[1], loss[0])` (the largest single loss); or, with RESET, both cleared.
 */
const lossMeterKernel = defineKernel({
  name: "loss_meter",
  workgroupSize: 1,
  constants: { RESET: "bool" },
  uniforms: { alpha: "f32" },
  bindings: {
    loss: { type: "f32", access: "read" },
    acc: { type: "f32", access: "read_write" },
  },
  body: (k) =>
    k.RESET
      ? `
  if (index == 0u) { acc[0] = 0.0; acc[1] = ${NO_LOSS.toExponential()}; }`
      : `
  if (index == 0u) {
    let v = loss[0];
    acc[0] = acc[0] + params.alpha * v;
    acc[1] = max(acc[1], v);
  }`,
});

/** What a loss meter read: the weighted mean and the largest single loss since the last reset. */
export interface LossMeterReading {
  /** Weighted mean of the losses added (NaN when none was). */
  mean: number;
  /** The largest loss added, unweighted (NaN when none was): a step that blew up shows here. */
  max: number;
  /** How many losses were added. */
  count: number;
}

/**
 * Accumulates weighted loss values on the device, and the largest of them; reading is the only
 * synchronisation. One dispatch per `add`.
 *
 * @example The mean and the largest of three losses
 * ```ts
 * import { fromArray, getGpu, LossMeter } from "../../../mod.ts";
 * await getGpu();
 * const meter = new LossMeter();
 * for (const v of [1, 4, 2.5]) meter.add(fromArray([v], [1]));
 * const r = await meter.read();
 * console.log(r.mean, r.max, r.count); // 2.5 4 3
 * ```
 */
export class LossMeter {
  private readonly acc: Tensor;
  private count = 0;
  private weightSum = 0;

  constructor() {
    this.acc = fromArray([0, NO_LOSS], [2]).keep();
  }

  /** Records `sum += weight · loss[0]` and `max = max(max, loss[0])` (no synchronisation). */
  add(loss: Tensor, weight = 1): void {
    recordDispatch(lossMeterKernel.variant({ RESET: false }), [loss, this.acc], 1, {
      alpha: weight,
    });
    this.count++;
    this.weightSum += weight;
  }

  /** Number of losses added since the last reset. */
  get added(): number {
    return this.count;
  }

  /** Reads the weighted mean of the losses added since the last reset, and resets. */
  async readMean(): Promise<number> {
    return (await LossMeter.readAll([this]))[0].mean;
  }

  /** Reads the mean and the largest loss added since the last reset, and resets. */
  async read(): Promise<LossMeterReading> {
    return (await LossMeter.readAll([this]))[0];
  }

  /**
   * Reads several meters' means with one synchronisation, and resets them.
   *
   * @param meters the meters
   * @returns their weighted means, in order
   */
  static async readMeans(meters: LossMeter[]): Promise<number[]> {
    return (await LossMeter.readAll(meters)).map((r) => r.mean);
  }

  /**
   * Reads several meters with one synchronisation, and resets them.
   *
   * @param meters the meters
   * @returns each meter's mean, largest loss and count, in order
   */
  static async readAll(meters: LossMeter[]): Promise<LossMeterReading[]> {
    const values = await readMany(meters.map((m) => m.acc));
    return meters.map((m, i) => {
      const none = m.count === 0;
      const r = {
        mean: m.weightSum > 0 ? values[i][0] / m.weightSum : NaN,
        // A NaN loss may or may not win max(); the mean carries it either way.
        max: none ? NaN : values[i][1],
        count: m.count,
      };
      m.reset();
      return r;
    });
  }

  /** Sets the sum and the maximum back (recorded, no synchronisation). */
  reset(): void {
    recordDispatch(lossMeterKernel.variant({ RESET: true }), [unusedBinding(), this.acc], 1, {
      alpha: 0,
    });
    this.count = 0;
    this.weightSum = 0;
  }

  /** Frees the device buffer. */
  dispose(): void {
    this.acc.dispose();
  }
}

/**
 * Per-column sums of absolute errors accumulated on the device (a property's MAE when each
 * column is a property); `readMeans` is the only synchronisation.
 *
 * @example The MAE of each column over two batches
 * ```ts
 * import { AbsErrorMeter, fromArray, getGpu } from "../../../mod.ts";
 * await getGpu();
 * const meter = new AbsErrorMeter(2);
 * meter.add(fromArray([1, 2, 3, 4], [2, 2]), fromArray([0, 2, 3, 8], [2, 2]));
 * meter.add(fromArray([1, 1], [1, 2]), fromArray([2, 1], [1, 2]));
 * console.log(await meter.readMeans()); // [0.6666666865348816, 1.3333333730697632]
 * ```
 */
export class AbsErrorMeter {
  private readonly acc: Tensor;
  private rows = 0;

  /** A meter of `columns` columns. */
  constructor(readonly columns: number) {
    this.acc = fromArray(new Float32Array(columns), [1, columns]).keep();
  }

  /** Records `acc[c] += Σ_r |prediction[r, c] − target[r, c]|` (no synchronisation). */
  add(prediction: Tensor, target: Tensor): void {
    const [r, c] = prediction.shape;
    if (c !== this.columns || target.size !== prediction.size) {
      throw new Error(
        `AbsErrorMeter: prediction [${prediction.shape}] and target [${target.shape}], ` +
          `expected [rows, ${this.columns}] both`,
      );
    }
    const err = empty(prediction.shape);
    mapInto("abs(av - bv)", err, prediction, target, target);
    columnSum(err, this.acc, r, c, true);
    this.rows += r;
  }

  /** Reads the mean absolute error of each column since the last reset, and resets. */
  async readMeans(): Promise<number[]> {
    return (await AbsErrorMeter.readAll([this]))[0];
  }

  /**
   * Reads several meters with one synchronisation, and resets them.
   *
   * @param meters the meters
   * @returns each meter's per-column MAE, in order
   */
  static async readAll(meters: AbsErrorMeter[]): Promise<number[][]> {
    const sums = await readMany(meters.map((m) => m.acc));
    return meters.map((m, i) => {
      const out = Array.from(sums[i], (s) => m.rows > 0 ? s / m.rows : NaN);
      m.reset();
      return out;
    });
  }

  /** Sets the sums to zero (recorded, no synchronisation). */
  reset(): void {
    const u = unusedBinding();
    mapInto("0.0", this.acc, u, u, u);
    this.rows = 0;
  }

  /** Frees the device buffer. */
  dispose(): void {
    this.acc.dispose();
  }
}

/**
 * Binary-classification counts accumulated on the device from logits and 0/1 targets: the summed
 * BCE (on logits), and true positives, false positives and false negatives at probability 0.5
 * (logit > 0); `readAll` is the only synchronisation. The graph autoencoder's metrics (BCE,
 * % error, F1, pooled over a split) come from these.
 *
 * @example Counts of four predictions
 * ```ts
 * import { ConfusionMeter, fromArray, getGpu } from "../../../mod.ts";
 * await getGpu();
 * const meter = new ConfusionMeter();
 * meter.add(fromArray([2, -1, 3, -4], [4]), fromArray([1, 1, 0, 0], [4]));
 * const c = await meter.read();
 * console.log(c.tp, c.fp, c.fn, c.entries); // 1 1 1 4
 * ```
 */
export class ConfusionMeter {
  private readonly acc: Tensor[];
  private entries = 0;

  constructor() {
    this.acc = [0, 1, 2, 3].map(() => fromArray([0], [1]).keep());
  }

  /** Records the counts of `logits` against `target` (same size; no synchronisation). */
  add(logits: Tensor, target: Tensor): void {
    if (logits.size !== target.size) {
      throw new Error(
        `ConfusionMeter: logits [${logits.shape}] and target [${target.shape}] differ in size`,
      );
    }
    const n = logits.size;
    const terms = [
      BCE.value,
      "select(0.0, bv, av > 0.0)", // true positive
      "select(0.0, 1.0 - bv, av > 0.0)", // false positive
      "select(bv, 0.0, av > 0.0)", // false negative
    ];
    terms.forEach((expr, k) => {
      const elements = empty([n]);
      mapInto(expr, elements, logits, target, target);
      sumAll(elements, this.acc[k], true);
    });
    this.entries += n;
  }

  /** Reads the counts since the last reset, and resets. */
  async read(): Promise<{ bceSum: number; tp: number; fp: number; fn: number; entries: number }> {
    return (await ConfusionMeter.readAll([this]))[0];
  }

  /**
   * Reads several meters with one synchronisation, and resets them.
   *
   * @param meters the meters
   * @returns each meter's counts, in order
   */
  static async readAll(
    meters: ConfusionMeter[],
  ): Promise<{ bceSum: number; tp: number; fp: number; fn: number; entries: number }[]> {
    const values = await readMany(meters.flatMap((m) => m.acc));
    return meters.map((m, i) => {
      const [bceSum, tp, fp, fn] = [0, 1, 2, 3].map((k) => values[4 * i + k][0]);
      const out = { bceSum, tp, fp, fn, entries: m.entries };
      m.reset();
      return out;
    });
  }

  /** Sets the counts to zero (recorded, no synchronisation). */
  reset(): void {
    const u = unusedBinding();
    for (const a of this.acc) mapInto("0.0", a, u, u, u, { n: 1 });
    this.entries = 0;
  }

  /** Frees the device buffers. */
  dispose(): void {
    for (const a of this.acc) a.dispose();
  }
}
