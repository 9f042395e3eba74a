/**
 * The N-body experiment's config: every field with its default (the reference's protocol at a
 * reduced epoch budget) and documentation. `deno run cli.ts --help` prints it.
 *
 * @module
 */

import type { Schema } from "../../config/schema.ts";

/** The methods of Table 2 that this experiment trains. */
export const NBODY_METHODS = [
  "egnn",
  "gnn",
  "rf",
  "tfn",
  "se3_transformer",
  "linear",
  "linear_vel",
  "identity",
] as const;
/** A method's name. */
export type NBodyMethod = typeof NBODY_METHODS[number];

/** The schema of an N-body config. */
export const nbodySchema: Schema = {
  experiment: { type: "string", default: "nbody", enum: ["nbody"], doc: "which experiment" },
  name: { type: "string", default: "nbody", doc: "names the result files (<out>/<name>.csv …)" },
  seed: {
    type: "number",
    default: 1,
    integer: true,
    min: 0,
    doc: "seed of initialisation and shuffling",
  },
  out: { type: "string", default: "results", doc: "directory for results and checkpoints" },
  data: {
    type: "section",
    doc: "the dataset",
    fields: {
      source: {
        type: "string",
        default: "generate",
        enum: ["generate", "reference"],
        doc: "generate with our simulator, or read .npy files made by the reference generator",
      },
      path: {
        type: "nullableString",
        default: null,
        doc: "directory of the reference's loc_/vel_/charges_/edges_*.npy (source = reference)",
      },
      suffix: {
        type: "string",
        default: "_charged5_initvel1small",
        doc: "file-name suffix of the reference's files",
      },
      train: {
        type: "number",
        default: 3000,
        integer: true,
        min: 1,
        doc: "training simulations used",
      },
      val: { type: "number", default: 2000, integer: true, min: 1, doc: "validation simulations" },
      test: { type: "number", default: 2000, integer: true, min: 1, doc: "test simulations" },
      bodies: { type: "number", default: 5, integer: true, min: 2, doc: "particles per system" },
      dim: { type: "number", default: 3, integer: true, min: 1, doc: "space dimension" },
      steps: {
        type: "number",
        default: 5000,
        integer: true,
        min: 2,
        doc: "simulator steps per system",
      },
      sampleFreq: {
        type: "number",
        default: 100,
        integer: true,
        min: 1,
        doc: "steps between stored frames",
      },
      inputFrame: {
        type: "number",
        default: 30,
        integer: true,
        min: 0,
        doc: "frame given to the model",
      },
      targetFrame: { type: "number", default: 40, integer: true, min: 1, doc: "frame to predict" },
      seed: { type: "number", default: 43, integer: true, min: 0, doc: "seed of the simulator" },
      stream: {
        type: "string",
        default: "own",
        enum: ["own", "numpy"],
        doc: "the simulator's random stream: our own, or NumPy's legacy stream drawn as the " +
          "reference generator draws it (seed 43 with drawnTrain 10000: the reference's data set)",
      },
      drawnTrain: {
        type: "nullableNumber",
        default: null,
        integer: true,
        min: 1,
        doc: "training simulations drawn before validation; the first data.train are kept " +
          "(null: data.train; the reference draws 10000)",
      },
      cacheDir: {
        type: "string",
        default: ".cache/nbody",
        doc: "where generated datasets are cached",
      },
    },
  },
  train: {
    type: "section",
    doc: "the training protocol (main_nbody.py)",
    fields: {
      epochs: { type: "number", default: 30, integer: true, min: 1, doc: "epochs per method" },
      batchSize: { type: "number", default: 100, integer: true, min: 1, doc: "systems per batch" },
      evalEvery: {
        type: "number",
        default: 5,
        integer: true,
        min: 1,
        doc: "evaluate validation and test every k epochs (epochs 0, k, 2k …) and checkpoint",
      },
      lr: {
        type: "nullableNumber",
        default: null,
        min: 0,
        exclusiveMin: true,
        unit: "per step",
        doc: "learning rate of every method without its own methods[].lr (null: each method's " +
          "reference rate — EGNN 5e-4, GNN 1e-3, Radial Field 2e-4, TFN 1e-3, SE(3)-Tr 5e-3)",
      },
      weightDecay: { type: "number", default: 1e-12, min: 0, doc: "Adam's L2 weight decay" },
      forwardTimingReps: {
        type: "number",
        default: 20,
        integer: true,
        min: 1,
        doc: "forward passes of one batch per timing sample (5 samples, median)",
      },
    },
  },
  model: {
    type: "section",
    doc: "sizes shared by the models",
    fields: {
      hiddenNf: { type: "number", default: 64, integer: true, min: 1, doc: "hidden width" },
      nLayers: { type: "number", default: 4, integer: true, min: 1, doc: "message-passing layers" },
    },
  },
  sweep: {
    type: "section",
    doc:
      "Figure 2: test MSE against the training-set size (empty sizes: no sweep, Table 2 instead)",
    fields: {
      sizes: {
        type: "numberList",
        default: [],
        integer: true,
        min: 1,
        doc: "training-set sizes (the reference: 100 200 400 800 1600 3200 6400 12800 25000 50000)",
      },
      epochs: {
        type: "numberList",
        default: [2000, 2000, 4000, 5000, 8000, 10000, 8000, 6000, 4000, 2000],
        integer: true,
        min: 1,
        doc: "epochs per size for GNN, Radial Field and the others (main_nbody.py's main_sweep)",
      },
      egnnEpochs: {
        type: "numberList",
        default: [4000, 4000, 2000, 2000, 2000, 1500, 1500, 1500, 1000, 1000],
        integer: true,
        min: 1,
        doc: "epochs per size for EGNN",
      },
      epochScale: {
        type: "number",
        default: 1,
        min: 0,
        exclusiveMin: true,
        doc: "multiplies every epoch budget (e.g. 0.01 for a quick look); at least 1 epoch",
      },
      evalBudget: {
        type: "number",
        default: 10000,
        integer: true,
        min: 1,
        doc: "evaluate every max(⌊evalBudget / size⌋, 1) epochs, as the reference",
      },
      trainSeed: {
        type: "number",
        default: 42,
        integer: true,
        min: 0,
        doc: "simulator seed of the sweep's training set",
      },
      trainCount: {
        type: "number",
        default: 50000,
        integer: true,
        min: 1,
        doc: "simulations in the sweep's training set",
      },
      trainSampleFreq: {
        type: "number",
        default: 500,
        integer: true,
        min: 1,
        doc: "its steps between frames",
      },
      trainInputFrame: {
        type: "number",
        default: 6,
        integer: true,
        min: 0,
        doc: "its input frame (step 3,500)",
      },
      trainTargetFrame: {
        type: "number",
        default: 8,
        integer: true,
        min: 1,
        doc: "its target frame (step 4,500)",
      },
    },
  },
  methods: {
    type: "list",
    doc: "methods to train, in order; each row of Table 2",
    default: [{ name: "egnn" }, { name: "gnn" }, { name: "rf" }, { name: "linear" }],
    of: {
      name: { type: "string", default: "egnn", enum: NBODY_METHODS, doc: "the method" },
      lr: {
        type: "nullableNumber",
        default: null,
        min: 0,
        exclusiveMin: true,
        unit: "per step",
        doc:
          "Adam learning rate (null: the reference's: egnn 5e-4, gnn 1e-3, rf 2e-4, others 5e-4)",
      },
      epochs: {
        type: "nullableNumber",
        default: null,
        integer: true,
        min: 1,
        doc: "epochs for this method (null: train.epochs)",
      },
    },
  },
};

/** A validated N-body config. */
export interface NBodyConfig {
  experiment: "nbody";
  name: string;
  seed: number;
  out: string;
  data: {
    source: "generate" | "reference";
    path: string | null;
    suffix: string;
    train: number;
    val: number;
    test: number;
    bodies: number;
    dim: number;
    steps: number;
    sampleFreq: number;
    inputFrame: number;
    targetFrame: number;
    seed: number;
    stream: "own" | "numpy";
    drawnTrain: number | null;
    cacheDir: string;
  };
  train: {
    epochs: number;
    batchSize: number;
    evalEvery: number;
    lr: number | null;
    weightDecay: number;
    forwardTimingReps: number;
  };
  model: { hiddenNf: number; nLayers: number };
  sweep: {
    sizes: number[];
    epochs: number[];
    egnnEpochs: number[];
    epochScale: number;
    evalBudget: number;
    trainSeed: number;
    trainCount: number;
    trainSampleFreq: number;
    trainInputFrame: number;
    trainTargetFrame: number;
  };
  methods: { name: NBodyMethod; lr: number | null; epochs: number | null }[];
}

/**
 * Checks that the fields of a validated config fit together (frames inside the trajectory, a
 * path for the reference's data, at least one full training batch).
 *
 * @param cfg the config
 * @param where the file name, for errors
 */
export function checkNBodyConfig(cfg: NBodyConfig, where: string): void {
  const d = cfg.data;
  const frames = Math.floor(d.steps / d.sampleFreq) - 1;
  if (d.source === "generate") {
    if (d.targetFrame >= frames) {
      throw new Error(
        `${where}: data.targetFrame is ${d.targetFrame}, but steps/sampleFreq − 1 = ${frames} frames are stored (0 … ${
          frames - 1
        })`,
      );
    }
  }
  if (d.targetFrame <= d.inputFrame) {
    throw new Error(
      `${where}: data.targetFrame (${d.targetFrame}) must come after data.inputFrame (${d.inputFrame})`,
    );
  }
  if (d.drawnTrain !== null && d.drawnTrain < d.train) {
    throw new Error(
      `${where}: data.drawnTrain (${d.drawnTrain}) is smaller than data.train (${d.train}); ` +
        "it counts the training simulations drawn, of which the first data.train are kept",
    );
  }
  if (d.stream === "numpy" && d.seed > 0xffffffff) {
    throw new Error(`${where}: data.seed (${d.seed}) must be below 2^32 with data.stream "numpy"`);
  }
  if (d.source === "reference" && !d.path) {
    throw new Error(
      `${where}: data.source is "reference" but data.path is null; give the directory of the .npy files`,
    );
  }
  if (d.train < cfg.train.batchSize && cfg.methods.some((m) => m.name !== "identity")) {
    throw new Error(
      `${where}: data.train (${d.train}) is smaller than train.batchSize (${cfg.train.batchSize}): no full batch to train on`,
    );
  }
  if (cfg.methods.length === 0) throw new Error(`${where}: methods is empty`);
  const sw = cfg.sweep;
  if (sw.sizes.length > 0) {
    for (const [k, list] of [["epochs", sw.epochs], ["egnnEpochs", sw.egnnEpochs]] as const) {
      if (list.length < sw.sizes.length) {
        throw new Error(
          `${where}: sweep.${k} has ${list.length} entries for ${sw.sizes.length} sizes`,
        );
      }
    }
    const largest = Math.max(...sw.sizes);
    if (largest > sw.trainCount) {
      throw new Error(
        `${where}: sweep.sizes reaches ${largest}, more than sweep.trainCount (${sw.trainCount})`,
      );
    }
    const frames = Math.floor(d.steps / sw.trainSampleFreq) - 1;
    if (sw.trainTargetFrame >= frames || sw.trainTargetFrame <= sw.trainInputFrame) {
      throw new Error(
        `${where}: sweep.trainInputFrame/trainTargetFrame (${sw.trainInputFrame} → ${sw.trainTargetFrame}) must be increasing and below ${frames}`,
      );
    }
    if (Math.min(...sw.sizes) < cfg.train.batchSize) {
      throw new Error(
        `${where}: sweep.sizes has a size below train.batchSize (${cfg.train.batchSize})`,
      );
    }
  }
}
