// NumPy's legacy stream in TypeScript (lib/sim/numpy_random.ts) against numbers NumPy printed, and
// the N-body data set drawn from it against the reference generator's own output
// (tests/fixtures/nbody_numpy_stream.json, made by bench/torch/reference_nbody_generator.py,
// which repeats generate_dataset.py's draws in NumPy).
import assert from "node:assert/strict";
import { NumpyRandom } from "../../lib/sim/numpy_random.ts";
import { sampleTrajectory, skipTrajectory } from "../../lib/sim/nbody.ts";
import { generateNBodyDataset, resolveNBodyParams } from "../../lib/sim/nbody_dataset.ts";
import { loadConfig } from "../../lib/config/load.ts";
import {
  checkNBodyConfig,
  type NBodyConfig,
  nbodySchema,
} from "../../lib/experiments/nbody/config.ts";

Deno.test("NumpyRandom: random_sample and randn as np.random.seed gives them", () => {
  // python3 -c "import numpy as np; np.random.seed(43); print(np.random.random_sample(3))" etc.
  let r = new NumpyRandom(43);
  assert.deepEqual([r.uniform(), r.uniform(), r.uniform()], [
    0.11505456638977896,
    0.6090665392794814,
    0.13339096418598828,
  ]);
  r = new NumpyRandom(43);
  assert.deepEqual(Array.from({ length: 5 }, () => r.normal()), [
    0.25739992534469336,
    -0.9084814327806611,
    -0.37850310605882326,
    -0.5349155987755707,
    0.8580733460716252,
  ]);
  // The 701st double: past the first regeneration of the 624-word state.
  r = new NumpyRandom(43);
  for (let i = 0; i < 700; i++) r.uniform();
  assert.equal(r.uniform(), 0.9021869034066404);
  assert.equal(new NumpyRandom(4294967295).normal(), 0.6484086742306527);
  assert.throws(() => new NumpyRandom(-1), /seed -1, expected an integer in \[0, 2\^32\)/);
  assert.throws(() => new NumpyRandom(2 ** 32), /expected an integer in \[0, 2\^32\)/);
});

Deno.test("skipTrajectory draws exactly what sampleTrajectory with the reference's draws does", () => {
  const a = new NumpyRandom(7), b = new NumpyRandom(7);
  const options = { steps: 300, sampleFreq: 100 };
  sampleTrajectory(a, options, true);
  skipTrajectory(b, options);
  assert.equal(a.uniform(), b.uniform());
  assert.equal(a.normal(), b.normal());
});

interface FixtureSplit {
  x30: number[];
  v30: number[];
  x40: number[];
  charges: number[];
}

Deno.test("nbody dataset, NumPy's stream: the reference generator's simulations, frame for frame", async () => {
  const fx = JSON.parse(
    await Deno.readTextFile(new URL("../fixtures/nbody_numpy_stream.json", import.meta.url)),
  ) as Record<"train" | "valid" | "test", FixtureSplit> & { command: string };
  // --seed 43 --num-train 5 --keep-train 2 --num-valid 3 --num-test 3
  assert.match(fx.command, /--seed 43 --num-train 5 --num-valid 3 --num-test 3 --keep-train 2/);
  const ds = generateNBodyDataset({
    stream: "numpy",
    seed: 43,
    train: 2,
    drawnTrain: 5,
    val: 3,
    test: 3,
  });
  const pairs = [["train", "train"], ["val", "valid"], ["test", "test"]] as const;
  for (const [ours, theirs] of pairs) {
    const s = ds.splits[ours], f = fx[theirs];
    for (
      const [got, want, what] of [
        [s.x0, f.x30, "x30"],
        [s.v0, f.v30, "v30"],
        [s.xT, f.x40, "x40"],
        [s.charges, f.charges, "charges"],
      ] as const
    ) {
      assert.equal(got.length, want.length, `${ours} ${what}`);
      for (let i = 0; i < got.length; i++) {
        // float32 storage of the same float64 trajectory: equal to float32 rounding
        const tol = 1e-6 * Math.max(1, Math.abs(want[i]));
        assert.ok(
          Math.abs(got[i] - want[i]) <= tol,
          `${ours} ${what}[${i}]: ${got[i]} vs ${want[i]}`,
        );
      }
    }
  }
  // Without the skipped draws the validation split is other simulations.
  const unskipped = generateNBodyDataset({ stream: "numpy", seed: 43, train: 2, val: 1, test: 0 });
  assert.notEqual(unskipped.splits.val.x0[0], ds.splits.val.x0[0]);
});

Deno.test("nbody dataset: stream and drawnTrain are checked, and our own stream keeps its cache names", () => {
  const own = resolveNBodyParams({ seed: 43 });
  assert.ok(!("stream" in own) && !("drawnTrain" in own), JSON.stringify(own));
  assert.equal(resolveNBodyParams({ stream: "numpy", drawnTrain: 10000 }).drawnTrain, 10000);
  assert.throws(
    () => resolveNBodyParams({ train: 3000, drawnTrain: 2000 }),
    /drawnTrain = 2000, expected an integer ≥ train \(3000\)/,
  );
  assert.throws(
    () => resolveNBodyParams({ stream: "torch" as "own" }),
    /stream = "torch", expected "own" or "numpy"/,
  );
  const tmp = Deno.makeTempDirSync();
  try {
    const write = (data: unknown) => {
      const path = `${tmp}/c.json`;
      Deno.writeTextFileSync(path, JSON.stringify({ experiment: "nbody", data }));
      return path;
    };
    const schemas = { nbody: nbodySchema };
    let path = write({ train: 3000, drawnTrain: 1000 });
    const { config } = loadConfig(path, schemas);
    assert.throws(
      () => checkNBodyConfig(config as unknown as NBodyConfig, path),
      /c\.json: data\.drawnTrain \(1000\) is smaller than data\.train \(3000\)/,
    );
    path = write({ stream: "torch" });
    assert.throws(() => loadConfig(path, schemas), /data\.stream/);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
