/**
 * The N-body data set of the EGNN paper (section 5.1): per simulation, the positions and
 * velocities at an input frame, the charges, and the positions at a target frame. Three sources,
 * one {@linkcode NBodyDataset} type:
 *
 * - {@linkcode generateNBodyDataset}: our simulator (lib/sim/nbody.ts), all training simulations,
 *   then validation, then test, from one seeded stream (as the reference's `generate_dataset.py`);
 * - {@linkcode loadOrGenerateNBodyDataset}: the same, cached on disk under a name that hashes every
 *   generation parameter;
 * - {@linkcode readReferenceNBodyDataset}: the `.npy` files the reference generator writes.
 *
 * Values are stored as float32, as the reference loader converts them before the model.
 *
 * @module
 */

import { writeFileAtomic } from "../io/atomic.ts";
import { type NpyArray, parseNpy } from "../io/npy.ts";
import { readNpz, writeNpz } from "../io/npz.ts";
import { Random, type RandomStream } from "../random.ts";
import { NumpyRandom } from "./numpy_random.ts";
import {
  type ChargedParticlesConfig,
  type ChargedParticlesOptions,
  resolveSimOptions,
  sampleTrajectory,
  skipTrajectory,
} from "./nbody.ts";

/** One split: `count` simulations of `nBodies` bodies in `dim` dimensions, row-major. */
export interface NBodySplit {
  /** Number of simulations. */
  count: number;
  /** Bodies per simulation. */
  nBodies: number;
  /** Spatial dimensions. */
  dim: number;
  /** Positions at the input frame, `(count, nBodies, dim)`. */
  x0: Float32Array;
  /** Velocities at the input frame, `(count, nBodies, dim)`. */
  v0: Float32Array;
  /** Charges, `(count, nBodies)`. */
  charges: Float32Array;
  /** Positions at the target frame, `(count, nBodies, dim)`. */
  xT: Float32Array;
}

/** Options of a generated data set; the defaults are the paper's (`nbody_small`, first 3,000). */
export interface NBodyDatasetOptions {
  /** Seed of the one random stream (default 43, the reference's `nbody_small` seed). */
  seed?: number;
  /** Training simulations (default 3000). */
  train?: number;
  /** Validation simulations (default 2000). */
  val?: number;
  /** Test simulations (default 2000). */
  test?: number;
  /** Input frame index (default 30: after 3,100 steps at sampleFreq 100). */
  frame0?: number;
  /** Target frame index (default 40: after 4,100 steps). */
  frameT?: number;
  /** Simulator options (defaults: the reference's `ChargedParticlesSim`, T = 5000, every 100). */
  sim?: ChargedParticlesOptions;
  /**
   * The random stream: `"own"` (default; our xoshiro128**, `Random`) or `"numpy"` (NumPy's legacy
   * stream, `NumpyRandom`, drawn call for call as the reference generator does, so that seed 43
   * with `drawnTrain` 10,000 gives the reference's own `nbody_small` set).
   */
  stream?: "own" | "numpy";
  /**
   * Training simulations drawn before the validation ones (default `train`); the first `train`
   * are kept, the rest only advance the stream. The reference draws 10,000 and its loader keeps
   * 3,000.
   */
  drawnTrain?: number;
}

/** Every parameter of a generated data set (what the cache name hashes). */
export interface NBodyGeneratedParams {
  /** Where the data came from. */
  source: "generated";
  /** Seed of the random stream. */
  seed: number;
  /** Training simulations. */
  train: number;
  /** Validation simulations. */
  val: number;
  /** Test simulations. */
  test: number;
  /** Input frame index. */
  frame0: number;
  /** Target frame index. */
  frameT: number;
  /** Simulator options, defaults filled in. */
  sim: ChargedParticlesConfig;
  /** `"numpy"` for NumPy's stream; absent for our own (so that older caches keep their names). */
  stream?: "numpy";
  /** Training simulations drawn, when more than `train` are. */
  drawnTrain?: number;
}

/** Where a data set read from the reference generator's files came from. */
export interface NBodyReferenceParams {
  /** Where the data came from. */
  source: "reference";
  /** The directory of the `.npy` files. */
  dir: string;
  /** File name suffix, e.g. `_charged5_initvel1small`. */
  suffix: string;
  /** Input frame index. */
  frame0: number;
  /** Target frame index. */
  frameT: number;
  /** Training simulations kept (the first ones). */
  maxTrainingSamples: number;
}

/** A data set: its parameters and three splits. */
export interface NBodyDataset {
  /** How it was made. */
  params: NBodyGeneratedParams | NBodyReferenceParams;
  /** Training, validation and test simulations. */
  splits: { train: NBodySplit; val: NBodySplit; test: NBodySplit };
}

/** The paper's set (`nbody_small`: seed 43, frames 30 → 40 at sampleFreq 100, first 3,000 train). */
export const NBODY_SMALL: NBodyDatasetOptions = Object.freeze({
  seed: 43,
  train: 3000,
  val: 2000,
  test: 2000,
  frame0: 30,
  frameT: 40,
  sim: Object.freeze({ sampleFreq: 100 }),
});

/**
 * The sample-size sweep's training set (`nbody`: seed 42, 50,000 train, frames 6 → 8 at
 * sampleFreq 500, i.e. steps 3,500 → 4,500). The reference validates and tests the sweep on
 * {@linkcode NBODY_SMALL} whatever its `--dataset` says.
 */
export const NBODY_SWEEP: NBodyDatasetOptions = Object.freeze({
  seed: 42,
  train: 50000,
  val: 2000,
  test: 2000,
  frame0: 6,
  frameT: 8,
  sim: Object.freeze({ sampleFreq: 500 }),
});

/**
 * Fills in the defaults and checks the options.
 *
 * @param options any subset of the options
 * @returns every parameter
 */
export function resolveNBodyParams(options: NBodyDatasetOptions = {}): NBodyGeneratedParams {
  const sim = resolveSimOptions(options.sim);
  const p: NBodyGeneratedParams = {
    source: "generated",
    seed: options.seed ?? 43,
    train: options.train ?? 3000,
    val: options.val ?? 2000,
    test: options.test ?? 2000,
    frame0: options.frame0 ?? 30,
    frameT: options.frameT ?? 40,
    sim,
  };
  for (const k of ["seed", "train", "val", "test"] as const) {
    if (!Number.isInteger(p[k]) || p[k] < 0) {
      throw new Error(`nbody dataset: ${k} = ${p[k]}, expected an integer ≥ 0`);
    }
  }
  const stream = options.stream ?? "own";
  if (stream !== "own" && stream !== "numpy") {
    throw new Error(`nbody dataset: stream = ${JSON.stringify(stream)}, expected "own" or "numpy"`);
  }
  if (stream === "numpy") {
    p.stream = "numpy";
    if (p.seed > 0xffffffff) {
      throw new Error(`nbody dataset: seed = ${p.seed}, NumPy's stream takes seeds below 2^32`);
    }
  }
  const drawn = options.drawnTrain ?? p.train;
  if (!Number.isInteger(drawn) || drawn < p.train) {
    throw new Error(
      `nbody dataset: drawnTrain = ${drawn}, expected an integer ≥ train (${p.train})`,
    );
  }
  if (drawn > p.train) p.drawnTrain = drawn;
  checkFrames(p.frame0, p.frameT, sim.steps / sim.sampleFreq - 1, "nbody dataset");
  return p;
}

function checkFrames(frame0: number, frameT: number, frames: number, where: string): void {
  for (const [k, f] of [["frame0", frame0], ["frameT", frameT]] as const) {
    if (!Number.isInteger(f) || f < 0 || f >= frames) {
      throw new Error(`${where}: ${k} = ${f}, expected an integer in [0, ${frames})`);
    }
  }
}

function emptySplit(count: number, nBodies: number, dim: number): NBodySplit {
  const m = count * nBodies * dim;
  return {
    count,
    nBodies,
    dim,
    x0: new Float32Array(m),
    v0: new Float32Array(m),
    charges: new Float32Array(count * nBodies),
    xT: new Float32Array(m),
  };
}

/**
 * Generates a data set: all training simulations, then validation, then test, from one stream.
 *
 * @param options data set options (defaults: the paper's)
 * @param onProgress called after every simulation with (done, total)
 * @returns the data set
 * @example A small set
 * ```ts
 * import { generateNBodyDataset } from "./nbody_dataset.ts";
 * const ds = generateNBodyDataset({ train: 4, val: 2, test: 2, seed: 1 });
 * console.log(ds.splits.train.x0.length); // 60
 * ```
 */
export function generateNBodyDataset(
  options: NBodyDatasetOptions = {},
  onProgress?: (done: number, total: number) => void,
): NBodyDataset {
  const params = resolveNBodyParams(options);
  const { nBodies, dim } = params.sim;
  const numpy = params.stream === "numpy";
  const rng: RandomStream = numpy ? new NumpyRandom(params.seed) : new Random(params.seed);
  const total = params.train + params.val + params.test;
  const per = nBodies * dim;
  let done = 0;
  const make = (count: number, skipAfter = 0): NBodySplit => {
    const s = emptySplit(count, nBodies, dim);
    for (let k = 0; k < count; k++) {
      const t = sampleTrajectory(rng, params.sim, numpy);
      s.x0.set(t.loc.subarray(params.frame0 * per, (params.frame0 + 1) * per), k * per);
      s.v0.set(t.vel.subarray(params.frame0 * per, (params.frame0 + 1) * per), k * per);
      s.xT.set(t.loc.subarray(params.frameT * per, (params.frameT + 1) * per), k * per);
      s.charges.set(t.charges, k * nBodies);
      onProgress?.(++done, total);
    }
    for (let k = 0; k < skipAfter; k++) skipTrajectory(rng, params.sim);
    return s;
  };
  const train = make(params.train, (params.drawnTrain ?? params.train) - params.train);
  const val = make(params.val), test = make(params.test);
  return { params, splits: { train, val, test } };
}

// ---------------------------------------------------------------------------------------------
// Cache

const CACHE_FORMAT = "egnn-webgpu nbody dataset v1";
const SPLITS = ["train", "val", "test"] as const;
const FIELDS = ["x0", "v0", "charges", "xT"] as const;

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The cache files of a parameter set: `<cacheDir>/nbody-<hash>.npz` (the arrays) and `.json`
 * (format, parameters, seed and the archive's SHA-256), the hash being the first 16 hex digits
 * of the SHA-256 of the format and the parameters as JSON with sorted keys.
 *
 * @param options data set options (resolved before hashing, so defaults hash as themselves)
 * @param cacheDir the cache directory (default `.cache/nbody`)
 * @returns the two paths
 */
export async function nbodyCachePaths(
  options: NBodyDatasetOptions = {},
  cacheDir = ".cache/nbody",
): Promise<{ data: string; meta: string }> {
  const params = resolveNBodyParams(options);
  const key = (await sha256Hex(stableJson({ format: CACHE_FORMAT, params }))).slice(0, 16);
  const base = `${cacheDir.replace(/\/+$/, "")}/nbody-${key}`;
  return { data: `${base}.npz`, meta: `${base}.json` };
}

/** Options of {@linkcode loadOrGenerateNBodyDataset}. */
export interface NBodyCacheOptions {
  /** The cache directory (default `.cache/nbody`); created when missing. */
  cacheDir?: string;
  /** Called during generation with (done, total); never called when the cache is used. */
  onProgress?: (done: number, total: number) => void;
  /** Receives the warning when a cache file is unusable (default `console.warn`). */
  warn?: (message: string) => void;
}

async function readCached(
  params: NBodyGeneratedParams,
  paths: { data: string; meta: string },
): Promise<NBodyDataset> {
  const meta = JSON.parse(await Deno.readTextFile(paths.meta));
  if (meta?.format !== CACHE_FORMAT) {
    throw new Error(`format ${meta?.format}, expected ${CACHE_FORMAT}`);
  }
  if (stableJson(meta.params) !== stableJson(params)) {
    throw new Error(`parameters ${stableJson(meta.params)} differ from ${stableJson(params)}`);
  }
  const bytes = await Deno.readFile(paths.data);
  const sha = await sha256Hex(bytes);
  if (sha !== meta.dataSha256) {
    throw new Error(`${paths.data}: SHA-256 ${sha}, expected ${meta.dataSha256}`);
  }
  const arrays = await readNpz(bytes, paths.data);
  const { nBodies, dim } = params.sim;
  const split = (name: (typeof SPLITS)[number]): NBodySplit => {
    const s = emptySplit(params[name], nBodies, dim);
    for (const f of FIELDS) {
      const a = arrays.get(`${name}_${f}`);
      if (!a || a.data.length !== s[f].length) {
        throw new Error(`${paths.data}: ${name}_${f} missing or of the wrong size`);
      }
      s[f].set(a.data);
    }
    return s;
  };
  return { params, splits: { train: split("train"), val: split("val"), test: split("test") } };
}

/**
 * Loads a generated data set from the cache, or generates it and writes the cache (atomically:
 * the archive first, then the JSON that names its hash). A cache file that cannot be read, does
 * not match the parameters or its recorded hash is regenerated with a warning, never used.
 *
 * @param options data set options (defaults: the paper's)
 * @param cache cache directory, progress callback and warning sink
 * @returns the data set
 * @example Generate once, then load
 * ```ts
 * import { loadOrGenerateNBodyDataset } from "./nbody_dataset.ts";
 * const cacheDir = await Deno.makeTempDir();
 * const a = await loadOrGenerateNBodyDataset({ train: 2, val: 1, test: 1 }, { cacheDir });
 * const b = await loadOrGenerateNBodyDataset({ train: 2, val: 1, test: 1 }, { cacheDir });
 * console.log(a.splits.train.xT[0] === b.splits.train.xT[0]); // true
 * await Deno.remove(cacheDir, { recursive: true });
 * ```
 */
export async function loadOrGenerateNBodyDataset(
  options: NBodyDatasetOptions = {},
  cache: NBodyCacheOptions = {},
): Promise<NBodyDataset> {
  const params = resolveNBodyParams(options);
  const cacheDir = cache.cacheDir ?? ".cache/nbody";
  const paths = await nbodyCachePaths(params, cacheDir);
  const warn = cache.warn ?? ((m: string) => console.warn(m));
  const exists = async (p: string) => await Deno.stat(p).then(() => true, () => false);
  if (await exists(paths.meta) || await exists(paths.data)) {
    try {
      return await readCached(params, paths);
    } catch (e) {
      warn(`nbody cache ${paths.meta}: ${(e as Error).message}; regenerating`);
    }
  }
  const ds = generateNBodyDataset(params, cache.onProgress);
  const arrays: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const name of SPLITS) {
    const s = ds.splits[name];
    for (const f of FIELDS) {
      const shape = f === "charges" ? [s.count, s.nBodies] : [s.count, s.nBodies, s.dim];
      arrays[`${name}_${f}`] = { data: s[f], shape };
    }
  }
  const bytes = writeNpz(arrays);
  await Deno.mkdir(cacheDir, { recursive: true });
  await writeFileAtomic(paths.data, bytes);
  const meta = {
    format: CACHE_FORMAT,
    seed: params.seed,
    params,
    dataSha256: await sha256Hex(bytes),
  };
  await writeFileAtomic(paths.meta, JSON.stringify(meta, null, 2) + "\n");
  return ds;
}

// ---------------------------------------------------------------------------------------------
// Reference-format reader

/** Options of {@linkcode readReferenceNBodyDataset}; defaults are the paper's `nbody_small`. */
export interface ReferenceNBodyOptions {
  /** File name suffix after the split name (default `_charged5_initvel1small`). */
  suffix?: string;
  /** Training simulations kept, the first ones (default 3000). */
  maxTrainingSamples?: number;
  /** Input frame index (default 30). */
  frame0?: number;
  /** Target frame index (default 40). */
  frameT?: number;
  /** Bodies per simulation (default 5). */
  nBodies?: number;
  /** Spatial dimensions (default 3). */
  dim?: number;
}

const tuple = (shape: readonly (number | string)[]) =>
  shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;

async function readFloatNpy(dir: string, name: string, form: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(`${dir}/${name}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${name}: file not found in ${dir}, expected ${form} float64`);
    }
    throw e;
  }
  const a = parseNpy(bytes, name);
  if (!/^[<>=|]?f[48]$/.test(a.dtype)) {
    throw new Error(`${name}: dtype ${a.dtype}, expected float64 or float32 ${form}`);
  }
  return a;
}

/**
 * Reads the `.npy` files of the reference generator from `dir`: per split (`train`, `valid`,
 * `test`) `loc_<split><suffix>.npy` and `vel_…` (N, T, dim, n), `charges_…` (N, n, 1) and
 * `edges_…` (N, n, n) = q qᵀ, float64 or float32. Positions are transposed to (n, dim) as the
 * reference loader does; the first `maxTrainingSamples` training simulations are kept. Every file
 * is checked; an error names the file, what it holds and the expected form.
 *
 * @param dir the directory of the files
 * @param options suffix, frames and sizes
 * @returns the data set
 * @example Read a one-simulation set written here
 * ```ts
 * import { writeNpy } from "../io/npy.ts";
 * import { readReferenceNBodyDataset } from "./nbody_dataset.ts";
 * const dir = await Deno.makeTempDir();
 * for (const split of ["train", "valid", "test"]) {
 *   const f = (field: string) => `${dir}/${field}_${split}_x.npy`;
 *   await Deno.writeFile(f("loc"), writeNpy(new Float64Array(2 * 3 * 5), [1, 2, 3, 5]));
 *   await Deno.writeFile(f("vel"), writeNpy(new Float64Array(2 * 3 * 5), [1, 2, 3, 5]));
 *   await Deno.writeFile(f("charges"), writeNpy(new Float64Array(5).fill(1), [1, 5, 1]));
 *   await Deno.writeFile(f("edges"), writeNpy(new Float64Array(25).fill(1), [1, 5, 5]));
 * }
 * const ds = await readReferenceNBodyDataset(dir, { suffix: "_x", frame0: 0, frameT: 1 });
 * console.log(ds.splits.test.count); // 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readReferenceNBodyDataset(
  dir: string,
  options: ReferenceNBodyOptions = {},
): Promise<NBodyDataset> {
  const params: NBodyReferenceParams = {
    source: "reference",
    dir,
    suffix: options.suffix ?? "_charged5_initvel1small",
    frame0: options.frame0 ?? 30,
    frameT: options.frameT ?? 40,
    maxTrainingSamples: options.maxTrainingSamples ?? 3000,
  };
  const n = options.nBodies ?? 5, dim = options.dim ?? 3;
  const split = async (fileSplit: string, max: number): Promise<NBodySplit> => {
    const name = (field: string) => `${field}_${fileSplit}${params.suffix}.npy`;
    const locName = name("loc");
    const loc = await readFloatNpy(dir, locName, tuple(["N", "T", dim, n]));
    const [N, T] = loc.shape;
    if (loc.shape.length !== 4 || loc.shape[2] !== dim || loc.shape[3] !== n) {
      throw new Error(
        `${locName}: shape ${tuple(loc.shape)}, expected ${tuple(["N", "T", dim, n])}`,
      );
    }
    checkFrames(params.frame0, params.frameT, T, `${locName} (${T} frames)`);
    const expect = async (field: string, shape: number[], symbolic: string) => {
      const file = name(field);
      const a = await readFloatNpy(dir, file, symbolic);
      if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i])) {
        throw new Error(
          `${file}: shape ${tuple(a.shape)}, expected ${tuple(shape)}, i.e. ${symbolic} with ` +
            `N = ${N} as in ${locName}`,
        );
      }
      return a;
    };
    const vel = await expect("vel", loc.shape, tuple(["N", "T", dim, n]));
    const charges = await expect("charges", [N, n, 1], tuple(["N", n, 1]));
    const edges = await expect("edges", [N, n, n], tuple(["N", n, n]));
    const count = Math.min(N, max);
    const s = emptySplit(count, n, dim);
    for (let k = 0; k < count; k++) {
      for (let i = 0; i < n; i++) {
        const qi = charges.data[k * n + i];
        s.charges[k * n + i] = qi;
        for (let j = 0; j < n; j++) {
          const e = edges.data[(k * n + i) * n + j];
          if (i !== j && e !== qi * charges.data[k * n + j]) {
            throw new Error(
              `${name("edges")}: edges[${k}, ${i}, ${j}] = ${e}, expected charges[${k}, ${i}]·` +
                `charges[${k}, ${j}] = ${qi * charges.data[k * n + j]} (edges = q qᵀ)`,
            );
          }
        }
        for (let d = 0; d < dim; d++) {
          // (N, T, dim, n) → (count, n, dim)
          const at = (f: number) => ((k * T + f) * dim + d) * n + i;
          const o = (k * n + i) * dim + d;
          s.x0[o] = loc.data[at(params.frame0)];
          s.v0[o] = vel.data[at(params.frame0)];
          s.xT[o] = loc.data[at(params.frameT)];
        }
      }
    }
    return s;
  };
  const train = await split("train", params.maxTrainingSamples);
  const val = await split("valid", Infinity);
  const test = await split("test", Infinity);
  return { params, splits: { train, val, test } };
}
