/**
 * The graph-autoencoder experiment end to end: the generated datasets, every configured encoder
 * trained as main_ae.py trains it, and the results — `<out>/<name>.csv` shaped like the table of
 * Figure 5 (rows = encoders; BCE, % error and F1 per dataset), a learning-curve CSV per
 * (dataset, encoder), checkpoints — or, with `overfit` p_e values, the over-fitting sweep of
 * Figure 5's right panel as `<out>/<name>.csv` (p_e × encoder → F1).
 *
 * @module
 */

import { getGpu } from "../../gpu/device.ts";
import { endStep } from "../../gpu/tensor.ts";
import { resetTape } from "../../gpu/tape.ts";
import { stringifyCsv } from "../../io/csv.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { GraphAutoencoder } from "../../egnn/autoencoder.ts";
import { type AdjacencyGraph, aeDatasetSplits, overfitDataset } from "../../sim/graphs.ts";
import type { AeConfig, AeDataset, AeEncoder } from "./config.ts";
import { type AdjacencyMetrics, allAbsentCounts, metricsFromCounts } from "./metrics.ts";
import { type AeCurvePoint, type AeResult, trainAutoencoder } from "./train.ts";
import { resultAdapterLabel } from "../../gpu/tuning.ts";

/** The paper's label of each encoder. */
export const AE_LABELS: Record<AeEncoder, string> = {
  baseline: "Baseline (all edges absent)",
  gnn: "GNN",
  noise_gnn: "Noise-GNN",
  rf: "Radial Field",
  egnn: "EGNN",
};

/** The paper's table of Figure 5 (test partition): BCE, % error, F1 (BCE undefined: null). */
export const PAPER_FIGURE5: Record<
  AeEncoder,
  Record<AeDataset, { bce: number | null; pctError: number; f1: number }>
> = {
  baseline: {
    community: { bce: null, pctError: 31.79, f1: 0 },
    erdos_renyi: { bce: null, pctError: 25.13, f1: 0 },
  },
  gnn: {
    community: { bce: 6.75, pctError: 1.29, f1: 0.980 },
    erdos_renyi: { bce: 14.15, pctError: 4.62, f1: 0.907 },
  },
  noise_gnn: {
    community: { bce: 3.32, pctError: 0.44, f1: 0.993 },
    erdos_renyi: { bce: 4.56, pctError: 1.25, f1: 0.975 },
  },
  rf: {
    community: { bce: 9.22, pctError: 1.19, f1: 0.981 },
    erdos_renyi: { bce: 6.78, pctError: 1.63, f1: 0.968 },
  },
  egnn: {
    community: { bce: 2.14, pctError: 0.06, f1: 0.999 },
    erdos_renyi: { bce: 1.65, pctError: 0.11, f1: 0.998 },
  },
};

/** One encoder's result on one dataset (or one p_e of the sweep). */
export interface AeCell {
  dataset: AeDataset | `overfit_p${number}`;
  encoder: AeEncoder;
  test: AdjacencyMetrics;
  bestEpoch: number;
  wallS: number;
  stepsPerSecond: number;
}

/** What a run produced: its cells, the CSV written and the adapter. */
export interface AeRunResult {
  cells: AeCell[];
  csvPath: string;
  adapter: string;
}

/** Options of a run. */
export interface AeRunOptions {
  resume: boolean;
  quiet?: boolean;
  /** Stops every encoder after this many epochs of this call (tests of interruption). */
  stopAfterEpochs?: number;
}

/** Columns of a learning curve (`<out>/<name>_<dataset>_<encoder>_curve.csv`), in order. */
export const AE_CURVE_COLUMNS = [
  "epoch",
  "train_bce",
  "train_max_step_bce",
  "val_bce",
  "test_bce",
  "test_pct_error",
  "test_f1",
  "elapsed_s",
  "seed",
];

/**
 * Writes a learning curve (one row per evaluation) atomically.
 *
 * @param path the CSV file
 * @param curve the evaluations
 * @param seed the run's seed
 */
export async function writeAeCurve(
  path: string,
  curve: readonly AeCurvePoint[],
  seed: number,
): Promise<void> {
  await writeFileAtomic(
    path,
    stringifyCsv(
      AE_CURVE_COLUMNS,
      curve.map((p) => ({
        epoch: p.epoch,
        train_bce: p.trainBce,
        train_max_step_bce: p.trainMaxStepBce,
        val_bce: p.valBce,
        test_bce: p.testBce,
        test_pct_error: p.testPctError,
        test_f1: p.testF1,
        elapsed_s: p.elapsedS.toFixed(2),
        seed,
      })),
    ),
  );
}

/**
 * The autoencoder a config describes for one encoder.
 *
 * @param cfg the validated config (its `model` section)
 * @param encoder which encoder
 * @param seed seed of the parameters
 * @param noiseSeed seed of the per-forward noise (default seed + 1)
 */
export function buildAutoencoder(
  cfg: AeConfig,
  encoder: Exclude<AeEncoder, "baseline">,
  seed: number,
  noiseSeed?: number,
): GraphAutoencoder {
  return new GraphAutoencoder({ encoder, ...cfg.model, seed, noiseSeed });
}

/**
 * The seeds of the encoder at `index` of the config's list: its parameters, its per-forward noise
 * and the shuffling of its training graphs (so the seeds follow the position in `encoders`).
 */
export function aeEncoderSeeds(
  cfg: AeConfig,
  index: number,
): { params: number; noise: number; shuffling: number } {
  return {
    params: cfg.seed + index,
    noise: cfg.seed * 1000 + 500 + index,
    shuffling: cfg.seed * 1000 + index,
  };
}

/** The training, validation and test graphs of one dataset of the config. */
export function aeSplits(
  cfg: AeConfig,
  dataset: AeDataset,
): { train: AdjacencyGraph[]; val: AdjacencyGraph[]; test: AdjacencyGraph[] } {
  return aeDatasetSplits(dataset, {
    train: cfg.data.train,
    val: cfg.data.val,
    test: cfg.data.test,
    seed: cfg.data.seed,
    p: cfg.data.p,
    communitySeeding: cfg.data.communitySeeding,
  });
}

async function trainOne(
  cfg: AeConfig,
  encoder: AeEncoder,
  index: number,
  tag: string,
  data: { train: AdjacencyGraph[]; val: AdjacencyGraph[]; test: AdjacencyGraph[] },
  o: AeRunOptions,
): Promise<Omit<AeCell, "dataset">> {
  if (encoder === "baseline") {
    return {
      encoder,
      test: metricsFromCounts(allAbsentCounts(data.test)),
      bestEpoch: -1,
      wallS: 0,
      stepsPerSecond: NaN,
    };
  }
  const seeds = aeEncoderSeeds(cfg, index);
  const model = buildAutoencoder(cfg, encoder, seeds.params, seeds.noise);
  const curvePath = `${cfg.out}/${cfg.name}_${tag}_${encoder}_curve.csv`;
  try {
    const result: AeResult = await trainAutoencoder(model, data, {
      ...cfg.train,
      seed: seeds.shuffling,
      checkpointPath: `${cfg.out}/${cfg.name}_${tag}_${encoder}.ckpt`,
      resume: o.resume,
      stopAfterEpochs: o.stopAfterEpochs,
      quiet: o.quiet,
      label: `${tag} ${encoder}`,
      onEvaluation: (curve) => writeAeCurve(curvePath, curve, cfg.seed),
    });
    await writeAeCurve(curvePath, result.curve, cfg.seed);
    return {
      encoder,
      test: result.test,
      bestEpoch: result.bestEpoch,
      wallS: result.wallS,
      stepsPerSecond: result.stepsPerSecond,
    };
  } finally {
    model.params.dispose();
    resetTape();
    endStep();
  }
}

/** The Figure-5 table's columns for these datasets. */
export function aeTableColumns(datasets: readonly AeDataset[]): string[] {
  return [
    "encoder",
    "label",
    ...datasets.flatMap((d) =>
      ["bce", "pct_error", "f1", "paper_bce", "paper_pct_error", "paper_f1", "best_epoch"].map((
        c,
      ) => `${d}_${c}`)
    ),
    "epochs",
    "lr",
    "clip_grad_norm",
    "seed",
    "wall_s",
    "adapter",
  ];
}

/** Columns of the over-fitting sweep's CSV. */
export const AE_SWEEP_COLUMNS = [
  "p_e",
  "encoder",
  "label",
  "f1",
  "pct_error",
  "bce",
  "epochs",
  "clip_grad_norm",
  "seed",
  "adapter",
];

function tableRows(cfg: AeConfig, cells: AeCell[], adapter: string): Record<string, unknown>[] {
  return cfg.encoders.filter((e) => cells.some((c) => c.encoder === e)).map((encoder) => {
    const row: Record<string, unknown> = { encoder, label: AE_LABELS[encoder] };
    let wall = 0;
    for (const d of cfg.datasets) {
      const c = cells.find((x) => x.encoder === encoder && x.dataset === d);
      const paper = PAPER_FIGURE5[encoder][d];
      row[`${d}_bce`] = c && Number.isFinite(c.test.bce) ? c.test.bce : "";
      row[`${d}_pct_error`] = c?.test.pctError ?? "";
      row[`${d}_f1`] = c?.test.f1 ?? "";
      row[`${d}_paper_bce`] = paper.bce ?? "";
      row[`${d}_paper_pct_error`] = paper.pctError;
      row[`${d}_paper_f1`] = paper.f1;
      row[`${d}_best_epoch`] = c && c.bestEpoch >= 0 ? c.bestEpoch : "";
      wall += c?.wallS ?? 0;
    }
    Object.assign(row, {
      epochs: encoder === "baseline" ? 0 : cfg.train.epochs,
      lr: cfg.train.lr,
      clip_grad_norm: cfg.train.clipGradNorm,
      seed: cfg.seed,
      wall_s: wall.toFixed(1),
      adapter,
    });
    return row;
  });
}

/**
 * Runs the experiment a config describes: the Figure-5 table, or the over-fitting sweep when
 * `overfit` lists p_e values. The CSV is rewritten after every encoder, so an interrupted run
 * keeps what it finished (and `resume` continues the encoder it was training).
 *
 * @param cfg the validated config
 * @param o resume, quiet
 * @returns the cells and the CSV's path
 */
export async function runAe(cfg: AeConfig, o: AeRunOptions): Promise<AeRunResult> {
  const { info } = await getGpu();
  const adapter = resultAdapterLabel(info);
  await Deno.mkdir(cfg.out, { recursive: true });
  const csvPath = `${cfg.out}/${cfg.name}.csv`;
  const cells: AeCell[] = [];
  if (cfg.overfit.length > 0) {
    const rows: Record<string, unknown>[] = [];
    for (const p of cfg.overfit) {
      const graphs = overfitDataset(p, 3 + 3 * cfg.data.seed);
      const tag = `overfit_p${p}`;
      for (const [i, encoder] of cfg.encoders.entries()) {
        const cell = {
          dataset: tag as AeCell["dataset"],
          ...(await trainOne(
            cfg,
            encoder,
            i,
            tag,
            { train: graphs, val: graphs, test: graphs },
            o,
          )),
        };
        cells.push(cell);
        rows.push({
          p_e: p,
          encoder,
          label: AE_LABELS[encoder],
          f1: cell.test.f1,
          pct_error: cell.test.pctError,
          bce: Number.isFinite(cell.test.bce) ? cell.test.bce : "",
          epochs: encoder === "baseline" ? 0 : cfg.train.epochs,
          clip_grad_norm: cfg.train.clipGradNorm,
          seed: cfg.seed,
          adapter,
        });
        await writeFileAtomic(csvPath, stringifyCsv(AE_SWEEP_COLUMNS, rows));
      }
    }
    return { cells, csvPath, adapter };
  }
  for (const dataset of cfg.datasets) {
    const data = aeSplits(cfg, dataset);
    for (const [i, encoder] of cfg.encoders.entries()) {
      cells.push({ dataset, ...(await trainOne(cfg, encoder, i, dataset, data, o)) });
      await writeFileAtomic(
        csvPath,
        stringifyCsv(aeTableColumns(cfg.datasets), tableRows(cfg, cells, adapter)),
      );
    }
  }
  return { cells, csvPath, adapter };
}

/** The results as aligned text for the terminal. */
export function formatAeTable(cfg: AeConfig, cells: AeCell[]): string {
  const sweep = cfg.overfit.length > 0;
  const groups = sweep ? cfg.overfit.map((p) => `overfit_p${p}`) : cfg.datasets;
  const header = [
    "Encoder",
    ...groups.flatMap((g) => [`${g} BCE`, "% error", "F1"]),
  ];
  const lines = cfg.encoders.map((e) => [
    AE_LABELS[e],
    ...groups.flatMap((g) => {
      const c = cells.find((x) => x.encoder === e && x.dataset === g);
      if (!c) return ["", "", ""];
      return [
        Number.isFinite(c.test.bce) ? c.test.bce.toFixed(2) : "–",
        c.test.pctError.toFixed(3),
        c.test.f1.toFixed(4),
      ];
    }),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const fmt = (cells: string[]) => cells.map((x, c) => x.padEnd(widths[c])).join("  ");
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt)].join("\n");
}
