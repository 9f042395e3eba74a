// linear (matmul + bias + fused activation) and the bare matmul it is built on, against the
// float64 reference in tests/reference/linear.ts. Sizes avoid multiples of the matmul block
// (8 rows × 8 columns) and of the workgroup (64); see check_op.ts for the four checks.
import assert from "node:assert/strict";
import {
  add,
  backward,
  endStep,
  fromArray,
  getGpu,
  linear,
  matmul,
  ParameterSet,
  readMany,
  resetTape,
  scale,
} from "../../mod.ts";
import { linearSwitches } from "../../lib/gpu/kernels/linear.ts";
import {
  type Activation,
  linearBackward,
  linearForward,
  matmulForward,
} from "../reference/linear.ts";
import { assertClose } from "../reference/finite_difference.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "./check_op.ts";

interface LinearCase {
  m: number;
  k: number;
  n: number;
  act: Activation;
  bias: boolean;
  /** Whether x takes a gradient (a first layer's input does not). */
  xGrad?: boolean;
  seed: number;
}

async function checkLinear(o: LinearCase) {
  const { m, k, n, act } = o;
  const rng = new Random(o.seed);
  const sizes = { m, k, n };
  const xGrad = o.xGrad ?? true;
  const inputs = [
    { name: "x", data: rng.normals(m * k), shape: [m, k], grad: xGrad },
    { name: "W", data: rng.normals(k * n, 1 / Math.sqrt(k)), shape: [k, n] },
  ];
  if (o.bias) inputs.push({ name: "b", data: rng.normals(n, 0.5), shape: [n] });
  const ref = (xs: Float64Array[]) =>
    linearForward(xs[0], xs[1], o.bias ? xs[2] : null, sizes, act);
  await checkOp({
    name: `linear ${m}×${k}→${n} ${act}`,
    seed: o.seed,
    inputs,
    gpu: (ts) => linear(ts[0], ts[1], o.bias ? ts[2] : null, act),
    forward: (xs) => ref(xs).y,
    backward: (xs, dy) => {
      const g = linearBackward(xs[0], xs[1], ref(xs).z, dy, sizes, act);
      return [xGrad ? g.dx : null, g.dw, ...(o.bias ? [g.db] : [])];
    },
    kinks: act === "relu" ? (xs) => ref(xs).z : undefined,
  });
}

Deno.test("linear: forward and gradients match the float64 reference (37×13→11, silu)", () =>
  checkLinear({ m: 37, k: 13, n: 11, act: "silu", bias: true, seed: 1 }));

Deno.test("linear: forward and gradients match the float64 reference (37×13→3, relu)", () =>
  checkLinear({ m: 37, k: 13, n: 3, act: "relu", bias: true, seed: 2 }));

Deno.test("linear: forward and gradients match the float64 reference (5×131→1, tanh)", () =>
  checkLinear({ m: 5, k: 131, n: 1, act: "tanh", bias: true, seed: 3 }));

Deno.test(
  "linear: forward and gradients match the float64 reference (67×5→70, sigmoid, no bias)",
  () => checkLinear({ m: 67, k: 5, n: 70, act: "sigmoid", bias: false, seed: 4 }),
);

Deno.test(
  "linear: forward and gradients match the float64 reference (37×13→11, none, x without grad)",
  () => checkLinear({ m: 37, k: 13, n: 11, act: "none", bias: true, xGrad: false, seed: 5 }),
);

Deno.test("linear: x used twice accumulates its gradient: add(linear(x, W, b, tanh), x)", async () => {
  const m = 37, k = 13, rng = new Random(6);
  const sizes = { m, k, n: k };
  const ref = (xs: Float64Array[]) => linearForward(xs[0], xs[1], xs[2], sizes, "tanh");
  await checkOp({
    name: "add(linear(x, W, b, tanh), x)",
    seed: 6,
    inputs: [
      { name: "x", data: rng.normals(m * k), shape: [m, k] },
      { name: "W", data: rng.normals(k * k, 1 / Math.sqrt(k)), shape: [k, k] },
      { name: "b", data: rng.normals(k, 0.5), shape: [k] },
    ],
    gpu: ([x, w, b]) => add(linear(x, w, b, "tanh"), x),
    forward: (xs) => ref(xs).y.map((v, i) => v + xs[0][i]),
    backward: (xs, dy) => {
      const g = linearBackward(xs[0], xs[1], ref(xs).z, dy, sizes, "tanh");
      return [g.dx.map((v, i) => v + dy[i]), g.dw, g.db];
    },
  });
});

Deno.test("linear: forward and gradients match the float64 reference (1×7→9, silu, one row)", () =>
  checkLinear({ m: 1, k: 7, n: 9, act: "silu", bias: true, seed: 8 }));

// Two layers sharing W and b: the second layer's backward runs first and overwrites dW and db,
// the first's adds (the accumulate variants of the Xᵀ·dZ product and of the column sum).
Deno.test("linear: W and b shared by two layers accumulate their gradients (37×13→13→13)", async () => {
  const m = 37, k = 13, rng = new Random(9);
  const sizes = { m, k, n: k };
  const ref = (xs: Float64Array[]) => {
    const first = linearForward(xs[0], xs[1], xs[2], sizes, "silu");
    return { first, second: linearForward(first.y, xs[1], xs[2], sizes, "tanh") };
  };
  await checkOp({
    name: "linear(linear(x, W, b, silu), W, b, tanh)",
    seed: 9,
    inputs: [
      { name: "x", data: rng.normals(m * k), shape: [m, k] },
      { name: "W", data: rng.normals(k * k, 1 / Math.sqrt(k)), shape: [k, k] },
      { name: "b", data: rng.normals(k, 0.5), shape: [k] },
    ],
    gpu: ([x, w, b]) => linear(linear(x, w, b, "silu"), w, b, "tanh"),
    forward: (xs) => ref(xs).second.y,
    backward: (xs, dy) => {
      const { first, second } = ref(xs);
      const g2 = linearBackward(first.y, xs[1], second.z, dy, sizes, "tanh");
      const g1 = linearBackward(xs[0], xs[1], first.z, g2.dx, sizes, "silu");
      return [g1.dx, g1.dw.map((v, i) => v + g2.dw[i]), g1.db.map((v, i) => v + g2.db[i])];
    },
  });
});

// A kept tensor keeps its gradient buffer across steps; the next step must overwrite it.
Deno.test("linear: a kept input's gradient is overwritten in the next step, not added to", async () => {
  await getGpu();
  const m = 9, k = 5, n = 3, rng = new Random(10);
  const xData = rng.normals(m * k), wData = rng.normals(k * n);
  const x = fromArray(xData, [m, k]).keep();
  const w = fromArray(wData, [k, n]).keep();
  x.requiresGrad = w.requiresGrad = true;
  try {
    const grads: Float32Array[][] = [];
    for (const seedValue of [1, -2]) {
      const seed = new Float64Array(m * n).fill(seedValue);
      backward(linear(x, w, null), fromArray(seed, [m, n]));
      grads.push((await readMany([x.grad!, w.grad!])) as Float32Array[]);
      resetTape();
      endStep();
    }
    const expected = (s: number) =>
      linearBackward(xData, wData, new Float64Array(m * n), new Float64Array(m * n).fill(s), {
        m,
        k,
        n,
      }, "none");
    for (const [step, s] of [[0, 1], [1, -2]]) {
      assertClose(grads[step][0], expected(s).dx, { rtol: 1e-5, label: `dx, step ${step + 1}` });
      assertClose(grads[step][1], expected(s).dw, { rtol: 1e-5, label: `dW, step ${step + 1}` });
    }
  } finally {
    x.dispose();
    w.dispose();
  }
});

Deno.test("matmul: Aᵀ·Bᵀ, and C += A·B into existing values, match the reference (19×131→3)", async () => {
  await getGpu();
  const m = 19, k = 131, n = 3, rng = new Random(7);
  const aT = rng.normals(k * m), bT = rng.normals(n * k), a = rng.normals(m * k);
  const b = rng.normals(k * n), c0 = rng.normals(m * n);
  const both = fromArray(new Float32Array(m * n), [m, n]);
  matmul(fromArray(aT, [k, m]), fromArray(bT, [n, k]), both, {
    m,
    n,
    k,
    transA: true,
    transB: true,
  });
  const acc = fromArray(c0, [m, n]);
  matmul(fromArray(a, [m, k]), fromArray(b, [k, n]), acc, { m, n, k, accumulate: true });
  const [gotBoth, gotAcc] = await readMany([both, acc]);
  resetTape();
  endStep();
  const product = matmulForward(a, b, { m, k, n });
  assertClose(gotBoth, matmulForward(aT, bT, { m, k, n, transA: true, transB: true }), {
    rtol: 1e-5,
    label: "Aᵀ·Bᵀ",
  });
  assertClose(gotAcc, product.map((v, i) => v + c0[i]), { rtol: 1e-5, label: "C += A·B" });
  assert.throws(
    () => matmul(both, both, both, { m, n, k: n, accumulate: true, activation: "relu" }),
    /accumulate takes no activation/,
  );
});

Deno.test("matmul: C += A·B + bias into existing values matches the reference (storage and uniform kernels)", async () => {
  await getGpu();
  for (const [m, k, n] of [[19, 13, 3], [37, 64, 64]]) {
    const rng = new Random(m);
    const a = rng.normals(m * k), b = rng.normals(k * n), bias = rng.normals(n);
    const c0 = rng.normals(m * n);
    const outs = [true, false].map((uniform) => {
      const acc = fromArray(c0, [m, n]);
      matmul(fromArray(a, [m, k]), fromArray(b, [k, n]), acc, {
        m,
        n,
        k,
        accumulate: true,
        bias: fromArray(bias, [n]),
        uniform,
      });
      return acc;
    });
    const got = await readMany(outs);
    resetTape();
    endStep();
    const want = matmulForward(a, b, { m, k, n }).map((v, i) => v + bias[i % n] + c0[i]);
    for (const g of got) {
      assertClose(g, want, { rtol: 1e-5, label: `C += A·B + b, ${m}×${k}→${n}` });
    }
  }
});

Deno.test("linear with a residual: y = r + x·W + b, its gradients (r's the output's) match float64", async () => {
  for (const [m, k, n, seed] of [[37, 13, 11, 5], [20, 64, 64, 6]]) {
    const rng = new Random(seed);
    const sizes = { m, k, n };
    await checkOp({
      name: `linear+residual ${m}×${k}→${n}`,
      seed,
      inputs: [
        { name: "x", data: rng.normals(m * k), shape: [m, k] },
        { name: "W", data: rng.normals(k * n, 1 / Math.sqrt(k)), shape: [k, n] },
        { name: "b", data: rng.normals(n, 0.5), shape: [n] },
        { name: "r", data: rng.normals(m * n), shape: [m, n] },
      ],
      gpu: (ts) => linear(ts[0], ts[1], ts[2], "none", ts[3]),
      forward: (xs) =>
        linearForward(xs[0], xs[1], xs[2], sizes, "none").y.map((v, i) => v + xs[3][i]),
      backward: (xs, dy) => {
        const z = linearForward(xs[0], xs[1], xs[2], sizes, "none").z;
        const g = linearBackward(xs[0], xs[1], z, dy, sizes, "none");
        return [g.dx, g.dw, g.db, Float64Array.from(dy)];
      },
    });
  }
  // The residual is x itself, a temporary (so its gradient could be shared): y = x + x·W + b.
  // x's gradient must not be dZ's buffer, which the dX and dW products read while dX is added
  // into x's gradient.
  await getGpu();
  {
    const rng = new Random(10), m = 9, k = 12, sizes = { m, k, n: k };
    const x0d = rng.normals(m * k), wd = rng.normals(k * k, 1 / Math.sqrt(k));
    const bd = rng.normals(k, 0.5), dy = rng.normals(m * k);
    const x0 = fromArray(x0d, [m, k]), w = fromArray(wd, [k, k]), b = fromArray(bd, [k]);
    for (const t of [x0, w, b]) t.requiresGrad = true;
    const x = scale(x0, 1); // a temporary that requires a gradient
    backward(scale(linear(x, w, b, "none", x), 1), fromArray(dy, [m, k])); // y.grad: not the seed
    const [gx, gw] = await readMany([x0.grad!, w.grad!]);
    resetTape();
    endStep();
    const z = linearForward(x0d, wd, bd, sizes, "none").z;
    const g = linearBackward(x0d, wd, z, dy, sizes, "none");
    assertClose(gx, g.dx.map((v, i) => v + dy[i]), { rtol: 1e-5, label: "dx, residual x" });
    assertClose(gw, g.dw, { rtol: 1e-5, label: "dW, residual x" });
  }
  await getGpu();
  const x = fromArray(new Float32Array(6), [2, 3]), w = fromArray(new Float32Array(6), [3, 2]);
  assert.throws(
    () => linear(x, w, null, "silu", fromArray(new Float32Array(4), [2, 2])),
    /residual/,
  );
  assert.throws(
    () => linear(x, w, null, "none", fromArray(new Float32Array(6), [2, 3])),
    /residual/,
  );
  resetTape();
  endStep();
});

Deno.test("matmul onesRow: [Aᵀ·B; 1ᵀ·B] matches the reference (k-windows, storage; overwrite and accumulate)", async () => {
  await getGpu();
  for (const [k, lda, n] of [[300, 64, 64], [37, 13, 11], [2000, 3, 64]]) {
    const rng = new Random(k + lda);
    const a = rng.normals(k * lda), b = rng.normals(k * n), c0 = rng.normals((lda + 1) * n);
    const outs = [];
    for (const uniform of [true, false]) {
      for (const accumulate of [false, true]) {
        const c = fromArray(c0, [lda + 1, n]);
        const o = { m: lda + 1, n, k, transA: true, fixedK: false, onesRow: true, uniform };
        matmul(fromArray(a, [k, lda]), fromArray(b, [k, n]), c, { ...o, accumulate });
        outs.push(c);
      }
    }
    const got = await readMany(outs);
    resetTape();
    endStep();
    const dw = matmulForward(a, b, { m: lda, k, n, transA: true });
    const want = new Float64Array((lda + 1) * n);
    want.set(dw);
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) want[lda * n + j] += b[p * n + j];
    got.forEach((g, i) => {
      const acc = i % 2 === 1;
      assertClose(g, acc ? want.map((v, t) => v + c0[t]) : want, {
        rtol: 1e-5,
        label: `onesRow ${k}×${lda}→${n}, ${i < 2 ? "uniform" : "storage"}${acc ? ", +=" : ""}`,
      });
    });
  }
  const t = fromArray(new Float32Array(16), [4, 4]);
  assert.throws(
    () => matmul(t, t, t, { m: 4, n: 4, k: 4, onesRow: true }),
    /onesRow needs transA/,
  );
  resetTape();
  endStep();
});

Deno.test("linear on a ParameterSet: [dW; db] as one product (the bias follows the weight) matches the reference", async () => {
  await getGpu();
  for (const [m, k, n, seed] of [[300, 64, 64, 8], [37, 16, 4, 9]]) {
    const rng = new Random(seed);
    const ps = new ParameterSet();
    const w = ps.add("w", [k, n], Float32Array.from(rng.normals(k * n, 1 / Math.sqrt(k))));
    const b = ps.add("b", [n], Float32Array.from(rng.normals(n, 0.5)));
    ps.build();
    assert.equal(b.offset, w.offset + k * n * 4, "the case puts the bias right after the weight");
    const xData = rng.normals(m * k), seed2 = rng.normals(m * n);
    const grads = [];
    for (const joint of [true, false]) {
      linearSwitches.jointBiasGrad = joint;
      try {
        const x = fromArray(xData, [m, k]);
        const y = linear(x, w, b, "silu");
        backward(y, fromArray(seed2, [m, n]));
        grads.push(await ps.gradsToHost());
      } finally {
        linearSwitches.jointBiasGrad = true;
        resetTape();
        endStep();
      }
    }
    const wd = Float64Array.from(await ps.toHost().then((p) => p.get("w")!));
    const bd = Float64Array.from(await ps.toHost().then((p) => p.get("b")!));
    const z = linearForward(xData, wd, bd, { m, k, n }, "silu").z;
    const ref = linearBackward(xData, wd, z, seed2, { m, k, n }, "silu");
    for (const [i, g] of grads.entries()) {
      const label = `${m}×${k}→${n} ${i === 0 ? "joint" : "separate"}`;
      assertClose(g.get("w")!, ref.dw, { rtol: 1e-4, label: `dW ${label}` });
      assertClose(g.get("b")!, ref.db, { rtol: 1e-4, label: `db ${label}` });
    }
    ps.dispose();
  }
});
