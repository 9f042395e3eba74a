/**
 * The matrix product behind `linear` and its two backward products:
 * `C (M×N) = op(A) · op(B) [+ bias] [→ activation]`, or `C += op(A) · op(B)`.
 *
 * Strategy, from measurements on Mesa 22.3's CPU adapter (lavapipe, 8-lane SIMD, 2 cores):
 * - a storage-buffer read whose address differs between invocations is emulated one invocation
 *   at a time (~30 ns per vec4 per invocation in a micro-benchmark, as long as a few hundred
 *   multiply-adds; a vec4 costs barely more than a scalar); a read from a *uniform* array is a
 *   plain gather (~2.5 ns, 12× cheaper). So the kernel reads as few vec4s as it can per
 *   multiply-add, and reads them from uniform arrays where they fit the adapter's uniform
 *   binding limit (64 KiB);
 * - each invocation computes a ROWS×COLS block of C in vec4 accumulators, so a value of A is
 *   used COLS times and a value of B ROWS times; no workgroup memory and no barriers (their
 *   reads cost the same, and barriers are slow). Blocks start at multiples of 4;
 * - A and B are `array<vec4f>` read four values at a time whatever their layout: the
 *   contraction runs in chunks of 4, so where a line sits inside a vec4 is a compile-time
 *   constant and picking its values is a static swizzle (free in SIMD code). Each accumulator
 *   is updated once per chunk by a chain of 4 fma (one update per k is 15 % slower: every
 *   register write in a loop is a masked store), see matmul_wgsl.ts;
 * - B stored in ≤ 64 KiB and K fixed (a weight W, or Wᵀ for dX = dZ·Wᵀ): B and the bias are
 *   uniform arrays. Then A's storage reads cost as much as the multiply-adds, so blocks are
 *   8 rows × up to 68 columns (all of N = 64 in one block: each value of A is read once), and
 *   A itself is read from uniform *windows*: one dispatch per ≤ 64 KiB of A's rows (120 rows at
 *   K = 131), bound from a 256-byte aligned offset (+13 % over storage reads of A, dispatches
 *   included). At 2000×131×64: 13.9 GFLOP/s forward, 14.0 for dX, against 3.8 and 3.3 for the
 *   storage kernel. Not better: 16×32 blocks (same speed), 12×64 (slower; 13 s compiles), a
 *   row per invocation with K unrolled (uniform reads at constant indices were no cheaper, and
 *   it compiled for 20 s);
 * - dW = Xᵀ·dZ contracts over the batch (K = edges): A and B are both read from uniform
 *   *k-windows*, the same k rows of each (≤ 64 KiB, e.g. 252 rows at M = N = 64, fewer where a
 *   small batch's buffers are smaller), one dispatch per window, each adding into C. Over 2,000
 *   edges at 64×64 that took 3.4 ms against 7.2 for the storage kernel, and the EGNN N-body
 *   epoch went from ~8.7 to ~6.9 s. Long column sums (the bias gradient) take the same path as
 *   1ᵀ·X (reduce.ts);
 * - otherwise (QM9's 257×128 weight is 131 KB) all are storage and blocks are 16×16 (24×24
 *   gains ~10 % for 10× the compile time).
 * - a backward dX = dZ·Wᵀ whose X is an activation's output can multiply by the activation's
 *   derivative on the way out (`activationGrad`, tape.ts), which spares the next layer's ⊙ act'
 *   pass (~0.8 ms at 2000×64 here, a read of two tensors and a write). The derivative's input is
 *   read from uniform windows of the same rows as A's (scheme 2), else from storage (+40 % on
 *   the product);
 * - N and K (K mod 4 when K varies between calls) are WGSL constants; M is a uniform (with
 *   transA, M mod 4 is a constant too). Bias and activation are fused into the write-out, which
 *   stores vec4s when N % 4 == 0 or when one block holds whole rows (see `WriteMode`).
 * Reads by a partial block past its last row or column are clamped into the binding and their
 * results are never stored. Compile times (first use; Mesa caches them on disk): ~2 s for a
 * 16×16 storage variant, 5–7 s for an 8×64 uniform one.
 *
 * On a GPU (tuning.ts: the `gpu` kernel profile) every product takes the storage kernel with
 * 4×4 blocks: uniform arrays indexed per invocation are 30–80× slower there, and small blocks
 * give more invocations (at 16×16 a dW = Xᵀ·dZ of 2000×64×64 ran 17× slower than at 4×4); in
 * workgroups of 64 rather than 8, and with dW's long contractions split (`splitFor`).
 *
 * @module
 */

import { type ConstantValue, defineKernel, type Kernel, type KernelVariant } from "../dsl.ts";
import { type BufferSlice, recordDispatch } from "../commands.ts";
import { fitsUniformBinding } from "../uniform_binding.ts";
import { bufferFacts } from "../pool.ts";
import { kernelProfile } from "../tuning.ts";
import { empty, type Tensor } from "../tensor.ts";
import { type Activation, activationExpr, matmulBody, writeMode } from "./matmul_wgsl.ts";

export { type Activation, activationExpr };

/** Bytes of the largest uniform binding used (WebGPU's default limit, lavapipe's too). */
const UNIFORM_LIMIT = 65536;
/** Vec4s of slack in an A window: its start is aligned down to 256 bytes (+1 for the carry). */
const WINDOW_SLACK = 17;
/** Most rows of K values in one window, a multiple of `rows` (its vec4s rounded up to 16). */
const windowRowsFor = (k: number, rows: number) =>
  Math.floor(((UNIFORM_LIMIT / 16 - WINDOW_SLACK - 15) * 4) / k / rows) * rows;

/** Vec4s of B (K×N or N×K values) bound as a uniform array. */
const bLength = (c: Record<string, ConstantValue>) =>
  Math.ceil(((c.K as number) * (c.N as number)) / 4);
/** Vec4s of a uniform window of `rows` rows of `ld` values plus slack, a multiple of 16. */
const windowVec4s = (rows: number, ld: number) =>
  Math.ceil((Math.ceil((rows * ld) / 4) + WINDOW_SLACK) / 16) * 16;
/** Vec4s of one uniform window of A's rows (scheme 2): A_ROWS rows of K values. */
const aLength = (c: Record<string, ConstantValue>) =>
  windowVec4s(c.A_ROWS as number, c.K as number);

/**
 * The `bytes`-long binding of `t`'s buffer that holds float `first` of `t` (counted from its
 * start): from the 256-byte aligned offset at or before it, moved back when it would pass the
 * end of the buffer. Both window schemes bind their uniform windows through this.
 */
function windowAt(t: Tensor, first: number, bytes: number): BufferSlice {
  const offset = Math.min(
    t.offset + Math.floor((first * 4) / 256) * 256,
    Math.floor((bufferFacts(t.buffer).size - bytes) / 256) * 256,
  );
  return { buffer: t.buffer, offset, bytes };
}

/**
 * One declaration per binding scheme: A uniform (windows) or storage, B and the bias uniform or
 * storage, C (and z, and a storage bias) vec4 or f32; or (kWindows) A and B both uniform windows
 * along k, `A_WIN` and `B_WIN` vec4s long.
 */
function declare(
  aUniform: boolean,
  bUniform: boolean,
  vec: boolean,
  kWindows = false,
  zUniform = false,
  splitK = false,
  workgroup = 8,
): Kernel {
  const t = vec ? "vec4f" : "f32";
  return defineKernel({
    name: `matmul${vec ? "_vec4" : ""}${bUniform ? "_ub" : ""}${aUniform ? "_au" : ""}${
      kWindows ? "_kw" : ""
    }${zUniform ? "_zu" : ""}${splitK ? "_sk" : ""}${workgroup !== 8 ? `_wg${workgroup}` : ""}`,
    // 8 invocations (one SIMD group of the CPU adapter) per workgroup, so that even the small
    // grids of dW (e.g. 4×4 blocks) spread over all cores; 64 for a GPU (the profile's
    // `matmulWorkgroup`), where a workgroup of 8 fills a quarter of a 32-lane warp.
    workgroupSize: workgroup,
    uniforms: {
      m: "u32",
      k: "u32",
      row_base: "u32",
      row_end: "u32",
      a_off: "u32",
      b_off: "u32",
      z_off: "u32",
      ...(splitK ? { k_chunk4: "u32" as const } : {}),
    },
    bindings: {
      a: kWindows
        ? { type: "vec4f", access: "uniform", length: (c) => c.A_WIN as number }
        : aUniform
        ? { type: "vec4f", access: "uniform", length: aLength }
        : { type: "vec4f", access: "read" },
      b: kWindows
        ? { type: "vec4f", access: "uniform", length: (c) => c.B_WIN as number }
        : bUniform
        ? { type: "vec4f", access: "uniform", length: bLength }
        : { type: "vec4f", access: "read" },
      bias: bUniform
        ? { type: "vec4f", access: "uniform", length: (c) => Math.ceil((c.N as number) / 4) }
        : { type: t, access: "read" },
      c: { type: t, access: "read_write" },
      zs: zUniform
        ? { type: "vec4f", access: "uniform", length: (c) => c.Z_WIN as number }
        : { type: t, access: "read_write" },
    },
    body: matmulBody,
  });
}

/**
 * [scheme][vec]: scheme 0 = all storage, 1 = B uniform, 2 = A and B uniform, 3 = Aᵀ·B with A
 * and B uniform windows along k.
 */
const kernels = [[false, false], [false, true], [true, true]].map(([au, bu]) =>
  [false, true].map((vec) => declare(au, bu, vec))
).concat([[false, true].map((vec) => declare(true, true, vec, true))]);
/**
 * Scheme 2 with `activationGrad`'s saved tensor read from uniform windows of the same rows as
 * A's (vec4 stores only): the derivative's input costs a gather, not a storage read per
 * invocation (2000×64·64×64 with SiLU's derivative fused: 5.0 ms from storage, 2.3 from windows, against
 * 2.9 for the product alone and 2.2 for the separate pass, same minutes).
 */
const zWindowKernel = declare(true, true, true, false, true);
/** Scheme 0 with split-K (SPLIT slices of k, each into its own copy of C; vec4 stores only). */
const splitKernel = declare(false, false, true, false, false, true);
/** Scheme 0 [scalar, vec4] and its split-K form in workgroups of 64 (`matmulWorkgroup`). */
const storage64 = [false, true].map((vec) => declare(false, false, vec, false, false, false, 64));
const split64 = declare(false, false, true, false, false, true, 64);
/** Sums the split-K copies of C into C (or adds them to it), in slice order. */
const splitSumKernel = defineKernel({
  name: "matmul_split_sum",
  workgroupSize: 64,
  constants: { SPLIT: "u32", ACCUMULATE: "bool" },
  uniforms: { n4: "u32" },
  bindings: {
    part: { type: "vec4f", access: "read" },
    c: { type: "vec4f", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.n4) { return; }
  var s = part[index];
  for (var t = 1u; t < SPLIT; t++) { s += part[t * params.n4 + index]; }
  ${c.ACCUMULATE ? "c[index] = c[index] + s;" : "c[index] = s;"}`,
});

/** Options of one product. */
export interface MatmulOptions {
  /** Rows of C. */
  m: number;
  /** Columns of C. */
  n: number;
  /** Contraction length. */
  k: number;
  /** A is stored K×M (use Aᵀ of a stored matrix). */
  transA?: boolean;
  /** B is stored N×K. */
  transB?: boolean;
  /** Added to every row before the activation. */
  bias?: Tensor | null;
  /** Fused after the bias (default none). */
  activation?: Activation;
  /** Add the product (and the bias, if any) into C instead of overwriting it (no activation). */
  accumulate?: boolean;
  /** Also store the pre-activation here. */
  z?: Tensor | null;
  /**
   * Multiply every value of the product by `act'(saved)` (elementwise, `saved` shaped as C)
   * before it is stored or added: for dX = dZ·Wᵀ where X is an activation's output, this gives
   * the producing layer's dZ directly (tape.ts `gradSlotThroughActivation`). No bias, activation
   * or z with it.
   */
  activationGrad?: { act: Activation; saved: Tensor } | null;
  /**
   * With `transA` (A stored K×(M−1)): C's last row is 1ᵀ·B, the column sums of B, computed with
   * the other rows (a layer's [dW; db] in one product, when db's buffer follows dW's). No bias,
   * activation, saved pre-activation, activation gradient or `transB`.
   */
  onesRow?: boolean;
  /** Whether the contraction length is fixed across calls (made a compile-time constant). */
  fixedK?: boolean;
  /**
   * Whether B (and A) may be bound as uniform arrays when they fit (default true); false forces
   * the storage kernel (for tests and benchmarks).
   */
  uniform?: boolean;
}

/**
 * The kernel and blocks chosen for a product, and its windows: A's rows (scheme 2) or the k rows
 * of A and B (scheme 3); 0 rows: no windows.
 */
interface Plan {
  scheme: 0 | 1 | 2 | 3;
  rows: number;
  cols: number;
  windowRows: number;
  /** Split-K (scheme 0): slices of k and 4-k chunks per slice; split 1: none. */
  split: number;
  kChunk4: number;
}

/**
 * Split-K for dW = Aᵀ·B on the storage kernel (where the profile asks for it): a product with
 * few blocks of C and a long contraction (e.g. 64×64 over 2,000 edges: 256 invocations of 4×4
 * blocks, each 2,000 k's long) is computed as up to 32 slices of ≥ 256 k's, each into its own
 * copy of C, then summed in a second pass. Vec4 stores and no epilogue only.
 */
function splitFor(
  o: MatmulOptions,
  rows: number,
  cols: number,
): { split: number; kChunk4: number } {
  const none = { split: 1, kChunk4: 0 };
  if (!kernelProfile().matmulSplitK || !o.transA || o.transB || o.bias || o.z) return none;
  if ((o.activation ?? "none") !== "none" || (o.activationGrad?.act ?? "none") !== "none") {
    return none;
  }
  const blocks = Math.ceil(o.m / rows) * Math.ceil(o.n / cols);
  if (writeMode(o.n, rows, cols) !== "vec4" || o.k < 512 || blocks >= 2048) {
    return none;
  }
  const chunks = Math.ceil(o.k / 4);
  const kChunk4 = Math.ceil(chunks / Math.min(32, Math.ceil(o.k / 256)));
  return { split: Math.ceil(chunks / kChunk4), kChunk4 };
}

/**
 * k rows per window of dW = Aᵀ·B (A stored K×M, B K×N) with both bound as uniform windows, or 0
 * when the product does not qualify: a CPU profile, no bias/activation/z, and buffers that hold
 * a whole window (sizes multiples of 256 bytes, so a window moved back to the end covers it).
 */
/** A's stored width with `transA` (K×lda): one less than C's rows with `onesRow`. */
const storedWidthOfA = (o: MatmulOptions) => (o.onesRow ? o.m - 1 : o.m);

function kWindowRows(a: Tensor, b: Tensor, o: MatmulOptions): number {
  const lda = storedWidthOfA(o);
  if (!o.transA || o.transB || o.bias || o.z || (o.activation ?? "none") !== "none") return 0;
  if ((o.activationGrad?.act ?? "none") !== "none") return 0;
  if (o.k === 0) return 0;
  const most = Math.floor(((UNIFORM_LIMIT / 16 - WINDOW_SLACK - 15) * 4) / Math.max(o.m, o.n) / 4) *
    4;
  const fits = (t: Tensor, ld: number, rows: number) =>
    bufferFacts(t.buffer).size % 256 === 0 && t.offset % 256 === 0 &&
    fitsUniformBinding(t, 16 * windowVec4s(rows, ld));
  // The longest window both buffers hold (a small batch's buffers hold less than 64 KiB); a few
  // fixed lengths, so that varying batch sizes share their pipelines.
  for (const rows of [most, 256, 128, 64, 32, 16]) {
    if (rows > most || rows < 16) continue;
    if (fits(a, lda, rows) && fits(b, o.n, rows)) return rows;
  }
  return 0;
}

function plan(a: Tensor, b: Tensor, o: MatmulOptions): Plan {
  const fixedK = o.fixedK !== false;
  const profile = kernelProfile(); // uniform arrays on CPU adapters only (tuning.ts)
  const uniformB = o.uniform !== false && profile.matmulUniform && fixedK && o.k > 0 &&
    fitsUniformBinding(b, 16 * Math.ceil((o.k * o.n) / 4)) &&
    (!o.bias || fitsUniformBinding(o.bias, 16 * Math.ceil(o.n / 4)));
  const fit = (x: number, max: number) => Math.min(max, 4 * Math.ceil(x / 4));
  // dW = Xᵀ·dZ contracts over the batch: on a CPU adapter both factors are read from uniform
  // windows of k rows, one accumulating dispatch per window (storage reads cost 12× more).
  const kRows = profile.matmulUniform && o.uniform !== false ? kWindowRows(a, b, o) : 0;
  if (kRows > 0) {
    // At least 16 invocations (two workgroups of 8: both cores of a 2-core adapter) where the
    // columns allow: a 64×64 dW in 8×32 blocks, a column sum (M = 1) in 4×8 blocks.
    const rows = fit(o.m, 8), rowBlocks = Math.ceil(o.m / rows);
    const colBlocks = Math.min(
      Math.ceil(o.n / 4),
      Math.max(Math.ceil(o.n / 68), Math.ceil(16 / rowBlocks)),
    );
    const cols = 4 * Math.ceil(o.n / colBlocks / 4);
    return { scheme: 3, rows, cols, windowRows: kRows, split: 1, kChunk4: 0 };
  }
  if (!uniformB) {
    const block = profile.matmulBlock;
    const rows = fit(o.m, block), cols = fit(o.n, block);
    return { scheme: 0, rows, cols, windowRows: 0, ...splitFor(o, rows, cols) };
  }
  const colBlocks = Math.ceil(o.n / 68);
  const cols = 4 * Math.ceil(o.n / colBlocks / 4), rows = fit(o.m, 8);
  // A's rows in windows of ≤ 64 KiB (a multiple of the block's rows), when its buffer has room
  // for a whole window from the tensor's start (else the last window could not be placed) and
  // its size is a multiple of 256 (so that a window moved back to the end covers the end).
  const windowRows = windowRowsFor(o.k, rows);
  const windowed = !o.transA && windowRows >= rows &&
    bufferFacts(a.buffer).size % 256 === 0 &&
    fitsUniformBinding(a, 16 * aLength({ A_ROWS: windowRows, K: o.k }));
  return windowed
    ? { scheme: 2, rows, cols, windowRows, split: 1, kChunk4: 0 }
    : { scheme: 1, rows, cols, windowRows: 0, split: 1, kChunk4: 0 };
}

/**
 * Whether scheme 2 reads `activationGrad`'s saved tensor from uniform windows of the same rows
 * as A's: vec4 stores, and a buffer that holds a whole window from the tensor's start.
 */
function usesZWindows(p: Plan, o: MatmulOptions): boolean {
  const saved = o.activationGrad?.saved;
  return p.scheme === 2 && !!saved && o.activationGrad!.act !== "none" &&
    writeMode(o.n, p.rows, p.cols) === "vec4" && bufferFacts(saved.buffer).size % 256 === 0 &&
    fitsUniformBinding(saved, 16 * windowVec4s(p.windowRows, o.n));
}

/**
 * Which kernel `matmul` picks for these operands, in words (for benchmark tables).
 *
 * @param a the left factor
 * @param b the right factor
 * @param o sizes and options, as for `matmul`
 * @returns e.g. `A+B uniform, 8×64 blocks, 17 windows`, `B uniform, 8×64 blocks` or
 *   `storage, 16×16 blocks` (the blocks depend on the adapter's kernel profile, tuning.ts)
 */
export function matmulKernel(a: Tensor, b: Tensor, o: MatmulOptions): string {
  const p = plan(a, b, o);
  const what = ["storage", "B uniform", "A+B uniform", "A+B uniform k-windows"][p.scheme];
  const windows = p.scheme === 2
    ? `, ${Math.ceil(o.m / p.windowRows)} windows`
    : p.scheme === 3
    ? `, ${Math.ceil(o.k / p.windowRows)} windows`
    : "";
  return `${what}, ${p.rows}×${p.cols} blocks${windows}${
    usesZWindows(p, o) ? ", activation-gradient input in windows" : ""
  }${p.split > 1 ? `, split-K × ${p.split}` : ""}`;
}

/**
 * Records `C = op(A)·op(B) (+bias)(→act)` or `C += op(A)·op(B) (+bias)`.
 *
 * @param a the left factor (M×K, or K×M with `transA`)
 * @param b the right factor (K×N, or N×K with `transB`)
 * @param c the output (M×N)
 * @param o sizes and options
 */
export function matmul(a: Tensor, b: Tensor, c: Tensor, o: MatmulOptions): void {
  const act = o.activation ?? "none";
  if (o.accumulate && (act !== "none" || o.z)) {
    throw new Error("matmul: accumulate takes no activation or saved pre-activation");
  }
  if (
    o.onesRow &&
    (!o.transA || o.transB || act !== "none" || o.bias || o.z || o.activationGrad || o.m < 1)
  ) {
    throw new Error(
      "matmul: onesRow needs transA, and takes no transB, bias, activation or saved tensors",
    );
  }
  const lda = storedWidthOfA(o);
  if (a.size < lda * o.k || b.size < o.k * o.n || c.size < o.m * o.n) {
    throw new Error(
      `matmul: operands [${a.shape}]·[${b.shape}] → [${c.shape}] are smaller than ` +
        `M=${o.m} N=${o.n} K=${o.k}`,
    );
  }
  const gradAct = o.activationGrad?.act ?? "none";
  if (gradAct !== "none" && (act !== "none" || o.bias || o.z)) {
    throw new Error("matmul: activationGrad takes no bias, activation or saved pre-activation");
  }
  if (gradAct !== "none" && o.activationGrad!.saved.size < o.m * o.n) {
    throw new Error(
      `matmul: activationGrad's saved tensor [${o.activationGrad!.saved.shape}] is smaller ` +
        `than C (${o.m}×${o.n})`,
    );
  }
  if (o.bias && o.bias.size < o.n) {
    throw new Error(`matmul: bias has ${o.bias.size} values for N=${o.n}`);
  }
  if (o.m === 0 || o.n === 0) return;
  const p = plan(a, b, o);
  // k-windows (scheme 3) vary the contraction length per dispatch: K is a uniform there.
  const fixedK = o.fixedK !== false && p.scheme !== 3;
  const constants = {
    N: o.n,
    K: fixedK ? o.k : "runtime",
    K_MOD4: fixedK ? 0 : o.k % 4,
    M_MOD4: o.transA ? lda % 4 : 0,
    ROWS: p.rows,
    COLS: p.cols,
    TRANS_A: !!o.transA,
    TRANS_B: !!o.transB,
    HAS_BIAS: !!o.bias,
    ACCUMULATE: !!o.accumulate,
    SAVE_Z: !!o.z,
    ACT: act,
    GRAD_ACT: gradAct,
    A_UNIFORM: p.scheme >= 2,
    B_UNIFORM: p.scheme > 0,
    A_ROWS: p.scheme === 2 ? p.windowRows : 0,
    K_WINDOWS: p.scheme === 3,
    A_WIN: p.scheme === 3 ? windowVec4s(p.windowRows, lda) : 0,
    B_WIN: p.scheme === 3 ? windowVec4s(p.windowRows, o.n) : 0,
    ...(o.onesRow ? { ONES_ROW: true } : {}),
  };
  const mode = writeMode(o.n, p.rows, p.cols);
  const zBytes = 16 * windowVec4s(p.windowRows, o.n);
  const zWindows = usesZWindows(p, o);
  const wide = p.scheme === 0 && kernelProfile().matmulWorkgroup === 64;
  const kernel = zWindows
    ? zWindowKernel
    : (wide ? storage64 : kernels[p.scheme])[mode === "scalar" ? 0 : 1];
  // Looked up where used (a variant's cache key is its constants as JSON, some µs a lookup).
  const variant = () =>
    kernel.variant(zWindows ? { ...constants, Z_UNIFORM: true, Z_WIN: zBytes / 16 } : constants);
  // Without a bias, bind B again in its place (a uniform array of N/4 vec4s fits inside B).
  // zs: where z is saved, or (activationGrad) where the derivative's input is read.
  const zs = o.z ?? (gradAct !== "none" ? o.activationGrad!.saved : c);
  const rest = [b, o.bias ?? (p.scheme > 0 ? b : a), c, zs];
  const colBlocks = Math.ceil(o.n / p.cols);
  // m: A's stored width with transA (the kernel's ld of A); the rows written end at row_end.
  const uniforms = { m: lda, k: o.k, row_base: 0, row_end: o.m, a_off: 0, b_off: 0, z_off: 0 };
  if (p.scheme === 3) {
    // One dispatch per window of k rows of A (K×M) and B (K×N); a_off/b_off say where the
    // window's first row starts in each binding. The first window writes C (or adds, with
    // accumulate), the others add.
    const first = variant();
    let adding: KernelVariant | null = null;
    const threads = Math.ceil(o.m / p.rows) * colBlocks;
    const aBytes = 16 * windowVec4s(p.windowRows, lda),
      bBytes = 16 * windowVec4s(p.windowRows, o.n);
    for (let k0 = 0; k0 < o.k; k0 += p.windowRows) {
      const aw = windowAt(a, k0 * lda, aBytes), bw = windowAt(b, k0 * o.n, bBytes);
      const v = k0 === 0 ? first : (adding ??= kernel.variant({ ...constants, ACCUMULATE: true }));
      recordDispatch(v, [aw, bw, b, c, c], threads, {
        ...uniforms,
        k: Math.min(o.k, k0 + p.windowRows) - k0,
        a_off: (a.offset - aw.offset) / 4 + k0 * lda,
        b_off: (b.offset - bw.offset) / 4 + k0 * o.n,
      });
    }
    return;
  }
  if (p.split > 1) {
    // Each slice's copy of C, then their sum into C (see `splitFor`).
    const part = empty([p.split * o.m * o.n]);
    recordDispatch(
      (wide ? split64 : splitKernel).variant({ ...constants, ACCUMULATE: false, SPLIT: p.split }),
      [a, b, a, part, part],
      p.split * Math.ceil(o.m / p.rows) * colBlocks,
      { ...uniforms, k_chunk4: p.kChunk4 },
    );
    const n4 = (o.m * o.n) / 4;
    recordDispatch(
      splitSumKernel.variant({ SPLIT: p.split, ACCUMULATE: !!o.accumulate }),
      [part, c],
      n4,
      { n4 },
    );
    return;
  }
  if (p.scheme < 2) {
    recordDispatch(variant(), [a, ...rest], Math.ceil(o.m / p.rows) * colBlocks, uniforms);
    return;
  }
  const windowed = variant();
  // One dispatch per window of A's rows (see `windowAt`).
  const bytes = 16 * aLength({ A_ROWS: p.windowRows, K: o.k });
  for (let r0 = 0; r0 < o.m; r0 += p.windowRows) {
    const r1 = Math.min(o.m, r0 + p.windowRows);
    const window = windowAt(a, r0 * o.k, bytes);
    const threads = Math.ceil((r1 - r0) / p.rows) * colBlocks;
    const u = { ...uniforms, row_base: r0, row_end: r1, a_off: (window.offset - a.offset) / 4 };
    if (!zWindows) {
      recordDispatch(windowed, [window, ...rest], threads, u);
      continue;
    }
    // z_off: where the z window starts, in vec4s from the tensor's start.
    const zw = windowAt(zs, r0 * o.n, zBytes);
    const zOff = (zw.offset - zs.offset) / 16;
    recordDispatch(windowed, [window, b, rest[1], c, zw], threads, { ...u, z_off: zOff });
  }
}
