/**
 * Training one graph autoencoder as main_ae.py does: Adam (weight decay 1e-16), one graph per
 * optimiser step (configurable), the per-graph summed BCE as the loss, the learning rate
 * annealed by a half-cosine stepped once per epoch, validation and test evaluated every
 * `evalEvery` epochs (epochs 0, k, 2k … and the last), and the reported test metrics taken at the
 * epoch of lowest validation BCE.
 *
 * Every step is one submission and reads nothing back; the training loss is read once per epoch
 * (a non-finite loss stops the run naming the epoch), an evaluation's counts once. A checkpoint —
 * parameters, Adam's moments, the shuffling and noise generators' states, the curve — is written
 * atomically at every evaluation, and `resume` continues from it to the same numbers as an
 * uninterrupted run.
 *
 * @module
 */

import { Adam, cosineLr } from "../../gpu/optim.ts";
import { endStep, type Tensor } from "../../gpu/tensor.ts";
import { submit } from "../../gpu/commands.ts";
import { noGrad, resetTape } from "../../gpu/tape.ts";
import { trainStep } from "../../gpu/step.ts";
import { bceWithLogitsLoss, ConfusionMeter, LossMeter } from "../../gpu/kernels/losses.ts";
import { Random } from "../../random.ts";
import type { GraphAutoencoder } from "../../egnn/autoencoder.ts";
import type { AdjacencyGraph } from "../../sim/graphs.ts";
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from "../training_checkpoint.ts";
import { Progress } from "../../cli/progress.ts";
import { type AdjacencyMetrics, metricsFromCounts } from "./metrics.ts";
import { type AeBatch, AeGraphCache } from "./batches.ts";

/** One evaluation of the learning curve. */
export interface AeCurvePoint {
  epoch: number;
  /** Mean per-graph BCE of the epoch's training steps (with their noise, before the update). */
  trainBce: number;
  /**
   * The largest single step's BCE since the previous evaluation (this epoch and any epochs not
   * evaluated before it): a step that blew up shows here even when the mean recovers. Absent in
   * curves from checkpoints written before it was recorded.
   */
  trainMaxStepBce?: number;
  valBce: number;
  testBce: number;
  testPctError: number;
  testF1: number;
  elapsedS: number;
}

/** What training an autoencoder produced. */
export interface AeResult {
  bestEpoch: number;
  bestValBce: number;
  /** Test metrics at the epoch of lowest validation BCE. */
  test: AdjacencyMetrics;
  epochs: number;
  wallS: number;
  curve: AeCurvePoint[];
  resumedFromEpoch: number | null;
  /** Training steps per second in this call (steps of `graphsPerStep` graphs). */
  stepsPerSecond: number;
}

/** How to train. */
export interface AeTrainOptions {
  epochs: number;
  lr: number;
  weightDecay: number;
  schedule: "cosine" | "none";
  graphsPerStep: number;
  /** Global-norm gradient clipping (0 or absent: off, as the reference). */
  clipGradNorm?: number;
  evalEvery: number;
  evalBatch: number;
  /** Seed of the shuffling. */
  seed: number;
  /** Checkpoint file (written at every evaluation). */
  checkpointPath: string;
  resume: boolean;
  /** Stops after this many epochs of this call (tests of interruption); default none. */
  stopAfterEpochs?: number;
  quiet?: boolean;
  label: string;
  /**
   * Called with the learning curve so far after every evaluation's checkpoint (run.ts writes the
   * curve CSV there, so a run that is killed leaves a curve as recent as its checkpoint).
   */
  onEvaluation?: (curve: readonly AeCurvePoint[]) => Promise<void>;
}

/** The learning rate of an epoch: CosineAnnealingLR(T_max = epochs) stepped once per epoch. */
export function aeLearningRate(
  o: Pick<AeTrainOptions, "lr" | "epochs" | "schedule">,
  epoch: number,
): number {
  return o.schedule === "cosine" ? cosineLr(o.lr, epoch, o.epochs) : o.lr;
}

/**
 * One training step's loss (recorded, not read): the summed BCE of the graphs' decoded adjacency.
 *
 * @param model the autoencoder
 * @param cache the device copies of the graphs
 * @param graphs the step's graphs
 */
export function aeStepLoss(
  model: GraphAutoencoder,
  cache: AeGraphCache,
  graphs: AdjacencyGraph[],
): Tensor {
  const b = cache.batch(graphs);
  return bceWithLogitsLoss(model.forward(b.graph, b.adjacency), b.adjacency, "sum");
}

interface Best {
  epoch: number;
  val: number;
  test: AdjacencyMetrics | null;
}

/**
 * Trains one autoencoder and returns its result (or resumes it from its checkpoint).
 *
 * @param model the autoencoder
 * @param data the three splits (validation and test may be the training graphs, to over-fit)
 * @param o the protocol
 */
export async function trainAutoencoder(
  model: GraphAutoencoder,
  data: { train: AdjacencyGraph[]; val: AdjacencyGraph[]; test: AdjacencyGraph[] },
  o: AeTrainOptions,
): Promise<AeResult> {
  const t0 = performance.now();
  const rng = new Random(o.seed);
  const opt = new Adam(model.params, {
    lr: o.lr,
    weightDecay: o.weightDecay,
    clipGradNorm: o.clipGradNorm,
  });
  // Written into the checkpoint only when on, so that runs from before it resume.
  const clipGradNorm = o.clipGradNorm || undefined;
  const cache = new AeGraphCache();
  const trainMeter = new LossMeter();
  const valMeter = new ConfusionMeter(), testMeter = new ConfusionMeter();
  let curve: AeCurvePoint[] = [];
  let best: Best = { epoch: -1, val: Infinity, test: null };
  let startEpoch = 0, wallBefore = 0;
  let resumedFromEpoch: number | null = null;

  let valBatches: AeBatch[] = [], testBatches: AeBatch[] = [];
  const evaluate = (batches: AeBatch[], meter: ConfusionMeter) => {
    for (const b of batches) {
      noGrad(() => meter.add(model.forward(b.graph, b.adjacency), b.adjacency));
      endStep();
    }
  };

  const progress = new Progress(o.label, o.epochs, o.quiet);
  const order = Array.from({ length: data.train.length }, (_, i) => i);
  const steps = Math.ceil(data.train.length / o.graphsPerStep);
  let epochsThisCall = 0, stepsThisCall = 0;
  let trainS = 0;
  let maxStepSinceEval = -Infinity;
  try {
    if (o.resume) {
      const meta = await loadTrainingCheckpoint(o.checkpointPath, model.params, opt, {
        lr: o.lr,
        seed: o.seed,
        epochs: o.epochs,
        graphsPerStep: o.graphsPerStep,
        clipGradNorm,
      }) as {
        epoch: number;
        rng: number[];
        noise: number[];
        curve: AeCurvePoint[];
        best: Best;
        wallS: number;
      } | null;
      if (meta) {
        rng.setState(meta.rng);
        model.noise.setState(meta.noise);
        curve = meta.curve;
        best = meta.best;
        startEpoch = meta.epoch + 1;
        wallBefore = meta.wallS;
        resumedFromEpoch = meta.epoch;
        progress.resumeFrom(startEpoch);
      }
    }
    valBatches = cache.keptBatches(data.val, o.evalBatch);
    testBatches = data.test === data.val ? valBatches : cache.keptBatches(data.test, o.evalBatch);
    for (let epoch = startEpoch; epoch < o.epochs; epoch++) {
      const lr = aeLearningRate(o, epoch);
      for (let i = 0; i < order.length; i++) order[i] = i;
      rng.shuffle(order);
      const te = performance.now();
      for (let s = 0; s < steps; s++) {
        const graphs = order.slice(s * o.graphsPerStep, (s + 1) * o.graphsPerStep)
          .map((i) => data.train[i]);
        await trainStep(() => aeStepLoss(model, cache, graphs), opt, { meter: trainMeter, lr });
      }
      // The meter's mean is per step; a step's loss is the sum over its graphs.
      const epochLoss = await trainMeter.read();
      const trainBce = epochLoss.mean * steps / data.train.length;
      maxStepSinceEval = Math.max(maxStepSinceEval, epochLoss.max);
      trainS += (performance.now() - te) / 1000;
      stepsThisCall += steps;
      if (!Number.isFinite(trainBce)) {
        throw new Error(
          `${o.label}: the training loss became ${trainBce} in epoch ${epoch} ` +
            `(steps ${epoch * steps}–${(epoch + 1) * steps - 1}); lower the learning rate`,
        );
      }
      if (epoch % o.evalEvery === 0 || epoch === o.epochs - 1) {
        evaluate(valBatches, valMeter);
        if (testBatches !== valBatches) evaluate(testBatches, testMeter);
        const meters = testBatches !== valBatches ? [valMeter, testMeter] : [valMeter];
        const counts = await ConfusionMeter.readAll(meters); // one sync
        resetTape();
        endStep();
        const val = metricsFromCounts({ ...counts[0], graphs: data.val.length });
        const test = metricsFromCounts({ ...counts[counts.length - 1], graphs: data.test.length });
        const elapsedS = wallBefore + (performance.now() - t0) / 1000;
        curve.push({
          epoch,
          trainBce,
          trainMaxStepBce: maxStepSinceEval,
          valBce: val.bce,
          testBce: test.bce,
          testPctError: test.pctError,
          testF1: test.f1,
          elapsedS,
        });
        maxStepSinceEval = -Infinity;
        if (val.bce < best.val) best = { epoch, val: val.bce, test };
        progress.log(
          `${o.label} epoch ${epoch}: train BCE ${trainBce.toFixed(3)} val ${val.bce.toFixed(3)} ` +
            `test ${test.bce.toFixed(3)} (${test.pctError.toFixed(3)} % wrong, F1 ${
              test.f1.toFixed(4)
            }); best val ${best.val.toFixed(3)} @ ${best.epoch}`,
        );
        const meta = {
          epoch,
          curve,
          best,
          wallS: elapsedS,
          rng: rng.getState(),
          noise: model.noise.getState(),
          lr: o.lr,
          seed: o.seed,
          epochs: o.epochs,
          graphsPerStep: o.graphsPerStep,
          clipGradNorm,
        };
        await saveTrainingCheckpoint(o.checkpointPath, model.params, opt, meta);
        await o.onEvaluation?.(curve);
      }
      progress.update(
        epoch + 1,
        `BCE ${trainBce.toFixed(3)} (largest step ${epochLoss.max.toFixed(1)})`,
      );
      epochsThisCall++;
      if (o.stopAfterEpochs !== undefined && epochsThisCall >= o.stopAfterEpochs) break;
    }
    await submit();
  } finally {
    for (const b of new Set([...valBatches, ...testBatches])) b.adjacency.dispose();
    cache.dispose();
    opt.dispose();
    trainMeter.dispose();
    valMeter.dispose();
    testMeter.dispose();
  }
  return {
    bestEpoch: best.epoch,
    bestValBce: best.val,
    test: best.test ?? metricsFromCounts({
      graphs: 0,
      entries: 0,
      bceSum: NaN,
      tp: 0,
      fp: 0,
      fn: 0,
    }),
    epochs: o.epochs,
    wallS: wallBefore + (performance.now() - t0) / 1000,
    curve,
    resumedFromEpoch,
    stepsPerSecond: trainS > 0 ? stepsThisCall / trainS : NaN,
  };
}
