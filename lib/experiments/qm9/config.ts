/**
 * The QM9 experiment's config: every field with its default (the reference's protocol,
 * `main_qm9.py`, at a reduced epoch budget) and documentation. `deno run cli.ts --help` prints it.
 *
 * @module
 */

import type { Schema } from "../../config/schema.ts";
import { PROPERTY_INFO, type Qm9Property, TABLE3_PROPERTIES } from "../../qm9/targets.ts";

/** The schema of a QM9 config. */
export const qm9Schema: Schema = {
  experiment: { type: "string", default: "qm9", enum: ["qm9"], doc: "which experiment" },
  name: { type: "string", default: "qm9", doc: "names the result files (<out>/<name>.csv …)" },
  seed: {
    type: "number",
    default: 1,
    integer: true,
    min: 0,
    doc: "seed of initialisation and shuffling",
  },
  out: { type: "string", default: "results", doc: "directory for results and checkpoints" },
  properties: {
    type: "stringList",
    default: ["homo"],
    enum: TABLE3_PROPERTIES,
    doc: "properties to predict (Table 3: alpha gap homo lumo mu Cv G H r2 U U0 zpve)",
  },
  joint: {
    type: "boolean",
    default: false,
    doc: "one model with one output per property (false: one model per property, as the paper)",
  },
  data: {
    type: "section",
    doc: "the molecules and their split",
    fields: {
      format: {
        type: "string",
        default: "extxyz",
        enum: ["extxyz", "release", "npz"],
        doc:
          "extxyz = geometries (extended or plain XYZ) + a label CSV; release = a directory of " +
          "the original dsgdb9nsd_*.xyz; npz = the reference's train/valid/test.npz (its split)",
      },
      path: {
        type: "string",
        default: "../shared/data/qm9",
        doc: "data directory (relative to the working directory; the CLI's --data overrides it)",
      },
      xyz: {
        type: "string",
        default: "qm9_subset_3000.extxyz",
        doc: "geometry file in the data directory (format extxyz)",
      },
      labels: {
        type: "string",
        default: "qm9_subset_3000.csv",
        doc: "label CSV keyed by mol_id (MoleculeNet layout) in the data directory (format extxyz)",
      },
      idColumn: {
        type: "string",
        default: "mol_id",
        doc: "label CSV column holding the molecule id (gdb_N or a plain integer)",
      },
      labelColumns: {
        type: "stringList",
        default: [],
        doc: "custom label CSV: property=column pairs (e.g. gap=my_gap); empty: MoleculeNet's " +
          "columns (u0 → U0, u298 → U, h298 → H, g298 → G, cv → Cv, others by name)",
      },
      uncharacterized: {
        type: "nullableString",
        default: "uncharacterized.txt",
        doc: "the release's list of uncharacterized molecules, excluded (null: keep all)",
      },
      limit: {
        type: "nullableNumber",
        default: null,
        integer: true,
        min: 1,
        doc: "use only the first N molecules (after exclusion; null: all)",
      },
    },
  },
  split: {
    type: "section",
    doc: "train / validation / test split (formats extxyz and release; npz brings its own)",
    fields: {
      train: {
        type: "number",
        default: 0.8,
        min: 0,
        doc: "training molecules: a fraction (≤ 1) or a count (> 1; the reference: 100000)",
      },
      test: {
        type: "number",
        default: 0.1,
        min: 0,
        doc: "test molecules: a fraction (≤ 1, floor(f·n) as the reference) or a count",
      },
      seed: {
        type: "number",
        default: 0,
        integer: true,
        min: 0,
        doc: "seed of the split's permutation (validation = what train and test leave)",
      },
    },
  },
  train: {
    type: "section",
    doc: "the training protocol (main_qm9.py)",
    fields: {
      epochs: { type: "number", default: 10, integer: true, min: 1, doc: "epochs per model" },
      batchSize: { type: "number", default: 96, integer: true, min: 1, doc: "molecules per batch" },
      lr: {
        type: "nullableNumber",
        default: null,
        min: 0,
        doc: "learning rate (null: the reference's, 1e-3 for gap/homo/lumo, 5e-4 otherwise)",
      },
      weightDecay: { type: "number", default: 1e-16, min: 0, doc: "Adam's L2 weight decay" },
      schedule: {
        type: "string",
        default: "reference",
        enum: ["reference", "paper", "none"],
        doc: "cosine learning rate: reference = the code's 1.5 periods (scheduler stepped 3× per " +
          "epoch), paper = one half-cosine over the epochs, none = constant",
      },
      evalEvery: {
        type: "number",
        default: 1,
        integer: true,
        min: 1,
        doc: "evaluate validation and test every k epochs (and the last) and checkpoint",
      },
    },
  },
  model: {
    type: "section",
    doc: "the QM9 model (qm9/models.py; the paper: 128, 7, attention, no node attributes)",
    fields: {
      hiddenNf: { type: "number", default: 128, integer: true, min: 1, doc: "hidden width" },
      nLayers: { type: "number", default: 7, integer: true, min: 1, doc: "EGCL layers" },
      attention: { type: "boolean", default: true, doc: "edge inference (eq. 8)" },
      nodeAttr: {
        type: "boolean",
        default: false,
        doc: "append the input features to every φh input (--node_attr 1)",
      },
    },
  },
  baselines: {
    type: "boolean",
    default: true,
    doc: "also report the training-mean and atom-count linear baselines",
  },
};

/** A validated QM9 config. */
export interface Qm9Config {
  experiment: "qm9";
  name: string;
  seed: number;
  out: string;
  properties: Qm9Property[];
  joint: boolean;
  data: {
    format: "extxyz" | "release" | "npz";
    path: string;
    xyz: string;
    labels: string;
    idColumn: string;
    labelColumns: string[];
    uncharacterized: string | null;
    limit: number | null;
  };
  split: { train: number; test: number; seed: number };
  train: {
    epochs: number;
    batchSize: number;
    lr: number | null;
    weightDecay: number;
    schedule: "reference" | "paper" | "none";
    evalEvery: number;
  };
  model: { hiddenNf: number; nLayers: number; attention: boolean; nodeAttr: boolean };
  baselines: boolean;
}

/**
 * Checks what the schema cannot: properties listed once, a split that leaves validation data.
 *
 * @param cfg the config
 * @param file names the config in errors
 */
export function checkQm9Config(cfg: Qm9Config, file: string): void {
  const seen = new Set<string>();
  for (const p of cfg.properties) {
    if (seen.has(p)) throw new Error(`${file}: properties: "${p}" is listed twice`);
    seen.add(p);
  }
  if (cfg.properties.length === 0) {
    throw new Error(
      `${file}: properties: expected at least one of ${TABLE3_PROPERTIES.join(", ")}`,
    );
  }
  for (const [i, pair] of cfg.data.labelColumns.entries()) {
    const [prop, column, ...extra] = pair.split("=");
    if (!prop || !column || extra.length > 0) {
      throw new Error(
        `${file}: data.labelColumns[${i}] is "${pair}", expected property=column (e.g. gap=my_gap)`,
      );
    }
  }
  const { train, test } = cfg.split;
  if (train <= 1 && test <= 1 && train + test >= 1) {
    throw new Error(
      `${file}: split: train ${train} + test ${test} leave no validation molecules (expected a sum < 1)`,
    );
  }
}

/**
 * The label CSV's column mapping: property → column (undefined: MoleculeNet's layout).
 *
 * @param cfg the config
 */
export function labelColumns(cfg: Qm9Config): Record<string, string> | undefined {
  if (cfg.data.labelColumns.length === 0) return undefined;
  return Object.fromEntries(cfg.data.labelColumns.map((pair) => pair.split("=")));
}

/** The learning rate a property trains at under this config. */
export function learningRate(cfg: Qm9Config, properties: Qm9Property[]): number {
  if (cfg.train.lr !== null) return cfg.train.lr;
  return Math.min(...properties.map((p) => PROPERTY_INFO[p].lr));
}
