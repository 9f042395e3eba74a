/**
 * The graph-autoencoder experiment's config (the paper's section 5.2, the reference's
 * `main_ae.py`): every field with its default — the full protocol — and documentation;
 * `deno run cli.ts --help` prints it.
 *
 * @module
 */

import type { Schema } from "../../config/schema.ts";

/** The datasets of Figure 5's table. */
export const AE_DATASETS = ["community", "erdos_renyi"] as const;
/** A dataset of Figure 5's table. */
export type AeDataset = typeof AE_DATASETS[number];
/** The encoders of Figure 5's table (`baseline` = every edge predicted absent). */
export const AE_ENCODERS = ["baseline", "gnn", "noise_gnn", "rf", "egnn"] as const;
/** An encoder of Figure 5's table. */
export type AeEncoder = typeof AE_ENCODERS[number];

/** The schema of a graph-autoencoder config. */
export const aeSchema: Schema = {
  experiment: { type: "string", default: "ae", enum: ["ae"], doc: "which experiment" },
  name: { type: "string", default: "ae", doc: "names the result files (<out>/<name>.csv …)" },
  seed: {
    type: "number",
    default: 1,
    integer: true,
    min: 0,
    doc: "seed of initialisation, the per-forward noise and shuffling (the reference: 1)",
  },
  out: { type: "string", default: "results", doc: "directory for results and checkpoints" },
  datasets: {
    type: "stringList",
    default: ["community", "erdos_renyi"],
    enum: AE_DATASETS,
    doc: "datasets of the table: community (Community Small) and erdos_renyi",
  },
  encoders: {
    type: "stringList",
    default: ["baseline", "gnn", "noise_gnn", "rf", "egnn"],
    enum: AE_ENCODERS,
    doc: "encoders (rows of the table); baseline predicts every edge absent",
  },
  data: {
    type: "section",
    doc: "the generated graphs (lib/sim/graphs.ts)",
    fields: {
      train: { type: "number", default: 5000, integer: true, min: 1, doc: "training graphs" },
      val: { type: "number", default: 500, integer: true, min: 1, doc: "validation graphs" },
      test: { type: "number", default: 500, integer: true, min: 1, doc: "test graphs" },
      p: {
        type: "number",
        default: 0.25,
        min: 0,
        exclusiveMin: true,
        max: 1,
        doc: "edge probability p_e of the Erdős–Rényi graphs",
      },
      communitySeeding: {
        type: "string",
        default: "intended",
        enum: ["intended", "reference"],
        doc: "intended = every community drawn from the data's stream; reference = each " +
          "community seeded by its position, as the reference code (its data repeats: only " +
          "1,732 of 5,000 training graphs distinct, 365 of 500 test graphs also in training)",
      },
      seed: {
        type: "number",
        default: 0,
        integer: true,
        min: 0,
        doc: "seed of the graphs (train, validation and test streams derive from it)",
      },
    },
  },
  train: {
    type: "section",
    doc: "the training protocol (main_ae.py)",
    fields: {
      epochs: { type: "number", default: 100, integer: true, min: 1, doc: "epochs per encoder" },
      lr: {
        type: "number",
        default: 1e-4,
        min: 0,
        exclusiveMin: true,
        doc: "Adam's learning rate",
      },
      weightDecay: { type: "number", default: 1e-16, min: 0, doc: "Adam's L2 weight decay" },
      schedule: {
        type: "string",
        default: "cosine",
        enum: ["cosine", "none"],
        doc: "cosine = half-cosine from lr to 0 over the epochs, stepped per epoch (as the " +
          "reference's CosineAnnealingLR); none = constant",
      },
      graphsPerStep: {
        type: "number",
        default: 1,
        integer: true,
        min: 1,
        doc: "graphs per optimiser step (the reference: 1); their summed BCEs are the step's loss",
      },
      clipGradNorm: {
        type: "number",
        default: 0,
        min: 0,
        doc: "clip each step's gradient to this global L2 norm before Adam, as PyTorch's " +
          "clip_grad_norm_ (0: off, as the reference; a deviation from the paper's protocol, " +
          "written into the table)",
      },
      evalEvery: {
        type: "number",
        default: 2,
        integer: true,
        min: 1,
        doc: "evaluate validation and test every k epochs (and the last) and checkpoint",
      },
      evalBatch: {
        type: "number",
        default: 100,
        integer: true,
        min: 1,
        doc: "graphs per evaluation forward pass (no effect on the numbers)",
      },
    },
  },
  model: {
    type: "section",
    doc: "the encoders (models/ae.py)",
    fields: {
      hiddenNf: { type: "number", default: 64, integer: true, min: 1, doc: "hidden width" },
      nLayers: { type: "number", default: 4, integer: true, min: 1, doc: "layers" },
      embeddingNf: {
        type: "number",
        default: 8,
        integer: true,
        min: 1,
        doc: "dimension n of the embedding z (EGNN and Radial Field: of the coordinates)",
      },
      reg: {
        type: "number",
        default: 1e-3,
        min: 0,
        doc: "coordinate decay x ← x − reg·x after every layer (EGNN, Radial Field)",
      },
      noiseSigma: {
        type: "number",
        default: 1,
        min: 0,
        exclusiveMin: true,
        doc: "standard deviation σ of the initial coordinates x⁰ ~ N(0, σ²I)",
      },
    },
  },
  overfit: {
    type: "numberList",
    default: [],
    min: 0,
    exclusiveMin: true,
    max: 1,
    doc: "p_e values of the over-fitting sweep (Figure 5 right): each trains on the 100 " +
      "Erdős–Rényi graphs of the over-fitting set (10 per size 7–16) and reports F1 on them; " +
      "empty: the Figure-5 table instead",
  },
};

/** A validated graph-autoencoder config. */
export interface AeConfig {
  experiment: "ae";
  name: string;
  seed: number;
  out: string;
  datasets: AeDataset[];
  encoders: AeEncoder[];
  data: {
    train: number;
    val: number;
    test: number;
    p: number;
    communitySeeding: "intended" | "reference";
    seed: number;
  };
  train: {
    epochs: number;
    lr: number;
    weightDecay: number;
    clipGradNorm: number;
    schedule: "cosine" | "none";
    graphsPerStep: number;
    evalEvery: number;
    evalBatch: number;
  };
  model: {
    hiddenNf: number;
    nLayers: number;
    embeddingNf: number;
    reg: number;
    noiseSigma: number;
  };
  overfit: number[];
}

/**
 * Checks what the schema cannot: datasets and encoders listed once and not empty, Erdős–Rényi
 * split sizes that give equal counts per node size.
 *
 * @param cfg the config
 * @param file names the config in errors
 */
export function checkAeConfig(cfg: AeConfig, file: string): void {
  for (const field of ["datasets", "encoders"] as const) {
    const list: string[] = cfg[field];
    if (list.length === 0 && !(field === "datasets" && cfg.overfit.length > 0)) {
      throw new Error(`${file}: ${field} is empty, expected at least one`);
    }
    const dup = list.find((v, i) => list.indexOf(v) !== i);
    if (dup) throw new Error(`${file}: ${field} lists "${dup}" twice`);
  }
  if (cfg.datasets.includes("erdos_renyi") && cfg.overfit.length === 0) {
    for (const split of ["train", "val", "test"] as const) {
      if (cfg.data[split] % 10 !== 0) {
        throw new Error(
          `${file}: data.${split} is ${cfg.data[split]}, expected a multiple of 10 (Erdős–Rényi ` +
            `graphs come in equal numbers per node count 7…16)`,
        );
      }
    }
  }
  const dupP = cfg.overfit.find((v, i) => cfg.overfit.indexOf(v) !== i);
  if (dupP !== undefined) throw new Error(`${file}: overfit lists ${dupP} twice`);
}
