/**
 * `cli.ts report <results-dir>`: `report.md` and `report.html` from the CSVs an experiment wrote.
 * Each of the paper's tables with our numbers beside the paper's, their difference and ratio;
 * the figures (learning curves, Figure 2, Figure 5 right, the equivariance check) as SVG, inlined
 * in the HTML, and as PNG for the Markdown, under `<results-dir>/figures/`.
 *
 * Permissions: `--allow-read=<dir>,/usr/share/fonts --allow-write=<dir>` (the fonts for the PNGs'
 * text only). Uses npm packages (Vega, Vega-Lite, resvg): never import it from mod.ts.
 *
 * @module
 */

import { writeFileAtomic } from "../io/atomic.ts";
import { PAPER_TABLE2 } from "../experiments/nbody/methods.ts";
import { TRANSFORMS } from "../experiments/check.ts";
import {
  type ChartSpec,
  checkSpec,
  type CurvePoint,
  learningCurveSpec,
  LOG_FLOOR,
  overfitSpec,
  pngFontFamily,
  renderSvg,
  svgToPng,
  sweepSpec,
} from "./charts.ts";
import {
  aeDatasets,
  type CsvKind,
  num,
  qm9CurveProperties,
  type ResultFile,
  scanResults,
  type TableKind,
} from "./inputs.ts";
import {
  type Cell,
  diffCell,
  escapeHtml,
  fmt,
  MISSING,
  numCell,
  ratioCell,
  type Table,
  tableToHtml,
  tableToMarkdown,
} from "./tables.ts";

/** One piece of the report, rendered both as Markdown and as HTML. */
type Block =
  | { type: "h"; level: 1 | 2 | 3; text: string }
  | { type: "p"; text: string; muted?: boolean }
  | { type: "list"; items: string[] }
  | { type: "table"; table: Table }
  | { type: "figure"; name: string; title: string; svg: string; caption: string };

/** What `writeReport` wrote. */
export interface ReportFiles {
  /** Path of report.md. */
  md: string;
  /** Path of report.html. */
  html: string;
  /** Paths of the figures (SVG and PNG). */
  figures: string[];
  /** Things the reader should know (e.g. PNGs drawn without text for want of a font). */
  warnings: string[];
}

/** Options of `writeReport`. */
export interface ReportOptions {
  /** The date the header gives (default now). */
  now?: Date;
}

const methodLabel = (m: string) =>
  (PAPER_TABLE2 as Record<string, { label: string } | undefined>)[m]?.label ?? m;

/** Our metric as a number (NaN, the text of a failed run, stays NaN). */
const n = (r: Record<string, string>, c: string) => num(r[c]);

class Builder {
  blocks: Block[] = [];
  figures: string[] = [];
  /** Curve files shown in a figure. */
  used = new Set<string>();
  constructor(readonly dir: string, readonly files: ResultFile[]) {}

  h(level: 1 | 2 | 3, text: string) {
    this.blocks.push({ type: "h", level, text });
  }
  p(text: string, muted = false) {
    this.blocks.push({ type: "p", text, muted });
  }
  table(table: Table) {
    this.blocks.push({ type: "table", table });
  }

  async figure(name: string, title: string, spec: ChartSpec, caption = ""): Promise<void> {
    const safe = name.replace(/[^A-Za-z0-9_.-]+/g, "_");
    const svg = await renderSvg(spec, safe);
    const png = await svgToPng(svg);
    const base = `${this.dir}/figures/${safe}`;
    await writeFileAtomic(`${base}.svg`, svg);
    await writeFileAtomic(`${base}.png`, png);
    this.figures.push(`${base}.svg`, `${base}.png`);
    this.blocks.push({ type: "figure", name: safe, title, svg, caption });
  }

  of(kind: CsvKind): ResultFile[] {
    return this.files.filter((f) => f.kind === kind);
  }

  /** The curve `<stem>_<suffix>_curve.csv` of a kind, if present; marks it as used. */
  curve(kind: CsvKind, stem: string, suffix: string): ResultFile | undefined {
    const f = this.files.find((f) => f.kind === kind && f.file === `${stem}_${suffix}_curve.csv`);
    if (f) this.used.add(f.file);
    return f;
  }
}

const distinct = (xs: (string | undefined)[]) => [...new Set(xs.filter((x) => x))] as string[];

/** The epochs of a table's rows; 0 (untrained baselines) only when nothing else was trained. */
const epochsOf = (rows: Record<string, string>[]) => {
  const e = distinct(rows.map((r) => r.epochs));
  const trained = e.filter((x) => Number(x) !== 0);
  return (trained.length > 0 ? trained : e).join("/") || MISSING;
};

function notRun(b: Builder, how: string) {
  b.p(`Not run yet. ${how}`, true);
}

// ---------------------------------------------------------------- N-body, Table 2

async function nbodySection(b: Builder): Promise<void> {
  b.h(2, "N-body system: Table 2");
  const files = b.of("nbody");
  if (files.length === 0) {
    return notRun(b, "Run `deno task nbody` (or `--config nbody_paper.json`).");
  }
  b.p(
    "Test MSE at the epoch of lowest validation MSE, and the forward time of one batch of 100 " +
      "systems (the paper's on a GTX 1080 Ti). Δ = ours − paper; ratio = ours / paper.",
  );
  for (const f of files) {
    b.h(3, `${f.file}`);
    b.table({
      head: [
        "method",
        "test MSE",
        "paper",
        "Δ",
        "ratio",
        "forward (s)",
        "paper (s)",
        "Δ (s)",
        "ratio",
        "best epoch",
        "epochs",
      ],
      align: ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
      rows: f.rows.map((r) => {
        const mse = n(r, "test_mse"), pm = n(r, "paper_test_mse");
        const t = n(r, "forward_time_s"), pt = n(r, "paper_forward_time_s");
        return [
          r.label || methodLabel(r.method),
          numCell(mse),
          numCell(pm),
          diffCell(mse, pm),
          ratioCell(mse, pm),
          numCell(t),
          numCell(pt),
          diffCell(t, pt),
          ratioCell(t, pt),
          r.best_epoch ?? MISSING,
          r.epochs ?? MISSING,
        ];
      }),
    });
    const points: CurvePoint[] = [];
    const missing: string[] = [];
    for (const r of f.rows) {
      const c = b.curve("nbody_curve", f.stem, r.method);
      const label = r.label || methodLabel(r.method);
      if (!c) {
        missing.push(`${f.stem}_${r.method}_curve.csv`);
        continue;
      }
      for (const p of c.rows) {
        const epoch = n(p, "epoch") ?? NaN;
        points.push({ epoch, value: n(p, "train_mse") ?? NaN, series: label, split: "train" });
        points.push({ epoch, value: n(p, "test_mse") ?? NaN, series: label, split: "test" });
      }
      const paper = n(r, "paper_test_mse");
      const epochs = c.rows.map((p) => n(p, "epoch") ?? NaN).filter(Number.isFinite);
      if (paper !== null && epochs.length > 0) {
        for (const epoch of [Math.min(...epochs), Math.max(...epochs)]) {
          points.push({ epoch, value: paper, series: label, split: "paper (Table 2)" });
        }
      }
    }
    if (points.length > 0) {
      await b.figure(
        `${f.stem}_learning_curves`,
        `Learning curves: ${f.file}`,
        learningCurveSpec({
          title: `N-body learning curves (${f.stem})`,
          yTitle: "MSE (log)",
          points,
          colorTitle: "method",
        }),
        "Training and test MSE per evaluation; dotted: the paper's test MSE.",
      );
    }
    if (missing.length > 0) {
      b.p(`No learning curve: ${missing.map((m) => `\`${m}\``).join(", ")}.`, true);
    }
  }
}

// ---------------------------------------------------------------- N-body, Figure 2

async function sweepSection(b: Builder): Promise<void> {
  b.h(2, "N-body system: Figure 2 (test MSE against training-set size)");
  const files = b.of("sweep");
  if (files.length === 0) return notRun(b, "Run `cli.ts --config nbody_sweep.json`.");
  b.p(
    "The paper gives Figure 2 as a plot only; its Table-2 numbers (3,000 training systems) are " +
      "shown for reference (crosses in the figure).",
  );
  for (const f of files) {
    b.h(3, f.file);
    const methods = distinct(f.rows.map((r) => r.method));
    const sizes = [...new Set(f.rows.map((r) => n(r, "train_size") ?? NaN))].sort((a, c) => a - c);
    const at = (s: number, m: string) =>
      f.rows.find((r) => n(r, "train_size") === s && r.method === m);
    const paperRow: (Cell | string)[] = ["paper, Table 2 (3,000)"];
    for (const m of methods) {
      paperRow.push(
        numCell((PAPER_TABLE2 as Record<string, { mse: number | null }>)[m]?.mse ?? null),
      );
    }
    b.table({
      head: ["training systems", ...methods.map((m) => `${methodLabel(m)}: test MSE`), "epochs"],
      align: ["r", ...methods.map(() => "r" as const), "r"],
      rows: [
        ...sizes.map((s) => [
          String(s),
          ...methods.map((m) => numCell(at(s, m) ? n(at(s, m)!, "test_mse") : null)),
          distinct(methods.map((m) => at(s, m)?.epochs)).join(" / ") || MISSING,
        ]),
        [...paperRow, ""],
      ],
    });
    const paper = methods.flatMap((m) => {
      const mse = (PAPER_TABLE2 as Record<string, { mse: number | null }>)[m]?.mse ?? null;
      return mse === null ? [] : [{ size: 3000, mse, method: methodLabel(m) }];
    });
    await b.figure(
      `${f.stem}_figure2`,
      `Figure 2: ${f.file}`,
      sweepSpec({
        title: "Figure 2: test MSE vs. training systems",
        points: f.rows.map((r) => ({
          size: n(r, "train_size") ?? NaN,
          mse: n(r, "test_mse") ?? NaN,
          method: methodLabel(r.method),
        })),
        paper,
      }),
      "Log–log. Circles: ours; crosses: the paper's Table 2 (3,000 systems).",
    );
    const points: CurvePoint[] = [];
    for (const r of f.rows) {
      const c = b.curve("nbody_curve", f.stem, `${r.method}_n${r.train_size}`);
      if (!c) continue;
      for (const p of c.rows) {
        points.push({
          epoch: n(p, "epoch") ?? NaN,
          value: n(p, "test_mse") ?? NaN,
          series: `${r.train_size}`,
          split: "test",
          panel: methodLabel(r.method),
        });
      }
    }
    if (points.length > 0) {
      await b.figure(
        `${f.stem}_learning_curves`,
        `Learning curves: ${f.file}`,
        learningCurveSpec({
          title: `Figure-2 sweep learning curves (${f.stem})`,
          yTitle: "test MSE (log)",
          points,
          colorTitle: "training systems",
          panelTitle: "method",
        }),
        "Test MSE per evaluation, one panel per method, one line per training-set size.",
      );
    }
  }
}

// ---------------------------------------------------------------- Graph autoencoder

const DATASET_LABEL: Record<string, string> = {
  community: "Community Small",
  erdos_renyi: "Erdős–Rényi",
};
const datasetLabel = (d: string) => DATASET_LABEL[d] ?? d;

async function aeSection(b: Builder): Promise<void> {
  b.h(2, "Graph autoencoder: table of Figure 5");
  const files = b.of("ae");
  if (files.length === 0) return notRun(b, "Run the graph-autoencoder config.");
  b.p(
    "Test partition: binary cross-entropy, % of adjacency entries wrong, F1 of the edges. " +
      "Δ = ours − paper (green: better than the paper).",
  );
  for (const f of files) {
    const datasets = aeDatasets(f.columns);
    for (const d of datasets) {
      b.h(3, `${f.file}: ${datasetLabel(d)}`);
      const metric = (r: Record<string, string>, m: string, higher = false) => {
        const ours = n(r, `${d}_${m}`), paper = n(r, `${d}_paper_${m}`);
        return [numCell(ours), numCell(paper), diffCell(ours, paper, higher)];
      };
      b.table({
        head: [
          "encoder",
          "BCE",
          "paper",
          "Δ",
          "% error",
          "paper",
          "Δ",
          "F1",
          "paper",
          "Δ",
          "best epoch",
        ],
        align: ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
        rows: f.rows.map((r) => [
          r.label || r.encoder,
          ...metric(r, "bce"),
          ...metric(r, "pct_error"),
          ...metric(r, "f1", true),
          r[`${d}_best_epoch`] || MISSING,
        ]),
      });
    }
    const points: CurvePoint[] = [];
    for (const d of datasets) {
      for (const r of f.rows) {
        const c = b.curve("ae_curve", f.stem, `${d}_${r.encoder}`);
        if (!c) continue;
        for (const p of c.rows) {
          const epoch = n(p, "epoch") ?? NaN;
          for (const split of ["train", "val", "test"]) {
            points.push({
              epoch,
              value: n(p, `${split}_bce`) ?? NaN,
              series: r.label || r.encoder,
              split,
              panel: datasetLabel(d),
            });
          }
        }
      }
    }
    if (points.length > 0) {
      await b.figure(
        `${f.stem}_learning_curves`,
        `Learning curves: ${f.file}`,
        learningCurveSpec({
          title: `Graph-autoencoder learning curves (${f.stem})`,
          yTitle: "BCE (log)",
          points,
          colorTitle: "encoder",
          panelTitle: "dataset",
          columns: 2,
        }),
        "Binary cross-entropy per evaluation on the training, validation and test graphs.",
      );
    }
  }
}

async function overfitSection(b: Builder): Promise<void> {
  b.h(2, "Graph autoencoder: Figure 5 right (over-fitting Erdős–Rényi graphs)");
  const files = b.of("ae_overfit");
  if (files.length === 0) return notRun(b, "Run the over-fitting sweep config.");
  b.p(
    "F1 on the 100 training graphs against the edge probability p_e. The paper gives this " +
      "panel as a plot only (GNN fails on sparse graphs, Noise-GNN is close to perfect, EGNN " +
      "reconstructs perfectly), so there is no number to compare with.",
  );
  for (const f of files) {
    b.h(3, f.file);
    const encoders = distinct(f.rows.map((r) => r.encoder));
    const label = (e: string) => f.rows.find((r) => r.encoder === e)?.label || e;
    const pes = [...new Set(f.rows.map((r) => n(r, "p_e") ?? NaN))].sort((a, c) => a - c);
    b.table({
      head: ["p_e", ...encoders.map((e) => `${label(e)}: F1`)],
      align: ["r", ...encoders.map(() => "r" as const)],
      rows: pes.map((pe) => [
        String(pe),
        ...encoders.map((e) => {
          const r = f.rows.find((r) => r.encoder === e && n(r, "p_e") === pe);
          return numCell(r ? n(r, "f1") : null);
        }),
      ]),
    });
    const points: CurvePoint[] = [];
    for (const r of f.rows) {
      const c = b.curve("ae_curve", f.stem, `overfit_p${r.p_e}_${r.encoder}`);
      if (!c) continue;
      for (const p of c.rows) {
        points.push({
          epoch: n(p, "epoch") ?? NaN,
          value: n(p, "train_bce") ?? NaN,
          series: r.label || r.encoder,
          split: "train",
          panel: `p_e = ${r.p_e}`,
        });
      }
    }
    await b.figure(
      `${f.stem}_figure5`,
      `Figure 5 (right): ${f.file}`,
      overfitSpec({
        title: "Figure 5 (right): F1 when over-fitting Erdős–Rényi graphs",
        points: f.rows.map((r) => ({
          p_e: n(r, "p_e") ?? NaN,
          f1: n(r, "f1") ?? NaN,
          encoder: r.label || r.encoder,
        })),
      }),
    );
    if (points.length > 0) {
      await b.figure(
        `${f.stem}_learning_curves`,
        `Learning curves: ${f.file}`,
        learningCurveSpec({
          title: `Over-fitting learning curves (${f.stem})`,
          yTitle: "training BCE (log)",
          points,
          colorTitle: "encoder",
          panelTitle: "edge probability",
        }),
        "Binary cross-entropy on the 100 training graphs per evaluation, one panel per p_e.",
      );
    }
  }
}

// ---------------------------------------------------------------- QM9, Table 3

async function qm9Section(b: Builder): Promise<void> {
  b.h(2, "QM9: Table 3");
  const files = b.of("qm9");
  if (files.length === 0) return notRun(b, "Run `deno task qm9`.");
  b.p(
    "Test MAE at the epoch of lowest validation MAE, in the unit of the training target (the " +
      "paper's printed value, often in meV, beside it). Δ = ours − paper; ratio = ours / paper. " +
      "Baselines: predicting the training mean, and a linear fit on atom counts.",
  );
  for (const f of files) {
    b.h(3, f.file);
    b.table({
      head: [
        "property",
        "unit",
        "EGNN MAE",
        "paper",
        "Δ",
        "ratio",
        "paper as printed",
        "mean baseline",
        "atom-count baseline",
        "best epoch",
        "epochs",
      ],
      align: ["l", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
      rows: f.rows.map((r) => {
        const ours = n(r, "test_mae"), paper = n(r, "paper_mae");
        return [
          r.property,
          r.unit,
          numCell(ours),
          numCell(paper),
          diffCell(ours, paper),
          ratioCell(ours, paper),
          r.paper_printed || MISSING,
          numCell(n(r, "mean_baseline_mae")),
          numCell(n(r, "atom_count_baseline_mae")),
          r.best_epoch || MISSING,
          r.epochs || MISSING,
        ];
      }),
    });
    const tags = distinct(f.rows.map((r) => (r.joint === "true" ? "joint" : r.property)));
    const points: CurvePoint[] = [];
    for (const tag of tags) {
      const c = b.curve("qm9_curve", f.stem, tag);
      if (!c) continue;
      for (const prop of qm9CurveProperties(c.columns)) {
        const unit = f.rows.find((r) => r.property === prop)?.unit;
        const panel = unit ? `${prop} (${unit})` : prop;
        for (const p of c.rows) {
          const epoch = n(p, "epoch") ?? NaN;
          for (const split of ["val", "test"]) {
            points.push({
              epoch,
              value: n(p, `${split}_mae_${prop}`) ?? NaN,
              series: split,
              split: split,
              panel,
            });
          }
        }
        const paper = n(f.rows.find((r) => r.property === prop) ?? {}, "paper_mae");
        const epochs = c.rows.map((p) => n(p, "epoch") ?? NaN).filter(Number.isFinite);
        if (paper !== null && epochs.length > 0) {
          for (const epoch of [Math.min(...epochs), Math.max(...epochs)]) {
            points.push({ epoch, value: paper, series: "paper", split: "paper", panel });
          }
        }
      }
    }
    if (points.length > 0) {
      await b.figure(
        `${f.stem}_learning_curves`,
        `Learning curves: ${f.file}`,
        learningCurveSpec({
          title: `QM9 learning curves (${f.stem})`,
          yTitle: "MAE (log)",
          points,
          colorTitle: "curve",
          colorBySplit: true,
          panelTitle: "property",
          columns: 4,
          independentY: true,
        }),
        "Validation and test MAE per evaluation; the flat line is the paper's MAE.",
      );
    }
  }
}

// ---------------------------------------------------------------- Equivariance

async function checkSection(b: Builder): Promise<void> {
  b.h(2, "Equivariance check");
  const files = b.of("check");
  if (files.length === 0) {
    return notRun(b, "Run `cli.ts check --config nbody.json` (writes `check_<name>.csv`).");
  }
  b.p(
    "Worst error of the output under each transformation, relative to the output's spread. " +
      "E(n)-equivariant models should show float32 round-off; the GNN and Linear baselines are " +
      "not equivariant and should show errors of order 1.",
  );
  for (const f of files) {
    b.h(3, f.file);
    const tolerance = n(f.rows[0] ?? {}, "tolerance") ?? 1e-4;
    const meta = [
      distinct(f.rows.map((r) => r.config)).map((c) => `config \`${c}\``).join(", "),
      distinct(f.rows.map((r) => r.checkpoint)).map((c) => `checkpoint \`${c}\``).join(", ") ||
      "fresh weights",
      `tolerance ${tolerance.toExponential(0)}`,
    ].filter(Boolean);
    b.p(meta.join("; ") + ".");
    const err = (v: number | null): Cell =>
      v === null ? { text: MISSING, cls: "muted" } : { text: v.toExponential(2) };
    b.table({
      head: ["model", "meant to be equivariant", ...TRANSFORMS, "verdict"],
      align: ["l", "l", ...TRANSFORMS.map(() => "r" as const), "l"],
      rows: f.rows.map((r) => {
        const expected = r.expected === "true";
        const worst = Math.max(...TRANSFORMS.map((t) => n(r, t) ?? Infinity));
        const ok = worst <= tolerance;
        const verdict: Cell = r.verdict
          ? { text: r.verdict }
          : { text: ok ? "equivariant" : "not equivariant" };
        verdict.cls = r.verdict
          ? (/NOT equivariant|unexpected/.test(r.verdict) ? "worse" : "better")
          : (expected === ok ? "better" : "worse");
        return [r.model, expected ? "yes" : "no", ...TRANSFORMS.map((t) => err(n(r, t))), verdict];
      }),
    });
    await b.figure(
      `${f.stem}_equivariance`,
      `Equivariance check: ${f.file}`,
      checkSpec({
        title: `Equivariance error per model (${f.stem})`,
        errors: f.rows.flatMap((r) =>
          TRANSFORMS.map((t) => ({ model: r.model, transform: t, error: n(r, t) ?? NaN }))
        ),
        tolerance,
      }),
      `Log scale; dashed: the threshold. Errors below ${LOG_FLOOR.toExponential(0)} (exact ` +
        `zeros included) are drawn at it.`,
    );
  }
}

// ---------------------------------------------------------------- header and assembly

const TABLE_KINDS: Record<TableKind, string> = {
  nbody: "N-body, Table 2",
  sweep: "N-body, Figure 2",
  ae: "graph autoencoder, Figure 5",
  ae_overfit: "graph autoencoder, Figure 5 right",
  qm9: "QM9, Table 3",
  check: "equivariance check",
};

function header(b: Builder, dir: string, now: Date): void {
  const order = Object.keys(TABLE_KINDS);
  const tables = b.files.filter((f) => f.kind in TABLE_KINDS)
    .sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind));
  const all = tables.flatMap((f) => f.rows);
  const adapters = distinct(all.map((r) => r.adapter));
  const seeds = distinct(all.map((r) => r.seed)).sort((x, y) => Number(x) - Number(y));
  const date = now.toISOString().replace("T", " ").slice(0, 16) + " UTC";
  b.h(1, "E(n) Equivariant GNNs on WebGPU: reproduction report");
  b.blocks.push({
    type: "list",
    items: [
      `Date: ${date}`,
      `Results: \`${dir}\``,
      `Adapter${adapters.length === 1 ? "" : "s"}: ${adapters.join("; ") || MISSING}`,
      `Seed${seeds.length === 1 ? "" : "s"}: ${seeds.join(", ") || MISSING}`,
      `Epochs: ${
        tables.filter((f) => f.columns.includes("epochs"))
          .map((f) => `${f.stem} ${epochsOf(f.rows)}`).join("; ") || MISSING
      }`,
    ],
  });
  b.table({
    head: ["file", "experiment", "rows", "epochs", "seed", "wall time (s)", "adapter"],
    align: ["l", "l", "r", "r", "r", "r", "l"],
    rows: tables.map((f) => {
      // A jointly trained QM9 model repeats its wall time on every property's row: count it once.
      const rows = f.kind === "qm9" && f.rows.every((r) => r.joint === "true")
        ? f.rows.slice(0, 1)
        : f.rows;
      const wall = rows.map((r) => n(r, "wall_s")).filter((v): v is number => v !== null);
      return [
        f.file,
        TABLE_KINDS[f.kind as TableKind],
        String(f.rows.length),
        epochsOf(f.rows),
        distinct(f.rows.map((r) => r.seed)).join(", ") || MISSING,
        wall.length ? fmt(wall.reduce((a, c) => a + c, 0), 4) : MISSING,
        distinct(f.rows.map((r) => r.adapter)).join("; ") || MISSING,
      ];
    }),
  });
}

function inlineHtml(s: string): string {
  return escapeHtml(s).replace(/`([^`]+)`/g, "<code>$1</code>");
}

function toMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.type) {
      case "h":
        out.push(`${"#".repeat(b.level)} ${b.text}`);
        break;
      case "p":
        out.push(b.muted ? `*${b.text}*` : b.text);
        break;
      case "list":
        out.push(b.items.map((i) => `- ${i}`).join("\n"));
        break;
      case "table":
        out.push(tableToMarkdown(b.table));
        break;
      case "figure":
        out.push(
          `![${b.title}](figures/${b.name}.png)\n\n` +
            `*${
              b.caption ? `${b.caption} ` : ""
            }SVG: [figures/${b.name}.svg](figures/${b.name}.svg)*`,
        );
        break;
    }
  }
  return out.join("\n\n") + "\n";
}

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 2em auto;
  max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; border-bottom: 2px solid #ddd; padding-bottom: .3em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #eee; }
h3 { font-size: 1.05em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; }
th { background: #f4f4f4; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.better { color: #11772d; } td.worse { color: #b3261e; } td.muted, p.muted { color: #888; }
code { background: #f4f4f4; padding: 0 .25em; border-radius: 3px; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .9em; }
`.trim();

function toHtml(blocks: Block[], title: string): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.type) {
      case "h":
        out.push(`<h${b.level}>${inlineHtml(b.text)}</h${b.level}>`);
        break;
      case "p":
        out.push(`<p${b.muted ? ' class="muted"' : ""}>${inlineHtml(b.text)}</p>`);
        break;
      case "list":
        out.push(`<ul>\n${b.items.map((i) => `<li>${inlineHtml(i)}</li>`).join("\n")}\n</ul>`);
        break;
      case "table":
        out.push(tableToHtml(b.table));
        break;
      case "figure":
        out.push(
          `<figure id="${b.name}">\n${b.svg}\n<figcaption>${inlineHtml(b.title)}${
            b.caption ? `. ${inlineHtml(b.caption)}` : ""
          }</figcaption>\n</figure>`,
        );
        break;
    }
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
${CSS}
</style>
</head>
<body>
${out.join("\n")}
</body>
</html>
`;
}

/**
 * Writes `report.md`, `report.html` and `figures/*.{svg,png}` into a results directory.
 *
 * @param resultsDir the directory of the experiments' CSVs
 * @param o the header's date
 * @returns the paths written, and warnings
 * @throws when the directory is missing or holds no result CSV
 */
export async function writeReport(resultsDir: string, o: ReportOptions = {}): Promise<ReportFiles> {
  const dir = resultsDir.replace(/[\\/]+$/, "") || ".";
  const scan = await scanResults(dir);
  if (scan.files.length === 0) {
    const others = scan.ignored.length + scan.unreadable.length;
    throw new Error(
      `${dir}: no result CSV found${others > 0 ? ` (${others} other CSV files ignored)` : ""}; ` +
        "run an experiment first, e.g. `deno task nbody`",
    );
  }
  await Deno.mkdir(`${dir}/figures`, { recursive: true });
  const b = new Builder(dir, scan.files);
  header(b, dir, o.now ?? new Date());
  const warnings: string[] = [];
  if ((await pngFontFamily()) === null) {
    warnings.push(
      "the PNG figures have no text: no TrueType font could be read under /usr/share/fonts " +
        "(install fonts-dejavu-core, and allow reading it); the SVG figures are complete",
    );
  }
  await nbodySection(b);
  await sweepSection(b);
  await aeSection(b);
  await overfitSection(b);
  await qm9Section(b);
  await checkSection(b);
  const orphans = scan.files.filter((f) => f.kind.endsWith("_curve") && !b.used.has(f.file));
  const other = [
    ...orphans.map((f) => `learning curve without its table: \`${f.file}\``),
    ...scan.ignored.map((f) => `not a result CSV (ignored): \`${f}\``),
    ...scan.unreadable.map((f) => `unreadable: ${f}`),
    ...warnings.map((w) => `warning: ${w}`),
  ];
  if (other.length > 0) {
    b.h(2, "Other files");
    b.blocks.push({ type: "list", items: other });
  }
  const title = "E(n) Equivariant GNNs on WebGPU: reproduction report";
  const md = `${dir}/report.md`, html = `${dir}/report.html`;
  await writeFileAtomic(md, toMarkdown(b.blocks));
  await writeFileAtomic(html, toHtml(b.blocks, title));
  return { md, html, figures: b.figures, warnings };
}
