// The N-body data set: statistics against the figures measured on the reference generator's
// data (shared/spec/nbody_reference_figures.md), the split order and frame extraction, the disk
// cache (hit, new parameters, corrupt files), and the reader of the reference's .npy files.
import assert from "node:assert/strict";
import { writeNpy } from "../../lib/io/npy.ts";
import { Random } from "../../lib/random.ts";
import { sampleTrajectory } from "../../lib/sim/nbody.ts";
import {
  generateNBodyDataset,
  loadOrGenerateNBodyDataset,
  NBODY_SWEEP,
  nbodyCachePaths,
  type NBodyDataset,
  readReferenceNBodyDataset,
} from "../../lib/sim/nbody_dataset.ts";

// 1,000 simulations take about 1 s here. Per-simulation standard deviations measured on 7,000
// of ours: pair distance 1.24 / 1.72 (frames 30 / 40), speed 0.28, displacement 0.24, so the
// relative standard error of each mean at 1,000 is about 1 %: the 4 % band is about 4 σ. (The
// full 7,000 land within 1 % of every figure.)
Deno.test("nbody dataset: frame 30/40 statistics match the reference generator's within 4 %", () => {
  const sims = 1000, rng = new Random(43);
  let pair30 = 0, pair40 = 0, speed30 = 0, speed40 = 0, disp = 0;
  const dist = (a: Float64Array, i: number, j: number) =>
    Math.hypot(a[i] - a[j], a[i + 1] - a[j + 1], a[i + 2] - a[j + 2]);
  for (let s = 0; s < sims; s++) {
    const t = sampleTrajectory(rng);
    const f30 = 30 * 15, f40 = 40 * 15;
    for (let i = 0; i < 5; i++) {
      for (let j = i + 1; j < 5; j++) {
        pair30 += dist(t.loc, f30 + 3 * i, f30 + 3 * j);
        pair40 += dist(t.loc, f40 + 3 * i, f40 + 3 * j);
      }
      speed30 += Math.hypot(t.vel[f30 + 3 * i], t.vel[f30 + 3 * i + 1], t.vel[f30 + 3 * i + 2]);
      speed40 += Math.hypot(t.vel[f40 + 3 * i], t.vel[f40 + 3 * i + 1], t.vel[f40 + 3 * i + 2]);
      disp += Math.hypot(
        t.loc[f40 + 3 * i] - t.loc[f30 + 3 * i],
        t.loc[f40 + 3 * i + 1] - t.loc[f30 + 3 * i + 1],
        t.loc[f40 + 3 * i + 2] - t.loc[f30 + 3 * i + 2],
      );
    }
  }
  const within = (what: string, ours: number, ref: number) =>
    assert.ok(
      Math.abs(ours / ref - 1) < 0.04,
      `${what}: ours ${ours.toFixed(4)}, reference ${ref}`,
    );
  within("mean pair distance, frame 30", pair30 / (10 * sims), 3.8165);
  within("mean speed, frame 30", speed30 / (5 * sims), 0.9065);
  within("mean pair distance, frame 40", pair40 / (10 * sims), 4.7189);
  within("mean speed, frame 40", speed40 / (5 * sims), 0.9084);
  within("mean displacement 30 → 40", disp / (5 * sims), 0.8087);
});

Deno.test("nbody dataset: train, then val, then test from one stream; frames 30 and 40", () => {
  let calls = 0, last = [0, 0];
  const ds = generateNBodyDataset({ train: 4, val: 3, test: 2, seed: 8 }, (done, total) => {
    calls++;
    last = [done, total];
  });
  assert.equal(calls, 9);
  assert.deepEqual(last, [9, 9]);
  const rng = new Random(8);
  for (const [name, count] of [["train", 4], ["val", 3], ["test", 2]] as const) {
    const s = ds.splits[name];
    assert.deepEqual([s.count, s.nBodies, s.dim, s.x0.length, s.charges.length], [
      count,
      5,
      3,
      count * 15,
      count * 5,
    ]);
    for (let k = 0; k < count; k++) {
      const t = sampleTrajectory(rng);
      const f32 = (
        a: Float64Array,
        f: number,
      ) => [...Float32Array.from(a.subarray(f * 15, f * 15 + 15))];
      assert.deepEqual([...s.x0.subarray(k * 15, k * 15 + 15)], f32(t.loc, 30), `${name} ${k} x0`);
      assert.deepEqual([...s.v0.subarray(k * 15, k * 15 + 15)], f32(t.vel, 30), `${name} ${k} v0`);
      assert.deepEqual([...s.xT.subarray(k * 15, k * 15 + 15)], f32(t.loc, 40), `${name} ${k} xT`);
      assert.deepEqual([...s.charges.subarray(k * 5, k * 5 + 5)], [...t.charges], `${name} ${k} q`);
    }
  }
  assert.throws(
    () => generateNBodyDataset({ frameT: 49 }),
    /frameT = 49, expected an integer in \[0, 49\)/,
  );
});

Deno.test("nbody dataset: the sweep set (every 500, frames 6 → 8) is steps 3,500 → 4,500", () => {
  const sweep = generateNBodyDataset({ ...NBODY_SWEEP, train: 3, val: 0, test: 0 });
  const small = generateNBodyDataset({
    seed: 42,
    train: 3,
    val: 0,
    test: 0,
    frame0: 34,
    frameT: 44,
  });
  assert.deepEqual(sweep.splits.train.x0, small.splits.train.x0);
  assert.deepEqual(sweep.splits.train.v0, small.splits.train.v0);
  assert.deepEqual(sweep.splits.train.xT, small.splits.train.xT);
  assert.equal(sweep.splits.val.count, 0);
});

const list = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("nbody dataset: the cache is written once, reused, keyed by every parameter, and a corrupt file is regenerated", async () => {
  const cacheDir = await Deno.makeTempDir();
  const opts = { train: 6, val: 3, test: 3, seed: 2 };
  const warnings: string[] = [];
  let generated = 0;
  const load = (o: typeof opts & { frameT?: number }) =>
    loadOrGenerateNBodyDataset(o, {
      cacheDir,
      onProgress: (done, total) => {
        if (done === total) generated++;
      },
      warn: (m) => warnings.push(m),
    });
  const first = await load(opts);
  assert.equal(generated, 1);
  const paths = await nbodyCachePaths(opts, cacheDir);
  assert.deepEqual(list(cacheDir), [paths.data, paths.meta].map((p) => p.split("/").pop()).sort());
  const meta = JSON.parse(await Deno.readTextFile(paths.meta));
  assert.equal(meta.seed, 2);
  assert.equal(meta.params.sim.sampleFreq, 100);

  const second = await load(opts);
  assert.equal(generated, 1, "second load reads the cache");
  assert.deepEqual(second, first);
  assert.deepEqual(second, generateNBodyDataset(opts));

  await load({ ...opts, frameT: 41 });
  assert.equal(generated, 2, "a changed parameter generates");
  assert.equal(list(cacheDir).length, 4, "… into new files");
  assert.notEqual((await nbodyCachePaths({ ...opts, frameT: 41 }, cacheDir)).data, paths.data);
  assert.equal(
    (await nbodyCachePaths({ ...opts, frameT: 40 }, cacheDir)).data,
    paths.data,
    "defaults hash as themselves",
  );

  const corruptions: [string, () => Promise<void>, RegExp][] = [
    ["flipped byte in the archive", async () => {
      const b = await Deno.readFile(paths.data);
      b[b.length >> 1] ^= 0xff;
      await Deno.writeFile(paths.data, b);
    }, /SHA-256/],
    ["truncated JSON", () => Deno.writeTextFile(paths.meta, "{"), /JSON|Expected/],
    ["JSON of other parameters", async () => {
      const m = JSON.parse(await Deno.readTextFile(paths.meta));
      m.params.seed = 3;
      await Deno.writeTextFile(paths.meta, JSON.stringify(m));
    }, /parameters .* differ/],
    ["archive missing", () => Deno.remove(paths.data), /No such file|not found/i],
  ];
  for (const [what, corrupt, why] of corruptions) {
    await corrupt();
    const before: number = generated;
    warnings.length = 0;
    const again = await load(opts);
    assert.equal(generated, before + 1, `${what}: regenerated`);
    assert.equal(warnings.length, 1, `${what}: one warning`);
    assert.match(warnings[0], why, what);
    assert.match(warnings[0], /regenerating/);
    assert.deepEqual(again, first, what);
    await load(opts);
    assert.equal(generated, before + 1, `${what}: the rewritten cache is used`);
  }
  assert.equal(list(cacheDir).length, 4, "no temporary files left");
  await Deno.remove(cacheDir, { recursive: true });
});

// ---------------------------------------------------------------------------------------------
// Reader of the reference generator's files

const SUFFIX = "_charged5_initvel1small";
type Arr = { data: Float64Array | Float32Array | Int32Array; shape: number[] };

/** A small reference-format set: loc[k, t, d, i] = 1000k + 100t + 10d + i, vel = −loc. */
function referenceFiles(N: Record<string, number>, T = 3): Record<string, Arr> {
  const files: Record<string, Arr> = {};
  const rng = new Random(1);
  for (const split of ["train", "valid", "test"]) {
    const n = N[split];
    const loc = new Float64Array(n * T * 15),
      q = new Float64Array(n * 5),
      e = new Float64Array(n * 25);
    for (let k = 0; k < n; k++) {
      for (let t = 0; t < T; t++) {
        for (let d = 0; d < 3; d++) {
          for (let i = 0; i < 5; i++) {
            loc[((k * T + t) * 3 + d) * 5 + i] = 1000 * k + 100 * t + 10 * d + i;
          }
        }
      }
      for (let i = 0; i < 5; i++) q[k * 5 + i] = rng.uniform() < 0.5 ? -1 : 1;
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 5; j++) e[k * 25 + i * 5 + j] = q[k * 5 + i] * q[k * 5 + j];
      }
    }
    files[`loc_${split}${SUFFIX}.npy`] = { data: loc, shape: [n, T, 3, 5] };
    files[`vel_${split}${SUFFIX}.npy`] = { data: loc.map((v) => -v), shape: [n, T, 3, 5] };
    files[`charges_${split}${SUFFIX}.npy`] = { data: q, shape: [n, 5, 1] };
    files[`edges_${split}${SUFFIX}.npy`] = { data: e, shape: [n, 5, 5] };
  }
  return files;
}

async function writeSet(files: Record<string, Arr | null>): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const [name, a] of Object.entries(files)) {
    if (a) await Deno.writeFile(`${dir}/${name}`, writeNpy(a.data, a.shape));
  }
  return dir;
}

const READ_OPTS = { frame0: 0, frameT: 2, maxTrainingSamples: 3 };

Deno.test("nbody dataset: reads the reference's .npy files, transposed, first maxTrainingSamples", async () => {
  const files = referenceFiles({ train: 4, valid: 2, test: 3 });
  const vel = files[`vel_test${SUFFIX}.npy`];
  vel.data = Float32Array.from(vel.data); // float32 is accepted too
  const dir = await writeSet(files);
  const ds: NBodyDataset = await readReferenceNBodyDataset(dir, READ_OPTS);
  assert.deepEqual(
    [ds.splits.train.count, ds.splits.val.count, ds.splits.test.count],
    [3, 2, 3],
  );
  assert.equal(ds.params.source, "reference");
  for (
    const [name, split] of [["train", ds.splits.train], ["valid", ds.splits.val], [
      "test",
      ds.splits.test,
    ]] as const
  ) {
    const q = files[`charges_${name}${SUFFIX}.npy`].data;
    for (let k = 0; k < split.count; k++) {
      for (let i = 0; i < 5; i++) {
        assert.equal(split.charges[k * 5 + i], q[k * 5 + i]);
        for (let d = 0; d < 3; d++) {
          const o = (k * 5 + i) * 3 + d;
          assert.equal(split.x0[o], 1000 * k + 10 * d + i, `${name} x0[${k}, ${i}, ${d}]`);
          assert.equal(split.v0[o], -(1000 * k + 10 * d + i), `${name} v0[${k}, ${i}, ${d}]`);
          assert.equal(split.xT[o], 1000 * k + 200 + 10 * d + i, `${name} xT[${k}, ${i}, ${d}]`);
        }
      }
    }
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("nbody dataset: each malformed reference file is refused with its name, what is wrong and the expected form", async () => {
  const cases: [string, (f: Record<string, Arr | null>) => void, string | RegExp, object?][] = [
    ["loc of rank 3", (f) => {
      f[`loc_train${SUFFIX}.npy`] = { data: new Float64Array(10 * 49 * 3), shape: [10, 49, 3] };
    }, `loc_train${SUFFIX}.npy: shape (10, 49, 3), expected (N, T, 3, 5)`],
    ["loc of 4 bodies", (f) => {
      f[`loc_valid${SUFFIX}.npy`] = { data: new Float64Array(2 * 3 * 12), shape: [2, 3, 3, 4] };
    }, `loc_valid${SUFFIX}.npy: shape (2, 3, 3, 4), expected (N, T, 3, 5)`],
    ["int32 charges", (f) => {
      f[`charges_train${SUFFIX}.npy`] = { data: new Int32Array(20).fill(1), shape: [4, 5, 1] };
    }, `charges_train${SUFFIX}.npy: dtype <i4, expected float64 or float32 (N, 5, 1)`],
    [
      "charges of rank 2",
      (f) => {
        f[`charges_test${SUFFIX}.npy`] = { data: new Float64Array(15), shape: [3, 5] };
      },
      `charges_test${SUFFIX}.npy: shape (3, 5), expected (3, 5, 1), i.e. (N, 5, 1) with N = 3 as in loc_test${SUFFIX}.npy`,
    ],
    [
      "missing edges",
      (f) => {
        f[`edges_test${SUFFIX}.npy`] = null;
      },
      new RegExp(
        `^edges_test${SUFFIX}\\.npy: file not found in .*, expected \\(N, 5, 5\\) float64$`,
      ),
    ],
    [
      "vel with another N",
      (f) => {
        f[`vel_valid${SUFFIX}.npy`] = { data: new Float64Array(3 * 3 * 15), shape: [3, 3, 3, 5] };
      },
      `vel_valid${SUFFIX}.npy: shape (3, 3, 3, 5), expected (2, 3, 3, 5), i.e. (N, T, 3, 5) with N = 2 as in loc_valid${SUFFIX}.npy`,
    ],
    [
      "edges with another N",
      (f) => {
        f[`edges_train${SUFFIX}.npy`] = { data: new Float64Array(5 * 25), shape: [5, 5, 5] };
      },
      `edges_train${SUFFIX}.npy: shape (5, 5, 5), expected (4, 5, 5), i.e. (N, 5, 5) with N = 4 as in loc_train${SUFFIX}.npy`,
    ],
    [
      "edges that are not q qᵀ",
      (f) => {
        f[`edges_train${SUFFIX}.npy`]!.data[1] *= -1;
      },
      new RegExp(
        `^edges_train${SUFFIX}\\.npy: edges\\[0, 0, 1\\] = .*expected charges\\[0, 0\\]·charges\\[0, 1\\]`,
      ),
    ],
    ["not an .npy file", (f) => {
      f[`vel_train${SUFFIX}.npy`] = null;
    }, new RegExp(`^vel_train${SUFFIX}\\.npy: not a NumPy \\.npy file`)],
    [
      "frames beyond the trajectory",
      () => {},
      new RegExp(
        `^loc_train${SUFFIX}\\.npy \\(3 frames\\): frameT = 40, expected an integer in \\[0, 3\\)`,
      ),
      { frame0: 0, frameT: 40 },
    ],
  ];
  for (const [what, corrupt, message, opts] of cases) {
    const files: Record<string, Arr | null> = referenceFiles({ train: 4, valid: 2, test: 3 });
    corrupt(files);
    const dir = await writeSet(files);
    if (what === "not an .npy file") {
      await Deno.writeTextFile(`${dir}/vel_train${SUFFIX}.npy`, "x,y\n1,2\n");
    }
    await assert.rejects(
      () => readReferenceNBodyDataset(dir, opts ?? READ_OPTS),
      (e: Error) => {
        if (typeof message === "string") assert.equal(e.message, message, what);
        else assert.match(e.message, message, what);
        return true;
      },
    );
    await Deno.remove(dir, { recursive: true });
  }
});
