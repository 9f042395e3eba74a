/**
 * The matrix product behind `linear` and its two backward products:
 * `C (M×N) = op(A) · op(B) [+ bias] [→ activation]`, or `C += op(A) · op(B)`.
 *
 * Strategy, from measurements on Mesa 22.3's CPU adapter (lavapipe): a storage-buffer read
 * whose address differs between invocations is emulated one invocation at a time, about 15 ns
 * per invocation for a vec4 — as long as a few hundred multiply-adds — and a vec4 costs barely
 * more than a scalar. So the kernel reads as few vec4s as it can per multiply-add:
 * - each invocation computes a ROWS×COLS block of C (16×16, in vec4 accumulators), so every
 *   value read is used 16 times; no workgroup memory and no barriers (their reads cost the same,
 *   and barriers are slow);
 * - A and B are bound as `array<vec4f>` and read four values at a time whatever their layout.
 *   The contraction runs in chunks of 4 and blocks start at multiples of 4, so where a row
 *   sits inside a vec4 is a compile-time constant and picking its values is a static swizzle
 *   (free in the adapter's SIMD code). An operand contiguous along k (A; B with transB) slides a
 *   window of two vec4s along each line: one read per line and chunk. An operand contiguous
 *   across lines (B; A with transA) reads the block's width in vec4s (+1 if misaligned) per k;
 * - N and K (K mod 4 when K varies between calls) are WGSL constants; M is a uniform (with
 *   transA, M mod 4 is a constant too). Bias and activation are fused into the write-out, which
 *   stores vec4s when N % 4 == 0.
 * Reads by a partial block past its last row or column are clamped into the buffer and their
 * results are never stored.
 *
 * @module
 */

import { type ConstantValue, defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import type { Tensor } from "../tensor.ts";

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

const XYZW = "xyzw";

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

/** Lines `line0 + l` stored contiguously along k at `(line0 + l)·K`: a sliding vec4 window. */
function alongK(x: string, lines: number, line0: string, k: string, kMod4: number): Reader {
  const last = `last_${x}`;
  const shift = (l: number) => (l * kMod4) % 4;
  const setup: string[] = [], chunk: string[] = [], carry: string[] = [];
  for (let l = 0; l < lines; l++) {
    setup.push(`let q${x}${l} = ((${line0} + ${l}u) * ${k}) / 4u;`);
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

/** At each k, lines `line0..line0+lines-1` stored contiguously at `k·ld + line0`. */
function acrossK(x: string, lines: number, line0: string, ld: string, ldMod4: number): Reader {
  const last = `last_${x}`;
  const shift = (u: number) => (u * ldMod4) % 4;
  return {
    setup: [],
    chunk: [],
    carry: [],
    slot(u) {
      const out = [`let p${x}${u} = ((k4 * 4u + ${u}u) * ${ld} + ${line0}) / 4u;`];
      for (let t = 0; t < lines / 4 + (shift(u) > 0 ? 1 : 0); t++) {
        out.push(`let v${x}${u}_${t} = ${x}[min(p${x}${u} + ${t}u, ${last})];`);
      }
      return out;
    },
    at: (l, u) => `v${x}${u}_${(shift(u) + l) >> 2}.${XYZW[(shift(u) + l) & 3]}`,
  };
}

function matmulBody(c: Record<string, ConstantValue>): string {
  const rows = c.ROWS as number, cols = c.COLS as number, n = c.N as number;
  const k = c.K === "runtime" ? "params.k" : `${c.K}u`;
  const kMod4 = c.K === "runtime" ? c.K_MOD4 as number : (c.K as number) % 4;
  const colBlocks = Math.ceil(n / cols);
  const a = c.TRANS_A
    ? acrossK("a", rows, "row0", "params.m", c.M_MOD4 as number)
    : alongK("a", rows, "row0", k, kMod4);
  const b = c.TRANS_B
    ? alongK("b", cols, "col0", k, kMod4)
    : acrossK("b", cols, "col0", `${n}u`, n % 4);
  const acc = (i: number, v: number) => `s${i}_${v}`;
  const L = [
    `let cb = index % ${colBlocks}u;`,
    `let row0 = (index / ${colBlocks}u) * ${rows}u;`,
    `if (row0 >= params.m) { return; }`,
    `let col0 = cb * ${cols}u;`,
    `let last_a = arrayLength(&a) - 1u;`,
    `let last_b = arrayLength(&b) - 1u;`,
  ];
  for (let i = 0; i < rows; i++) {
    for (let v = 0; v < cols / 4; v++) L.push(`var ${acc(i, v)} = vec4f(0.0);`);
  }
  L.push(...a.setup, ...b.setup);
  const chunk = (slots: number) => {
    const out = [...a.chunk, ...b.chunk];
    for (let u = 0; u < slots; u++) {
      out.push(...a.slot(u), ...b.slot(u));
      for (let v = 0; v < cols / 4; v++) {
        const parts = [0, 1, 2, 3].map((j) => b.at(4 * v + j, u));
        out.push(`let b${u}_${v} = vec4f(${parts.join(", ")});`);
      }
      for (let i = 0; i < rows; i++) {
        const fmas = Array.from({ length: cols / 4 }, (_, v) => `${acc(i, v)} += x * b${u}_${v};`);
        out.push(`{ let x = ${a.at(i, u)}; ${fmas.join(" ")} }`);
      }
    }
    return [...out, ...a.carry, ...b.carry].map((s) => "  " + s);
  };
  L.push(`let kc = ${k} / 4u;`, `for (var k4 = 0u; k4 < kc; k4++) {`, ...chunk(4), `}`);
  if (kMod4 > 0) L.push(`{`, `  let k4 = kc;`, ...chunk(kMod4), `}`);
  L.push(...writeOut(c, rows, cols, acc));
  return L.join("\n  ");
}

/** Stores the block: vec4s when N % 4 == 0, else scalars; bias, activation and z fused. */
function writeOut(
  c: Record<string, ConstantValue>,
  rows: number,
  cols: number,
  acc: (i: number, v: number) => string,
): string[] {
  const n = c.N as number, act = c.ACT as Activation, vec = n % 4 === 0;
  const out: string[] = [];
  const store = (o: string, value: string, biasAt: string) => {
    if (c.ACCUMULATE) return `c[${o}] = c[${o}] + ${value};`;
    let s = `let z = ${value}${c.HAS_BIAS ? ` + bias[${biasAt}]` : ""}; `;
    if (c.SAVE_Z) s += `zs[${o}] = z; `;
    const y = !vec || act === "none"
      ? activationExpr(act, "z")
      : `vec4f(${[...XYZW].map((l) => activationExpr(act, `z.${l}`)).join(", ")})`;
    return s + `c[${o}] = ${y};`;
  };
  for (let i = 0; i < rows; i++) {
    out.push(`if (row0 + ${i}u < params.m) {`);
    for (let v = 0; v < cols / 4; v++) {
      if (vec) {
        const guard = n % cols === 0 ? "" : `if (col0 + ${4 * v}u < ${n}u) `;
        const o = `(row0 + ${i}u) * ${n / 4}u + cb * ${cols / 4}u + ${v}u`;
        const biasAt = `cb * ${cols / 4}u + ${v}u`;
        out.push(`  ${guard}{ let o = ${o}; ${store("o", acc(i, v), biasAt)} }`);
        continue;
      }
      for (let j = 0; j < 4; j++) {
        const col = `col0 + ${4 * v + j}u`;
        const value = `${acc(i, v)}.${XYZW[j]}`;
        const o = `(row0 + ${i}u) * ${n}u + ${col}`;
        out.push(`  if (${col} < ${n}u) { let o = ${o}; ${store("o", value, col)} }`);
      }
    }
    out.push(`}`);
  }
  return out;
}

/** The two declarations differ only in how C, z and the bias are bound (vec4 when N % 4 == 0). */
const kernels = [false, true].map((vec) => {
  const t = vec ? "vec4f" : "f32";
  return defineKernel({
    name: vec ? "matmul_vec4" : "matmul",
    // 8 invocations (one SIMD group of the adapter) per workgroup, so that even the small grids
    // of dW (e.g. 4×4 blocks) spread over all cores.
    workgroupSize: 8,
    uniforms: { m: "u32", k: "u32" },
    bindings: {
      a: { type: "vec4f", access: "read" },
      b: { type: "vec4f", access: "read" },
      bias: { type: t, access: "read" },
      c: { type: t, access: "read_write" },
      zs: { type: t, access: "read_write" },
    },
    body: matmulBody,
  });
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
  /** Activation after the bias (default "none"). */
  activation?: Activation;
  /** Add the product into C instead of overwriting it (no bias, no activation). */
  accumulate?: boolean;
  /** Also store the pre-activation here. */
  z?: Tensor | null;
  /** Whether the contraction length is fixed across calls (made a compile-time constant). */
  fixedK?: boolean;
}

/**
 * Records `C = op(A)·op(B) (+bias)(→act)` or `C += op(A)·op(B)`.
 *
 * @param a the left factor (M×K, or K×M with `transA`)
 * @param b the right factor (K×N, or N×K with `transB`)
 * @param c the output (M×N)
 * @param o sizes and options
 */
export function matmul(a: Tensor, b: Tensor, c: Tensor, o: MatmulOptions): void {
  const act = o.activation ?? "none";
  if (o.accumulate && (act !== "none" || o.bias || o.z)) {
    throw new Error("matmul: accumulate takes no bias, activation or saved pre-activation");
  }
  if (a.size < o.m * o.k || b.size < o.k * o.n || c.size < o.m * o.n) {
    throw new Error(
      `matmul: operands [${a.shape}]·[${b.shape}] → [${c.shape}] are smaller than ` +
        `M=${o.m} N=${o.n} K=${o.k}`,
    );
  }
  if (o.bias && o.bias.size < o.n) {
    throw new Error(`matmul: bias has ${o.bias.size} values for N=${o.n}`);
  }
  if (o.m === 0 || o.n === 0) return;
  // 16×16 blocks (measured best; 24×24 gains ~10% for 10× the compile time), narrower when
  // C has fewer than 16 rows or columns. Blocks start at multiples of 4 (see the module doc).
  const rows = Math.min(16, 4 * Math.ceil(o.m / 4)), cols = Math.min(16, 4 * Math.ceil(o.n / 4));
  const fixedK = o.fixedK !== false;
  const variant = kernels[o.n % 4 === 0 ? 1 : 0].variant({
    N: o.n,
    K: fixedK ? o.k : "runtime",
    K_MOD4: fixedK ? 0 : o.k % 4,
    M_MOD4: o.transA ? o.m % 4 : 0,
    ROWS: rows,
    COLS: cols,
    TRANS_A: !!o.transA,
    TRANS_B: !!o.transB,
    HAS_BIAS: !!o.bias,
    ACCUMULATE: !!o.accumulate,
    SAVE_Z: !!o.z,
    ACT: act,
  });
  const threads = Math.ceil(o.m / rows) * Math.ceil(o.n / cols);
  recordDispatch(variant, [a, b, o.bias ?? a, c, o.z ?? c], threads, { m: o.m, k: o.k });
}
