/**
 * The N-body experiment end to end: data (generated and cached, or the reference's files),
 * every configured method trained as main_nbody.py trains it, forward timing, and the results:
 * `<out>/<name>.csv` shaped like Table 2, a learning-curve CSV per method, checkpoints.
 *
 * @module
 */

import { getGpu } from "../../gpu/device.ts";
import { endStep } from "../../gpu/tensor.ts";
import { resetTape } from "../../gpu/tape.ts";
import { stringifyCsv } from "../../io/csv.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import type { NBodyConfig } from "./config.ts";
import { BatchGraphs, type NBodySplitData } from "./batches.ts";
import { buildNBodyModel, PAPER_TABLE2, REFERENCE_LR } from "./methods.ts";
import {
  type CurvePoint,
  measureForwardSeconds,
  type MethodResult,
  trainNBodyMethod,
} from "./train.ts";
import { loadNBodyData } from "./data.ts";
import { resultAdapterLabel } from "../../gpu/tuning.ts";

/** One row of the Table-2 CSV. */
export interface NBodyRow {
  method: string;
  label: string;
  test_mse: number;
  forward_time_s: number;
  paper_test_mse: number | null;
  paper_forward_time_s: number | null;
  best_val_mse: number;
  best_epoch: number;
  epochs: number;
  lr: number;
  seed: number;
  wall_s: number;
  adapter: string;
}

/** Columns of the Table-2 CSV, in order. */
export const NBODY_COLUMNS: (keyof NBodyRow)[] = [
  "method",
  "label",
  "test_mse",
  "forward_time_s",
  "paper_test_mse",
  "paper_forward_time_s",
  "best_val_mse",
  "best_epoch",
  "epochs",
  "lr",
  "seed",
  "wall_s",
  "adapter",
];

/** Columns of a learning curve (`<out>/<name>_<method>_curve.csv`), in order. */
export const NBODY_CURVE_COLUMNS = [
  "epoch",
  "train_mse",
  "val_mse",
  "test_mse",
  "elapsed_s",
  "seed",
];

/**
 * Writes a learning curve (one row per evaluation) atomically.
 *
 * @param path the CSV file
 * @param curve the evaluations
 * @param seed the run's seed (a column, so that every output carries it)
 */
export async function writeNBodyCurve(
  path: string,
  curve: readonly CurvePoint[],
  seed: number,
): Promise<void> {
  await writeFileAtomic(
    path,
    stringifyCsv(
      NBODY_CURVE_COLUMNS,
      curve.map((p) => ({
        epoch: p.epoch,
        train_mse: p.trainMse,
        val_mse: p.valMse,
        test_mse: p.testMse,
        elapsed_s: p.elapsedS.toFixed(2),
        seed,
      })),
    ),
  );
}

/** Options of a run beyond the config. */
export interface RunOptions {
  resume: boolean;
  quiet: boolean;
  /** Stop each method after this many epochs in this call (tests of interruption). */
  stopAfterEpochs?: number;
}

/**
 * Runs the experiment a config describes.
 *
 * @param cfg the validated config
 * @param o resume, quiet
 * @returns the table's rows
 */
export async function runNBody(cfg: NBodyConfig, o: RunOptions): Promise<NBodyRow[]> {
  const { info } = await getGpu();
  const adapter = resultAdapterLabel(info);
  await Deno.mkdir(cfg.out, { recursive: true });
  const data = await loadNBodyData(cfg, o.quiet);
  const graphs = new BatchGraphs(data.train.nBodies);
  const rows: NBodyRow[] = [];
  const csvPath = `${cfg.out}/${cfg.name}.csv`;
  try {
    for (const [i, m] of cfg.methods.entries()) {
      const lr = m.lr ?? cfg.train.lr ?? REFERENCE_LR[m.name];
      const epochs = m.epochs ?? cfg.train.epochs;
      const model = buildNBodyModel(m.name, {
        hiddenNf: cfg.model.hiddenNf,
        nLayers: cfg.model.nLayers,
        dim: data.train.dim,
        seed: cfg.seed + i,
      });
      const curvePath = `${cfg.out}/${cfg.name}_${m.name}_curve.csv`;
      const result: MethodResult = await trainNBodyMethod(model, data, graphs, {
        epochs,
        batchSize: cfg.train.batchSize,
        evalEvery: cfg.train.evalEvery,
        lr,
        weightDecay: cfg.train.weightDecay,
        seed: cfg.seed * 1000 + i,
        checkpointPath: `${cfg.out}/${cfg.name}_${m.name}.ckpt`,
        resume: o.resume,
        stopAfterEpochs: o.stopAfterEpochs,
        quiet: o.quiet,
        label: m.name,
        onEvaluation: (curve) => writeNBodyCurve(curvePath, curve, cfg.seed),
      });
      const forwardS = await measureForwardSeconds(
        model,
        data.test,
        graphs,
        cfg.train.batchSize,
        cfg.train.forwardTimingReps,
      );
      const paper = PAPER_TABLE2[m.name];
      rows.push({
        method: m.name,
        label: paper.label,
        test_mse: result.testMse,
        forward_time_s: forwardS,
        paper_test_mse: paper.mse,
        paper_forward_time_s: paper.forwardS,
        best_val_mse: result.bestValMse,
        best_epoch: result.bestEpoch,
        epochs,
        lr,
        seed: cfg.seed,
        wall_s: result.wallS,
        adapter,
      });
      await writeNBodyCurve(curvePath, result.curve, cfg.seed);
      // The table so far, after every method: an interrupted run keeps what it finished.
      await writeFileAtomic(
        csvPath,
        stringifyCsv(NBODY_COLUMNS, rows as unknown as Record<string, unknown>[]),
      );
      model.params?.dispose();
      resetTape();
      endStep();
    }
  } finally {
    graphs.dispose();
  }
  return rows;
}

/** The table as aligned text for the terminal. */
export function formatNBodyTable(rows: NBodyRow[]): string {
  const header = ["Method", "test MSE", "paper", "forward (s)", "paper (s)", "best epoch"];
  const lines = rows.map((r) => [
    r.label,
    r.test_mse.toFixed(5),
    r.paper_test_mse?.toFixed(4) ?? "–",
    r.forward_time_s.toFixed(4),
    r.paper_forward_time_s?.toFixed(4) ?? "–",
    String(r.best_epoch),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const fmt = (cells: string[]) => cells.map((x, c) => x.padEnd(widths[c])).join("  ");
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt)].join("\n");
}

export type { NBodySplitData };
