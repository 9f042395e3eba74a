/**
 * A quick autotune of the kernel profile (tuning.ts) on the process's adapter: each candidate
 * profile runs the same matrix products, their results are checked against a float64 product on
 * the CPU, and the fastest correct candidate wins. `deno run -A cli.ts tune` runs it and stores
 * the winner in the tuning cache (tuning_cache.ts), which `kernelProfile()` then reads.
 *
 * Workload: the products behind `linear` at the N-body EGNN's sizes (forward x·W + b → SiLU,
 * dX = dZ·Wᵀ, dW = Xᵀ·dZ at 2000×64×64 and 500×128×64 by default). Method: the candidates take
 * turns, round after round (so a change of load on a shared machine hits them all alike); in a
 * round, one candidate records its products `calls` times, submits once and reads a 4-value
 * tensor; the median over rounds is its time. The first round of each candidate compiles its
 * pipelines and is not counted.
 *
 * @module
 */

import { getGpu } from "./device.ts";
import { empty, endStep, fromArray, read, readMany, type Tensor } from "./tensor.ts";
import { submit } from "./commands.ts";
import { matmul, type MatmulOptions } from "./kernels/matmul.ts";
import { KERNEL_PROFILES, type KernelProfile, profileLabel, withKernelProfile } from "./tuning.ts";
import { type TunedEntry, tuningKey } from "./tuning_cache.ts";

/** A storage-kernel candidate: the GPU rule with this block, split-K and workgroup size. */
const storage = (matmulBlock: number, matmulSplitK: boolean, matmulWorkgroup: 8 | 64) => ({
  ...KERNEL_PROFILES.gpu,
  matmulBlock,
  matmulSplitK,
  matmulWorkgroup,
});

/**
 * The profiles compared: uniform products (the CPU adapters' kind); storage blocks 4, 8 and 16
 * in workgroups of 8 (the 2026-11-27 GPU rule's kind); blocks 4 and 8 in workgroups of 64, with
 * and without split-K (dW's long contraction in slices).
 */
export const TUNING_CANDIDATES: readonly KernelProfile[] = Object.freeze([
  KERNEL_PROFILES.cpu,
  storage(4, false, 8),
  storage(8, false, 8),
  storage(16, false, 8),
  storage(4, false, 64),
  storage(4, true, 64),
  storage(8, true, 64),
]);

/** Options of {@linkcode autotuneKernelProfile}. */
export interface AutotuneOptions {
  /** Products' sizes M×K×N (default `[[2000, 64, 64], [500, 128, 64]]`). */
  shapes?: [number, number, number][];
  /** Timed rounds per candidate (default 5). */
  rounds?: number;
  /** Records of the workload per round (default 3). */
  calls?: number;
  /** The candidates (default {@linkcode TUNING_CANDIDATES}). */
  candidates?: readonly KernelProfile[];
  /** Largest error allowed, relative to max(1, |value|) of the float64 product (default 1e-3; float32 rounding of these products stays below 1e-4). */
  tolerance?: number;
  /** Called with a line of progress. */
  onProgress?: (line: string) => void;
  /**
   * An EGCL forward pass recorded with the whole-layer kernel on or off (lib/egnn/egcl_trial.ts):
   * under the winning product profile the two take turns, must agree within `tolerance`, and the
   * faster sets the profile's `wholeLayerForward`. Without it the candidate's own value stays.
   */
  layerTrial?: LayerTrial;
}

/** A forward pass to time with and without the whole-layer EGCL kernel. */
export interface LayerTrial {
  /** What it runs, in words. */
  label: string;
  /** Records the pass (without gradients) in the given form; returns its outputs. */
  record(whole: boolean): Tensor[];
}

/** The whole-layer kernel's measurement. */
export interface LayerTiming {
  /** The trial's label. */
  label: string;
  /** Median ms per round, per-op layers. */
  perOpMs: number;
  /** Median ms per round, one dispatch per layer. */
  wholeMs: number;
  /** Largest difference of the two passes' outputs, relative to max(1, |per-op value|). */
  maxError: number;
  /** Whether that is within tolerance (a wrong whole-layer kernel is never chosen). */
  correct: boolean;
}

/** One candidate's measurement. */
export interface CandidateTiming {
  /** The candidate. */
  profile: KernelProfile;
  /** {@linkcode profileLabel} of it. */
  label: string;
  /** Median ms per round of the workload (`calls` records, one submission, one read). */
  msPerRound: number;
  /** Largest error of its products against the float64 ones, relative to max(1, |value|). */
  maxError: number;
  /** Whether the error is within tolerance (a wrong candidate never wins). */
  correct: boolean;
}

/** The outcome of an autotune. */
export interface AutotuneResult {
  /** The adapter, in the driver's words. */
  adapter: string;
  /** Its tuning-cache key. */
  key: string;
  /** The fastest correct candidate. */
  best: KernelProfile;
  /** Every candidate, in the order given. */
  timings: CandidateTiming[];
  /** What was timed, in words. */
  workload: string;
  /** Timed rounds per candidate. */
  rounds: number;
  /** The whole-layer kernel against the per-op layer (with `layerTrial`). */
  layer: LayerTiming | null;
}

/** A candidate in words, its products only (the whole-layer choice is timed on its own). */
function productsLabel(p: KernelProfile): string {
  return profileLabel({ ...p, wholeLayerForward: false });
}

/** Seeded values in [−1, 1). */
function randomValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * Largest |got − want| / max(1, |want|).
 *
 * @param got the values computed
 * @param want the reference values
 * @returns the error (Infinity for a length mismatch or a non-finite value)
 * @example
 * ```ts
 * import { relativeError } from "./autotune.ts";
 * console.log(relativeError(new Float32Array([1, 4]), new Float64Array([1, 2]))); // 1
 * ```
 */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

/** C = op(A)·op(B) in float64; A is M×K (or K×M stored, `transA`), B K×N (or N×K, `transB`). */
function product64(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  transA = false,
  transB = false,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = transA ? a[p * m + i] : a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += av * (transB ? b[j * k + p] : b[p * n + j]);
    }
  }
  return c;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One shape's operands, outputs and float64 references. */
interface Workload {
  record: () => void;
  check: () => Promise<number>;
  dispose: () => void;
}

function workload(m: number, k: number, n: number, seed: number): Workload {
  const xv = randomValues(m * k, seed), wv = randomValues(k * n, seed + 1);
  const bv = randomValues(n, seed + 2), dzv = randomValues(m * n, seed + 3);
  const x = fromArray(xv, [m, k]).keep(), w = fromArray(wv, [k, n]).keep();
  const b = fromArray(bv, [n]).keep(), dz = fromArray(dzv, [m, n]).keep();
  const y = empty([m, n]).keep(), dx = empty([m, k]).keep(), dw = empty([k, n]).keep();
  const products: [Tensor, Tensor, Tensor, MatmulOptions][] = [
    [x, w, y, { m, n, k, bias: b, activation: "silu" }],
    [dz, w, dx, { m, n: k, k: n, transB: true }],
    [x, dz, dw, { m: k, n, k: m, transA: true, fixedK: false }],
  ];
  const z = product64(xv, wv, m, k, n);
  const yRef = z.map((v, i) => {
    const t = v + bv[i % n];
    return t / (1 + Math.exp(-t));
  });
  const dxRef = product64(dzv, wv, m, n, k, false, true);
  const dwRef = product64(xv, dzv, k, m, n, true, false);
  return {
    record: () => {
      for (const [a, bb, c, o] of products) matmul(a, bb, c, o);
    },
    check: async () =>
      Math.max(
        relativeError(await read(y), yRef),
        relativeError(await read(dx), dxRef),
        relativeError(await read(dw), dwRef),
      ),
    dispose: () => {
      for (const t of [x, w, b, dz, y, dx, dw]) t.dispose();
    },
  };
}

/**
 * Times the candidate profiles on the process's adapter and picks the fastest correct one.
 * Nothing is written; see tuning_cache.ts `writeTunedEntry` (and `cli.ts tune`).
 *
 * @param options workload, rounds, candidates
 * @returns the timings and the winner
 * @example A tiny workload on whatever adapter is present
 * ```ts
 * import { autotuneKernelProfile } from "./autotune.ts";
 * const r = await autotuneKernelProfile({ shapes: [[64, 16, 16]], rounds: 1, calls: 1 });
 * console.log(r.timings.length); // 4
 * ```
 */
export async function autotuneKernelProfile(
  options: AutotuneOptions = {},
): Promise<AutotuneResult> {
  const shapes = options.shapes ?? [[2000, 64, 64], [500, 128, 64]];
  const rounds = options.rounds ?? 5, calls = options.calls ?? 3;
  const candidates = options.candidates ?? TUNING_CANDIDATES;
  const tolerance = options.tolerance ?? 1e-3;
  if (candidates.length === 0) throw new Error("autotune: no candidates");
  const { info } = await getGpu();
  const works = shapes.map(([m, k, n], i) => workload(m, k, n, 17 + 7 * i));
  const probe = fromArray(new Float32Array(4), [4]).keep();
  const round = (c: KernelProfile) =>
    withKernelProfile(c, async () => {
      const t0 = performance.now();
      for (let r = 0; r < calls; r++) for (const w of works) w.record();
      await submit();
      await read(probe);
      endStep();
      return performance.now() - t0;
    });
  try {
    const errors: number[] = [];
    for (const c of candidates) {
      const ms = await round(c); // compiles; not counted
      let err = 0;
      for (const w of works) err = Math.max(err, await w.check());
      errors.push(err);
      options.onProgress?.(
        `${productsLabel(c)}: first round ${ms.toFixed(0)} ms (compiles), error ${
          err.toExponential(1)
        }`,
      );
    }
    const samples: number[][] = candidates.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < candidates.length; i++) samples[i].push(await round(candidates[i]));
      options.onProgress?.(`round ${r + 1}/${rounds}`);
    }
    const timings = candidates.map((profile, i): CandidateTiming => ({
      profile,
      label: productsLabel(profile),
      msPerRound: median(samples[i]),
      maxError: errors[i],
      correct: errors[i] <= tolerance,
    }));
    const ok = timings.filter((t) => t.correct);
    if (ok.length === 0) {
      throw new Error(
        `autotune: no candidate computed the products within ${tolerance} on ${info.description}` +
          ` (errors ${timings.map((t) => t.maxError.toExponential(1)).join(", ")})`,
      );
    }
    let best = ok.reduce((a, b) => (b.msPerRound < a.msPerRound ? b : a)).profile;
    let workload = `${calls}× {x·W+b→SiLU, dZ·Wᵀ, Xᵀ·dZ} at ` +
      shapes.map((s) => s.join("×")).join(", ") + " (M×K×N) per round";
    let layer: LayerTiming | null = null;
    if (options.layerTrial) {
      layer = await timeLayerTrial(options.layerTrial, best, rounds, tolerance, options.onProgress);
      const wins = layer.correct && layer.wholeMs < layer.perOpMs;
      best = { ...best, wholeLayerForward: wins };
      workload += `; ${layer.label}`;
    }
    return {
      adapter: info.description,
      key: tuningKey(info),
      best,
      timings,
      workload,
      rounds,
      layer,
    };
  } finally {
    for (const w of works) w.dispose();
    probe.dispose();
    endStep();
  }
}

/** Times a layer trial per-op and whole-layer in turns under `profile`; checks they agree. */
async function timeLayerTrial(
  trial: LayerTrial,
  profile: KernelProfile,
  rounds: number,
  tolerance: number,
  onProgress?: (line: string) => void,
): Promise<LayerTiming> {
  const round = (whole: boolean) =>
    withKernelProfile(profile, async () => {
      const t0 = performance.now();
      const outs = trial.record(whole);
      const values = await readMany(outs);
      endStep();
      return { ms: performance.now() - t0, values };
    });
  const perOp = await round(false), whole = await round(true); // compile; not counted
  let maxError = 0;
  perOp.values.forEach((v, i) => {
    maxError = Math.max(maxError, relativeError(whole.values[i], v));
  });
  onProgress?.(`whole-layer EGCL: first rounds (compile), error ${maxError.toExponential(1)}`);
  const perOpMs: number[] = [], wholeMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    perOpMs.push((await round(false)).ms);
    wholeMs.push((await round(true)).ms);
  }
  return {
    label: trial.label,
    perOpMs: median(perOpMs),
    wholeMs: median(wholeMs),
    maxError,
    correct: maxError <= tolerance,
  };
}

/**
 * The cache entry of a result.
 *
 * @param r the autotune's result
 * @returns the entry to store under `r.key`
 */
export function tunedEntryOf(r: AutotuneResult): TunedEntry {
  return {
    profile: r.best,
    tunedAt: new Date().toISOString(),
    workload: r.workload,
    msPerRound: Object.fromEntries([
      ...r.timings.map((t) => [t.label, t.msPerRound]),
      ...(r.layer
        ? [["EGCL forward, per-op", r.layer.perOpMs], [
          "EGCL forward, whole layer",
          r.layer.wholeMs,
        ]]
        : []),
    ]),
  };
}

/**
 * The result as a table: a row per candidate (ms per round, error, verdict), the winner marked.
 *
 * @param r the autotune's result
 * @returns the table's lines joined
 */
export function formatAutotuneTable(r: AutotuneResult): string {
  const w = Math.max(44, ...r.timings.map((t) => t.label.length));
  const rows = r.timings.map((t) =>
    `${productsLabel(t.profile) === productsLabel(r.best) ? "*" : " "} ${t.label.padEnd(w)} ${
      t.msPerRound.toFixed(2).padStart(10)
    } ${t.maxError.toExponential(1).padStart(9)}  ${t.correct ? "ok" : "WRONG"}`
  );
  return [
    `adapter: ${r.adapter}`,
    `workload: ${r.workload}; median of ${r.rounds} rounds`,
    `  ${"candidate".padEnd(w)} ${"ms/round".padStart(10)} ${"error".padStart(9)}`,
    ...rows,
    ...(r.layer
      ? [
        `EGCL forward without gradients (${r.layer.label}), ms/round:`,
        `${r.best.wholeLayerForward ? " " : "*"} ${"per-op layers".padEnd(w)} ${
          r.layer.perOpMs.toFixed(2).padStart(10)
        }`,
        `${r.best.wholeLayerForward ? "*" : " "} ${
          "one whole-layer dispatch per layer".padEnd(w)
        } ${r.layer.wholeMs.toFixed(2).padStart(10)} ${
          r.layer.maxError.toExponential(1).padStart(9)
        }  ${r.layer.correct ? "ok" : "WRONG"}`,
      ]
      : []),
  ].join("\n");
}
