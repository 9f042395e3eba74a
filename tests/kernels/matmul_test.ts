// matmul against a float64 loop: random sizes (blocks cut anywhere, N = 1 or 3, K = 0, M = 0)
// and every option (transA, transB, bias, activations, accumulate, saved z, run-time K, an
// activation's derivative multiplied in: activationGrad, its input in windows or not), through
// the three kernels: A (in windows) and B bound as uniform arrays, B alone (also at a non-zero
// offset inside a ParameterSet), and all storage. MATMUL_FUZZ_CASES=n runs n random cases
// instead of the default 48.
import assert from "node:assert/strict";
import {
  endStep,
  fromArray,
  getGpu,
  matmul,
  type MatmulOptions,
  ParameterSet,
  readMany,
  type Tensor,
} from "../../mod.ts";
import { UniformBindingError } from "../../lib/gpu/uniform_binding.ts";
import { matmulKernel } from "../../lib/gpu/kernels/matmul.ts";
import { KERNEL_PROFILES, withKernelProfile } from "../../lib/gpu/tuning.ts";
import { defineKernel } from "../../lib/gpu/dsl.ts";
import { recordDispatch } from "../../lib/gpu/commands.ts";
import { activate, type Activation, matmulForward } from "../reference/linear.ts";
import { assertClose } from "../reference/finite_difference.ts";
import { Random } from "../reference/random.ts";

const ACTS: Activation[] = ["none", "silu", "relu", "tanh", "sigmoid"];

interface Case {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  bias: boolean;
  act: Activation;
  accumulate: boolean;
  z: boolean;
  fixedK: boolean;
  /** Let matmul bind B (and A) as uniform arrays where they fit. */
  uniform: boolean;
  /** B lives in a ParameterSet after another parameter (non-zero, 256-aligned offset). */
  inParams: boolean;
  /** Multiply by this activation's derivative at a saved M×N tensor (activationGrad). */
  gradAct?: Activation;
}

/** dy·act'(saved), with `saved` as the tape keeps it: SiLU's input, the others' output. */
function activationGradRef(act: Activation, dy: number, saved: number): number {
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  switch (act) {
    case "none":
      return dy;
    case "silu":
      return dy * sig(saved) * (1 + saved * (1 - sig(saved)));
    case "relu":
      return saved > 0 ? dy : 0;
    case "tanh":
      return dy * (1 - saved * saved);
    case "sigmoid":
      return dy * saved * (1 - saved);
  }
}

function randomCase(rng: Random): Case {
  const pick = <T>(xs: T[]) => xs[rng.int(0, xs.length)];
  const accumulate = rng.next() < 0.2;
  if (rng.next() < 0.2) {
    // A backward dX product with an activation's derivative fused (no bias, act or z).
    const c = randomCase(rng);
    return { ...c, bias: false, act: "none", z: false, gradAct: pick(ACTS.slice(1)) };
  }
  return {
    m: pick([0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 23, 33, 40, 67, 130, 251]),
    n: pick([1, 2, 3, 4, 5, 7, 8, 11, 12, 16, 17, 20, 31, 64, 65, 131]),
    k: pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 16, 31, 64, 131]),
    transA: rng.next() < 0.25,
    transB: rng.next() < 0.4,
    bias: !accumulate && rng.next() < 0.6,
    act: accumulate ? "none" : pick(ACTS),
    accumulate,
    z: !accumulate && rng.next() < 0.3,
    fixedK: rng.next() < 0.8,
    uniform: rng.next() < 0.75,
    inParams: rng.next() < 0.3,
  };
}

const label = (c: Case) =>
  `${c.m}×${c.k}→${c.n}${c.transA ? " Aᵀ" : ""}${c.transB ? " Bᵀ" : ""}` +
  `${c.bias ? " +b" : ""} ${c.act}${c.accumulate ? " +=" : ""}${c.z ? " z" : ""}` +
  `${c.fixedK ? "" : " runtime-K"}${c.uniform ? "" : " storage"}${c.inParams ? " params" : ""}` +
  `${c.gradAct ? ` ⊙${c.gradAct}'` : ""}`;

/**
 * Records the cases, reads every output back once, and compares with the float64 loop.
 *
 * @returns the kernels matmul picked (see `matmulKernel`)
 */
async function checkCases(cases: Case[], seed: number): Promise<Set<string>> {
  await getGpu();
  const rng = new Random(seed);
  const checks: { c: Case; out: Tensor[]; expect: Float64Array[] }[] = [];
  const sets: ParameterSet[] = [];
  const kernels = new Set<string>();
  for (const c of cases) {
    const { m, n, k } = c;
    const a = rng.normals(m * k), b = rng.normals(k * n, 1 / Math.sqrt(Math.max(1, k)));
    const bias = rng.normals(n, 0.5), c0 = rng.normals(m * n);
    const at = fromArray(a, c.transA ? [k, m] : [m, k]);
    const bShape = c.transB ? [n, k] : [k, n];
    const bTensor = c.inParams ? paramTensor(b, bShape, rng, sets) : fromArray(b, bShape);
    const ct = fromArray(c.accumulate ? c0 : new Float64Array(m * n), [m, n]);
    const zt = c.z ? fromArray(new Float64Array(m * n), [m, n]) : null;
    const saved = rng.normals(m * n);
    const gradAct = c.gradAct ?? "none";
    const o: MatmulOptions = {
      m,
      n,
      k,
      transA: c.transA,
      transB: c.transB,
      bias: c.bias ? fromArray(bias, [n]) : null,
      activation: c.act,
      accumulate: c.accumulate,
      z: zt,
      fixedK: c.fixedK,
      uniform: c.uniform,
      activationGrad: gradAct === "none" ? null : { act: gradAct, saved: fromArray(saved, [m, n]) },
    };
    matmul(at, bTensor, ct, o);
    if (m > 0 && n > 0) {
      const what = matmulKernel(at, bTensor, o).split(", ");
      kernels.add(what[0] + (what.at(-1)!.startsWith("activation") ? " (z windows)" : ""));
    }
    const prod = matmulForward(a, b, { m, k, n, transA: c.transA, transB: c.transB });
    const z = prod.map((v, i) => v + (c.bias ? bias[i % n] : 0));
    const d = prod.map((v, i) => activationGradRef(gradAct, v, saved[i]));
    const y = c.accumulate
      ? d.map((v, i) => v + c0[i])
      : z.map((v, i) => gradAct === "none" ? activate(c.act, v) : d[i]);
    checks.push({ c, out: zt ? [ct, zt] : [ct], expect: zt ? [y, z] : [y] });
  }
  const got = await readMany(checks.flatMap((x) => x.out));
  let i = 0;
  for (const { c, expect } of checks) {
    for (const [j, e] of expect.entries()) {
      assertClose(got[i++], e, { rtol: 1e-5, label: `${label(c)} ${j ? "z" : "C"}` });
    }
  }
  for (const ps of sets) ps.dispose();
  endStep();
  return kernels;
}

/** B as a parameter placed after another one (so its offset is a non-zero multiple of 256). */
function paramTensor(b: Float64Array, shape: number[], rng: Random, sets: ParameterSet[]) {
  const ps = new ParameterSet();
  const pad = rng.int(1, 200);
  ps.add("before", [pad], new Float32Array(pad));
  const t = ps.add("b", shape, Float32Array.from(b));
  ps.build();
  sets.push(ps);
  return t;
}

Deno.test("matmul: edge cases of the three kernels match a float64 loop", async () => {
  const base = {
    transA: false,
    transB: false,
    bias: true,
    act: "silu" as Activation,
    accumulate: false,
    z: true,
    fixedK: true,
    uniform: true,
    inParams: false,
  };
  const cases: Case[] = [];
  for (const uniform of [true, false]) {
    for (
      const [m, k, n] of [
        [1, 1, 1],
        [9, 131, 1],
        [9, 131, 3],
        [17, 0, 5],
        [0, 7, 4],
        [37, 131, 64],
        [35, 64, 131],
        [13, 5, 70],
        [250, 131, 64], // three windows of A (120, 120, 10 rows), the last moved back
        [300, 64, 131], // two windows of 248 and 52 rows
      ]
    ) {
      cases.push({ ...base, m, k, n, uniform });
      cases.push({ ...base, m, k, n, uniform, transB: true, bias: false, z: false, act: "none" });
      cases.push({
        ...base,
        m,
        k,
        n,
        uniform,
        accumulate: true,
        bias: false,
        z: false,
        act: "none",
      });
    }
    // dX = dZ·Wᵀ with SiLU's derivative fused, written and added (vec4, packed, scalar stores).
    for (
      const [m, k, n, accumulate] of [[37, 131, 64, false], [35, 64, 131, true], [
        13,
        5,
        70,
        false,
      ]] as const
    ) {
      const plain = { bias: false, z: false, act: "none" as Activation, accumulate };
      cases.push({ ...base, ...plain, m, k, n, uniform, transB: true, gradAct: "silu" });
    }
  }
  // The derivative's input in uniform windows (vec4 stores): two windows, the last moved back.
  for (const [act, accumulate] of [["silu", false], ["tanh", true]] as const) {
    const plain = { bias: false, z: false, act: "none" as Activation, accumulate };
    cases.push({ ...base, ...plain, m: 300, k: 64, n: 64, transB: true, gradAct: act });
  }
  // The CPU profile whatever the adapter: it is the one that uses all three kernels.
  const kernels = await withKernelProfile(KERNEL_PROFILES.cpu, () => checkCases(cases, 11));
  assert.deepEqual([...kernels].sort(), [
    "A+B uniform",
    "A+B uniform (z windows)",
    "B uniform",
    "storage",
  ]);
});

/** A plain dW = Aᵀ·B case (sizes, accumulate and fixedK to add). */
const DW_CASE = {
  transA: true,
  transB: false,
  bias: false,
  act: "none" as Activation,
  z: false,
  uniform: true,
  inParams: false,
};

Deno.test("matmul: dW = Aᵀ·B in k-windows (A and B uniform, one dispatch per window) matches", async () => {
  const base = DW_CASE;
  const cases: Case[] = [];
  for (
    const [m, k, n] of [
      [64, 2000, 64], // the EGNN's dW over 2,000 edges: 8 windows
      [131, 2001, 64], // K % 4 = 1: the last window's last chunk is masked
      [64, 1003, 1], // φx's last layer
      [13, 997, 70], // odd M, N past one 68-column block
      [3, 64, 5], // one window
    ]
  ) {
    for (const accumulate of [false, true]) {
      for (const fixedK of [false, true]) cases.push({ ...base, m, k, n, accumulate, fixedK });
    }
  }
  const kernels = await withKernelProfile(KERNEL_PROFILES.cpu, () => checkCases(cases, 21));
  assert.ok(kernels.has("A+B uniform k-windows"), `kernels: ${[...kernels].join("; ")}`);
});

Deno.test("matmul: the GPU profile (storage only, 4×4 and 8×8 blocks, workgroups of 64 and 8) matches a float64 loop", async () => {
  const rng = new Random(77);
  const cases = Array.from({ length: 24 }, () => ({ ...randomCase(rng), uniform: true }));
  for (const [block, workgroup] of [[8, 64], [4, 64], [4, 8]] as const) {
    const profile = { ...KERNEL_PROFILES.gpu, matmulBlock: block, matmulWorkgroup: workgroup };
    const kernels = await withKernelProfile(profile, async () => {
      const a = fromArray(new Float32Array(40 * 64), [40, 64]);
      const b = fromArray(new Float32Array(64 * 64), [64, 64]);
      const what = matmulKernel(a, b, { m: 40, n: 64, k: 64 });
      assert.equal(what, `storage, ${block}×${block} blocks`);
      endStep();
      return await checkCases(cases, 300 + block + workgroup);
    });
    assert.deepEqual([...kernels], ["storage"], "the GPU profile binds nothing as uniform");
  }
});

Deno.test("matmul: split-K (the GPU profile's dW in slices, summed in a second pass) matches", async () => {
  await getGpu();
  const profile = { ...KERNEL_PROFILES.gpu, matmulSplitK: true };
  const base = DW_CASE;
  const cases: Case[] = [];
  // The EGNN's dW over 2,000 edges; K % 4 = 3 and M % 4 = 2; a long contraction into 8 columns;
  // φx's last layer (N = 1: vec4 stores impossible, so no split); too short to split.
  for (
    const [m, k, n] of [[64, 2000, 64], [130, 1003, 64], [6, 5001, 8], [64, 1003, 1], [64, 300, 64]]
  ) {
    for (const accumulate of [false, true]) {
      cases.push({ ...base, m, k, n, accumulate, fixedK: false });
    }
  }
  const described = await withKernelProfile(profile, async () => {
    const what = cases.map((c) => {
      const a = fromArray(new Float32Array(c.k * c.m), [c.k, c.m]);
      const b = fromArray(new Float32Array(c.k * c.n), [c.k, c.n]);
      return matmulKernel(a, b, { m: c.m, n: c.n, k: c.k, transA: true, fixedK: false });
    });
    endStep();
    await checkCases(cases, 41);
    return what;
  });
  assert.match(described[0], /split-K × 8$/);
  assert.match(described[2], /split-K × 4$/);
  assert.match(described[4], /split-K × 20$/);
  assert.doesNotMatch(described[6], /split-K/); // N = 1
  assert.doesNotMatch(described[8], /split-K/); // k < 512

  // [dW; db] in one product (onesRow), split: overwrite and accumulate.
  const [k, lda, n] = [1500, 64, 64];
  const rng = new Random(5);
  const a = rng.normals(k * lda), b = rng.normals(k * n), c0 = rng.normals((lda + 1) * n);
  const got = await withKernelProfile(profile, async () => {
    const outs = [false, true].map((accumulate) => {
      const c = fromArray(c0, [lda + 1, n]);
      const o = { m: lda + 1, n, k, transA: true, fixedK: false, onesRow: true, accumulate };
      matmul(fromArray(a, [k, lda]), fromArray(b, [k, n]), c, o);
      return c;
    });
    const r = await readMany(outs);
    endStep();
    return r;
  });
  const want = new Float64Array((lda + 1) * n);
  want.set(matmulForward(a, b, { m: lda, k, n, transA: true }));
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) want[lda * n + j] += b[p * n + j];
  assertClose(got[0], want, { rtol: 1e-5, label: "split-K onesRow" });
  assertClose(got[1], want.map((v, t) => v + c0[t]), { rtol: 1e-5, label: "split-K onesRow +=" });
});

Deno.test("matmul: random sizes and options match a float64 loop", async () => {
  const count = Number(Deno.env.get("MATMUL_FUZZ_CASES") ?? 48);
  const rng = new Random(2024);
  const cases = Array.from({ length: count }, () => randomCase(rng));
  for (let s = 0; s < cases.length; s += 16) await checkCases(cases.slice(s, s + 16), 100 + s);
});

Deno.test("matmul: a uniform binding against the adapter's rules is a named error", async () => {
  const { device } = await getGpu();
  const k = defineKernel({
    name: "uniform_probe",
    workgroupSize: 8,
    constants: { LEN: "u32" },
    bindings: {
      w: { type: "vec4f", access: "uniform", length: (c) => c.LEN as number },
      y: { type: "vec4f", access: "read_write" },
    },
    body: "if (index < w_len) { y[index] = w[index]; }",
  });
  assert.match(
    k.variant({ LEN: 3 }).code,
    /const w_len: u32 = 3u;\n.*var<uniform> w: array<vec4f, 3>;/,
  );
  const limit = device.limits.maxUniformBufferBindingSize;
  const big = fromArray(new Float32Array(limit / 4 + 4), [limit / 4 + 4]);
  const y = fromArray(new Float32Array(8), [8]);
  assert.throws(
    () => recordDispatch(k.variant({ LEN: limit / 16 + 1 }), [big, y], 1),
    (e: Error) => e instanceof UniformBindingError && /maxUniformBufferBindingSize/.test(e.message),
  );
  assert.throws(
    () =>
      recordDispatch(k.variant({ LEN: 3 }), [{ buffer: big.buffer, offset: 16, bytes: 48 }, y], 1),
    /uniform binding w starts at byte 16, not a multiple/,
  );
  const small = fromArray(new Float32Array(4), [4]);
  assert.throws(
    () => recordDispatch(k.variant({ LEN: 17 }), [small, y], 1),
    /uniform binding w declares 272 bytes at byte 0, past the end of its buffer/,
  );
  assert.throws(
    () =>
      defineKernel({ ...k.spec, bindings: { w: { type: "f32", access: "uniform" } } }).variant({
        LEN: 1,
      }),
    /must be vec4f/,
  );
  // A valid one reads back what was written.
  const w = fromArray([1, 2, 3, 4, 5, 6, 7, 8], [8]);
  recordDispatch(k.variant({ LEN: 2 }), [w, y], 8);
  assert.deepEqual([...(await readMany([y]))[0]], [1, 2, 3, 4, 5, 6, 7, 8]);
  endStep();
});
