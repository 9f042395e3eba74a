/**
 * Figure 2: test MSE against the number of training systems, as main_nbody.py's `main_sweep`:
 * sizes 100 … 50,000 drawn from the sweep's own training set (frames 6 → 8 at every 500 steps),
 * validation and test always on the Table-2 set, per-size epoch budgets (EGNN has its own), and
 * evaluation every max(⌊10,000 / size⌋, 1) epochs.
 *
 * @module
 */

import { getGpu } from "../../gpu/device.ts";
import { endStep } from "../../gpu/tensor.ts";
import { resetTape } from "../../gpu/tape.ts";
import { stringifyCsv } from "../../io/csv.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import type { NBodyConfig } from "./config.ts";
import { BatchGraphs } from "./batches.ts";
import { buildNBodyModel, REFERENCE_LR } from "./methods.ts";
import { trainNBodyMethod } from "./train.ts";
import { generateCached, loadNBodyData, take } from "./data.ts";
import { type RunOptions, writeNBodyCurve } from "./run.ts";
import { resultAdapterLabel } from "../../gpu/tuning.ts";

/** One point of Figure 2. */
export interface SweepRow {
  train_size: number;
  method: string;
  test_mse: number;
  best_val_mse: number;
  best_epoch: number;
  epochs: number;
  eval_every: number;
  lr: number;
  seed: number;
  wall_s: number;
  adapter: string;
}

/** Columns of the sweep CSV. */
export const SWEEP_COLUMNS: (keyof SweepRow)[] = [
  "train_size",
  "method",
  "test_mse",
  "best_val_mse",
  "best_epoch",
  "epochs",
  "eval_every",
  "lr",
  "seed",
  "wall_s",
  "adapter",
];

/**
 * Runs the sweep a config describes (its `sweep.sizes` non-empty).
 *
 * @param cfg the validated config
 * @param o resume, quiet
 * @returns one row per (size, method)
 */
export async function runNBodySweep(cfg: NBodyConfig, o: RunOptions): Promise<SweepRow[]> {
  const { info } = await getGpu();
  const adapter = resultAdapterLabel(info);
  await Deno.mkdir(cfg.out, { recursive: true });
  const sw = cfg.sweep;
  const evalData = await loadNBodyData(cfg, o.quiet);
  const sweepData = await generateCached(
    {
      seed: sw.trainSeed,
      train: sw.trainCount,
      val: 0,
      test: 0,
      frame0: sw.trainInputFrame,
      frameT: sw.trainTargetFrame,
      sim: {
        nBodies: cfg.data.bodies,
        dim: cfg.data.dim,
        steps: cfg.data.steps,
        sampleFreq: sw.trainSampleFreq,
      },
      stream: cfg.data.stream,
    },
    cfg.data.cacheDir,
    o.quiet,
  );
  const graphs = new BatchGraphs(evalData.val.nBodies);
  const rows: SweepRow[] = [];
  try {
    for (const [si, size] of sw.sizes.entries()) {
      for (const [mi, m] of cfg.methods.entries()) {
        const budget = m.name === "egnn" ? sw.egnnEpochs[si] : sw.epochs[si];
        const epochs = Math.max(1, Math.round(budget * sw.epochScale));
        const evalEvery = Math.max(Math.floor(sw.evalBudget / size), 1);
        const lr = m.lr ?? cfg.train.lr ?? REFERENCE_LR[m.name];
        const model = buildNBodyModel(m.name, {
          hiddenNf: cfg.model.hiddenNf,
          nLayers: cfg.model.nLayers,
          dim: evalData.val.dim,
          seed: cfg.seed + mi,
        });
        const curvePath = `${cfg.out}/${cfg.name}_${m.name}_n${size}_curve.csv`;
        const result = await trainNBodyMethod(
          model,
          { train: take(sweepData.train, size), val: evalData.val, test: evalData.test },
          graphs,
          {
            epochs,
            batchSize: cfg.train.batchSize,
            evalEvery,
            lr,
            weightDecay: cfg.train.weightDecay,
            seed: cfg.seed * 1000 + mi,
            checkpointPath: `${cfg.out}/${cfg.name}_${m.name}_n${size}.ckpt`,
            resume: o.resume,
            stopAfterEpochs: o.stopAfterEpochs,
            quiet: o.quiet,
            label: `${m.name} n=${size}`,
            onEvaluation: (curve) => writeNBodyCurve(curvePath, curve, cfg.seed),
          },
        );
        rows.push({
          train_size: size,
          method: m.name,
          test_mse: result.testMse,
          best_val_mse: result.bestValMse,
          best_epoch: result.bestEpoch,
          epochs,
          eval_every: evalEvery,
          lr,
          seed: cfg.seed,
          wall_s: result.wallS,
          adapter,
        });
        await writeNBodyCurve(curvePath, result.curve, cfg.seed);
        await writeFileAtomic(
          `${cfg.out}/${cfg.name}.csv`,
          stringifyCsv(SWEEP_COLUMNS, rows as unknown as Record<string, unknown>[]),
        );
        model.params?.dispose();
        resetTape();
        endStep();
      }
    }
  } finally {
    graphs.dispose();
  }
  return rows;
}

/** The sweep as aligned text: one line per size, one column per method. */
export function formatSweepTable(rows: SweepRow[]): string {
  const methods = [...new Set(rows.map((r) => r.method))];
  const sizes = [...new Set(rows.map((r) => r.train_size))];
  const lines = [["train size", ...methods].map((c) => c.padEnd(12)).join(" ")];
  for (const s of sizes) {
    const cells = methods.map((m) =>
      rows.find((r) => r.train_size === s && r.method === m)?.test_mse.toFixed(5) ?? "–"
    );
    lines.push([String(s), ...cells].map((c) => c.padEnd(12)).join(" "));
  }
  return lines.join("\n");
}
