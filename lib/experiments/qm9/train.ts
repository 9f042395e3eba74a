/**
 * Training the QM9 model as main_qm9.py does: Adam (weight decay 1e-16), shuffled batches of 96
 * molecules (the last partial batch kept, as the reference's loader), L1 loss on normalised
 * targets, a cosine learning-rate schedule, validation and test MAE (in the paper's units) after
 * every `evalEvery` epochs, and each property's test MAE reported at its epoch of lowest
 * validation MAE.
 *
 * Each training step is one submission; the training loss is read once per epoch (a non-finite
 * loss stops the run naming the epoch), validation and test MAEs once per evaluation. A
 * checkpoint — parameters, Adam's moments, the shuffling generator, the learning curve — is
 * written atomically at every evaluation; `resume` continues from it to the same final numbers.
 *
 * @module
 */

import { Adam, cosineLr } from "../../gpu/optim.ts";
import { endStep } from "../../gpu/tensor.ts";
import { submit } from "../../gpu/commands.ts";
import { noGrad, resetTape } from "../../gpu/tape.ts";
import { trainStep } from "../../gpu/step.ts";
import { AbsErrorMeter, l1Loss, LossMeter } from "../../gpu/kernels/losses.ts";
import type { QM9Model } from "../../egnn/qm9_model.ts";
import { Random } from "../../random.ts";
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from "../training_checkpoint.ts";
import { Progress } from "../../cli/progress.ts";
import type { Qm9Data, Qm9Split } from "./data.ts";
import { uploadQm9Batch } from "./batches.ts";

/** One evaluation of the learning curve (MAEs per property, in the paper's units). */
export interface Qm9CurvePoint {
  epoch: number;
  lr: number;
  trainLoss: number;
  valMae: number[];
  testMae: number[];
  elapsedS: number;
}

/** The best epoch of one property. */
export interface Qm9Best {
  epoch: number;
  valMae: number;
  testMae: number;
}

/** What training one model produced. */
export interface Qm9TrainResult {
  /** Per property (the model's outputs), the test MAE at its lowest validation MAE. */
  best: Qm9Best[];
  epochs: number;
  wallS: number;
  curve: Qm9CurvePoint[];
  resumedFromEpoch: number | null;
}

/** How to train. */
export interface Qm9TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  schedule: "reference" | "paper" | "none";
  evalEvery: number;
  seed: number;
  checkpointPath: string;
  resume: boolean;
  /** Stops after this many epochs of this call (tests of interruption). */
  stopAfterEpochs?: number;
  quiet?: boolean;
  label: string;
  /**
   * Called with the learning curve so far after every evaluation's checkpoint (run.ts writes the
   * curve CSV there, so a killed run leaves a curve as recent as its checkpoint).
   */
  onEvaluation?: (curve: readonly Qm9CurvePoint[]) => Promise<void>;
}

/**
 * The learning rate of training epoch `epoch`. The reference steps `CosineAnnealingLR(T_max =
 * epochs)` at the top of each of its three `train()` calls per epoch (train, valid, test), so
 * training epoch e runs at step 3e + 1: 1.5 cosine periods over the run. `paper` is the single
 * half-cosine the paper describes.
 */
export function scheduledLr(
  base: number,
  epoch: number,
  epochs: number,
  schedule: "reference" | "paper" | "none",
): number {
  if (schedule === "none") return base;
  if (schedule === "paper") return cosineLr(base, epoch, epochs);
  return cosineLr(base, 3 * epoch + 1, epochs);
}

/** Records the forward pass over a split into `meter` (normalised absolute errors). */
function evaluateInto(
  model: QM9Model,
  split: Qm9Split,
  data: Qm9Data,
  batchSize: number,
  meter: AbsErrorMeter,
): void {
  for (let start = 0; start < split.count; start += batchSize) {
    const mols: number[] = [];
    for (let m = start; m < Math.min(split.count, start + batchSize); m++) mols.push(m);
    const b = uploadQm9Batch(split, mols, data.mean, data.mad);
    noGrad(() => meter.add(model.forward(b.h0, b.x, b.graph), b.target));
    endStep();
    b.dispose();
  }
}

/**
 * Trains one QM9 model (one output per property of `data`) and returns its result, or resumes
 * it from its checkpoint.
 *
 * @param model the model (outNf = data.properties.length)
 * @param data the splits and normalisation
 * @param o the protocol
 */
export async function trainQm9Model(
  model: QM9Model,
  data: Qm9Data,
  o: Qm9TrainOptions,
): Promise<Qm9TrainResult> {
  const t0 = performance.now();
  const k = data.properties.length;
  const rng = new Random(o.seed);
  const opt = new Adam(model.params, { lr: o.lr, weightDecay: o.weightDecay });
  const trainMeter = new LossMeter();
  const valMeter = new AbsErrorMeter(k), testMeter = new AbsErrorMeter(k);
  let curve: Qm9CurvePoint[] = [];
  let best: Qm9Best[] = data.properties.map(() => ({ epoch: -1, valMae: Infinity, testMae: NaN }));
  let startEpoch = 0, wallBefore = 0;
  let resumedFromEpoch: number | null = null;

  if (o.resume) {
    const meta = await loadTrainingCheckpoint(o.checkpointPath, model.params, opt, {
      lr: o.lr,
      seed: o.seed,
      properties: data.properties,
    }) as {
      epoch: number;
      rng: number[];
      curve: Qm9CurvePoint[];
      best: Qm9Best[];
      wallS: number;
    } | null;
    if (meta) {
      rng.setState(meta.rng);
      curve = meta.curve;
      best = meta.best;
      startEpoch = meta.epoch + 1;
      wallBefore = meta.wallS;
      resumedFromEpoch = meta.epoch;
    }
  }

  const progress = new Progress(o.label, o.epochs, o.quiet, startEpoch);
  const n = data.train.count;
  const steps = Math.ceil(n / o.batchSize);
  const order = Array.from({ length: n }, (_, i) => i);
  let epochsThisCall = 0;
  for (let epoch = startEpoch; epoch < o.epochs; epoch++) {
    const lr = scheduledLr(o.lr, epoch, o.epochs, o.schedule);
    for (let i = 0; i < n; i++) order[i] = i;
    rng.shuffle(order);
    for (let s = 0; s < steps; s++) {
      const mols = order.slice(s * o.batchSize, Math.min(n, (s + 1) * o.batchSize));
      const b = uploadQm9Batch(data.train, mols, data.mean, data.mad);
      await trainStep(
        () => l1Loss(model.forward(b.h0, b.x, b.graph), b.target),
        opt,
        { meter: trainMeter, lr, lossWeight: mols.length },
      );
      b.dispose();
      progress.update(epoch, `epoch ${epoch + 1} step ${s + 1}/${steps}`);
    }
    const trainLoss = await trainMeter.readMean();
    if (!Number.isFinite(trainLoss)) {
      throw new Error(
        `${o.label}: the training loss became ${trainLoss} in epoch ${epoch} ` +
          `(steps ${epoch * steps}–${(epoch + 1) * steps - 1}); lower the learning rate`,
      );
    }
    if (epoch % o.evalEvery === 0 || epoch === o.epochs - 1) {
      evaluateInto(model, data.val, data, o.batchSize, valMeter);
      evaluateInto(model, data.test, data, o.batchSize, testMeter);
      const [valN, testN] = await AbsErrorMeter.readAll([valMeter, testMeter]); // one sync
      resetTape();
      endStep();
      const valMae = valN.map((v, j) => v * data.mad[j]);
      const testMae = testN.map((v, j) => v * data.mad[j]);
      const elapsedS = wallBefore + (performance.now() - t0) / 1000;
      curve.push({ epoch, lr, trainLoss, valMae, testMae, elapsedS });
      best = best.map((b, j) =>
        valMae[j] < b.valMae ? { epoch, valMae: valMae[j], testMae: testMae[j] } : b
      );
      progress.log(
        `${o.label} epoch ${epoch}: lr ${lr.toExponential(2)} train L1 ${trainLoss.toFixed(4)} | ` +
          data.properties.map((p, j) => `${p} val ${fmt(valMae[j])} test ${fmt(testMae[j])}`)
            .join(", "),
      );
      await saveCheckpoint(model, opt, rng, o, data.properties, {
        epoch,
        curve,
        best,
        wallS: elapsedS,
      });
      await o.onEvaluation?.(curve);
    }
    progress.update(epoch + 1, `L1 ${trainLoss.toFixed(4)}`);
    epochsThisCall++;
    if (o.stopAfterEpochs !== undefined && epochsThisCall >= o.stopAfterEpochs) break;
  }
  await submit();
  opt.dispose();
  trainMeter.dispose();
  valMeter.dispose();
  testMeter.dispose();
  return {
    best,
    epochs: o.epochs,
    wallS: wallBefore + (performance.now() - t0) / 1000,
    curve,
    resumedFromEpoch,
  };
}

function fmt(v: number): string {
  return Math.abs(v) >= 0.01 ? v.toFixed(4) : v.toExponential(3);
}

function saveCheckpoint(
  model: QM9Model,
  opt: Adam,
  rng: Random,
  o: Qm9TrainOptions,
  properties: string[],
  state: { epoch: number; curve: Qm9CurvePoint[]; best: Qm9Best[]; wallS: number },
): Promise<void> {
  const meta = { ...state, rng: rng.getState(), lr: o.lr, seed: o.seed, properties };
  return saveTrainingCheckpoint(o.checkpointPath, model.params, opt, meta);
}
