// The N-body experiment: bad configs are refused before any work, naming the field; a run
// killed in the middle and resumed reaches the same final numbers as an uninterrupted one.
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/load.ts";
import {
  checkNBodyConfig,
  type NBodyConfig,
  nbodySchema,
} from "../../lib/experiments/nbody/config.ts";
import { runNBody } from "../../lib/experiments/nbody/run.ts";
import { trainNBodyMethod } from "../../lib/experiments/nbody/train.ts";
import { buildNBodyModel } from "../../lib/experiments/nbody/methods.ts";
import { BatchGraphs } from "../../lib/experiments/nbody/batches.ts";
import { generateNBodyDataset } from "../../lib/sim/nbody_dataset.ts";
import { getGpu } from "../../mod.ts";
import { formatSweepTable, runNBodySweep } from "../../lib/experiments/nbody/sweep.ts";
import { parseCsv } from "../../lib/io/csv.ts";
import { writeNpy } from "../../lib/io/npy.ts";

const schemas = { nbody: nbodySchema };

function writeConfig(dir: string, cfg: Record<string, unknown>): string {
  const path = `${dir}/config.json`;
  Deno.writeTextFileSync(path, JSON.stringify(cfg));
  return path;
}

function tinyConfig(dir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    experiment: "nbody",
    name: "tiny",
    seed: 3,
    out: `${dir}/out`,
    data: {
      train: 200,
      val: 100,
      test: 100,
      steps: 1000,
      sampleFreq: 100,
      inputFrame: 3,
      targetFrame: 6,
      cacheDir: `${dir}/cache`,
    },
    train: { epochs: 4, batchSize: 50, evalEvery: 2, forwardTimingReps: 1 },
    model: { hiddenNf: 8, nLayers: 2 },
    methods: [{ name: "egnn" }, { name: "rf" }],
    ...overrides,
  };
}

Deno.test("nbody config: bad input is refused before any work, naming the field and the form", () => {
  const dir = Deno.makeTempDirSync();
  const bad = (patch: Record<string, unknown>, pattern: RegExp) => {
    const path = writeConfig(dir, tinyConfig(dir, patch));
    assert.throws(() => {
      const { config } = loadConfig(path, schemas);
      checkNBodyConfig(config as unknown as NBodyConfig, path);
    }, pattern);
  };
  bad(
    { methods: [{ name: "egn" }] },
    /methods\[0\]\.name is "egn", expected one of .*\(did you mean "egnn"\?\)/,
  );
  bad(
    { methods: [{ name: "egnn", lr: -1e-3 }] },
    /methods\[0\]\.lr is -0\.001, expected null or a number > 0/,
  );
  bad({ train: { epochs: "ten" } }, /train\.epochs is "ten", expected an integer ≥ 1/);
  bad({ train: { epocs: 10 } }, /unknown field train\.epocs \(did you mean train\.epochs\?\)/);
  bad({ seed: 1.5 }, /seed is 1\.5, expected an integer ≥ 0/);
  bad({ data: { source: "reference" } }, /data\.source is "reference" but data\.path is null/);
  bad(
    { data: { targetFrame: 3, inputFrame: 5 } },
    /data\.targetFrame \(3\) must come after data\.inputFrame \(5\)/,
  );
  bad(
    { data: { steps: 1000, sampleFreq: 100, targetFrame: 9 } },
    /data\.targetFrame is 9, but steps\/sampleFreq − 1 = 9 frames/,
  );
  Deno.writeTextFileSync(`${dir}/broken.json`, "{ experiment: nbody }");
  assert.throws(() => loadConfig(`${dir}/broken.json`, schemas), /broken\.json: not valid JSON/);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("nbody data: a reference .npy file of the wrong shape or dtype stops the run before training", async () => {
  const dir = Deno.makeTempDirSync();
  const sfx = "_x";
  const N = 4, T = 9;
  for (const split of ["train", "valid", "test"]) {
    // loc has a wrong rank in train; vel is int32 in valid.
    const loc = split === "train"
      ? writeNpy(new Float64Array(N * T * 3), [N, T, 3])
      : writeNpy(new Float64Array(N * T * 3 * 5), [N, T, 3, 5]);
    Deno.writeFileSync(`${dir}/loc_${split}${sfx}.npy`, loc);
    Deno.writeFileSync(
      `${dir}/vel_${split}${sfx}.npy`,
      split === "valid"
        ? writeNpy(new Int32Array(N * T * 15), [N, T, 3, 5])
        : writeNpy(new Float64Array(N * T * 15), [N, T, 3, 5]),
    );
    Deno.writeFileSync(
      `${dir}/charges_${split}${sfx}.npy`,
      writeNpy(new Float64Array(N * 5).fill(1), [N, 5, 1]),
    );
    Deno.writeFileSync(
      `${dir}/edges_${split}${sfx}.npy`,
      writeNpy(new Float64Array(N * 25).fill(1), [N, 5, 5]),
    );
  }
  const path = writeConfig(
    dir,
    tinyConfig(dir, {
      data: {
        source: "reference",
        path: dir,
        suffix: sfx,
        train: 4,
        inputFrame: 1,
        targetFrame: 2,
      },
      train: { batchSize: 2 },
    }),
  );
  const { config } = loadConfig(path, schemas);
  checkNBodyConfig(config as unknown as NBodyConfig, path);
  await assert.rejects(
    runNBody(config as unknown as NBodyConfig, { resume: false, quiet: true }),
    /loc_train_x\.npy: shape \(4, 9, 3\), expected \(N, T, 3, 5\)/,
  );
  Deno.removeSync(`${dir}/loc_train${sfx}.npy`);
  Deno.writeFileSync(
    `${dir}/loc_train${sfx}.npy`,
    writeNpy(new Float64Array(N * T * 15), [N, T, 3, 5]),
  );
  await assert.rejects(
    runNBody(config as unknown as NBodyConfig, { resume: false, quiet: true }),
    /vel_valid_x\.npy.*(int32|<i4|dtype)/,
  );
  assert.throws(() => Deno.statSync(`${dir}/out/tiny.csv`), "no result file when the input is bad");
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("nbody run: killed mid-run and resumed, it reaches the uninterrupted run's numbers", async () => {
  const dir = Deno.makeTempDirSync();
  const cfgPath = writeConfig(dir, tinyConfig(dir));
  const { config } = loadConfig(cfgPath, schemas);
  const cfg = config as unknown as NBodyConfig;
  const straight = await runNBody({ ...cfg, out: `${dir}/straight` }, {
    resume: false,
    quiet: true,
  });

  // A real kill: a child process runs the same config and is SIGKILLed once a checkpoint exists.
  const out = `${dir}/killed`;
  const cli = new URL("../../cli.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "--config", cfgPath, "--out", out, "--quiet"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const ckpt = `${out}/tiny_egnn.ckpt`;
  // The curve is written after each evaluation's checkpoint: once it exists, both do.
  const curvePath = `${out}/tiny_egnn_curve.csv`;
  for (let i = 0; i < 600; i++) {
    try {
      Deno.statSync(curvePath);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill("SIGKILL");
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", "the child was killed, not finished");
  assert.ok(Deno.statSync(ckpt).isFile, "the child wrote a checkpoint before it was killed");
  const partial = parseCsv(Deno.readTextFileSync(curvePath)).rows;
  assert.ok(partial.length >= 1, "the killed run's curve has its evaluations so far");
  for (const f of Deno.readDirSync(out)) {
    assert.doesNotMatch(f.name, /\.tmp-/, "no half-written file");
  }

  const resumed = await runNBody({ ...cfg, out }, { resume: true, quiet: true });
  assert.equal(resumed.length, straight.length);
  for (const [i, r] of resumed.entries()) {
    assert.equal(r.test_mse, straight[i].test_mse, `${r.method}: test MSE`);
    assert.equal(r.best_val_mse, straight[i].best_val_mse, `${r.method}: best validation MSE`);
    assert.equal(r.best_epoch, straight[i].best_epoch, `${r.method}: best epoch`);
  }
  const curve = (d: string) =>
    parseCsv(Deno.readTextFileSync(`${d}/tiny_egnn_curve.csv`)).rows.map((
      r,
    ) => [r.epoch, r.val_mse, r.test_mse]);
  assert.deepEqual(curve(out), curve(`${dir}/straight`));
  const key = (r: Record<string, string>) => [r.epoch, r.val_mse, r.test_mse];
  assert.deepEqual(partial.map(key), curve(out).slice(0, partial.length), "a prefix of the curve");
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("nbody training: each evaluation hands on the curve so far, after its checkpoint", async () => {
  await getGpu();
  const dir = Deno.makeTempDirSync();
  const ds = generateNBodyDataset({
    train: 20,
    val: 10,
    test: 10,
    seed: 5,
    frame0: 3,
    frameT: 6,
    sim: { steps: 1000 },
  });
  const graphs = new BatchGraphs(5);
  const model = buildNBodyModel("linear", { hiddenNf: 8, nLayers: 1, dim: 3, seed: 1 });
  const checkpointPath = `${dir}/linear.ckpt`;
  const seen: { epochs: number[]; checkpoint: boolean }[] = [];
  await trainNBodyMethod(model, ds.splits, graphs, {
    epochs: 3,
    batchSize: 10,
    evalEvery: 2,
    lr: 1e-3,
    weightDecay: 0,
    seed: 1,
    checkpointPath,
    resume: false,
    quiet: true,
    label: "linear",
    onEvaluation: (curve) => {
      seen.push({
        epochs: curve.map((p) => p.epoch),
        checkpoint: Deno.statSync(checkpointPath).isFile,
      });
      return Promise.resolve();
    },
  });
  assert.deepEqual(seen, [{ epochs: [0], checkpoint: true }, { epochs: [0, 2], checkpoint: true }]);
  model.params?.dispose();
  graphs.dispose();
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("nbody sweep: a CSV of size × method and a learning curve per (size, method)", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const cfg = loadConfig(
      writeConfig(
        dir,
        tinyConfig(dir, {
          name: "sw",
          methods: [{ name: "rf" }, { name: "linear_vel" }],
          train: { epochs: 2, batchSize: 20, evalEvery: 1, forwardTimingReps: 1 },
          sweep: {
            sizes: [20, 40],
            epochs: [2, 2],
            egnnEpochs: [2, 2],
            evalBudget: 40,
            trainCount: 60,
            trainSampleFreq: 100,
            trainInputFrame: 3,
            trainTargetFrame: 6,
          },
        }),
      ),
      schemas,
    ).config as unknown as NBodyConfig;
    checkNBodyConfig(cfg, "sweep test");
    const rows = await runNBodySweep(cfg, { resume: false, quiet: true });
    assert.deepEqual(rows.map((r) => `${r.train_size}:${r.method}`), [
      "20:rf",
      "20:linear_vel",
      "40:rf",
      "40:linear_vel",
    ]);
    for (const r of rows) assert.ok(Number.isFinite(r.test_mse) && r.test_mse > 0);
    assert.equal(parseCsv(Deno.readTextFileSync(`${dir}/out/sw.csv`)).rows.length, 4);
    // evalBudget 40: every 2 epochs at size 20 (epochs 0 and the last), every epoch at 40
    const curve = parseCsv(Deno.readTextFileSync(`${dir}/out/sw_rf_n40_curve.csv`));
    assert.deepEqual(curve.rows.map((r) => Number(r.epoch)), [0, 1]);
    assert.ok(Deno.statSync(`${dir}/out/sw_linear_vel_n20_curve.csv`).isFile);
    assert.match(formatSweepTable(rows), /^train size\s+rf\s+linear_vel/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
