/**
 * The WGSL of the matmul kernels (see matmul.ts for the strategy and the bindings): readers that
 * bring four k's of a block's lines into vec4s, the unrolled chunk of multiply-adds, and the
 * write-out with the bias, the activation and the saved pre-activation fused.
 *
 * Constants: N, K (a number, or "runtime" with K_MOD4), M_MOD4 (with TRANS_A), ROWS, COLS,
 * TRANS_A, TRANS_B, HAS_BIAS, ACCUMULATE, SAVE_Z, ACT, GRAD_ACT, and how A, B and the bias are bound
 * (A_UNIFORM, B_UNIFORM: uniform arrays `a_len`/`b_len` long; the bias is a uniform array
 * whenever B is). Uniforms: m (rows of C), k, and the rows `row_base..row_end` this dispatch
 * computes; `a_off` is where A's binding starts, in floats from the tensor's start (a multiple
 * of 64, so where a row sits inside a vec4 does not change). With K_WINDOWS (dW = Aᵀ·B, A and B
 * both uniform windows of the same k rows, one dispatch per window) `k` is the window's length
 * and `a_off`/`b_off` are where its first row starts inside A's and B's bindings (multiples of 4).
 * SPLIT (a number > 1, with TRANS_A, vec4 stores and no epilogue): split-K — the blocks are
 * computed SPLIT times, slice s over chunks [s·k_chunk4, (s+1)·k_chunk4) of 4 k's, each into
 * its own copy of C, s · M·N/4 vec4s on (matmul.ts sums the copies in a second pass).
 * ONES_ROW (with TRANS_A): C has one row more than A has columns (`params.m` is A's width, the
 * rows written end at `row_end`), and that row is 1ᵀ·B, the column sums: dW and db of a layer in
 * one product, [Xᵀ·dZ; 1ᵀ·dZ].
 * GRAD_ACT (an activation, for a backward product dX = dZ·Wᵀ whose X came out of an activation)
 * multiplies each value by the activation's derivative at the same element of `zs` before it is
 * stored or added: the next op's dZ comes out of the product, with no pass of its own. With
 * Z_UNIFORM, `zs` is a uniform window of vec4s that starts `z_off` vec4s into the tensor.
 *
 * @module
 */

import type { ConstantValue } from "../dsl.ts";

/** Activation fused into the write-out of a product. */
export type Activation = "none" | "silu" | "relu" | "tanh" | "sigmoid";

/** WGSL of an activation applied to `v`. */
export function activationExpr(act: Activation, v: string): string {
  switch (act) {
    case "none":
      return v;
    case "silu":
      return `silu(${v})`;
    case "relu":
      return `max(${v}, 0.0)`;
    case "tanh":
      return `tanh(${v})`;
    case "sigmoid":
      return `sigmoid(${v})`;
  }
}

/**
 * WGSL of `dY ⊙ act'(·)`: the gradient `dy` carried through the activation, given `saved` (the
 * pre-activation for SiLU, the activation's output for the others).
 */
export function activationGradExpr(act: Activation, dy: string, saved: string): string {
  switch (act) {
    case "none":
      return dy;
    case "silu":
      return `${dy} * siluGrad(${saved})`;
    case "relu":
      return `select(0.0, ${dy}, ${saved} > 0.0)`;
    case "tanh":
      return `${dy} * (1.0 - ${saved} * ${saved})`;
    case "sigmoid":
      return `${dy} * ${saved} * (1.0 - ${saved})`;
  }
}

const XYZW = "xyzw";
type Constants = Record<string, ConstantValue>;

/** How one operand's values reach the block: WGSL to emit, and the value of line l at slot u. */
interface Reader {
  /** Before the k loop. */
  setup: string[];
  /** At the start of each chunk of 4 k's. */
  chunk: string[];
  /** Before slot u (k = 4·k4 + u) of a chunk. */
  slot(u: number): string[];
  /** The value of line l (row of op(A), column of op(B)) at slot u. */
  at(l: number, u: number): string;
  /** At the end of each chunk. */
  carry: string[];
}

/**
 * Lines `line0 + l` stored contiguously along k at `(line0 + l)·K - off`: a window of two vec4s
 * slides along each line, one read per line and chunk.
 */
function alongK(
  x: string,
  lines: number,
  line0: string,
  k: string,
  kMod4: number,
  off: string,
): Reader {
  const last = `last_${x}`;
  const shift = (l: number) => (l * kMod4) % 4;
  const setup: string[] = [], chunk: string[] = [], carry: string[] = [];
  for (let l = 0; l < lines; l++) {
    setup.push(`let q${x}${l} = ((${line0} + ${l}u) * ${k}${off}) / 4u;`);
    if (shift(l) > 0) {
      setup.push(`var w${x}${l} = ${x}[min(q${x}${l}, ${last})];`);
      chunk.push(`let n${x}${l} = ${x}[min(q${x}${l} + k4 + 1u, ${last})];`);
      carry.push(`w${x}${l} = n${x}${l};`);
    } else chunk.push(`let n${x}${l} = ${x}[min(q${x}${l} + k4, ${last})];`);
  }
  const at = (l: number, u: number) => {
    const e = shift(l) + u; // position in the window (w, n) of k = 4·k4 + u
    return shift(l) > 0 && e < 4 ? `w${x}${l}.${XYZW[e]}` : `n${x}${l}.${XYZW[e & 3]}`;
  };
  return { setup, chunk, slot: () => [], at, carry };
}

/**
 * At each k, lines `line0..line0+lines-1` stored contiguously at `k·ld + line0 + rel` (`rel`, a
 * WGSL term or "", a multiple of 4 floats: where a window along k starts in its binding).
 */
function acrossK(
  x: string,
  lines: number,
  line0: string,
  ld: string,
  ldMod4: number,
  rel = "",
): Reader {
  const last = `last_${x}`;
  const shift = (u: number) => (u * ldMod4) % 4;
  return {
    setup: [],
    chunk: [],
    carry: [],
    slot(u) {
      const out = [`let p${x}${u} = ((k4 * 4u + ${u}u) * ${ld} + ${line0}${rel}) / 4u;`];
      for (let t = 0; t < lines / 4 + (shift(u) > 0 ? 1 : 0); t++) {
        out.push(`let v${x}${u}_${t} = ${x}[min(p${x}${u} + ${t}u, ${last})];`);
      }
      return out;
    },
    at: (l, u) => `v${x}${u}_${(shift(u) + l) >> 2}.${XYZW[(shift(u) + l) & 3]}`,
  };
}

/** The body of `main` for one variant (see the module doc for the constants). */
export function matmulBody(c: Constants): string {
  const rows = c.ROWS as number, cols = c.COLS as number, n = c.N as number;
  const k = c.K === "runtime" ? "params.k" : `${c.K}u`;
  const kMod4 = c.K === "runtime" ? c.K_MOD4 as number : (c.K as number) % 4;
  const colBlocks = Math.ceil(n / cols);
  // K_WINDOWS (Aᵀ·B with both bound as uniform windows along k): the window's rows start at
  // float a_off of A's binding and b_off of B's.
  const kw = !!c.K_WINDOWS;
  const a = c.TRANS_A
    ? acrossK("a", rows, "row0", "params.m", c.M_MOD4 as number, kw ? " + params.a_off" : "")
    : alongK("a", rows, "row0", k, kMod4, c.A_UNIFORM ? " - params.a_off" : "");
  const b = c.TRANS_B
    ? alongK("b", cols, "col0", k, kMod4, "")
    : acrossK("b", cols, "col0", `${n}u`, n % 4, kw ? " + params.b_off" : "");
  const acc = (i: number, v: number) => `s${i}_${v}`;
  // SPLIT > 1 (split-K, dW = Aᵀ·B on a GPU): invocations come in SPLIT slices of the blocks, each
  // contracting its own params.k_chunk4 chunks of 4 k's into its own copy of C (`slice_off`
  // vec4s further on); a second pass sums the copies (matmul.ts).
  const split = (c.SPLIT as number | undefined) ?? 1;
  const L = split > 1
    ? [
      `let per_slice = ((params.row_end - params.row_base + ${
        rows - 1
      }u) / ${rows}u) * ${colBlocks}u;`,
      `let slice = index / per_slice;`,
      `if (slice >= ${split}u) { return; }`,
      `let local = index % per_slice;`,
      `let cb = local % ${colBlocks}u;`,
      `let row0 = params.row_base + (local / ${colBlocks}u) * ${rows}u;`,
      `let slice_off = slice * ((params.row_end * ${n}u) / 4u);`,
    ]
    : [
      `let cb = index % ${colBlocks}u;`,
      `let row0 = params.row_base + (index / ${colBlocks}u) * ${rows}u;`,
    ];
  L.push(
    `if (row0 >= params.row_end) { return; }`,
    `let col0 = cb * ${cols}u;`,
    `let last_a = ${c.A_UNIFORM ? "a_len" : "arrayLength(&a)"} - 1u;`,
    `let last_b = ${c.B_UNIFORM ? "b_len" : "arrayLength(&b)"} - 1u;`,
  );
  for (let i = 0; i < rows; i++) {
    for (let v = 0; v < cols / 4; v++) L.push(`var ${acc(i, v)} = vec4f(0.0);`);
  }
  L.push(...a.setup, ...b.setup);
  // One chunk of 4 k's: read, then update each accumulator once (a chain of 4 fma: a quarter of
  // the masked register writes of one update per k). When K % 4 != 0 the last chunk's slots
  // u >= K % 4 lie past K: their values are replaced by zeros, so one loop body serves every
  // chunk (half the code and compile time of a separate tail).
  const body: string[] = [...a.chunk, ...b.chunk];
  for (let u = 0; u < 4; u++) {
    const masked = kMod4 > 0 && u >= kMod4;
    if (masked) body.push(`let ok${u} = k4 * 4u + ${u}u < ${k};`);
    const guard = (v: string, zero: string) => masked ? `select(${zero}, ${v}, ok${u})` : v;
    body.push(...a.slot(u), ...b.slot(u));
    for (let v = 0; v < cols / 4; v++) {
      const parts = [0, 1, 2, 3].map((j) => b.at(4 * v + j, u));
      body.push(`let b${u}_${v} = ${guard(`vec4f(${parts.join(", ")})`, "vec4f(0.0)")};`);
    }
    for (let i = 0; i < rows; i++) {
      // ONES_ROW: row params.m of op(A) (one past A's stored columns) is all ones: 1ᵀ·B.
      const v = c.ONES_ROW ? `select(${a.at(i, u)}, 1.0, row0 + ${i}u == params.m)` : a.at(i, u);
      body.push(`let x${u}_${i} = ${guard(v, "0.0")};`);
    }
  }
  for (let i = 0; i < rows; i++) {
    for (let v = 0; v < cols / 4; v++) {
      let e = acc(i, v);
      for (let u = 0; u < 4; u++) e = `fma(vec4f(x${u}_${i}), b${u}_${v}, ${e})`;
      body.push(`${acc(i, v)} = ${e};`);
    }
  }
  body.push(...a.carry, ...b.carry);
  const k4Range = split > 1
    ? `var k4 = slice * params.k_chunk4; k4 < min((${k} + 3u) / 4u, (slice + 1u) * params.k_chunk4); k4++`
    : `var k4 = 0u; k4 < (${k} + 3u) / 4u; k4++`;
  L.push(`for (${k4Range}) {`, ...body.map((s) => "  " + s), `}`);
  L.push(...writeOut(c, rows, cols, acc));
  return L.join("\n  ");
}

/**
 * How the block is stored: `vec4` (N % 4 == 0: one vec4 per 4 columns of a row), `packed` (one
 * column block, odd N: the block's rows are one contiguous, vec4-aligned range of C, stored as
 * vec4s that may span two rows), or `scalar`.
 */
export type WriteMode = "vec4" | "packed" | "scalar";

/** The write-out mode of a product with these sizes and blocks (see `WriteMode`). */
export function writeMode(n: number, rows: number, cols: number): WriteMode {
  if (n % 4 === 0) return "vec4";
  return cols >= n && rows % 4 === 0 ? "packed" : "scalar";
}

/** Stores the block (see `WriteMode`); the bias (read once per block), activation and z fused. */
function writeOut(
  c: Constants,
  rows: number,
  cols: number,
  acc: (i: number, v: number) => string,
): string[] {
  const n = c.N as number, act = c.ACT as Activation;
  const gradAct = (c.GRAD_ACT ?? "none") as Activation;
  const split = (c.SPLIT as number | undefined) ?? 1;
  const mode = writeMode(n, rows, cols);
  const bias = !!c.HAS_BIAS, c4 = cols / 4;
  const out: string[] = [];
  // One value (a vec4 or a scalar) of C at `[o]comp`, plus its bias `b` (or null).
  const store = (o: string, value: string, b: string | null, vec: boolean, comp = "") => {
    const at = `[${o}]${comp}`;
    if (gradAct !== "none") {
      // value ⊙ act'(zs): per component of a vec4, with the scalar helpers.
      // Z_UNIFORM: zs is a uniform window of vec4s starting z_off vec4s into the tensor.
      const zAt = c.Z_UNIFORM ? `[${o} - params.z_off]${comp}` : at;
      const g = vec
        ? `vec4f(${
          [...XYZW].map((l) => activationGradExpr(gradAct, `d.${l}`, `zs${zAt}.${l}`)).join(", ")
        })`
        : activationGradExpr(gradAct, "d", `zs${zAt}`);
      return `let d = ${value}; ` +
        (c.ACCUMULATE ? `c${at} = c${at} + ${g};` : `c${at} = ${g};`);
    }
    if (c.ACCUMULATE) return `c${at} = c${at} + ${value}${b ? ` + ${b}` : ""};`;
    let s = `let z = ${value}${b ? ` + ${b}` : ""}; `;
    if (c.SAVE_Z) s += `zs${at} = z; `;
    const y = !vec || act === "none"
      ? activationExpr(act, "z")
      : `vec4f(${[...XYZW].map((l) => activationExpr(act, `z.${l}`)).join(", ")})`;
    return s + `c${at} = ${y};`;
  };
  const elem = (i: number, j: number) => `${acc(i, j >> 2)}.${XYZW[j & 3]}`;
  // The bias of column col0 + j: from vec4s (uniform, or storage when C is vec4) or scalars.
  const scalarBias = mode === "scalar" && !c.B_UNIFORM;
  const biasElem = (j: number) => scalarBias ? `bias_${j}` : `bias_${j >> 2}.${XYZW[j & 3]}`;
  if (bias && scalarBias) {
    for (let j = 0; j < cols; j++) out.push(`let bias_${j} = bias[min(col0 + ${j}u, ${n - 1}u)];`);
  } else if (bias) {
    const last = c.B_UNIFORM ? "bias_len" : "arrayLength(&bias)";
    for (let v = 0; v < c4; v++) {
      out.push(`let bias_${v} = bias[min(cb * ${c4}u + ${v}u, ${last} - 1u)];`);
    }
  }
  const rowGuard = (i: number) => `row0 + ${i}u < params.row_end`;
  if (mode === "scalar") {
    for (let i = 0; i < rows; i++) {
      out.push(`if (${rowGuard(i)}) {`);
      for (let j = 0; j < cols; j++) {
        const col = `col0 + ${j}u`, o = `(row0 + ${i}u) * ${n}u + ${col}`;
        const st = store("o", elem(i, j), bias ? biasElem(j) : null, false);
        out.push(`  if (${col} < ${n}u) { let o = ${o}; ${st} }`);
      }
      out.push(`}`);
    }
    return out;
  }
  if (mode === "vec4") {
    for (let i = 0; i < rows; i++) {
      out.push(`if (${rowGuard(i)}) {`);
      for (let v = 0; v < c4; v++) {
        const guard = n % cols === 0 ? "" : `if (col0 + ${4 * v}u < ${n}u) `;
        const o = `(row0 + ${i}u) * ${n / 4}u + cb * ${c4}u + ${v}u${
          split > 1 ? " + slice_off" : ""
        }`;
        const st = store("o", acc(i, v), bias ? `bias_${v}` : null, true);
        out.push(`  ${guard}{ let o = ${o}; ${st} }`);
      }
      out.push(`}`);
    }
    return out;
  }
  // packed: float f of the block (at row0·N + f in C) is column f % N of row f / N.
  out.push(`let base = (row0 / 4u) * ${n}u;`, `if (row0 + ${rows}u <= params.row_end) {`);
  for (let t = 0; t < (rows * n) / 4; t++) {
    const f = [0, 1, 2, 3].map((q) => 4 * t + q);
    const value = `vec4f(${f.map((x) => elem(Math.floor(x / n), x % n)).join(", ")})`;
    const b = bias ? `vec4f(${f.map((x) => biasElem(x % n)).join(", ")})` : null;
    out.push(`  { let o = base + ${t}u; ${store("o", value, b, true)} }`);
  }
  out.push(`} else {`);
  for (let i = 0; i < rows; i++) {
    out.push(`  if (${rowGuard(i)}) {`);
    for (let j = 0; j < n; j++) {
      const f = i * n + j, b = bias ? biasElem(j) : null;
      out.push(`    { ${store(`base + ${f >> 2}u`, elem(i, j), b, false, `[${f & 3}]`)} }`);
    }
    out.push(`  }`);
  }
  out.push(`}`);
  return out;
}
