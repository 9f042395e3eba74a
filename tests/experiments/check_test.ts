// `cli.ts check`: the equivariant models pass the numerical symmetry check (in 3-D and 2-D, fresh
// and after loading weights), the GNN baseline is flagged, the QM9 model is invariant.
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/load.ts";
import { type NBodyConfig, nbodySchema } from "../../lib/experiments/nbody/config.ts";
import { type Qm9Config, qm9Schema } from "../../lib/experiments/qm9/config.ts";
import { type AeConfig, aeSchema } from "../../lib/experiments/ae/config.ts";
import {
  checkAe,
  checkNBody,
  checkQm9,
  checkVerdict,
  formatCheckTable,
  randomOrthogonal,
  TRANSFORMS,
} from "../../lib/experiments/check.ts";
import { Random } from "../../lib/random.ts";

function config(cfg: Record<string, unknown>): unknown {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/c.json`, JSON.stringify(cfg));
    return loadConfig(`${dir}/c.json`, { nbody: nbodySchema, qm9: qm9Schema, ae: aeSchema })
      .config;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("check: random orthogonal matrices have the asked determinant and QᵀQ = I", () => {
  const rng = new Random(3);
  for (const d of [2, 3, 5]) {
    for (const det of [1, -1] as const) {
      const q = randomOrthogonal(d, rng, det);
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          const dot = q.reduce((s, row) => s + row[i] * row[j], 0);
          assert.ok(Math.abs(dot - +(i === j)) < 1e-12);
        }
      }
      if (d === 2) assert.equal(Math.sign(q[0][0] * q[1][1] - q[0][1] * q[1][0]), det);
      if (d === 3) {
        const [a, b, c] = q; // det = a · (b × c)
        const triple = a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) +
          a[2] * (b[0] * c[1] - b[1] * c[0]);
        assert.ok(Math.abs(triple - det) < 1e-12, `det ${triple}, expected ${det}`);
      }
    }
  }
});

Deno.test("check: EGNN and Radial Field pass, the GNN is flagged (3-D and 2-D)", async () => {
  const cfg = config({
    experiment: "nbody",
    model: { hiddenNf: 8, nLayers: 2 },
    methods: [{ name: "egnn" }, { name: "rf" }, { name: "gnn" }],
  }) as NBodyConfig;
  for (const dim of [3, 2]) {
    const rows = await checkNBody(cfg, { dim, systems: 4 });
    const [egnn, rf, gnn] = rows;
    for (const t of TRANSFORMS) {
      assert.ok(egnn.errors[t] < 1e-4, `EGNN ${t} ${egnn.errors[t]} (dim ${dim})`);
      assert.ok(rf.errors[t] < 1e-4, `RF ${t} ${rf.errors[t]} (dim ${dim})`);
    }
    assert.ok(gnn.errors.rotation > 1e-2, `GNN rotation ${gnn.errors.rotation}`);
    assert.ok(gnn.errors.permutation < 1e-4, `GNN permutation ${gnn.errors.permutation}`);
    const table = formatCheckTable(rows);
    assert.match(table, /EGNN .*equivariant \(as it should be\)/);
    assert.match(table, /Graph Neural Network .*not equivariant \(as expected/);
  }
});

Deno.test("check: the QM9 model's predictions are invariant", async () => {
  const cfg = config({ experiment: "qm9", model: { hiddenNf: 8, nLayers: 2 } }) as Qm9Config;
  const [row] = await checkQm9(cfg, { molecules: 4 });
  for (const t of TRANSFORMS) assert.ok(row.errors[t] < 1e-4, `QM9 ${t} ${row.errors[t]}`);
});

Deno.test("check: the EGNN and Radial Field autoencoders decode E(n)-invariant adjacencies; Noise-GNN is flagged", async () => {
  const cfg = config({
    experiment: "ae",
    seed: 4,
    encoders: ["baseline", "gnn", "noise_gnn", "rf", "egnn"],
    model: { hiddenNf: 16, nLayers: 2 },
  }) as AeConfig;
  const rows = await checkAe(cfg, { graphs: 4 });
  assert.deepEqual(rows.map((r) => [r.model.split(" ")[0], r.expected]), [
    ["Noise-GNN", false],
    ["Radial", true],
    ["EGNN", true],
  ]);
  for (const r of rows) {
    for (const t of TRANSFORMS) {
      const e = r.errors[t];
      if (r.expected || t === "permutation" || t === "rotation") {
        assert.ok(e <= 1e-4, `${r.model} ${t}: ${e}`); // 1-D rotation is the identity
      } else assert.ok(e > 1e-2, `${r.model} ${t}: ${e} (noise-driven, not equivariant)`);
    }
  }
  assert.match(formatCheckTable(rows), /EGNN autoencoder.*equivariant \(as it should be\)/);
});

Deno.test("check: TFN and the SE(3)-Transformer are SE(3)-equivariant, and not under reflections", async () => {
  const cfg = config({
    experiment: "nbody",
    seed: 2,
    methods: [{ name: "tfn" }, { name: "se3_transformer" }],
  }) as NBodyConfig;
  const rows = await checkNBody(cfg, { systems: 3 });
  for (const r of rows) {
    for (const t of ["rotation", "translation", "permutation"] as const) {
      assert.ok(r.errors[t] <= 1e-4, `${r.model} ${t}: ${r.errors[t]}`);
    }
    assert.ok(r.errors.reflection > 1e-2, `${r.model} reflection: ${r.errors.reflection}`);
    assert.equal(checkVerdict(r).ok, true, r.model);
  }
  assert.match(formatCheckTable(rows), /Tensor Field Network .*SE\(3\)-equivariant/);
});
