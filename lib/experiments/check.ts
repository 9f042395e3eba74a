/**
 * `cli.ts check`: a numerical symmetry check of the model(s) a config builds — fresh, or with
 * the weights of a checkpoint. Random systems are pushed through the model as they are and after
 * a rotation (det +1), a reflection (det −1), a translation and a permutation of each system's
 * nodes; the table gives the worst error of each transformation relative to the output's spread:
 *
 * - N-body methods predict positions: f(Qx + t, Qv) should be Q·f(x, v) + t, f(Px) = P·f(x);
 * - the QM9 model predicts invariant properties: f(Qx + t) = f(x), and f(Px) = f(x).
 *
 * E(n)-equivariant models (EGNN, Radial Field, the QM9 model) should show float32 round-off
 * (≲ 1e-5); the GNN and Linear baselines are not equivariant and should show errors of order 1.
 *
 * @module
 */

import { getGpu } from "../gpu/device.ts";
import { endStep, read, type Tensor } from "../gpu/tensor.ts";
import { noGrad, resetTape } from "../gpu/tape.ts";
import { loadCheckpoint } from "../io/checkpoint.ts";
import { stringifyCsv } from "../io/csv.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { ParameterSet } from "../gpu/parameters.ts";
import { Random } from "../random.ts";
import { QM9Model } from "../egnn/qm9_model.ts";
import { fullyConnected } from "../egnn/graph.ts";
import { uploadGraph } from "../egnn/device_graph.ts";
import { fromArray } from "../gpu/tensor.ts";
import { BatchGraphs, type NBodySplitData, uploadBatch } from "./nbody/batches.ts";
import { buildNBodyModel, PAPER_TABLE2 } from "./nbody/methods.ts";
import type { NBodyConfig, NBodyMethod } from "./nbody/config.ts";
import type { Qm9Config } from "./qm9/config.ts";
import { adjacencyColumn } from "./ae/batches.ts";
import type { AeConfig } from "./ae/config.ts";
import { AE_LABELS, buildAutoencoder } from "./ae/run.ts";
import { erdosRenyiDataset } from "../sim/graphs.ts";

/** The transformations checked, in table order. */
export const TRANSFORMS = ["rotation", "reflection", "translation", "permutation"] as const;
/** One transformation. */
export type Transform = typeof TRANSFORMS[number];

/** One row of the check's table. */
export interface CheckRow {
  model: string;
  /** Whether the model is meant to be E(n)-equivariant (or invariant). */
  expected: boolean;
  /**
   * The transformations an equivariant model must respect (default: all four). TFN and the
   * SE(3)-Transformer are SE(3)-equivariant: a reflection is not one of their symmetries.
   */
  symmetries?: Transform[];
  /** Worst error relative to the output's spread, per transformation. */
  errors: Record<Transform, number>;
}

/**
 * A row's verdict: whether the errors of the transformations it should respect are within the
 * tolerance, and the words for it.
 *
 * @param r the row
 * @param tolerance the largest error that passes (default 1e-4)
 * @returns `ok` (the model behaves as it should) and the verdict text
 */
export function checkVerdict(r: CheckRow, tolerance = 1e-4): { ok: boolean; text: string } {
  if (!r.expected) {
    const equivariant = TRANSFORMS.every((t) => r.errors[t] <= tolerance);
    return equivariant
      ? { ok: false, text: "equivariant (unexpected)" }
      : { ok: true, text: "not equivariant (as expected for this baseline)" };
  }
  const symmetries = r.symmetries ?? [...TRANSFORMS];
  const ok = symmetries.every((t) => r.errors[t] <= tolerance);
  const se3 = !symmetries.includes("reflection");
  if (!ok) return { ok, text: "NOT equivariant: broken symmetry" };
  return {
    ok,
    text: se3
      ? "SE(3)-equivariant (as it should be; reflections are not its symmetry)"
      : "equivariant (as it should be)",
  };
}

const SE3: Transform[] = ["rotation", "translation", "permutation"];

/**
 * The symmetries each N-body method has by construction (none listed: not meant to be
 * equivariant). TFN and the SE(3)-Transformer are equivariant to rotations but not reflections:
 * their type-1 cross products flip.
 */
const SYMMETRIES: Record<NBodyMethod, readonly Transform[]> = {
  egnn: TRANSFORMS,
  rf: TRANSFORMS,
  gnn: [],
  tfn: SE3,
  se3_transformer: SE3,
  linear: [],
  linear_vel: TRANSFORMS,
  identity: TRANSFORMS,
};

/** A random orthogonal d×d matrix (Gram–Schmidt of a Gaussian one) with determinant ±1. */
export function randomOrthogonal(d: number, rng: Random, det: 1 | -1): number[][] {
  const q: number[][] = [];
  while (q.length < d) {
    const v = Array.from({ length: d }, () => rng.normal());
    for (const u of q) {
      const dot = v.reduce((s, x, k) => s + x * u[k], 0);
      for (let k = 0; k < d; k++) v[k] -= dot * u[k];
    }
    const n = Math.hypot(...v);
    if (n > 1e-6) q.push(v.map((x) => x / n));
  }
  if (Math.sign(determinant(q)) !== det) q[0] = q[0].map((x) => -x);
  return q;
}

function determinant(m: number[][]): number {
  const a = m.map((r) => [...r]);
  const n = a.length;
  let det = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    if (a[p][c] === 0) return 0;
    if (p !== c) [a[p], a[c]] = [a[c], a[p]], det = -det;
    det *= a[c][c];
    for (let r = c + 1; r < n; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k < n; k++) a[r][k] -= f * a[c][k];
    }
  }
  return det;
}

/** Applies `q` (and adds `t`) to every d-vector of a flat array. */
function transformRows(v: ArrayLike<number>, d: number, q: number[][], t?: number[]): Float64Array {
  const out = new Float64Array(v.length);
  for (let r = 0; r < v.length / d; r++) {
    for (let i = 0; i < d; i++) {
      let s = t ? t[i] : 0;
      for (let k = 0; k < d; k++) s += q[i][k] * v[r * d + k];
      out[r * d + i] = s;
    }
  }
  return out;
}

/** Worst |a − b| over the spread (max |b − mean b|) of b. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < b.length; i++) mean += b[i] / b.length;
  let spread = 0, err = 0;
  for (let i = 0; i < b.length; i++) {
    spread = Math.max(spread, Math.abs(b[i] - mean));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return err / Math.max(spread, 1e-12);
}

async function loadWeights(path: string, params: ParameterSet): Promise<void> {
  try {
    await loadCheckpoint(path, params);
  } catch (e) {
    throw new Error(`--checkpoint ${path}: ${(e as Error).message}`);
  }
}

async function runOnce(forward: () => Tensor): Promise<Float32Array> {
  const out = await read(noGrad(forward)) as Float32Array;
  resetTape();
  endStep();
  return out;
}

/**
 * Checks every method of an N-body config.
 *
 * @param cfg the validated config
 * @param o checkpoint (its weights replace the fresh ones; one method only), dimension, seed
 */
export async function checkNBody(
  cfg: NBodyConfig,
  o: { checkpoint?: string; dim?: number; systems?: number },
): Promise<CheckRow[]> {
  await getGpu();
  const d = o.dim ?? cfg.data.dim, n = cfg.data.bodies, systems = o.systems ?? 8;
  const methods = cfg.methods.map((m) => m.name as NBodyMethod);
  if (o.checkpoint && methods.length !== 1) {
    throw new Error(
      `--checkpoint: the config trains ${methods.length} methods (${methods}); give a ` +
        `one-method config (e.g. nbody_egnn.json)`,
    );
  }
  const rng = new Random(cfg.seed + 101);
  const base: NBodySplitData = {
    count: systems,
    nBodies: n,
    dim: d,
    x0: Float64Array.from({ length: systems * n * d }, () => rng.normal()),
    v0: Float64Array.from({ length: systems * n * d }, () => 0.5 * rng.normal()),
    charges: Float64Array.from({ length: systems * n }, () => (rng.uniform() < 0.5 ? -1 : 1)),
    xT: new Float64Array(systems * n * d),
  };
  const perm = Array.from({ length: n }, (_, i) => i);
  rng.shuffle(perm);
  if (perm.every((p, i) => p === i) && n > 1) [perm[0], perm[1]] = [perm[1], perm[0]];
  const rot = randomOrthogonal(d, rng, 1), ref = randomOrthogonal(d, rng, -1);
  const t = Array.from({ length: d }, () => 3 * rng.normal());
  const eye = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, k) => +(i === k)));
  const permuted = (a: ArrayLike<number>, w: number) => {
    const out = new Float64Array(a.length);
    for (let s = 0; s < systems; s++) {
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < w; k++) out[(s * n + i) * w + k] = a[(s * n + perm[i]) * w + k];
      }
    }
    return out;
  };
  const graphs = new BatchGraphs(n);
  const sims = Array.from({ length: systems }, (_, i) => i);
  const rows: CheckRow[] = [];
  try {
    for (const method of methods) {
      const model = buildNBodyModel(method, {
        hiddenNf: cfg.model.hiddenNf,
        nLayers: cfg.model.nLayers,
        dim: d,
        seed: cfg.seed,
      });
      if (o.checkpoint && model.params) await loadWeights(o.checkpoint, model.params);
      const predict = (data: NBodySplitData) =>
        runOnce(() => model.forward(uploadBatch(data, sims, graphs)));
      const y = await predict(base);
      const errors = {} as Record<Transform, number>;
      for (const tr of TRANSFORMS) {
        let data: NBodySplitData, expected: Float64Array;
        if (tr === "permutation") {
          data = {
            ...base,
            x0: permuted(base.x0, d),
            v0: permuted(base.v0, d),
            charges: permuted(base.charges, 1),
          };
          expected = permuted(y, d);
        } else {
          const q = tr === "rotation" ? rot : tr === "reflection" ? ref : eye;
          const shift = tr === "translation" ? t : undefined;
          data = {
            ...base,
            x0: transformRows(base.x0, d, q, shift),
            v0: transformRows(base.v0, d, q),
          };
          expected = transformRows(y, d, q, shift);
        }
        errors[tr] = relativeError(await predict(data), expected);
      }
      const symmetries = SYMMETRIES[method];
      rows.push({
        model: PAPER_TABLE2[method].label,
        expected: symmetries.length > 0,
        ...(symmetries.length > 0 ? { symmetries: [...symmetries] } : {}),
        errors,
      });
      model.params?.dispose();
    }
  } finally {
    graphs.dispose();
  }
  return rows;
}

/**
 * Checks the QM9 model of a config: its predictions must be invariant.
 *
 * @param cfg the validated config
 * @param o checkpoint (e.g. `<out>/<name>_<property>.ckpt`), number of molecules
 */
export async function checkQm9(
  cfg: Qm9Config,
  o: { checkpoint?: string; molecules?: number },
): Promise<CheckRow[]> {
  await getGpu();
  const rng = new Random(cfg.seed + 101);
  const sizes = Array.from({ length: o.molecules ?? 6 }, () => 3 + Math.floor(rng.uniform() * 10));
  const atoms = sizes.reduce((a, b) => a + b, 0);
  const model = new QM9Model({
    hiddenNf: cfg.model.hiddenNf,
    nLayers: cfg.model.nLayers,
    attention: cfg.model.attention,
    nodeAttr: cfg.model.nodeAttr,
    outNf: cfg.joint ? cfg.properties.length : 1,
    seed: cfg.seed,
  });
  try {
    if (o.checkpoint) await loadWeights(o.checkpoint, model.params);
    const graph = uploadGraph(fullyConnected(sizes));
    const h0 = Float32Array.from({ length: atoms * 15 }, () => rng.uniform());
    const x = Float64Array.from({ length: atoms * 3 }, () => 1.5 * rng.normal());
    const predict = (pos: ArrayLike<number>, feats: Float32Array) =>
      runOnce(() =>
        model.forward(fromArray(feats, [atoms, 15]), fromArray(pos, [atoms, 3]), graph)
      );
    const y = await predict(x, h0);
    const t = [2, -1, 0.5].map((v) => v * rng.normal());
    const errors = {} as Record<Transform, number>;
    for (const tr of TRANSFORMS) {
      let pos: ArrayLike<number> = x, feats = h0;
      if (tr === "rotation") pos = transformRows(x, 3, randomOrthogonal(3, rng, 1));
      if (tr === "reflection") pos = transformRows(x, 3, randomOrthogonal(3, rng, -1));
      if (tr === "translation") pos = transformRows(x, 3, [[1, 0, 0], [0, 1, 0], [0, 0, 1]], t);
      if (tr === "permutation") {
        // Reverse the atoms of every molecule (positions and features together).
        const p = new Float64Array(x.length), f = new Float32Array(h0.length);
        let a0 = 0;
        for (const n of sizes) {
          for (let i = 0; i < n; i++) {
            const src = a0 + n - 1 - i, dst = a0 + i;
            for (let k = 0; k < 3; k++) p[dst * 3 + k] = x[src * 3 + k];
            for (let k = 0; k < 15; k++) f[dst * 15 + k] = h0[src * 15 + k];
          }
          a0 += n;
        }
        pos = p, feats = f;
      }
      errors[tr] = relativeError(await predict(pos, feats), y);
    }
    graph.dispose();
    return [{
      model: `QM9 EGNN ${cfg.model.hiddenNf}×${cfg.model.nLayers} (invariant)`,
      expected: true,
      errors,
    }];
  } finally {
    model.params.dispose();
  }
}

/**
 * Checks the autoencoders of a graph-autoencoder config. Their only geometric input is the random
 * x⁰ (EGNN, Radial Field: N×K coordinates; Noise-GNN: N×1 noise), so each is fed a fixed x⁰ and
 * its transforms: EGNN's and Radial Field's decoded logits must be invariant (z moves with x⁰,
 * distances do not) and permute with the nodes; Noise-GNN is not E(n)-equivariant in its noise.
 * The GNN (input: ones) has no geometric input and is not listed; `baseline` neither.
 *
 * @param cfg the validated config
 * @param o checkpoint (one encoder only), number of graphs
 */
export async function checkAe(
  cfg: AeConfig,
  o: { checkpoint?: string; graphs?: number },
): Promise<CheckRow[]> {
  await getGpu();
  const encoders = cfg.encoders.filter((e) => e === "egnn" || e === "rf" || e === "noise_gnn");
  if (o.checkpoint && encoders.length !== 1) {
    throw new Error(
      `--checkpoint: the config lists ${encoders.length} checkable encoders (${encoders}); ` +
        `give a config with one (e.g. --set 'encoders=["egnn"]')`,
    );
  }
  const rng = new Random(cfg.seed + 101);
  const graphs = erdosRenyiDataset(10, cfg.seed + 7, { p: cfg.data.p }).slice(0, o.graphs ?? 10);
  const sizes = graphs.map((g) => g.n);
  const N = sizes.reduce((a, b) => a + b, 0);
  const graph = uploadGraph(fullyConnected(sizes));
  const adjacency = adjacencyColumn(graphs);
  // Reverse the nodes of every graph: node i ↔ n − 1 − i, and the edges with them.
  const nodePerm: number[] = [];
  for (let g = 0, first = 0; g < graphs.length; first += graphs[g].n, g++) {
    for (let i = 0; i < graphs[g].n; i++) nodePerm.push(first + graphs[g].n - 1 - i);
  }
  const permutedGraphs = graphs.map((g) => {
    const adj = new Uint8Array(g.n * g.n);
    for (let i = 0; i < g.n; i++) {
      for (let j = 0; j < g.n; j++) adj[i * g.n + j] = g.adj[(g.n - 1 - i) * g.n + (g.n - 1 - j)];
    }
    return { n: g.n, adj };
  });
  const permutedAdjacency = adjacencyColumn(permutedGraphs);
  // Edge (i, j) of the permuted batch is edge (n−1−i, n−1−j) of the original graph; within a
  // graph, edge (a, b) of the fully connected i-major list is number a(n−1) + b − [b > a].
  const edgeSource: number[] = [];
  for (let g = 0, offset = 0; g < graphs.length; offset += graphs[g].n * (graphs[g].n - 1), g++) {
    const n = graphs[g].n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const a = n - 1 - i, b = n - 1 - j;
        if (i !== j) edgeSource.push(offset + a * (n - 1) + b - (b > a ? 1 : 0));
      }
    }
  }
  const rows: CheckRow[] = [];
  try {
    for (const encoder of encoders) {
      const model = buildAutoencoder(cfg, encoder, cfg.seed);
      try {
        if (o.checkpoint) await loadWeights(o.checkpoint, model.params);
        const d = encoder === "noise_gnn" ? 1 : cfg.model.embeddingNf;
        const x0 = Float64Array.from({ length: N * d }, () => rng.normal());
        const predict = (x: ArrayLike<number>, adj: Float32Array) =>
          runOnce(() =>
            model.forward(graph, fromArray(adj, [adj.length, 1]), fromArray(x, [N, d]))
          );
        const y = await predict(x0, adjacency);
        const eye = Array.from(
          { length: d },
          (_, i) => Array.from({ length: d }, (_, k) => +(i === k)),
        );
        const errors = {} as Record<Transform, number>;
        for (const tr of TRANSFORMS) {
          if (tr === "permutation") {
            const x = new Float64Array(x0.length);
            nodePerm.forEach((src, dst) => {
              for (let k = 0; k < d; k++) x[dst * d + k] = x0[src * d + k];
            });
            const got = await predict(x, permutedAdjacency);
            const expected = edgeSource.map((e) => y[e]);
            errors[tr] = relativeError(got, expected);
            continue;
          }
          const q = tr === "rotation"
            ? randomOrthogonal(d, rng, 1)
            : tr === "reflection"
            ? randomOrthogonal(d, rng, -1)
            : eye;
          const shift = tr === "translation"
            ? Array.from({ length: d }, () => 3 * rng.normal())
            : undefined;
          errors[tr] = relativeError(await predict(transformRows(x0, d, q, shift), adjacency), y);
        }
        rows.push({
          model: `${AE_LABELS[encoder]} autoencoder (logits; x⁰ in R^${d})`,
          expected: encoder !== "noise_gnn",
          errors,
        });
      } finally {
        model.params.dispose();
      }
    }
  } finally {
    graph.dispose();
  }
  return rows;
}

/** The check's table as text, with a verdict per model. */
export function formatCheckTable(rows: CheckRow[], tolerance = 1e-4): string {
  const lines = [["model", ...TRANSFORMS, "verdict"]];
  for (const r of rows) {
    const verdict = checkVerdict(r, tolerance).text;
    lines.push([r.model, ...TRANSFORMS.map((t) => r.errors[t].toExponential(2)), verdict]);
  }
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  return lines.map((l) => l.map((v, c) => v.padEnd(widths[c])).join("  ")).join("\n");
}

/** Columns of the check's CSV (`<out>/check_<config name>.csv`), in order. */
export const CHECK_COLUMNS = [
  "model",
  "expected",
  ...TRANSFORMS,
  "max_error",
  "tolerance",
  "verdict",
  "config",
  "checkpoint",
  "seed",
  "adapter",
] as const;

/** What the check's CSV records beside the errors. */
export interface CheckMeta {
  /** The config file checked. */
  config: string;
  /** The checkpoint whose weights were checked (absent: fresh weights). */
  checkpoint?: string;
  /** The config's seed. */
  seed: number;
  /** The WebGPU adapter, e.g. `${info.description} (${info.backendGuess})`. */
  adapter: string;
  /** Errors up to this pass (default 1e-4, as `formatCheckTable`). */
  tolerance?: number;
}

/**
 * The check's rows as CSV text: per model whether it should be equivariant, the worst relative
 * error per transformation, the largest of them, the tolerance and the verdict, and the meta.
 *
 * @param rows the rows of `checkNBody` or `checkQm9`
 * @param meta config, checkpoint, seed, adapter, tolerance
 * @returns the CSV text (columns `CHECK_COLUMNS`)
 */
export function checkRowsToCsv(rows: CheckRow[], meta: CheckMeta): string {
  const tolerance = meta.tolerance ?? 1e-4;
  return stringifyCsv(
    [...CHECK_COLUMNS],
    rows.map((r) => {
      const max = Math.max(...TRANSFORMS.map((t) => r.errors[t]));
      return {
        model: r.model,
        expected: r.expected,
        ...Object.fromEntries(TRANSFORMS.map((t) => [t, r.errors[t]])),
        max_error: max,
        tolerance,
        verdict: checkVerdict(r, tolerance).text,
        config: meta.config,
        checkpoint: meta.checkpoint ?? "",
        seed: meta.seed,
        adapter: meta.adapter,
      };
    }),
  );
}

/**
 * Writes the check's CSV atomically (creating its directory).
 *
 * @param path e.g. `${out}/check_${config.name}.csv`
 * @param rows the rows of `checkNBody` or `checkQm9`
 * @param meta config, checkpoint, seed, adapter, tolerance
 */
export async function writeCheckCsv(
  path: string,
  rows: CheckRow[],
  meta: CheckMeta,
): Promise<void> {
  const dir = path.replace(/[\\/][^\\/]*$/, "");
  if (dir !== path && dir !== "") await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(path, checkRowsToCsv(rows, meta));
}
