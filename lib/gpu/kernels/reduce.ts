/**
 * Deterministic reductions: column sums (the bias gradient) and the sum of all elements
 * (losses). Fixed summation order, no atomics, so equal inputs give bit-identical outputs.
 *
 * On a CPU adapter a long column sum is the product 1ᵀ·X taken by `matmul`'s k-window kernel
 * (X read from uniform windows, 12× cheaper there than storage reads): over 2,000 rows of 64
 * columns it took about half the time of the one-invocation-per-column kernel.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { gpuSync } from "../device.ts";
import { fromArray, type Tensor } from "../tensor.ts";
import { kernelProfile } from "../tuning.ts";
import { matmul } from "./matmul.ts";

/** Rows from which a column sum is taken as a product on a CPU adapter. */
const PRODUCT_ROWS = 256;

/**
 * Ones kept for the product: at least 32,768, more than any k-window reads, so that the windows
 * (and with them the summation order) never depend on how long the column was when first asked.
 */
const ONES = 32768;

let onesCache: { device: GPUDevice; ones: Tensor } | null = null;

/** A kept column of at least `rows` (and at least `ONES`) ones. */
function onesColumn(rows: number): Tensor {
  const device = gpuSync().device;
  if (onesCache?.device !== device || onesCache.ones.size < rows) {
    if (onesCache?.device === device) onesCache.ones.dispose();
    const size = Math.max(ONES, 2 ** Math.ceil(Math.log2(rows)));
    onesCache = { device, ones: fromArray(new Float32Array(size).fill(1), [size, 1]).keep() };
  }
  return onesCache.ones;
}

const columnSumKernel = defineKernel({
  name: "column_sum",
  workgroupSize: 64,
  constants: { ACCUMULATE: "bool" },
  uniforms: { m: "u32", n: "u32", alpha: "f32" },
  bindings: {
    x: { type: "f32", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.n) { return; }
  var s = 0.0;
  for (var r = 0u; r < params.m; r++) { s += x[r * params.n + index]; }
  s = s * params.alpha;
  ${c.ACCUMULATE ? "out[index] = out[index] + s;" : "out[index] = s;"}`,
});

/**
 * Records `out[j] (+)= alpha · Σ_r x[r, j]` for an m×n matrix.
 *
 * @param x the matrix (row-major m×n)
 * @param out n values
 * @param m rows
 * @param n columns
 * @param accumulate add into out instead of overwriting
 * @param alpha a factor applied to the sums
 */
export function columnSum(
  x: Tensor,
  out: Tensor,
  m: number,
  n: number,
  accumulate = false,
  alpha = 1,
): void {
  if (x.size < m * n || out.size < n) {
    throw new Error(`columnSum: [${x.shape}] → [${out.shape}] too small for ${m}×${n}`);
  }
  if (alpha === 1 && m >= PRODUCT_ROWS && kernelProfile().matmulUniform) {
    // 1ᵀ·X (1×n); matmul falls back to its storage kernel where X's buffer does not qualify.
    matmul(onesColumn(m), x, out, { m: 1, k: m, n, transA: true, fixedK: false, accumulate });
    return;
  }
  recordDispatch(columnSumKernel.variant({ ACCUMULATE: accumulate }), [x, out], n, {
    m,
    n,
    alpha,
  });
}

const rowSumKernel = defineKernel({
  name: "row_sum",
  workgroupSize: 64,
  constants: { ACCUMULATE: "bool" },
  uniforms: { m: "u32", n: "u32" },
  bindings: {
    x: { type: "f32", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.m) { return; }
  var s = 0.0;
  for (var j = 0u; j < params.n; j++) { s += x[index * params.n + j]; }
  ${c.ACCUMULATE ? "out[index] = out[index] + s;" : "out[index] = s;"}`,
});

/**
 * Records `out[r] (+)= Σ_j x[r, j]` for an m×n matrix.
 *
 * @param x the matrix (row-major m×n)
 * @param out m values
 * @param m rows
 * @param n columns
 * @param accumulate add into out instead of overwriting
 */
export function rowSum(x: Tensor, out: Tensor, m: number, n: number, accumulate = false): void {
  if (x.size < m * n || out.size < m) {
    throw new Error(`rowSum: [${x.shape}] → [${out.shape}] too small for ${m}×${n}`);
  }
  recordDispatch(rowSumKernel.variant({ ACCUMULATE: accumulate }), [x, out], m, { m, n });
}

// One workgroup reduces everything: each of 64 lanes sums a strided share into `s`, then the lanes
// combine in a fixed-order tree (deterministic), leaving the total in partial[0].
const ONE_WORKGROUP_PARTIALS = "var<workgroup> partial: array<f32, 64>;";
const ONE_WORKGROUP_TREE = `
  partial[lane] = s;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) { partial[lane] = partial[lane] + partial[lane + stride]; }
    workgroupBarrier();
  }`;

const sumAllKernel = defineKernel({
  name: "sum_all",
  workgroupSize: 64,
  constants: { ACCUMULATE: "bool" },
  uniforms: { n: "u32", alpha: "f32" },
  bindings: {
    x: { type: "f32", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  functions: ONE_WORKGROUP_PARTIALS,
  body: (c) => `
  let lane = index;
  var s = 0.0;
  for (var i = lane; i < params.n; i += 64u) { s += x[i]; }
  ${ONE_WORKGROUP_TREE}
  if (lane == 0u) {
    let v = partial[0] * params.alpha;
    ${c.ACCUMULATE ? "out[0] = out[0] + v;" : "out[0] = v;"}
  }`,
});

/** Σ x² read as vec4s, in one workgroup (as sum_all). */
const squaredNormAllKernel = defineKernel({
  name: "squared_norm_all",
  workgroupSize: 64,
  uniforms: { n4: "u32" },
  bindings: {
    x: { type: "vec4f", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  functions: ONE_WORKGROUP_PARTIALS,
  body: `
  let lane = index;
  var s = 0.0;
  for (var i = lane; i < params.n4; i += 64u) { let v = x[i]; s += dot(v, v); }
  ${ONE_WORKGROUP_TREE}
  if (lane == 0u) { out[0] = partial[0]; }`,
});

/**
 * Records `out[0] = Σ_i x[i]²` (one workgroup, fixed order; x read four values at a time).
 *
 * @param x values, a multiple of 4 of them (a ParameterSet's flat buffers are)
 * @param out one value
 */
export function squaredNormAll(x: Tensor, out: Tensor): void {
  if (x.size % 4 !== 0) throw new Error(`squaredNormAll: size ${x.size} is not a multiple of 4`);
  recordDispatch(squaredNormAllKernel.variant(), [x, out], 64, { n4: x.size / 4 });
}

/**
 * Records `out[0] (+)= alpha · Σ_i x[i]` (one workgroup, fixed order).
 *
 * @param x values
 * @param out one value
 * @param accumulate add into out[0]
 * @param alpha factor
 */
export function sumAll(x: Tensor, out: Tensor, accumulate = false, alpha = 1): void {
  recordDispatch(sumAllKernel.variant({ ACCUMULATE: accumulate }), [x, out], 64, {
    n: x.size,
    alpha,
  });
}
