/**
 * Training one N-body method as main_nbody.py does: Adam (weight decay 1e-12), shuffled batches
 * of 100 (the last partial batch dropped), validation and test MSE every `evalEvery` epochs
 * (epochs 0, k, 2k …), and the reported test MSE taken at the epoch of lowest validation MSE.
 *
 * Each training step is one submission; the training loss is read once per epoch (a non-finite
 * loss stops the run naming the epoch). A checkpoint — parameters, Adam's moments, the shuffling
 * generator's state, the learning curve — is written atomically at every evaluation, and
 * `resume` continues from it to the same final numbers as an uninterrupted run.
 *
 * @module
 */

import { Adam } from "../../gpu/optim.ts";
import { endStep, readMany, type Tensor } from "../../gpu/tensor.ts";
import { submit } from "../../gpu/commands.ts";
import { noGrad, resetTape } from "../../gpu/tape.ts";
import { trainStep } from "../../gpu/step.ts";
import { LossMeter, mseLoss } from "../../gpu/kernels/losses.ts";
import { Random } from "../../random.ts";
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from "../training_checkpoint.ts";
import { Progress } from "../../cli/progress.ts";
import { type BatchGraphs, type NBodySplitData, uploadBatch } from "./batches.ts";
import type { NBodyModel } from "./methods.ts";

/** One evaluation of the learning curve. */
export interface CurvePoint {
  epoch: number;
  trainMse: number;
  valMse: number;
  testMse: number;
  elapsedS: number;
}

/** What training a method produced. */
export interface MethodResult {
  bestEpoch: number;
  bestValMse: number;
  /** Test MSE at the epoch of lowest validation MSE. */
  testMse: number;
  epochs: number;
  wallS: number;
  curve: CurvePoint[];
  resumedFromEpoch: number | null;
}

/** How to train. */
export interface TrainOptions {
  epochs: number;
  batchSize: number;
  evalEvery: number;
  lr: number;
  weightDecay: number;
  seed: number;
  /** Checkpoint file (written at every evaluation). */
  checkpointPath: string;
  resume: boolean;
  /** Stops after this many epochs of this call (for tests of interruption); default none. */
  stopAfterEpochs?: number;
  quiet?: boolean;
  label: string;
  /**
   * Called with the learning curve so far after every evaluation's checkpoint (run.ts and
   * sweep.ts write the curve CSV there, so a killed run leaves a curve as recent as its
   * checkpoint).
   */
  onEvaluation?: (curve: readonly CurvePoint[]) => Promise<void>;
}

/** Mean MSE over a split, batch losses weighted by batch size (recorded, not read). */
function evaluateInto(
  model: NBodyModel,
  split: NBodySplitData,
  graphs: BatchGraphs,
  batchSize: number,
  meter: LossMeter,
): void {
  for (let start = 0; start < split.count; start += batchSize) {
    const sims: number[] = [];
    for (let s = start; s < Math.min(split.count, start + batchSize); s++) sims.push(s);
    noGrad(() => {
      const b = uploadBatch(split, sims, graphs);
      meter.add(mseLoss(model.forward(b), b.target), sims.length);
    });
    // The batch's buffers go back to the pool now: later commands reuse them only after these
    // ran (one queue, in order), so a whole split evaluates in the memory of one batch.
    endStep();
  }
}

/**
 * Trains one method and returns its result (or resumes it from its checkpoint).
 *
 * @param model the method's model
 * @param data the three splits
 * @param graphs the batch graph cache
 * @param o the protocol
 */
export async function trainNBodyMethod(
  model: NBodyModel,
  data: { train: NBodySplitData; val: NBodySplitData; test: NBodySplitData },
  graphs: BatchGraphs,
  o: TrainOptions,
): Promise<MethodResult> {
  const t0 = performance.now();
  const rng = new Random(o.seed);
  const opt = model.params
    ? new Adam(model.params, { lr: o.lr, weightDecay: o.weightDecay })
    : null;
  const trainMeter = new LossMeter(), valMeter = new LossMeter(), testMeter = new LossMeter();
  let curve: CurvePoint[] = [];
  let best = { epoch: -1, val: Infinity, test: NaN };
  let startEpoch = 0;
  let wallBefore = 0;
  let resumedFromEpoch: number | null = null;

  if (o.resume) {
    const meta = await loadTrainingCheckpoint(o.checkpointPath, model.params, opt, {
      lr: o.lr,
      seed: o.seed,
    }) as {
      epoch: number;
      rng: number[];
      curve: CurvePoint[];
      best: { epoch: number; val: number; test: number };
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
  const steps = Math.floor(data.train.count / o.batchSize);
  const order = Array.from({ length: data.train.count }, (_, i) => i);
  let epochsThisCall = 0;
  for (let epoch = startEpoch; epoch < o.epochs; epoch++) {
    // Train (reshuffle every epoch, drop the last partial batch).
    let trainMse = NaN;
    if (opt && steps > 0) {
      // A fresh permutation each epoch (as PyTorch's sampler): it depends only on the generator's
      // state, which the checkpoint holds, so a resumed run draws the same batches.
      for (let i = 0; i < order.length; i++) order[i] = i;
      rng.shuffle(order);
      for (let s = 0; s < steps; s++) {
        const sims = order.slice(s * o.batchSize, (s + 1) * o.batchSize);
        await trainStep(
          () => {
            const b = uploadBatch(data.train, sims, graphs);
            return mseLoss(model.forward(b), b.target);
          },
          opt,
          { meter: trainMeter, lossWeight: sims.length },
        );
      }
      trainMse = await trainMeter.readMean();
      if (!Number.isFinite(trainMse)) {
        throw new Error(
          `${o.label}: the training loss became ${trainMse} in epoch ${epoch} ` +
            `(steps ${epoch * steps}–${(epoch + 1) * steps - 1}); lower the learning rate`,
        );
      }
    }
    if (epoch % o.evalEvery === 0 || epoch === o.epochs - 1) {
      evaluateInto(model, data.val, graphs, o.batchSize, valMeter);
      evaluateInto(model, data.test, graphs, o.batchSize, testMeter);
      const [valMse, testMse] = await LossMeter.readMeans([valMeter, testMeter]); // one sync
      resetTape();
      endStep();
      const elapsedS = wallBefore + (performance.now() - t0) / 1000;
      curve.push({ epoch, trainMse, valMse, testMse, elapsedS });
      if (valMse < best.val) best = { epoch, val: valMse, test: testMse };
      progress.log(
        `${o.label} epoch ${epoch}: train ${trainMse.toExponential(3)} val ${
          valMse.toExponential(3)
        } ` +
          `test ${testMse.toExponential(3)} (best val ${
            best.val.toExponential(3)
          } @ ${best.epoch})`,
      );
      await saveCheckpoint(model, opt, rng, o, { epoch, curve, best, wallS: elapsedS });
      await o.onEvaluation?.(curve);
    }
    progress.update(
      epoch + 1,
      Number.isFinite(trainMse) ? `loss ${trainMse.toExponential(3)}` : "",
    );
    epochsThisCall++;
    if (o.stopAfterEpochs !== undefined && epochsThisCall >= o.stopAfterEpochs) break;
  }
  await submit();
  opt?.dispose();
  trainMeter.dispose();
  valMeter.dispose();
  testMeter.dispose();
  return {
    bestEpoch: best.epoch,
    bestValMse: best.val,
    testMse: best.test,
    epochs: o.epochs,
    wallS: wallBefore + (performance.now() - t0) / 1000,
    curve,
    resumedFromEpoch,
  };
}

function saveCheckpoint(
  model: NBodyModel,
  opt: Adam | null,
  rng: Random,
  o: TrainOptions,
  state: {
    epoch: number;
    curve: CurvePoint[];
    best: { epoch: number; val: number; test: number };
    wallS: number;
  },
): Promise<void> {
  const meta = { ...state, rng: rng.getState(), lr: o.lr, seed: o.seed };
  return saveTrainingCheckpoint(o.checkpointPath, model.params, opt, meta);
}

/**
 * The forward time of one batch: `reps` forward passes recorded into one submission and closed
 * by one read, divided by `reps`; the median of 5 such samples after a warm-up.
 *
 * @returns seconds per forward pass of one batch
 */
export async function measureForwardSeconds(
  model: NBodyModel,
  split: NBodySplitData,
  graphs: BatchGraphs,
  batchSize: number,
  reps: number,
): Promise<number> {
  const sims = Array.from({ length: Math.min(batchSize, split.count) }, (_, i) => i);
  const b = uploadBatch(split, sims, graphs);
  const inputs = [b.x, b.v, b.vNorm, b.nodes, b.edgeAttr, b.chargeProduct, b.charges, b.target];
  for (const t of inputs) t.keep();
  await submit(); // uploads are not part of the forward pass
  const sample = async (n: number) => {
    const t = performance.now();
    let out: Tensor = b.x;
    for (let r = 0; r < n; r++) {
      if (r > 0) endStep(); // the previous pass's temporaries are reused by the next
      out = noGrad(() => model.forward(b));
    }
    await readMany([out.reshape([out.size])]);
    const s = (performance.now() - t) / 1000 / n;
    resetTape();
    endStep();
    return s;
  };
  await sample(2); // warm-up: pipelines compiled
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) samples.push(await sample(reps));
  for (const t of inputs) t.dispose();
  samples.sort((x, y) => x - y);
  return samples[2];
}
