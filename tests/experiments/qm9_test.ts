// The QM9 experiment on a small synthetic data directory written by the test (extxyz + CSV +
// uncharacterized list): bad configs and malformed data are refused before any output is
// written, naming file and field; a run interrupted and resumed reaches the uninterrupted
// run's numbers; the learning-rate schedules.
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/load.ts";
import { checkQm9Config, type Qm9Config, qm9Schema } from "../../lib/experiments/qm9/config.ts";
import { loadQm9Data } from "../../lib/experiments/qm9/data.ts";
import { runQm9 } from "../../lib/experiments/qm9/run.ts";
import { scheduledLr } from "../../lib/experiments/qm9/train.ts";
import { parseCsv } from "../../lib/io/csv.ts";
import { Random } from "../reference/random.ts";

const schemas = { qm9: qm9Schema };
const SYMBOL: Record<number, string> = { 1: "H", 6: "C", 7: "N", 8: "O", 9: "F" };

/** Writes `n` random small molecules (3–7 atoms) with labels correlated with their atoms. */
function writeDataDir(dir: string, n: number, seed = 7): void {
  const rng = new Random(seed);
  const xyz: string[] = [];
  const csv = [
    ",mol_id,A,B,C,mu,alpha,homo,lumo,gap,r2,zpve,u0,u298,h298,g298,cv",
  ];
  for (let i = 1; i <= n; i++) {
    const atoms = rng.int(3, 8);
    const zs = Array.from({ length: atoms }, () => [1, 1, 6, 7, 8][rng.int(0, 5)]);
    xyz.push(String(atoms), `Properties=species:S:1:pos:R:3 pbc="F F F" gdb_id=${i}`);
    for (const z of zs) {
      const p = rng.normals(3, 1.2);
      xyz.push(`${SYMBOL[z]} ${p[0].toFixed(4)} ${p[1].toFixed(4)} ${p[2].toFixed(4)}`);
    }
    const nC = zs.filter((z) => z === 6).length, nH = zs.filter((z) => z === 1).length;
    const homo = -0.25 - 0.01 * nC + 0.005 * rng.normal();
    const lumo = 0.05 + 0.01 * nH + 0.005 * rng.normal();
    const u0 = zs.reduce((s, z) => s - z * 6.3, 0) - 0.1 * atoms;
    const v = [1, 1, 1, 0.5 * nC, 10 * atoms, homo, lumo, lumo - homo, 30 * atoms, 0.01 * atoms];
    csv.push(
      [i - 1, `gdb_${i}`, ...v, u0, u0 + 0.003, u0 + 0.004, u0 - 0.03, 3 * atoms].join(","),
    );
  }
  Deno.writeTextFileSync(`${dir}/mols.extxyz`, xyz.join("\n") + "\n");
  Deno.writeTextFileSync(`${dir}/labels.csv`, csv.join("\n") + "\n");
  Deno.writeTextFileSync(
    `${dir}/uncharacterized.txt`,
    "header text\n=====\n   2  C  C  C  0.1\n   5  N  N  N  0.2\n",
  );
}

function tinyConfig(dir: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    experiment: "qm9",
    name: "tiny",
    seed: 2,
    out: `${dir}/out`,
    properties: ["homo", "U0"],
    data: { path: dir, xyz: "mols.extxyz", labels: "labels.csv" },
    split: { train: 0.6, test: 0.2, seed: 1 },
    train: { epochs: 3, batchSize: 16, evalEvery: 1 },
    model: { hiddenNf: 8, nLayers: 2 },
    ...over,
  };
}

function load(dir: string, cfg: Record<string, unknown>): Qm9Config {
  const path = `${dir}/config.json`;
  Deno.writeTextFileSync(path, JSON.stringify(cfg));
  const c = loadConfig(path, schemas).config as unknown as Qm9Config;
  checkQm9Config(c, path);
  return c;
}

Deno.test("qm9 config: bad input is refused naming the field and the expected form", () => {
  const dir = Deno.makeTempDirSync();
  try {
    assert.throws(
      () => load(dir, tinyConfig(dir, { properties: ["homo", "humo"] })),
      /properties.*humo/s,
    );
    assert.throws(
      () => load(dir, tinyConfig(dir, { train: { epochs: -2 } })),
      /train\.epochs/,
    );
    assert.throws(
      () => load(dir, tinyConfig(dir, { split: { train: 0.9, test: 0.1 } })),
      /leave no validation molecules/,
    );
    assert.throws(
      () => load(dir, tinyConfig(dir, { properties: ["gap", "gap"] })),
      /"gap" is listed twice/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("qm9 data: malformed files stop the run before anything is written", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    writeDataDir(dir, 20);
    // A CSV without the target column.
    const csv = Deno.readTextFileSync(`${dir}/labels.csv`).split("\n");
    Deno.writeTextFileSync(
      `${dir}/nogap.csv`,
      csv.map((l) => l.split(",").filter((_, c) => c !== 9).join(",")).join("\n"),
    );
    const q = { resume: false, quiet: true };
    await assert.rejects(
      () =>
        runQm9(
          load(
            dir,
            tinyConfig(dir, {
              properties: ["gap"],
              data: { path: dir, xyz: "mols.extxyz", labels: "nogap.csv" },
            }),
          ),
          q,
        ),
      /nogap\.csv.*"gap"/s,
    );
    // A truncated geometry record.
    const xyz = Deno.readTextFileSync(`${dir}/mols.extxyz`).split("\n");
    Deno.writeTextFileSync(`${dir}/cut.extxyz`, xyz.slice(0, xyz.length - 3).join("\n"));
    await assert.rejects(
      () =>
        runQm9(
          load(
            dir,
            tinyConfig(dir, { data: { path: dir, xyz: "cut.extxyz", labels: "labels.csv" } }),
          ),
          q,
        ),
      /cut\.extxyz.*record 20/s,
    );
    // An unknown element.
    Deno.writeTextFileSync(`${dir}/xx.extxyz`, xyz.join("\n").replace(/\nC /, "\nXx "));
    await assert.rejects(
      () =>
        runQm9(
          load(
            dir,
            tinyConfig(dir, { data: { path: dir, xyz: "xx.extxyz", labels: "labels.csv" } }),
          ),
          q,
        ),
      /xx\.extxyz.*unknown element "Xx"/s,
    );
    // A missing data directory names the field and the way to give it.
    await assert.rejects(
      () => runQm9(load(dir, tinyConfig(dir, { data: { path: `${dir}/nope` } })), q),
      /data\.path: .*nope is not a readable directory.*--data/s,
    );
    assert.throws(() => Deno.statSync(`${dir}/out`), Deno.errors.NotFound); // nothing written
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("qm9 run: interrupted and resumed, it reaches the uninterrupted run's numbers", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    writeDataDir(dir, 60);
    const full = load(dir, tinyConfig(dir, { name: "full", joint: true }));
    const rowsFull = await runQm9(full, { resume: false, quiet: true });
    assert.deepEqual(rowsFull.map((r) => r.property), ["homo", "U0"]);
    // 60 molecules, 2 uncharacterized excluded: 58 → 34 / 12 / 12 (floor 0.6·58, floor 0.2·58)
    assert.deepEqual([rowsFull[0].train, rowsFull[0].val, rowsFull[0].test], [34, 13, 11]);
    for (const r of rowsFull) {
      assert.ok(Number.isFinite(r.test_mae) && r.test_mae > 0);
      assert.ok(r.best_epoch >= 0 && r.best_epoch < 3);
    }

    const part = load(dir, tinyConfig(dir, { name: "part", joint: true }));
    await runQm9(part, { resume: false, quiet: true, stopAfterEpochs: 1 });
    const rowsResumed = await runQm9(part, { resume: true, quiet: true });
    for (const [i, r] of rowsResumed.entries()) {
      assert.equal(r.test_mae, rowsFull[i].test_mae, `${r.property}: resumed ${r.test_mae}`);
      assert.equal(r.best_val_mae, rowsFull[i].best_val_mae);
    }
    const csv = parseCsv(Deno.readTextFileSync(`${dir}/out/part.csv`));
    assert.equal(csv.rows.length, 2);
    const curve = parseCsv(Deno.readTextFileSync(`${dir}/out/part_joint_curve.csv`));
    assert.equal(curve.rows.length, 3);
    assert.deepEqual(
      Array.from(Deno.readDirSync(`${dir}/out`), (e) => e.name).filter((n) => n.includes(".tmp")),
      [],
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("qm9 data: a custom label CSV (own id column and names) supplies the targets", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    writeDataDir(dir, 30);
    // The same labels under other names, keyed by a plain integer id in column "molecule".
    const rows = Deno.readTextFileSync(`${dir}/labels.csv`).trim().split("\n").slice(1);
    const custom = [
      "molecule,HOMO_Ha,note",
      ...rows.map((r) => {
        const f = r.split(",");
        return `${f[1].slice(4)},${f[7]},x`;
      }),
    ];
    Deno.writeTextFileSync(`${dir}/custom.csv`, custom.join("\n") + "\n");
    const base = { path: dir, xyz: "mols.extxyz" };
    const cfg = (labels: string, extra: Record<string, unknown>) =>
      load(dir, tinyConfig(dir, { properties: ["homo"], data: { ...base, labels, ...extra } }));
    const std = await loadQm9Data(cfg("labels.csv", {}));
    const own = await loadQm9Data(
      cfg("custom.csv", { idColumn: "molecule", labelColumns: ["homo=HOMO_Ha"] }),
    );
    assert.deepEqual([...own.train.targets], [...std.train.targets]);
    assert.deepEqual([...own.test.ids], [...std.test.ids]);
    assert.throws(
      () => cfg("custom.csv", { labelColumns: ["homo"] }),
      /data\.labelColumns\[0\] is "homo", expected property=column/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("qm9 schedule: the reference's 1.5 cosine periods and the paper's half-cosine", () => {
  const at = (e: number, s: "reference" | "paper" | "none") => scheduledLr(1e-3, e, 1000, s);
  assert.equal(at(0, "paper"), 1e-3);
  assert.ok(Math.abs(at(500, "paper") - 5e-4) < 1e-12);
  // reference: scheduler step 3e + 1 → ~0 near epoch 333, back to ~lr at 666, ~0 at 999
  assert.ok(at(333, "reference") < 1e-8, `${at(333, "reference")}`);
  assert.ok(at(666, "reference") > 0.99e-3, `${at(666, "reference")}`);
  assert.ok(at(999, "reference") < 1e-7);
  assert.equal(at(400, "none"), 1e-3);
});
