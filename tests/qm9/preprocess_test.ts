// QM9 preprocessing (lib/qm9/targets.ts, lib/experiments/qm9/{data,baselines}.ts) against values
// computed by hand: methane's (gdb_1) features, targets and units; the atom references of U, H,
// G against the subset CSV's atomisation energies; the split; mean/MAD; the least-squares fit.
import assert from "node:assert/strict";
import {
  ATOM_REFERENCES,
  HARTREE_TO_EV,
  nodeFeatures,
  PROPERTY_INFO,
  TABLE3_PROPERTIES,
  targetValue,
} from "../../lib/qm9/targets.ts";
import type { Molecule } from "../../lib/qm9/molecule.ts";
import { meanMad, packSplit, splitIndices } from "../../lib/experiments/qm9/data.ts";
import { fitBaselines, leastSquares } from "../../lib/experiments/qm9/baselines.ts";
import { attachLabels, readLabelsCsv } from "../../lib/qm9/labels.ts";
import { readXyzMolecules } from "../../lib/qm9/xyz.ts";
import { Random } from "../reference/random.ts";

/** gdb_1 as in qm9_subset_3000.{extxyz,csv} (Hartree, D, bohr³ …). */
const METHANE: Molecule = {
  id: 1,
  charges: new Uint8Array([6, 1, 1, 1, 1]),
  positions: new Float64Array([
    ...[-0.0127, 1.0858, 0.008],
    ...[0.0022, -0.006, 0.002],
    ...[1.0117, 1.4638, 0.0003],
    ...[-0.5408, 1.4475, -0.8766],
    ...[-0.5238, 1.4379, 0.9064],
  ]),
  properties: {
    A: 157.7118,
    B: 157.70997,
    C: 157.70699,
    mu: 0,
    alpha: 13.21,
    homo: -0.3877,
    lumo: 0.1171,
    gap: 0.5048,
    r2: 35.3641,
    zpve: 0.044749,
    U0: -40.47893,
    U: -40.476062,
    H: -40.475117,
    G: -40.498597,
    Cv: 6.469,
  },
};

Deno.test("qm9 features: methane's 15 features by hand (one-hot ⊗ (Z/9)^0..2)", () => {
  const f = nodeFeatures(METHANE.charges);
  assert.equal(f.length, 5 * 15);
  const carbon = new Array(15).fill(0);
  carbon[3] = 1, carbon[4] = 6 / 9, carbon[5] = 36 / 81; // species C = 1 → indices 3..5
  const hydrogen = new Array(15).fill(0);
  hydrogen[0] = 1, hydrogen[1] = 1 / 9, hydrogen[2] = 1 / 81;
  const close = (a: ArrayLike<number>, b: number[]) =>
    b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-7, `feature ${i}: ${a[i]} vs ${v}`));
  close(f.subarray(0, 15), carbon);
  for (let a = 1; a < 5; a++) close(f.subarray(a * 15, a * 15 + 15), hydrogen);
  assert.throws(() => nodeFeatures(new Uint8Array([16])), /atomic number 16/);
});

Deno.test("qm9 targets: methane's targets by hand (atom references, Hartree → eV / meV)", () => {
  const refs = (k: "U0" | "U" | "H" | "G") => ATOM_REFERENCES[6][k] + 4 * ATOM_REFERENCES[1][k];
  const expected: Record<string, number> = {
    // (−40.47893 − (−37.846772 − 4·0.500273)) · 27.2114 = −0.631066 Ha = −17.17226 eV
    U0: (-40.47893 - refs("U0")) * 27.2114,
    U: (-40.476062 - refs("U")) * 27.2114,
    H: (-40.475117 - refs("H")) * 27.2114,
    G: (-40.498597 - refs("G")) * 27.2114,
    homo: -0.3877 * 27.2114,
    lumo: 0.1171 * 27.2114,
    gap: 0.5048 * 27.2114,
    zpve: 0.044749 * 27211.4, // atom reference 0; meV
    Cv: 6.469 - 5 * 2.981, // cal/mol K, atom reference 2.981 per atom
    mu: 0,
    alpha: 13.21,
    r2: 35.3641,
  };
  assert.ok(Math.abs(expected.U0 - -17.17226) < 1e-4);
  for (const p of TABLE3_PROPERTIES) {
    const got = targetValue(METHANE, p);
    assert.ok(
      Math.abs(got - expected[p]) < 1e-9 * Math.max(1, Math.abs(expected[p])),
      `${p}: ${got}`,
    );
  }
  assert.equal(HARTREE_TO_EV, 27.2114);
  assert.equal(PROPERTY_INFO.zpve.unit, "meV");
  assert.throws(
    () => targetValue({ ...METHANE, properties: {} }, "gap", "x.csv"),
    /x\.csv: molecule gdb_1 has no finite value of "gap"/,
  );
});

Deno.test("qm9 split: 80/10/10 by floor, disjoint, covering, seeded", () => {
  const s = splitIndices(2938, 0.8, 0.1, 0);
  assert.deepEqual([s.train.length, s.val.length, s.test.length], [2350, 295, 293]);
  const all = [...s.train, ...s.val, ...s.test].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 2938 }, (_, i) => i));
  assert.deepEqual(splitIndices(2938, 0.8, 0.1, 0), s);
  assert.notDeepEqual(splitIndices(2938, 0.8, 0.1, 1).test, s.test);
  // The reference's counts on the full set: 100,000 train, int(0.1·130831) test, the rest valid.
  const full = splitIndices(130831, 100000, 0.1, 0);
  assert.deepEqual([full.train.length, full.val.length, full.test.length], [100000, 17748, 13083]);
  assert.throws(() => splitIndices(10, 0.9, 0.1, 0), /leave no validation set/);
});

Deno.test("qm9 normalisation: mean and mean absolute deviation per column", () => {
  // columns (1, 2, 3, 6) and (10, 10, 10, 10)
  const { mean, mad } = meanMad(new Float64Array([1, 10, 2, 10, 3, 10, 6, 10]), 2);
  assert.deepEqual([...mean], [3, 10]);
  assert.deepEqual([...mad], [1.5, 0]); // |1−3|+|2−3|+0+|6−3| = 6, /4
});

Deno.test("qm9 baselines: least squares recovers a linear law of atom counts; the mean baseline", () => {
  const rng = new Random(5);
  const mols: Molecule[] = [];
  for (let i = 0; i < 60; i++) {
    const n = 2 + Math.floor(rng.next() * 8);
    const charges = Uint8Array.from({ length: n }, () => [1, 6, 7, 8][Math.floor(rng.next() * 4)]);
    // U0 = 0.1 + Σ atom refs − 0.01·n_H − 0.2·n_C − 0.3·n_N − 0.25·n_O (Hartree)
    const per: Record<number, number> = { 1: -0.01, 6: -0.2, 7: -0.3, 8: -0.25, 9: 0 };
    let u0 = 0.1;
    for (const z of charges) u0 += ATOM_REFERENCES[z].U0 + per[z];
    mols.push({ id: i + 1, charges, positions: new Float64Array(3 * n), properties: { U0: u0 } });
  }
  const train = packSplit(mols.slice(0, 40), ["U0"], "synthetic");
  const test = packSplit(mols.slice(40), ["U0"], "synthetic");
  const b = fitBaselines(train, test, 1);
  assert.ok(b.atomCountMae[0] < 1e-6, `atom-count MAE ${b.atomCountMae[0]}`);
  assert.ok(b.meanMae[0] > 0.5, `mean MAE ${b.meanMae[0]}`);
  // Fluorine never occurs: its column is all zero and gets weight 0, not a singular system.
  const w = leastSquares([
    Float64Array.of(1, 2, 0),
    Float64Array.of(1, 3, 0),
    Float64Array.of(1, 5, 0),
  ], [5, 7, 11]);
  assert.ok(Math.abs(w[0] - 1) < 1e-6 && Math.abs(w[1] - 2) < 1e-6 && w[2] === 0, `${w}`);
});

const DATA = Deno.env.get("QM9_DATA") ??
  decodeURIComponent(new URL("../../../shared/data/qm9/", import.meta.url).pathname);
const present = (() => {
  try {
    Deno.statSync(`${DATA}/qm9_subset_3000.csv`);
    return true;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "qm9 atom references: U, H, G, U0 minus atom references match the subset's *_atom columns",
  ignore: !present,
  fn: async () => {
    const labels = await readLabelsCsv(`${DATA}/qm9_subset_3000.csv`);
    let worst = 0, count = 0;
    for await (
      const m of attachLabels(readXyzMolecules(`${DATA}/qm9_subset_3000.extxyz`), labels)
    ) {
      const pairs: [("U0" | "U" | "H" | "G"), string][] = [
        ["U0", "u0_atom"],
        ["U", "u298_atom"],
        ["H", "h298_atom"],
        ["G", "g298_atom"],
      ];
      for (const [p, col] of pairs) {
        const kcal = targetValue(m, p) / HARTREE_TO_EV * 627.5095;
        worst = Math.max(worst, Math.abs(kcal - m.properties[col]));
      }
      count++;
    }
    assert.equal(count, 3000);
    assert.ok(worst < 0.01, `worst |ours − CSV| ${worst} kcal/mol`);
  },
});
if (!present) console.log(`qm9 preprocess: ${DATA} not found; the real-data check is ignored`);
