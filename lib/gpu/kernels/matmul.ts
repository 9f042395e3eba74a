/**
 * The matrix product behind `linear` and its two backward products:
 * `C (M×N) = op(A) · op(B) [+ bias] [→ activation]`, or `C += op(A) · op(B)`.
 *
 * Strategy for CPU adapters (Mesa lavapipe/llvmpipe, measured): no workgroup memory and no
 * barriers; each invocation holds a block of ROWS×8 outputs in vec4 accumulators, lanes run
 * along the output columns, the contraction length is a WGSL `const` where it is fixed, and
 * bias and activation are fused into the write-out.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { type Tensor, unusedBinding } from "../tensor.ts";

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

/** Output rows per invocation. */
const ROWS = 8;

function matmulBody(c: Record<string, string | number | boolean>): string {
  const kLen = c.K_FIXED ? "K_FIXED" : "params.k";
  const aIndex = c.TRANS_A ? "kk * params.m + r" : "r * KLEN + kk";
  const bIndex = (col: string) => c.TRANS_B ? `(${col}) * KLEN + kk` : `kk * N + (${col})`;
  const lines: string[] = [];
  lines.push(`  let KLEN = ${kLen};`);
  lines.push(`  let colBlocks = (N + 7u) / 8u;`);
  lines.push(`  let row0 = (index / colBlocks) * ${ROWS}u;`);
  lines.push(`  let col0 = (index % colBlocks) * 8u;`);
  lines.push(`  if (row0 >= params.m) { return; }`);
  lines.push(`  let lastRow = params.m - 1u;`);
  lines.push(`  var cols: array<u32, 8>;`);
  for (let j = 0; j < 8; j++) lines.push(`  cols[${j}] = min(col0 + ${j}u, N - 1u);`);
  for (let r = 0; r < ROWS; r++) {
    lines.push(`  let r${r} = min(row0 + ${r}u, lastRow);`);
    lines.push(`  var acc${r}a = vec4f(0.0); var acc${r}b = vec4f(0.0);`);
  }
  lines.push(`  for (var kk = 0u; kk < KLEN; kk++) {`);
  const bl = (j: number) => `b[${bIndex(`cols[${j}]`)}]`;
  lines.push(`    let ba = vec4f(${bl(0)}, ${bl(1)}, ${bl(2)}, ${bl(3)});`);
  lines.push(`    let bb = vec4f(${bl(4)}, ${bl(5)}, ${bl(6)}, ${bl(7)});`);
  for (let r = 0; r < ROWS; r++) {
    lines.push(
      `    { let r = r${r}; let av = a[${aIndex}]; acc${r}a += av * ba; acc${r}b += av * bb; }`,
    );
  }
  lines.push(`  }`);
  const act = c.ACT as Activation;
  for (let r = 0; r < ROWS; r++) {
    lines.push(`  if (row0 + ${r}u < params.m) {`);
    for (let j = 0; j < 8; j++) {
      const v = `acc${r}${j < 4 ? "a" : "b"}[${j % 4}]`;
      lines.push(`    if (col0 + ${j}u < N) {`);
      lines.push(`      let o = (row0 + ${r}u) * N + col0 + ${j}u;`);
      if (c.ACCUMULATE) {
        lines.push(`      c[o] = c[o] + ${v};`);
      } else {
        lines.push(`      let zv = ${v}${c.HAS_BIAS ? ` + bias[col0 + ${j}u]` : ""};`);
        if (c.SAVE_Z) lines.push(`      z[o] = zv;`);
        lines.push(`      c[o] = ${activationExpr(act, "zv")};`);
      }
      lines.push(`    }`);
    }
    lines.push(`  }`);
  }
  return lines.join("\n");
}

const matmulKernel = defineKernel({
  name: "matmul",
  workgroupSize: 64,
  constants: {
    N: "u32",
    K_FIXED: "u32",
    TRANS_A: "bool",
    TRANS_B: "bool",
    HAS_BIAS: "bool",
    ACCUMULATE: "bool",
    SAVE_Z: "bool",
  },
  uniforms: { m: "u32", k: "u32" },
  bindings: {
    a: { type: "f32", access: "read" },
    b: { type: "f32", access: "read" },
    bias: { type: "f32", access: "read" },
    c: { type: "f32", access: "read_write" },
    z: { type: "f32", access: "read_write" },
  },
  body: matmulBody,
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
  if (o.m === 0 || o.n === 0) return;
  const variant = matmulKernel.variant({
    N: o.n,
    K_FIXED: o.fixedK === false || o.k === 0 ? 0 : o.k,
    TRANS_A: !!o.transA,
    TRANS_B: !!o.transB,
    HAS_BIAS: !!o.bias,
    ACCUMULATE: !!o.accumulate,
    SAVE_Z: !!o.z,
    ACT: act,
  });
  const threads = Math.ceil(o.m / ROWS) * Math.ceil(o.n / 8);
  recordDispatch(variant, [a, b, o.bias ?? a, c, o.z ?? unusedBinding()], threads, {
    m: o.m,
    k: o.k,
  });
}
