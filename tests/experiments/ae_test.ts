// The graph-autoencoder experiment: the device-side counts against the float64 metrics, bad
// configs refused before any work (naming the field), the Figure-5 CSV and the over-fitting
// sweep's CSV, a run interrupted and resumed reaching the uninterrupted run's numbers, and a
// diverging run stopped with its epoch named.
import assert from "node:assert/strict";
import { ConfusionMeter, fromArray, getGpu } from "../../mod.ts";
import { loadConfig } from "../../lib/config/load.ts";
import { type AeConfig, aeSchema, checkAeConfig } from "../../lib/experiments/ae/config.ts";
import { aeTableColumns, runAe } from "../../lib/experiments/ae/run.ts";
import { aeLearningRate, trainAutoencoder } from "../../lib/experiments/ae/train.ts";
import { GraphAutoencoder } from "../../lib/egnn/autoencoder.ts";
import { erdosRenyiDataset } from "../../lib/sim/graphs.ts";
import { addCounts, countsOfGraph, emptyCounts } from "../../lib/experiments/ae/metrics.ts";
import { parseCsv } from "../../lib/io/csv.ts";
import { Random } from "../reference/random.ts";

const schemas = { ae: aeSchema };

function tinyConfig(dir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    experiment: "ae",
    name: "tiny",
    seed: 2,
    out: `${dir}/out`,
    datasets: ["erdos_renyi"],
    encoders: ["baseline", "egnn", "rf"],
    data: { train: 20, val: 10, test: 10 },
    train: { epochs: 3, lr: 1e-3, evalEvery: 1, evalBatch: 4 },
    model: { hiddenNf: 8, nLayers: 2, embeddingNf: 4 },
    ...overrides,
  };
}

function load(dir: string, cfg: Record<string, unknown>): { path: string; cfg: AeConfig } {
  const path = `${dir}/config.json`;
  Deno.writeTextFileSync(path, JSON.stringify(cfg));
  const { config } = loadConfig(path, schemas);
  checkAeConfig(config as unknown as AeConfig, path);
  return { path, cfg: config as unknown as AeConfig };
}

Deno.test("ConfusionMeter: BCE sum, TP, FP, FN of random logits match the float64 counts", async () => {
  await getGpu();
  const rng = new Random(5);
  const meter = new ConfusionMeter();
  let expected = emptyCounts();
  for (const n of [3, 7, 12]) {
    const m = n * (n - 1);
    const logits = Float32Array.from({ length: m }, () => 4 * rng.normal());
    logits[0] = 0; // exactly 0.5: predicted absent, as prob > 0.5
    const target = Float32Array.from({ length: m }, () => (rng.next() < 0.3 ? 1 : 0));
    meter.add(fromArray(logits, [m, 1]), fromArray(target, [m, 1]));
    expected = addCounts(expected, countsOfGraph(n, logits, target));
  }
  const got = await meter.read();
  assert.equal(got.entries, expected.entries);
  assert.deepEqual([got.tp, got.fp, got.fn], [expected.tp, expected.fp, expected.fn]);
  assert.ok(
    Math.abs(got.bceSum - expected.bceSum) <= 1e-5 * expected.bceSum,
    `${got.bceSum} vs ${expected.bceSum}`,
  );
  const again = await meter.read(); // read() resets
  assert.deepEqual([again.bceSum, again.tp, again.entries], [0, 0, 0]);
  meter.dispose();
});

Deno.test("ae config: bad input is refused before any work, naming the field and the form", () => {
  const dir = Deno.makeTempDirSync();
  const bad = (patch: Record<string, unknown>, pattern: RegExp) => {
    assert.throws(() => load(dir, tinyConfig(dir, patch)), pattern);
  };
  bad({ lerning_rate: 1 }, /unknown field lerning_rate/);
  bad({ train: { lr: "fast" } }, /train\.lr is "fast", expected a number > 0/);
  bad({ train: { lrr: 1e-4 } }, /unknown field train\.lrr \(did you mean train\.lr\?\)/);
  bad({ data: { p: 1.5 } }, /data\.p is 1\.5, expected a number > 0 and ≤ 1/);
  bad({ overfit: [0.2, 1.2] }, /overfit is \[0\.2,1\.2\], expected a list of numbers > 0 and ≤ 1/);
  bad({ data: { train: 0 } }, /data\.train is 0, expected an integer ≥ 1/);
  bad({ data: { train: 25 } }, /data\.train is 25, expected a multiple of 10/);
  bad({ encoders: [] }, /encoders is empty/);
  bad({ encoders: ["egnn", "egnn"] }, /encoders lists "egnn" twice/);
  bad({ encoders: ["egn"] }, /encoders is \["egn"\], expected a list of "baseline"/);
  bad({ data: { communitySeeding: "fixed" } }, /data\.communitySeeding is "fixed"/);
  bad({ train: { clipGradNorm: -1 } }, /train\.clipGradNorm is -1, expected a number ≥ 0/);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("ae schedule: half-cosine from lr to 0 over the epochs, stepped per epoch", () => {
  const o = { lr: 1e-4, epochs: 100, schedule: "cosine" as const };
  const lr = (e: number) => aeLearningRate({ ...o } as Parameters<typeof aeLearningRate>[0], e);
  assert.equal(lr(0), 1e-4);
  assert.ok(Math.abs(lr(50) - 5e-5) < 1e-18);
  assert.ok(Math.abs(lr(99) - 1e-4 * (1 + Math.cos(Math.PI * 0.99)) / 2) < 1e-18);
});

Deno.test("ae run: the Figure-5 CSV; interrupted and resumed, it reaches the uninterrupted numbers", async () => {
  const dir = Deno.makeTempDirSync();
  const { cfg } = load(dir, tinyConfig(dir));
  const straight = await runAe({ ...cfg, out: `${dir}/straight` }, { resume: false, quiet: true });
  const table = parseCsv(Deno.readTextFileSync(straight.csvPath));
  assert.deepEqual(table.columns, aeTableColumns(["erdos_renyi"]));
  assert.deepEqual(table.rows.map((r) => r.encoder), ["baseline", "egnn", "rf"]);
  const baseline = table.rows[0];
  assert.equal(baseline.erdos_renyi_f1, "0");
  assert.equal(baseline.erdos_renyi_bce, "");
  assert.ok(Math.abs(Number(baseline.erdos_renyi_pct_error) - 25) < 6, "≈ p_e = 25 % wrong");
  assert.equal(baseline.erdos_renyi_paper_pct_error, "25.13");
  for (const r of table.rows.slice(1)) {
    assert.ok(Number(r.erdos_renyi_bce) > 0, `${r.encoder}: BCE`);
    assert.equal(r.seed, "2");
  }
  const curve = (d: string, e: string) =>
    parseCsv(Deno.readTextFileSync(`${d}/tiny_erdos_renyi_${e}_curve.csv`)).rows;
  assert.deepEqual(curve(`${dir}/straight`, "egnn").map((r) => r.epoch), ["0", "1", "2"]);
  // One graph per step: the largest step's BCE is at least the epoch's mean over graphs.
  for (const r of curve(`${dir}/straight`, "egnn")) {
    assert.ok(Number(r.train_max_step_bce) >= Number(r.train_bce), `epoch ${r.epoch}: max ≥ mean`);
  }

  // Stopped after 2 of 3 epochs (after its checkpoint), then resumed.
  const out = `${dir}/resumed`;
  await runAe({ ...cfg, out }, { resume: false, quiet: true, stopAfterEpochs: 2 });
  const resumed = await runAe({ ...cfg, out }, { resume: true, quiet: true });
  for (const [i, c] of resumed.cells.entries()) {
    assert.deepEqual(c.test, straight.cells[i].test, `${c.encoder}: test metrics`);
    assert.equal(c.bestEpoch, straight.cells[i].bestEpoch, `${c.encoder}: best epoch`);
  }
  // A checkpoint of another run is refused, naming what differs, before anything is loaded.
  await assert.rejects(
    () => runAe({ ...cfg, out, train: { ...cfg.train, lr: 2e-3 } }, { resume: true, quiet: true }),
    /tiny_erdos_renyi_egnn\.ckpt: checkpoint of lr 0\.001; this run has lr 0\.002 \(remove it/,
  );
  // So is resuming with clipping a run that trained without it (written into the table otherwise).
  await assert.rejects(
    () =>
      runAe({ ...cfg, out, train: { ...cfg.train, clipGradNorm: 1 } }, {
        resume: true,
        quiet: true,
      }),
    /tiny_erdos_renyi_egnn\.ckpt: checkpoint of clipGradNorm none; this run has clipGradNorm 1/,
  );
  assert.equal(table.rows[1].clip_grad_norm, "0");
  for (const e of ["egnn", "rf"]) {
    const key = (rows: Record<string, string>[]) =>
      rows.map((
        r,
      ) => [r.epoch, r.train_bce, r.train_max_step_bce, r.val_bce, r.test_bce, r.test_f1]);
    assert.deepEqual(key(curve(out, e)), key(curve(`${dir}/straight`, e)), `${e} curve`);
  }
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("ae training: each evaluation hands on the curve so far, after its checkpoint", async () => {
  await getGpu();
  const dir = Deno.makeTempDirSync();
  const graphs = erdosRenyiDataset(10, 1);
  const model = new GraphAutoencoder({ encoder: "rf", seed: 1 });
  const seen: { epochs: number[]; checkpoint: boolean }[] = [];
  const checkpointPath = `${dir}/rf.ckpt`;
  await trainAutoencoder(model, { train: graphs, val: graphs, test: graphs }, {
    epochs: 3,
    lr: 1e-3,
    weightDecay: 0,
    schedule: "cosine",
    graphsPerStep: 1,
    evalEvery: 2,
    evalBatch: 10,
    seed: 1,
    checkpointPath,
    resume: false,
    quiet: true,
    label: "rf",
    onEvaluation: (curve) => {
      const checkpoint = Deno.statSync(checkpointPath).isFile;
      seen.push({ epochs: curve.map((p) => p.epoch), checkpoint });
      return Promise.resolve();
    },
  });
  assert.deepEqual(seen, [{ epochs: [0], checkpoint: true }, { epochs: [0, 2], checkpoint: true }]);
  model.params.dispose();
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("ae over-fitting sweep: a CSV of p_e × encoder → F1 on the 100 training graphs", async () => {
  const dir = Deno.makeTempDirSync();
  const { cfg } = load(
    dir,
    tinyConfig(dir, {
      name: "sweep",
      overfit: [0.1, 0.3],
      encoders: ["baseline", "gnn"],
      train: { epochs: 1, lr: 1e-3, evalEvery: 1, graphsPerStep: 25, evalBatch: 50 },
    }),
  );
  const { csvPath } = await runAe(cfg, { resume: false, quiet: true });
  const rows = parseCsv(Deno.readTextFileSync(csvPath)).rows;
  assert.deepEqual(rows.map((r) => [r.p_e, r.encoder]), [
    ["0.1", "baseline"],
    ["0.1", "gnn"],
    ["0.3", "baseline"],
    ["0.3", "gnn"],
  ]);
  for (const r of rows) {
    assert.ok(Number(r.f1) >= 0 && Number(r.f1) <= 1, `F1 ${r.f1}`);
    assert.equal(r.seed, "2");
  }
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("ae run: a diverging run stops with the epoch named", async () => {
  const dir = Deno.makeTempDirSync();
  const { cfg } = load(dir, tinyConfig(dir, { encoders: ["gnn"] }));
  cfg.train.lr = 1e30;
  cfg.train.schedule = "none";
  await assert.rejects(
    () => runAe(cfg, { resume: false, quiet: true }),
    /gnn: the training loss became (NaN|Infinity) in epoch \d+/,
  );
  Deno.removeSync(dir, { recursive: true });
});
