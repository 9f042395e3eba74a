// The QM9 readers (lib/qm9/): the real shared files when present (the subset's geometries joined
// to its labels, the consistency figures of shared/data/qm9/README.md, all 128,744 geometries),
// synthetic files in every supported format, and malformed input rejected with the file, record
// and field named.
import assert from "node:assert/strict";
import { writeNpz } from "../../lib/io/npz.ts";
import { attachLabels, readLabelsCsv } from "../../lib/qm9/labels.ts";
import { readLines, splitFields } from "../../lib/qm9/lines.ts";
import { elementNumber, type Molecule, QM9_PROPERTIES } from "../../lib/qm9/molecule.ts";
import { readReferenceNpz } from "../../lib/qm9/npz_dataset.ts";
import {
  parseReleaseNumber,
  parseReleaseRecord,
  parseReleaseXyz,
  readReleaseDirectory,
  releaseFileName,
} from "../../lib/qm9/release.ts";
import { readUncharacterized } from "../../lib/qm9/uncharacterized.ts";
import { parseXyz, readXyzMolecules } from "../../lib/qm9/xyz.ts";

// ---------------------------------------------------------------------------------------------
// Real data: $QM9_DATA or ../shared/data/qm9/ beside the checkout (never committed).

const DATA = (() => {
  const env = Deno.env.get("QM9_DATA");
  const dir = env ??
    decodeURIComponent(new URL("../../../shared/data/qm9/", import.meta.url).pathname);
  return dir.replace(/\/+$/, "");
})();
const SUBSET_XYZ = `${DATA}/qm9_subset_3000.extxyz`;
const SUBSET_CSV = `${DATA}/qm9_subset_3000.csv`;
const UNCHARACTERIZED = `${DATA}/uncharacterized.txt`;
const GEOMETRIES = `${DATA}/geometries`;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const subsetPresent = [SUBSET_XYZ, SUBSET_CSV, UNCHARACTERIZED].every(exists);
const geometriesPresent = exists(`${GEOMETRIES}/qm9_geom_00.xyz`);
if (!subsetPresent || !geometriesPresent) {
  console.log(
    `qm9 readers: real QM9 files not found under ${DATA} (set QM9_DATA to the folder holding ` +
      `qm9_subset_3000.extxyz, qm9_subset_3000.csv, uncharacterized.txt, geometries/): ` +
      `the real-data tests are ignored`,
  );
}

/** U0 atom references (Hartree) and kcal/mol per Hartree, as in shared/data/qm9/README.md. */
const ATOM_U0: Record<number, number> = {
  1: -0.500273,
  6: -37.846772,
  7: -54.583861,
  8: -75.064579,
  9: -99.718730,
};
const KCAL_PER_HARTREE = 627.5095;

Deno.test({
  name: "qm9 real: uncharacterized.txt lists 3,054 ids, 58 … 133866",
  ignore: !subsetPresent,
  fn: async () => {
    const ids = await readUncharacterized(UNCHARACTERIZED);
    assert.equal(ids.size, 3054);
    assert.equal(Math.min(...ids), 58);
    assert.equal(Math.max(...ids), 133866);
  },
});

Deno.test({
  name: "qm9 real: subset of 3,000 joined to its labels; gap and atomisation energies agree",
  ignore: !subsetPresent,
  fn: async () => {
    const labels = await readLabelsCsv(SUBSET_CSV, { required: ["gap", "U0", "u0_atom"] });
    assert.equal(labels.size, 3000);
    const excluded = await readUncharacterized(UNCHARACTERIZED);
    const molecules: Molecule[] = [];
    for await (const m of attachLabels(readXyzMolecules(SUBSET_XYZ), labels)) molecules.push(m);
    assert.equal(molecules.length, 3000);
    assert.deepEqual(molecules.map((m) => m.id), molecules.map((_, k) => 1 + 40 * k));
    assert.equal(molecules.filter((m) => excluded.has(m.id)).length, 62);
    assert.equal(molecules.filter((m) => m.charges.includes(9)).length, 8);
    // Every canonical property is there, under its canonical name.
    for (const name of QM9_PROPERTIES) assert.ok(name in molecules[0].properties, name);
    assert.equal(molecules[0].properties.U0, -40.47893);
    assert.equal(molecules[0].properties.Cv, 6.468999999999999);
    let worstGap = 0, worstAtom = 0;
    for (const m of molecules) {
      const p = m.properties;
      worstGap = Math.max(worstGap, Math.abs(p.gap - (p.lumo - p.homo)));
      let ref = 0;
      for (const z of m.charges) ref += ATOM_U0[z];
      worstAtom = Math.max(worstAtom, Math.abs((p.U0 - ref) * KCAL_PER_HARTREE - p.u0_atom));
    }
    // 4-decimal values: a difference of 1e-4 comes out a few ulps over in binary.
    assert.ok(worstGap <= 1e-4 + 1e-12, `|gap − (lumo − homo)| up to ${worstGap} Ha`);
    assert.ok(worstAtom <= 0.01, `|u0_atom − (U0 − Σ atomref)·627.5095| up to ${worstAtom}`);
  },
});

Deno.test({
  name: "qm9 real: all 128,744 geometries (2,330,532 atoms) stream in id order",
  ignore: !subsetPresent || !geometriesPresent,
  fn: async () => {
    const names = [...Deno.readDirSync(GEOMETRIES)].map((e) => e.name)
      .filter((n) => n.startsWith("qm9_geom_") && n.endsWith(".xyz")).sort();
    assert.equal(names.length, 33);
    // The subset's H/C/N/O molecules, to compare coordinates (4 decimals vs 10).
    const subset = new Map<number, Molecule>();
    for await (const m of readXyzMolecules(SUBSET_XYZ)) subset.set(m.id, m);
    const excluded = await readUncharacterized(UNCHARACTERIZED);
    let molecules = 0, atoms = 0, last = 0, compared = 0, worst = 0, onList = 0;
    for (const name of names) {
      for await (const m of readXyzMolecules(`${GEOMETRIES}/${name}`)) {
        molecules++;
        atoms += m.charges.length;
        assert.ok(m.id > last, `${name}: id ${m.id} after ${last}`);
        last = m.id;
        if (excluded.has(m.id)) onList++;
        const s = subset.get(m.id);
        if (s) {
          compared++;
          assert.deepEqual(s.charges, m.charges);
          for (let i = 0; i < m.positions.length; i++) {
            worst = Math.max(worst, Math.abs(s.positions[i] - m.positions[i]));
          }
        }
      }
    }
    assert.equal(molecules, 128744);
    assert.equal(atoms, 2330532);
    assert.equal(onList, 0);
    // Of the subset's 3,000: 62 uncharacterized, 8 with fluorine (2 of them also uncharacterized),
    // and 6 H/C/N/O molecules the geometries' source left out too (4481, 50641, 72121, 80641,
    // 110681, 113841): 3,000 − 68 − 6 in common.
    assert.equal(compared, 2926);
    // Rounding to 4 decimals accounts for 5e-5; the two sources' values differ a little more
    // (measured: 5.018e-5 Å at most).
    assert.ok(worst <= 6e-5, `subset vs geometries: coordinates differ by up to ${worst} Å`);
  },
});

// ---------------------------------------------------------------------------------------------
// Synthetic files.

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "qm9_readers_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Release file text for methane (gdb 1's layout) with a chosen id and Mathematica exponents. */
function releaseText(id: number, homo = "-3.877*^-1"): string {
  const props = [
    "157.7118",
    "157.70997",
    "157.70699",
    "0.",
    "13.21",
    homo,
    "0.1171",
    "0.5048",
    "35.3641",
    "4.4749*^-2",
    "-40.47893",
    "-40.476062",
    "-40.475117",
    "-40.498597",
    "6.469",
  ];
  return [
    "5",
    `gdb ${id}\t${props.join("\t")}\t`,
    "C\t-0.0126981359\t 1.0858041578\t 0.0080009958\t-0.535689",
    "H\t 0.002150416\t-0.0060313176\t 0.0019761204\t 0.133921",
    "H\t 1.0117308433\t 1.4637511618\t 1.2345*^-6\t 0.133922",
    "H\t-0.540815069\t 1.4475266138\t-0.8766437152\t 1.33923*^-1",
    "H\t-0.5238136345\t 1.4379326443\t 0.9063972942\t 0.133923",
    "1341.307\t1341.3284\t1341.365\t1562.6731\t1562.7453\t3038.3205\t3151.6034\t3151.6788\t3151.7078",
    "C\tC\t",
    "InChI=1S/CH4/h1H4\tInChI=1S/CH4/h1H4",
    "",
  ].join("\n");
}

Deno.test("qm9 release: one file read back exactly, Mathematica exponents included", () => {
  assert.equal(parseReleaseNumber("1.2345*^-6"), 1.2345e-6);
  assert.equal(parseReleaseNumber("-2*^3"), -2000);
  assert.ok(Number.isNaN(parseReleaseNumber("abc")));
  assert.ok(Number.isNaN(parseReleaseNumber("")));
  const r = parseReleaseRecord(releaseText(1), "dsgdb9nsd_000001.xyz");
  const m = r.molecule;
  assert.equal(m.id, 1);
  assert.deepEqual([...m.charges], [6, 1, 1, 1, 1]);
  assert.equal(m.positions.length, 15);
  assert.equal(m.positions[0], -0.0126981359);
  assert.equal(m.positions[8], 1.2345e-6);
  assert.equal(m.positions[14], 0.9063972942);
  assert.deepEqual(Object.keys(m.properties), [...QM9_PROPERTIES]);
  assert.equal(m.properties.A, 157.7118);
  assert.equal(m.properties.mu, 0);
  assert.equal(m.properties.homo, -0.3877);
  assert.equal(m.properties.zpve, 4.4749e-2);
  assert.equal(m.properties.Cv, 6.469);
  assert.equal(r.mulliken[3], 0.133923);
  assert.equal(r.mulliken[0], -0.535689);
  assert.equal(r.frequencies.length, 9);
  assert.equal(r.frequencies[8], 3151.7078);
  assert.deepEqual(r.smiles, ["C", "C"]);
  assert.deepEqual(r.inchi, ["InChI=1S/CH4/h1H4", "InChI=1S/CH4/h1H4"]);
  // \r\n line endings give the same molecule.
  assert.deepEqual(parseReleaseXyz(releaseText(1).replaceAll("\n", "\r\n"), "crlf.xyz"), m);
});

Deno.test("qm9 release: a directory's files come in id order, one molecule each", async () => {
  await withTempDir(async (dir) => {
    for (const id of [120, 3, 45]) {
      await Deno.writeTextFile(`${dir}/${releaseFileName(id)}`, releaseText(id));
    }
    await Deno.writeTextFile(`${dir}/README.txt`, "not a molecule");
    const ids: number[] = [];
    for await (const m of readReleaseDirectory(dir)) {
      ids.push(m.id);
      assert.equal(m.properties.homo, -0.3877);
    }
    assert.deepEqual(ids, [3, 45, 120]);
    assert.equal(releaseFileName(45), "dsgdb9nsd_000045.xyz");
    // A file whose gdb N differs from its name is rejected.
    await Deno.writeTextFile(`${dir}/${releaseFileName(7)}`, releaseText(8));
    await assert.rejects(
      async () => {
        for await (const _ of readReleaseDirectory(dir)) { /* drain */ }
      },
      /dsgdb9nsd_000007\.xyz:2: molecule gdb 8, gdb id: expected 7/,
    );
  });
});

const EXTXYZ = [
  "3",
  'Properties=species:S:1:pos:R:3 pbc="F F F" gdb_id=17',
  "O       0.00000000       0.00000000       0.11730000",
  "H       0.00000000       0.75720000      -0.46920000",
  "H       0.00000000      -0.75720000      -0.46920000",
  "2",
  'Properties=species:S:1:pos:R:3 pbc="F F F" gdb_id=23',
  "N  0 0 0",
  "F  0 0 1.5",
].join("\n") + "\n";

Deno.test("qm9 xyz: extended and plain XYZ, CRLF, blank lines, no final newline", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.extxyz`, EXTXYZ.replaceAll("\n", "\r\n"));
    const ext: Molecule[] = [];
    for await (const m of readXyzMolecules(`${dir}/a.extxyz`)) ext.push(m);
    assert.deepEqual(ext.map((m) => m.id), [17, 23]);
    assert.deepEqual([...ext[0].charges], [8, 1, 1]);
    assert.deepEqual([...ext[0].positions], [
      0,
      0,
      0.1173,
      0,
      0.7572,
      -0.4692,
      0,
      -0.7572,
      -0.4692,
    ]);
    assert.deepEqual([...ext[1].charges], [7, 9]);
    assert.deepEqual(ext[1].properties, {});
    // Another column layout: atomic numbers first, positions after a charge column.
    const other = parseXyz(
      "1\nProperties=Z:I:1:q:R:1:pos:R:3 gdb_id=5\n6 0.5 1 2 3\n",
      "z.extxyz",
    );
    assert.deepEqual([...other[0].charges], [6]);
    assert.deepEqual([...other[0].positions], [1, 2, 3]);
    // Plain XYZ: `gdb N` comments, 10 decimals, a blank line between records, none at the end.
    const plain = "2\ngdb 4\nC 0.1234567891 -1.0 2.5\nH 1 2 3\n\n1\nmethane-free comment\nO 0 0 0";
    await Deno.writeTextFile(`${dir}/b.xyz`, plain);
    const got: Molecule[] = [];
    for await (const m of readXyzMolecules(`${dir}/b.xyz`)) got.push(m);
    assert.deepEqual(got.map((m) => m.id), [4, 2]); // the second has no id: its record number
    assert.equal(got[0].positions[0], 0.1234567891);
    assert.deepEqual(parseXyz(plain, "b.xyz"), got);
    // Lines: numbers, CRLF stripped, last line without newline.
    const lines: string[] = [];
    for await (const l of readLines(`${dir}/a.extxyz`)) lines.push(`${l.number}:${l.text}`);
    assert.equal(lines.length, 9);
    assert.equal(lines[8], "9:F  0 0 1.5");
    const last: string[] = [];
    for await (const l of readLines(`${dir}/b.xyz`)) last.push(l.text);
    assert.equal(last.at(-1), "O 0 0 0");
    // Stopping early closes the file (the resource sanitizer would fail the test otherwise).
    for await (const _ of readXyzMolecules(`${dir}/a.extxyz`)) break;
  });
  assert.deepEqual(splitFields("\t a  b\tc "), ["a", "b", "c"]);
  assert.deepEqual(splitFields("   "), []);
});

Deno.test("qm9 labels: MoleculeNet layout renamed; custom columns; plain integer ids", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/mn.csv`,
      ",mol_id,smiles,gap,u0,cv,u0_atom\n0,gdb_1,C,0.5048,-40.47893,6.469,-395.9\n" +
        '1,gdb_2,"N,x",0.1,-56.5,6.3,-276.8\n',
    );
    const mn = await readLabelsCsv(`${dir}/mn.csv`);
    assert.deepEqual(mn.get(1), { gap: 0.5048, U0: -40.47893, Cv: 6.469, u0_atom: -395.9 });
    assert.equal(mn.get(2)?.U0, -56.5);
    await Deno.writeTextFile(`${dir}/custom.csv`, "id,band_gap,other\n41,0.3428,x\n81,0.25,y\n");
    const custom = await readLabelsCsv(`${dir}/custom.csv`, {
      idColumn: "id",
      columns: { gap: "band_gap" },
      required: ["gap"],
    });
    assert.deepEqual([...custom], [[41, { gap: 0.3428 }], [81, { gap: 0.25 }]]);
    const joined: Molecule[] = [];
    const mols = parseXyz("1\ngdb 41\nH 0 0 0\n1\ngdb 9\nH 0 0 0\n", "j.xyz");
    for await (const m of attachLabels(mols, custom, { missing: "skip" })) joined.push(m);
    assert.deepEqual(joined.map((m) => [m.id, m.properties.gap]), [[41, 0.3428]]);
    await assert.rejects(
      async () => {
        for await (const _ of attachLabels(mols, custom, { where: "custom.csv" })) { /* drain */ }
      },
      /custom\.csv: no labels for molecule id 9/,
    );
  });
});

Deno.test("qm9 npz: the reference's padded splits read back without padding", async () => {
  await withTempDir(async (dir) => {
    const B = 3, P = 29, sizes = [5, 3, 29];
    const charges = new Int32Array(B * P), positions = new Float64Array(B * P * 3);
    const elements = [6, 1, 7, 8, 9];
    for (let b = 0; b < B; b++) {
      for (let a = 0; a < sizes[b]; a++) {
        charges[b * P + a] = elements[(a + b) % 5];
        for (let d = 0; d < 3; d++) positions[(b * P + a) * 3 + d] = b + a / 10 + d / 100;
      }
    }
    const arrays: Parameters<typeof writeNpz>[0] = {
      num_atoms: { data: new Int32Array(sizes), shape: [B] },
      charges: { data: charges, shape: [B, P] },
      positions: { data: positions, shape: [B, P, 3] },
      index: { data: new Int32Array([1, 41, 133885]), shape: [B] },
      U0_thermo: { data: new Float64Array([-1, -2, -3]), shape: [B] },
      omega1: { data: new Float64Array([3000, 3100, 3200]), shape: [B] },
    };
    QM9_PROPERTIES.forEach((p, i) => {
      arrays[p] = { data: new Float64Array([i, i + 0.5, i + 0.25]), shape: [B] };
    });
    await Deno.writeFile(`${dir}/valid.npz`, writeNpz(arrays));
    const { molecules, thermo } = await readReferenceNpz(`${dir}/valid.npz`);
    assert.deepEqual(molecules.map((m) => m.id), [1, 41, 133885]);
    assert.deepEqual(molecules.map((m) => m.charges.length), sizes);
    assert.deepEqual([...molecules[1].charges], [1, 7, 8]);
    assert.deepEqual([...molecules[1].positions], [...positions.slice(P * 3, P * 3 + 9)]);
    assert.equal(molecules[2].positions.length, 87);
    assert.equal(molecules[1].properties.gap, 7.5);
    assert.equal(molecules[2].properties.omega1, 3200);
    assert.deepEqual(
      Object.keys(molecules[0].properties).sort(),
      [...QM9_PROPERTIES, "omega1"].sort(),
    );
    assert.deepEqual([...thermo.U0_thermo], [-1, -2, -3]);

    // Malformed archives.
    const bytes = writeNpz(arrays);
    await Deno.writeFile(`${dir}/cut.npz`, bytes.subarray(0, bytes.length - 500));
    await assert.rejects(
      () => readReferenceNpz(`${dir}/cut.npz`),
      /cut\.npz: .*(zip|corrupt|truncated|data bytes)/,
    );
    const { index: _, ...noIndex } = arrays;
    await Deno.writeFile(`${dir}/noindex.npz`, writeNpz(noIndex));
    await assert.rejects(
      () => readReferenceNpz(`${dir}/noindex.npz`),
      /noindex\.npz: no key "index" \(keys: num_atoms, charges/,
    );
    const short = { ...arrays, gap: { data: new Float64Array([1, 2]), shape: [2] } };
    await Deno.writeFile(`${dir}/short.npz`, writeNpz(short));
    await assert.rejects(
      () => readReferenceNpz(`${dir}/short.npz`),
      /short\.npz: key "gap": shape \(2\), expected \(3\)/,
    );
    const badPad = new Int32Array(charges);
    badPad[P + 3] = 6; // molecule 1 has 3 atoms: slot 3 must be padding
    await Deno.writeFile(
      `${dir}/pad.npz`,
      writeNpz({ ...arrays, charges: { data: badPad, shape: [B, P] } }),
    );
    await assert.rejects(
      () => readReferenceNpz(`${dir}/pad.npz`),
      /pad\.npz: key "charges", molecule 1 \(index 41\), atom 3: 6, expected 0/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed text input: file, line, record and field named.

Deno.test("qm9 malformed: xyz truncated, missing count, unknown element, bad coordinate", async () => {
  // Count 3, two atom lines, then the next record.
  assert.throws(
    () => parseXyz("3\ngdb 12\nC 0 0 0\nH 0 0 1\n1\ngdb 13\nH 0 0 0\n", "t.xyz"),
    /t\.xyz:5: record 1 \(gdb 12\), atom 3: truncated record: expected 3 atom lines.*found 2.*next record's count/,
  );
  // Truncated at the end of the file.
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/end.xyz`, EXTXYZ.split("\n").slice(0, 8).join("\n"));
    await assert.rejects(
      async () => {
        for await (const _ of readXyzMolecules(`${dir}/end.xyz`)) { /* drain */ }
      },
      /end\.xyz:8: record 2 \(gdb 23\), atom 2: truncated record at end of file: expected .* 2 atom lines .* found 1/,
    );
  });
  // The same from a file: the stream stops at the error and the file is closed.
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/el.extxyz`, EXTXYZ.replace("N  0 0 0", "Xx 0 0 0"));
    const seen: number[] = [];
    await assert.rejects(
      async () => {
        for await (const m of readXyzMolecules(`${dir}/el.extxyz`)) seen.push(m.id);
      },
      /el\.extxyz:8: record 2 \(gdb 23\), atom 1 element: unknown element "Xx"/,
    );
    assert.deepEqual(seen, [17]);
  });
  assert.throws(
    () => parseXyz("gdb 12\nC 0 0 0\n", "nocount.xyz"),
    /nocount\.xyz:1: record 1, atom count: expected a positive integer .* got "gdb 12"/,
  );
  assert.throws(
    () => parseXyz(EXTXYZ.replace("N  0 0 0", "Xx 0 0 0"), "el.extxyz"),
    /el\.extxyz:8: record 2 \(gdb 23\), atom 1 element: unknown element "Xx" \(expected one of H, C, N, O, F\)/,
  );
  assert.throws(
    () => parseXyz(EXTXYZ.replace("-0.46920000", "-0.4692a"), "num.extxyz"),
    /num\.extxyz:4: record 1 \(gdb 17\), atom 2 z: expected a number, got "-0.4692a"/,
  );
  assert.throws(() => elementNumber("Cl", "here"), /here: unknown element "Cl"/);
});

Deno.test("qm9 malformed: release file with a non-numeric property or a short layout", () => {
  assert.throws(
    () => parseReleaseXyz(releaseText(5, "-0.38x"), "dsgdb9nsd_000005.xyz"),
    /dsgdb9nsd_000005\.xyz:2: molecule gdb 5, property homo: expected a number, got "-0\.38x"/,
  );
  assert.throws(
    () =>
      parseReleaseXyz(releaseText(5).replace("Xx", "").replace("H\t 0.002", "Xx\t 0.002"), "f.xyz"),
    /f\.xyz:4: molecule gdb 5, atom 2 element: unknown element "Xx"/,
  );
  const lines = releaseText(5).split("\n");
  assert.throws(
    () => parseReleaseXyz(lines.slice(0, 6).join("\n"), "short.xyz"),
    /short\.xyz:6: molecule gdb 5, layout: truncated: 6 lines, expected 10/,
  );
  assert.throws(
    () =>
      parseReleaseXyz(
        lines.map((l, i) => i === 1 ? l.replace("\t6.469", "") : l).join("\n"),
        "p.xyz",
      ),
    /p\.xyz:2: molecule gdb 5, properties: expected 15 numbers .* found 14/,
  );
});

Deno.test("qm9 malformed: CSV without the target column or with a non-numeric value", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/nogap.csv`, ",mol_id,homo,lumo\n0,gdb_1,-0.3877,0.1171\n");
    await assert.rejects(
      () => readLabelsCsv(`${dir}/nogap.csv`, { required: ["gap"] }),
      /nogap\.csv: no column "gap" \(columns: "", mol_id, homo, lumo\)/,
    );
    await assert.rejects(
      () => readLabelsCsv(`${dir}/nogap.csv`, { columns: { gap: "band_gap" } }),
      /nogap\.csv: no column "band_gap" for label "gap"/,
    );
    await Deno.writeTextFile(
      `${dir}/bad.csv`,
      ",mol_id,homo,gap\n0,gdb_1,-0.3877,0.5048\n40,gdb_41,-0.2503,n/a\n",
    );
    await assert.rejects(
      () => readLabelsCsv(`${dir}/bad.csv`),
      /bad\.csv:3: mol gdb_41, column "gap": expected a number, got "n\/a"/,
    );
    await Deno.writeTextFile(`${dir}/id.csv`, "mol_id,gap\nmolecule_1,0.5\n");
    await assert.rejects(
      () => readLabelsCsv(`${dir}/id.csv`),
      /id\.csv:2: column "mol_id": expected gdb_N or a positive integer, got "molecule_1"/,
    );
  });
});
