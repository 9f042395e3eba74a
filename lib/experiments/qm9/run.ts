/**
 * The QM9 experiment end to end: the data a config names (read, uncharacterized molecules
 * excluded, split, normalised), one model per property (or one joint model), trained as
 * main_qm9.py trains it, the two baselines, and the results: `<out>/<name>.csv` shaped like
 * Table 3 (one row per property: our MAE, the paper's, the unit, the baselines), a learning-curve
 * CSV per model, checkpoints.
 *
 * @module
 */

import { getGpu } from "../../gpu/device.ts";
import { endStep } from "../../gpu/tensor.ts";
import { resetTape } from "../../gpu/tape.ts";
import { stringifyCsv } from "../../io/csv.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { QM9Model } from "../../egnn/qm9_model.ts";
import { PROPERTY_INFO, type Qm9Property } from "../../qm9/targets.ts";
import { learningRate, type Qm9Config } from "./config.ts";
import { loadQm9Data, type Qm9Data, type Qm9Split } from "./data.ts";
import { fitBaselines } from "./baselines.ts";
import { type Qm9CurvePoint, type Qm9TrainResult, trainQm9Model } from "./train.ts";
import { resultAdapterLabel } from "../../gpu/tuning.ts";

/** One row of the Table-3 CSV. */
export interface Qm9Row {
  property: string;
  unit: string;
  test_mae: number;
  paper_mae: number;
  paper_printed: string;
  mean_baseline_mae: number | null;
  atom_count_baseline_mae: number | null;
  best_val_mae: number;
  best_epoch: number;
  epochs: number;
  lr: number;
  schedule: string;
  model: string;
  joint: boolean;
  train: number;
  val: number;
  test: number;
  seed: number;
  split_seed: number;
  wall_s: number;
  adapter: string;
}

/** Columns of the Table-3 CSV, in order. */
export const QM9_COLUMNS: (keyof Qm9Row)[] = [
  "property",
  "unit",
  "test_mae",
  "paper_mae",
  "paper_printed",
  "mean_baseline_mae",
  "atom_count_baseline_mae",
  "best_val_mae",
  "best_epoch",
  "epochs",
  "lr",
  "schedule",
  "model",
  "joint",
  "train",
  "val",
  "test",
  "seed",
  "split_seed",
  "wall_s",
  "adapter",
];

/** Options of a run beyond the config. */
export interface Qm9RunOptions {
  resume: boolean;
  quiet: boolean;
  /** Stop each model after this many epochs in this call (tests of interruption). */
  stopAfterEpochs?: number;
}

/** Restricts data to some of its properties (columns). */
function selectProperties(data: Qm9Data, props: Qm9Property[]): Qm9Data {
  const cols = props.map((p) => data.properties.indexOf(p));
  const k = data.properties.length;
  const pick = (s: Qm9Split): Qm9Split => {
    const targets = new Float64Array(s.count * cols.length);
    for (let m = 0; m < s.count; m++) {
      cols.forEach((c, j) => targets[m * cols.length + j] = s.targets[m * k + c]);
    }
    return { ...s, targets };
  };
  return {
    ...data,
    properties: props,
    train: pick(data.train),
    val: pick(data.val),
    test: pick(data.test),
    mean: Float64Array.from(cols, (c) => data.mean[c]),
    mad: Float64Array.from(cols, (c) => data.mad[c]),
  };
}

/**
 * Runs the experiment a config describes.
 *
 * @param cfg the validated config
 * @param o resume, quiet
 * @returns the table's rows
 */
export async function runQm9(cfg: Qm9Config, o: Qm9RunOptions): Promise<Qm9Row[]> {
  const data = await loadQm9Data(cfg); // every input checked before any work or output
  const { info } = await getGpu();
  const adapter = resultAdapterLabel(info);
  await Deno.mkdir(cfg.out, { recursive: true });
  if (!o.quiet) {
    console.error(
      `QM9: ${data.summary.source}: ${data.summary.read} molecules read, ` +
        `${data.summary.excluded} excluded, split ${data.train.count} / ${data.val.count} / ` +
        `${data.test.count} (split seed ${cfg.split.seed})`,
    );
  }
  const baselines = cfg.baselines
    ? fitBaselines(data.train, data.test, data.properties.length)
    : null;
  const groups: Qm9Property[][] = cfg.joint ? [cfg.properties] : cfg.properties.map((p) => [p]);
  const modelName = `EGNN ${cfg.model.hiddenNf}×${cfg.model.nLayers}` +
    (cfg.model.attention ? " att" : "") + (cfg.model.nodeAttr ? " node_attr" : "");
  const rows: Qm9Row[] = [];
  for (const props of groups) {
    const tag = cfg.joint ? "joint" : props[0];
    const part = selectProperties(data, props);
    const lr = learningRate(cfg, props);
    const model = new QM9Model({
      hiddenNf: cfg.model.hiddenNf,
      nLayers: cfg.model.nLayers,
      attention: cfg.model.attention,
      nodeAttr: cfg.model.nodeAttr,
      outNf: props.length,
      seed: cfg.seed,
    });
    let result: Qm9TrainResult;
    try {
      result = await trainQm9Model(model, part, {
        epochs: cfg.train.epochs,
        batchSize: cfg.train.batchSize,
        lr,
        weightDecay: cfg.train.weightDecay,
        schedule: cfg.train.schedule,
        evalEvery: cfg.train.evalEvery,
        seed: cfg.seed,
        checkpointPath: `${cfg.out}/${cfg.name}_${tag}.ckpt`,
        resume: o.resume,
        stopAfterEpochs: o.stopAfterEpochs,
        quiet: o.quiet,
        label: `qm9 ${tag}`,
        onEvaluation: (curve) => writeCurve(cfg, tag, props, curve),
      });
    } finally {
      resetTape();
      endStep();
      model.params.dispose();
    }
    await writeCurve(cfg, tag, props, result.curve);
    props.forEach((p, j) => {
      const all = cfg.properties.indexOf(p);
      rows.push({
        property: p,
        unit: PROPERTY_INFO[p].unit,
        test_mae: result.best[j].testMae,
        paper_mae: PROPERTY_INFO[p].paperMae,
        paper_printed: PROPERTY_INFO[p].paperPrinted,
        mean_baseline_mae: baselines ? baselines.meanMae[all] : null,
        atom_count_baseline_mae: baselines ? baselines.atomCountMae[all] : null,
        best_val_mae: result.best[j].valMae,
        best_epoch: result.best[j].epoch,
        epochs: result.epochs,
        lr,
        schedule: cfg.train.schedule,
        model: modelName,
        joint: cfg.joint,
        train: data.train.count,
        val: data.val.count,
        test: data.test.count,
        seed: cfg.seed,
        split_seed: cfg.split.seed,
        wall_s: Math.round(result.wallS * 10) / 10,
        adapter,
      });
    });
    // Rows so far are written after every model: an interrupted run keeps what it finished.
    await writeFileAtomic(
      `${cfg.out}/${cfg.name}.csv`,
      stringifyCsv(QM9_COLUMNS, rows as unknown as Record<string, unknown>[]),
    );
  }
  return rows;
}

async function writeCurve(
  cfg: Qm9Config,
  tag: string,
  props: Qm9Property[],
  curve: readonly Qm9CurvePoint[],
): Promise<void> {
  const columns = [
    "epoch",
    "lr",
    "train_l1",
    ...props.map((p) => `val_mae_${p}`),
    ...props.map((p) => `test_mae_${p}`),
    "elapsed_s",
    "seed",
  ];
  const rows = curve.map((c) => {
    const row: Record<string, unknown> = {
      epoch: c.epoch,
      lr: c.lr,
      train_l1: c.trainLoss,
      elapsed_s: Math.round(c.elapsedS * 10) / 10,
      seed: cfg.seed,
    };
    props.forEach((p, j) => {
      row[`val_mae_${p}`] = c.valMae[j];
      row[`test_mae_${p}`] = c.testMae[j];
    });
    return row;
  });
  await writeFileAtomic(`${cfg.out}/${cfg.name}_${tag}_curve.csv`, stringifyCsv(columns, rows));
}

/** The table as aligned text (for the terminal). */
export function formatQm9Table(rows: Qm9Row[]): string {
  const f = (v: number | null) =>
    v === null
      ? "—"
      : Math.abs(v) >= 100
      ? v.toFixed(1)
      : Math.abs(v) >= 1
      ? v.toFixed(3)
      : v.toPrecision(3);
  const lines = [
    ["property", "unit", "EGNN MAE", "paper", "mean", "atom counts", "best ep."],
    ...rows.map((r) => [
      r.property,
      r.unit,
      f(r.test_mae),
      f(r.paper_mae),
      f(r.mean_baseline_mae),
      f(r.atom_count_baseline_mae),
      String(r.best_epoch),
    ]),
  ];
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  return lines.map((l) => l.map((v, c) => v.padEnd(widths[c])).join("  ")).join("\n");
}
