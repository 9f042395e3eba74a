// `cli.ts report`: tables with ours, the paper's and the difference; figures as SVG (axis titles,
// well-formed) and PNG; CSVs recognised by their header; missing experiments noted; an empty
// results directory refused with a clear message. No GPU needed.
import assert from "node:assert/strict";
import { stringifyCsv } from "../lib/io/csv.ts";
import { NBODY_COLUMNS } from "../lib/experiments/nbody/run.ts";
import { SWEEP_COLUMNS } from "../lib/experiments/nbody/sweep.ts";
import { QM9_COLUMNS } from "../lib/experiments/qm9/run.ts";
import { CHECK_COLUMNS, type CheckRow, checkRowsToCsv } from "../lib/experiments/check.ts";
import { parseCsv } from "../lib/io/csv.ts";
import { writeReport } from "../lib/report/report.ts";
import { AE_CURVE_COLUMNS, AE_SWEEP_COLUMNS, aeTableColumns } from "../lib/experiments/ae/run.ts";
import { classify } from "../lib/report/inputs.ts";
import { diffCell, fmt, ratioCell } from "../lib/report/tables.ts";

const ADAPTER = "llvmpipe (LLVM 15.0.7, 256 bits) (vulkan)";

function write(dir: string, name: string, columns: readonly string[], rows: object[]) {
  Deno.writeTextFileSync(
    `${dir}/${name}`,
    stringifyCsv([...columns], rows as Record<string, unknown>[]),
  );
}

function curve(epochs: number[], start: number, rate: number) {
  return epochs.map((epoch) => ({
    epoch,
    train_mse: epoch === 0 ? NaN : start * Math.exp(-rate * epoch) * 0.9,
    val_mse: start * Math.exp(-rate * epoch) * 1.05,
    test_mse: start * Math.exp(-rate * epoch),
    elapsed_s: (epoch * 1.5).toFixed(2),
    seed: 1,
  }));
}

/** A results directory with every kind of CSV the report reads (and one it doesn't). */
export function writeReportFixtures(dir: string) {
  const base = { best_val_mse: 0.01, epochs: 10, seed: 1, wall_s: 12.5, adapter: ADAPTER };
  write(dir, "nbody.csv", NBODY_COLUMNS, [
    {
      ...base,
      method: "egnn",
      label: "EGNN",
      test_mse: 0.01,
      forward_time_s: 0.0124,
      paper_test_mse: 0.0071,
      paper_forward_time_s: 0.0062,
      best_epoch: 10,
      lr: 5e-4,
    },
    {
      ...base,
      method: "gnn",
      label: "Graph Neural Network",
      test_mse: 0.009,
      forward_time_s: 0.0016,
      paper_test_mse: 0.0107,
      paper_forward_time_s: 0.0032,
      best_epoch: 5,
      lr: 1e-3,
    },
    {
      ...base,
      method: "linear_vel",
      label: "Linear (x + t·v)",
      test_mse: 0.0305,
      forward_time_s: 0.0001,
      paper_test_mse: null,
      paper_forward_time_s: null,
      best_epoch: 0,
      lr: 5e-4,
    },
  ]);
  const epochs = [0, 5, 10];
  for (const [m, s] of [["egnn", 0.3], ["gnn", 0.2]] as const) {
    write(
      dir,
      `nbody_${m}_curve.csv`,
      Object.keys(curve(epochs, s, 0.2)[0]),
      curve(epochs, s, 0.2),
    );
  }
  // A sweep under a name that says nothing: recognised by its header.
  const sweepRows = [];
  for (const size of [100, 400, 1600]) {
    for (const [m, k] of [["egnn", 0.5], ["gnn", 1], ["rf", 0.8]] as const) {
      sweepRows.push({
        train_size: size,
        method: m,
        test_mse: 0.2 * k / Math.sqrt(size),
        best_val_mse: 0.2 * k / Math.sqrt(size),
        best_epoch: 4,
        epochs: 4,
        eval_every: Math.max(Math.floor(10000 / size), 1),
        lr: 5e-4,
        seed: 1,
        wall_s: 3,
        adapter: ADAPTER,
      });
      const c = curve([0, 2, 4], k * 3 / Math.sqrt(size), 0.3);
      write(dir, `fig2_data_${m}_n${size}_curve.csv`, Object.keys(c[0]), c);
    }
  }
  write(dir, "fig2_data.csv", SWEEP_COLUMNS, sweepRows);
  const qm9 = (property: string, unit: string, ours: number, paper: number, printed: string) => ({
    property,
    unit,
    test_mae: ours,
    paper_mae: paper,
    paper_printed: printed,
    mean_baseline_mae: ours * 10,
    atom_count_baseline_mae: ours * 5,
    best_val_mae: ours,
    best_epoch: 3,
    epochs: 3,
    lr: 1e-3,
    schedule: "cosine",
    model: "EGNN 128×7",
    joint: false,
    train: 1000,
    val: 200,
    test: 200,
    seed: 2,
    split_seed: 0,
    wall_s: 40,
    adapter: ADAPTER,
  });
  write(dir, "qm9.csv", QM9_COLUMNS, [
    qm9("homo", "eV", 0.058, 0.029, "29"),
    qm9("alpha", "bohr³", 0.5, 0.071, ".071"),
  ]);
  for (const [p, s] of [["homo", 0.3], ["alpha", 2]] as const) {
    const rows = [1, 2, 3].map((epoch) => ({
      epoch,
      lr: 1e-3,
      train_l1: s / epoch,
      [`val_mae_${p}`]: s / epoch,
      [`test_mae_${p}`]: s / epoch * 1.1,
      elapsed_s: epoch * 10,
      seed: 2,
    }));
    write(dir, `qm9_${p}_curve.csv`, Object.keys(rows[0]), rows);
  }
  const aeCols = aeTableColumns(["community", "erdos_renyi"]);
  const aeRun = { epochs: 20, lr: 1e-4, seed: 3, wall_s: 100, adapter: ADAPTER };
  write(dir, "ae.csv", aeCols, [
    {
      ...aeRun,
      encoder: "gnn",
      label: "GNN",
      community_bce: 7.5,
      community_pct_error: 1.5,
      community_f1: 0.97,
      community_paper_bce: 6.75,
      community_paper_pct_error: 1.29,
      community_paper_f1: 0.98,
      community_best_epoch: 18,
      erdos_renyi_bce: 15,
      erdos_renyi_pct_error: 5,
      erdos_renyi_f1: 0.9,
      erdos_renyi_paper_bce: 14.15,
      erdos_renyi_paper_pct_error: 4.62,
      erdos_renyi_paper_f1: 0.907,
      erdos_renyi_best_epoch: 20,
    },
    {
      ...aeRun,
      encoder: "egnn",
      label: "EGNN",
      community_bce: 2,
      community_pct_error: 0.1,
      community_f1: 0.999,
      community_paper_bce: 2.14,
      community_paper_pct_error: 0.06,
      community_paper_f1: 0.999,
      community_best_epoch: 20,
      erdos_renyi_bce: 1.8,
      erdos_renyi_pct_error: 0.2,
      erdos_renyi_f1: 0.996,
      erdos_renyi_paper_bce: "",
      erdos_renyi_paper_pct_error: "",
      erdos_renyi_paper_f1: "",
      erdos_renyi_best_epoch: 19,
    },
  ]);
  for (const d of ["community", "erdos_renyi"]) {
    for (const [e, s] of [["gnn", 30], ["egnn", 20]] as const) {
      const rows = [0, 10, 20].map((epoch) => ({
        epoch,
        train_bce: s / (epoch + 1),
        val_bce: s / (epoch + 1) * 1.1,
        test_bce: s / (epoch + 1) * 1.12,
        test_pct_error: 10 / (epoch + 1),
        test_f1: 1 - 0.5 / (epoch + 1),
        elapsed_s: epoch * 2,
        seed: 3,
      }));
      write(dir, `ae_${d}_${e}_curve.csv`, Object.keys(rows[0]), rows);
    }
  }
  const overfit = [];
  for (const pe of [0.1, 0.5, 0.9]) {
    for (const [e, l, f1] of [["gnn", "GNN", 0.4 + pe / 2], ["egnn", "EGNN", 1]] as const) {
      overfit.push({
        p_e: pe,
        encoder: e,
        label: l,
        f1,
        pct_error: (1 - f1) * 10,
        bce: (1 - f1) * 5,
        epochs: 50,
        seed: 3,
        adapter: ADAPTER,
      });
    }
  }
  write(dir, "ae_overfit.csv", AE_SWEEP_COLUMNS, overfit);
  for (const r of overfit) {
    const rows = [0, 25, 50].map((epoch) => ({
      epoch,
      train_bce: (1.1 - r.f1) * 10 / (epoch + 1),
      val_bce: (1.1 - r.f1) * 10 / (epoch + 1),
      test_bce: (1.1 - r.f1) * 10 / (epoch + 1),
      test_pct_error: 1,
      test_f1: r.f1,
      elapsed_s: epoch,
      seed: 3,
    }));
    write(dir, `ae_overfit_overfit_p${r.p_e}_${r.encoder}_curve.csv`, Object.keys(rows[0]), rows);
  }
  const checkRows: CheckRow[] = [
    {
      model: "EGNN",
      expected: true,
      errors: { rotation: 3.1e-7, reflection: 2.2e-7, translation: 1.5e-7, permutation: 0 },
    },
    {
      model: "Graph Neural Network",
      expected: false,
      errors: { rotation: 0.83, reflection: 1.2, translation: 0.41, permutation: 0 },
    },
  ];
  Deno.writeTextFileSync(
    `${dir}/check_nbody.csv`,
    checkRowsToCsv(checkRows, { config: "configs/nbody.json", seed: 1, adapter: ADAPTER }),
  );
  Deno.writeTextFileSync(`${dir}/notes.csv`, "a,b\n1,2\n");
}

/** Minimal well-formedness check of SVG/XML: balanced tags, one <svg> root. */
function assertSvg(svg: string, where: string) {
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, where);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `${where}: </${name}> closes the wrong tag`);
    else stack.push(name);
  }
  assert.deepEqual(stack, [], `${where}: unclosed tags`);
  assert.ok(svg.trimEnd().endsWith("</svg>"), where);
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

Deno.test("report: number formatting, differences and ratios", () => {
  assert.equal(fmt(0.01), "0.0100");
  assert.equal(fmt(0.0071), "0.00710");
  assert.equal(fmt(3.1e-7), "3.10e-7");
  assert.equal(fmt(null), "–");
  assert.deepEqual(diffCell(0.01, 0.0071), { text: "+0.00290", cls: "worse" });
  assert.deepEqual(diffCell(0.009, 0.0107), { text: "−0.00170", cls: "better" });
  assert.deepEqual(diffCell(0.999, 0.98, true), { text: "+0.0190", cls: "better" });
  assert.equal(diffCell(0.01, null).text, "–");
  assert.equal(ratioCell(0.01, 0.0071).text, "1.41×");
  assert.equal(ratioCell(0.5, 0.071).text, "7.04×");
});

Deno.test("report: CSVs are recognised by their header", () => {
  assert.equal(classify([...NBODY_COLUMNS]), "nbody");
  assert.equal(classify([...SWEEP_COLUMNS]), "sweep");
  assert.equal(classify([...QM9_COLUMNS]), "qm9");
  assert.equal(classify([...CHECK_COLUMNS]), "check");
  assert.equal(
    classify(["epoch", "train_mse", "val_mse", "test_mse", "elapsed_s", "seed"]),
    "nbody_curve",
  );
  assert.equal(classify(["epoch", "lr", "train_l1", "val_mae_homo", "test_mae_homo"]), "qm9_curve");
  assert.equal(classify(aeTableColumns(["community"])), "ae");
  assert.equal(classify(aeTableColumns(["community", "erdos_renyi"])), "ae");
  assert.equal(classify(AE_SWEEP_COLUMNS), "ae_overfit");
  assert.equal(classify(AE_CURVE_COLUMNS), "ae_curve");
  // Results written before a column was added are still recognised.
  const curveOf20261127 = [
    "epoch",
    "train_bce",
    "val_bce",
    "test_bce",
    "test_pct_error",
    "test_f1",
    "elapsed_s",
    "seed",
  ];
  assert.equal(classify(curveOf20261127), "ae_curve");
  const tableOf20261128 = aeTableColumns(["community"]).filter((c) => c !== "clip_grad_norm");
  assert.equal(classify(tableOf20261128), "ae");
  assert.equal(classify(AE_SWEEP_COLUMNS.filter((c) => c !== "clip_grad_norm")), "ae_overfit");
  assert.equal(classify(["a", "b"]), null);
});

Deno.test("report: check CSV round-trips the rows and verdicts", () => {
  const csv = checkRowsToCsv(
    [{
      model: "EGNN",
      expected: true,
      errors: { rotation: 1e-7, reflection: 2e-7, translation: 3e-7, permutation: 0 },
    }, {
      model: "GNN",
      expected: false,
      errors: { rotation: 0.5, reflection: 0.6, translation: 0.1, permutation: 0 },
    }],
    { config: "configs/nbody.json", checkpoint: "results/x.ckpt", seed: 1, adapter: ADAPTER },
  );
  const { columns, rows } = parseCsv(csv);
  assert.deepEqual(columns, [...CHECK_COLUMNS]);
  assert.equal(rows[0].verdict, "equivariant (as it should be)");
  assert.equal(rows[1].verdict, "not equivariant (as expected for this baseline)");
  assert.equal(Number(rows[0].max_error), 3e-7);
  assert.equal(rows[1].checkpoint, "results/x.ckpt");
  assert.equal(rows[1].adapter, ADAPTER);
});

Deno.test("report: tables, figures (SVG and PNG) and header from every kind of result", async () => {
  const dir = await Deno.makeTempDir();
  try {
    writeReportFixtures(dir);
    const out = await writeReport(dir, { now: new Date("2026-03-04T05:06:00Z") });
    assert.equal(out.md, `${dir}/report.md`);
    assert.equal(out.html, `${dir}/report.html`);
    const md = await Deno.readTextFile(out.md);
    const html = await Deno.readTextFile(out.html);

    // Header: date, adapter, seeds, epochs.
    assert.match(md, /Date: 2026-03-04 05:06 UTC/);
    assert.ok(md.includes(`Adapter: ${ADAPTER}`));
    assert.match(md, /Seeds: 1, 2, 3/);
    assert.match(md, /Epochs: .*nbody 10.*qm9 3/);

    // Table 2: ours, paper, Δ, ratio.
    assert.ok(md.includes("| EGNN | 0.0100 | 0.00710 | +0.00290 | 1.41× | 0.0124 | 0.00620 |"));
    assert.ok(md.includes("| Graph Neural Network | 0.00900 | 0.0107 | −0.00170 | 0.84× |"));
    assert.ok(md.includes("| Linear (x + t·v) | 0.0305 | – | – | – |"));
    assert.match(md, /No learning curve: `nbody_linear_vel_curve.csv`/);
    // Figure 2 from a CSV whose name says nothing.
    assert.match(md, /### fig2_data\.csv/);
    assert.ok(md.includes("| 100 | 0.0100 | 0.0200 | 0.0160 | 4 |"));
    // Figure 5 table: per dataset, with an empty paper value.
    assert.ok(
      md.includes(
        "| GNN | 7.50 | 6.75 | +0.750 | 1.50 | 1.29 | +0.210 | 0.970 | 0.980 | −0.0100 | 18 |",
      ),
    );
    assert.ok(md.includes("| EGNN | 1.80 | – | – | 0.200 | – | – | 0.996 | – | – | 19 |"));
    assert.ok(md.includes("| 0.1 | 0.450 | 1.00 |"));
    // Table 3.
    assert.ok(
      md.includes("| homo | eV | 0.0580 | 0.0290 | +0.0290 | 2.00× | 29 | 0.580 | 0.290 | 3 | 3 |"),
    );
    assert.ok(md.includes("| alpha | bohr³ | 0.500 | 0.0710 | +0.429 | 7.04× | .071 |"));
    // Equivariance.
    assert.ok(
      md.includes(
        "| EGNN | yes | 3.10e-7 | 2.20e-7 | 1.50e-7 | 0.00e+0 | equivariant (as it should be) |",
      ),
    );
    assert.ok(md.includes("| Graph Neural Network | no | 8.30e-1 |"));
    // Unknown CSVs are ignored (and listed); nothing is "not run yet".
    assert.match(md, /not a result CSV \(ignored\): `notes.csv`/);
    assert.doesNotMatch(md, /Not run yet/);

    // Figures: every one referenced in the Markdown (PNG and SVG) and inlined in the HTML.
    const svgs = out.figures.filter((f) => f.endsWith(".svg"));
    const names = svgs.map((f) => f.slice(f.lastIndexOf("/") + 1, -4)).sort();
    assert.deepEqual(names, [
      "ae_learning_curves",
      "ae_overfit_figure5",
      "ae_overfit_learning_curves",
      "check_nbody_equivariance",
      "fig2_data_figure2",
      "fig2_data_learning_curves",
      "nbody_learning_curves",
      "qm9_learning_curves",
    ]);
    const axisTitles: Record<string, string[]> = {
      nbody_learning_curves: ["epoch", "MSE (log)", "method"],
      fig2_data_figure2: ["training systems", "test MSE", "method"],
      ae_overfit_figure5: ["edge probability p_e", "F1 (training graphs)", "encoder"],
      check_nbody_equivariance: ["transformation", "worst error / output spread", "model"],
      qm9_learning_curves: ["epoch", "MAE (log)"],
    };
    for (const name of names) {
      const svg = await Deno.readTextFile(`${dir}/figures/${name}.svg`);
      assertSvg(svg, name);
      for (const t of axisTitles[name] ?? ["epoch"]) {
        assert.ok(svg.includes(`>${t}</text>`), `${name}: axis or legend title "${t}"`);
      }
      const png = await Deno.readFile(`${dir}/figures/${name}.png`);
      assert.deepEqual([...png.slice(0, 8)], PNG_SIGNATURE, name);
      assert.ok(md.includes(`](figures/${name}.png)`), name);
      assert.ok(md.includes(`(figures/${name}.svg)`), name);
      assert.ok(html.includes(`<figure id="${name}">`), name);
    }
    assert.ok(
      await Deno.readTextFile(`${dir}/figures/fig2_data_figure2.svg`).then((s) =>
        s.includes("paper, Table 2")
      ),
    );
    assert.match(html, /^<!DOCTYPE html>/);
    assert.doesNotMatch(html, /<script|<link|src="http/);
    assert.ok(html.includes('<td class="num worse">+0.00290</td>'));
    assert.equal((html.match(/<svg /g) ?? []).length, names.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report: missing experiments are noted; an empty directory is refused clearly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(writeReport(dir), /no result CSV found.*run an experiment first/);
    Deno.writeTextFileSync(`${dir}/other.csv`, "x,y\n1,2\n");
    await assert.rejects(writeReport(dir), /no result CSV found \(1 other CSV files ignored\)/);
    await assert.rejects(writeReport(`${dir}/absent`), /no such results directory/);
    Deno.writeTextFileSync(
      `${dir}/check_nbody.csv`,
      checkRowsToCsv([{
        model: "EGNN",
        expected: true,
        errors: { rotation: 2e-3, reflection: 1e-7, translation: 1e-7, permutation: 1e-7 },
      }], { config: "c.json", seed: 1, adapter: ADAPTER }),
    );
    const out = await writeReport(dir);
    const md = await Deno.readTextFile(out.md);
    assert.equal(md.match(/Not run yet/g)?.length, 5);
    assert.match(md, /\| EGNN \| yes \| 2.00e-3 .* \| NOT equivariant: broken symmetry \|/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
