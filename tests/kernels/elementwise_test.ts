// Elementwise ops — add, sub, mul with b the same shape, one value or one row; scale; the four
// activations — against tests/reference/elementwise.ts (checks: see check_op.ts).
import assert from "node:assert/strict";
import {
  activation,
  add,
  backward,
  clamp,
  clampedMul,
  concat,
  endStep,
  fromArray,
  getGpu,
  mul,
  readMany,
  resetTape,
  scale,
  sub,
  type Tensor,
  unary,
} from "../../mod.ts";
import {
  activationBackward,
  activationForward,
  binaryBackward,
  binaryForward,
  type BinaryOp,
  type Broadcast,
  clampBackward,
  clampForward,
  scaleBackward,
  scaleForward,
} from "../reference/elementwise.ts";
import type { Activation } from "../reference/linear.ts";
import { assertClose } from "../reference/finite_difference.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "./check_op.ts";

const GPU_BINARY: Record<BinaryOp, (a: Tensor, b: Tensor) => Tensor> = { add, sub, mul };

async function checkBinary(op: BinaryOp, aShape: number[], bShape: number[], bc: Broadcast) {
  const rng = new Random(aShape.length * 100 + bShape.reduce((a, b) => a * b, 1));
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const cols = aShape[aShape.length - 1];
  await checkOp({
    name: `${op} [${aShape}] with [${bShape}] (${bc})`,
    inputs: [
      { name: "a", data: rng.normals(size(aShape)), shape: aShape },
      { name: "b", data: rng.normals(size(bShape)), shape: bShape },
    ],
    gpu: ([a, b]) => GPU_BINARY[op](a, b),
    forward: ([a, b]) => binaryForward(op, a, b, bc, cols),
    backward: ([a, b], dout) => {
      const g = binaryBackward(op, a, b, bc, cols, dout);
      return [g.da, g.db];
    },
  });
}

const BROADCASTS: [Broadcast, number[]][] = [
  ["same", [37, 11]],
  ["row", [11]],
  ["scalar", [1]],
  ["column", [37, 1]],
];
for (const op of ["add", "sub", "mul"] as const) {
  for (const [bc, bShape] of BROADCASTS) {
    Deno.test(
      `${op}: forward and gradients match the float64 reference (37×11 with [${bShape}], ${bc})`,
      () => checkBinary(op, [37, 11], bShape, bc),
    );
  }
}

// 37×12: four elements per invocation (the map4 kernel) for every broadcast.
const BROADCASTS4: [Broadcast, number[]][] = [
  ["same", [37, 12]],
  ["row", [12]],
  ["scalar", [1]],
  ["column", [37, 1]],
];
for (const op of ["add", "sub", "mul"] as const) {
  for (const [bc, bShape] of BROADCASTS4) {
    Deno.test(
      `${op} (vec4): forward and gradients match the float64 reference (37×12 with [${bShape}], ${bc})`,
      () => checkBinary(op, [37, 12], bShape, bc),
    );
  }
}

Deno.test("mul: a [1, C] operand is a row and a 67×3 product spans two workgroups", () =>
  checkBinary("mul", [67, 3], [1, 3], "row"));

Deno.test("mul: x ⊙ x accumulates both operands' gradients into x (2x·dout)", async () => {
  const rng = new Random(11);
  await checkOp({
    name: "mul(x, x)",
    inputs: [{ name: "x", data: rng.normals(37 * 11), shape: [37, 11] }],
    gpu: ([x]) => mul(x, x),
    forward: ([x]) => x.map((v) => v * v),
    backward: ([x], dout) => [x.map((v, i) => 2 * v * dout[i])],
  });
});

// x reaches the output through three ops and c through two: every backward after the first
// adds into the gradient (the accumulate variants of map, and of the row sum for a column).
Deno.test("elementwise: tanh(x) + 0.5x + x ⊙ c − c (c per row) accumulates dx and dc", async () => {
  const rows = 37, cols = 11, rng = new Random(16);
  await checkOp({
    name: "tanh(x) + 0.5x + x ⊙ c − c",
    inputs: [
      { name: "x", data: rng.normals(rows * cols), shape: [rows, cols] },
      { name: "c", data: rng.normals(rows), shape: [rows, 1] },
    ],
    gpu: ([x, c]) => sub(add(add(activation(x, "tanh"), scale(x, 0.5)), mul(x, c)), c),
    forward: ([x, c]) =>
      x.map((v, i) =>
        Math.tanh(v) + 0.5 * v + v * c[Math.floor(i / cols)] - c[Math.floor(i / cols)]
      ),
    backward: ([x, c], dout) => {
      const dx = x.map((v, i) => dout[i] * (1 - Math.tanh(v) ** 2 + 0.5 + c[Math.floor(i / cols)]));
      const dc = new Float64Array(rows);
      x.forEach((v, i) => dc[Math.floor(i / cols)] += dout[i] * (v - 1));
      return [dx, dc];
    },
  });
});

Deno.test("scale: forward and gradient match the float64 reference (37×11, alpha −0.7)", async () => {
  const rng = new Random(12);
  const alpha = Math.fround(-0.7);
  await checkOp({
    name: "scale(x, -0.7)",
    inputs: [{ name: "x", data: rng.normals(37 * 11), shape: [37, 11] }],
    gpu: ([x]) => scale(x, alpha),
    forward: ([x]) => scaleForward(x, alpha),
    backward: (_, dout) => [scaleBackward(dout, alpha)],
  });
});

for (const act of ["silu", "relu", "tanh", "sigmoid"] as Activation[]) {
  Deno.test(`activation: ${act} forward and gradient match the float64 reference (67×3)`, async () => {
    const rng = new Random(13);
    await checkOp({
      name: `activation ${act}`,
      inputs: [{ name: "x", data: rng.normals(67 * 3, 2), shape: [67, 3] }],
      gpu: ([x]) => activation(x, act),
      forward: ([x]) => activationForward(act, x),
      backward: ([x], dout) => [activationBackward(act, x, dout)],
      kinks: act === "relu" ? ([x]) => x : undefined,
    });
  });
}

// Saturating activations must not overflow to NaN (tanh as (e²ˣ−1)/(e²ˣ+1) does past |x| ≈ 44).
Deno.test("activation: tanh, sigmoid and silu stay finite up to |x| = 200, gradients too", async () => {
  await getGpu();
  const v = [-200, -100, -50, -20, 0, 20, 50, 100, 200];
  const acts = ["tanh", "sigmoid", "silu"] as const;
  const xs = acts.map(() => {
    const x = fromArray(v, [v.length, 1]).keep();
    x.requiresGrad = true;
    return x;
  });
  try {
    // One backward per step: the three activations side by side, seeded with ones.
    const y = concat(acts.map((act, i) => activation(xs[i], act)));
    backward(y, fromArray(new Array(y.size).fill(1), y.shape));
    const [out, ...grads] = await readMany([y, ...xs.map((x) => x.grad!)]);
    const data = Float64Array.from(v);
    acts.forEach((act, i) => {
      const column = Array.from(v, (_, r) => out[r * acts.length + i]);
      const o = { rtol: 1e-6, floor: 1 }; // f32 saturates: sigmoid(20) rounds to 1
      assertClose(column, activationForward(act, data), { ...o, label: `${act}(x)` });
      assertClose(grads[i], activationBackward(act, data, data.map(() => 1)), {
        ...o,
        label: `${act}'(x)`,
      });
    });
  } finally {
    resetTape();
    endStep();
    for (const x of xs) x.dispose();
  }
});

// With R = C the size alone cannot tell a row from a column: the shape must.
Deno.test("mul: on a 3×3 matrix, b [3] is a row, b [3, 1] a column, b [2, 3] refused", async () => {
  await getGpu();
  const a = fromArray([1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 3]);
  try {
    const [row, column] = await readMany([
      mul(a, fromArray([1, 2, 3], [3])),
      mul(a, fromArray([1, 2, 3], [3, 1])),
    ]);
    assert.deepEqual(Array.from(row), [1, 2, 3, 1, 2, 3, 1, 2, 3]);
    assert.deepEqual(Array.from(column), [1, 1, 1, 2, 2, 2, 3, 3, 3]);
    assert.throws(() => mul(a, fromArray([1, 2, 3, 4, 5, 6], [2, 3])), /do not broadcast/);
  } finally {
    resetTape();
    endStep();
  }
});

Deno.test("clamp: forward and gradient match the float64 reference (67×3, [−0.5, 0.8])", async () => {
  const rng = new Random(14);
  const lo = -0.5, hi = 0.8;
  const x = rng.normals(67 * 3);
  x[0] = lo; // the bounds themselves pass the gradient, as in PyTorch
  x[1] = hi;
  const r = await checkOp({
    name: "clamp",
    inputs: [{ name: "x", data: x, shape: [67, 3] }],
    gpu: ([t]) => clamp(t, lo, hi),
    forward: ([v]) => clampForward(v, lo, hi),
    backward: ([v], dout) => [clampBackward(v, dout, lo, hi)],
    kinks: ([v]) => v.map((e) => (e - lo) * (e - hi)),
  });
  assert.ok(r.grads[0]![0] !== 0 && r.grads[0]![1] !== 0, "x = lo and x = hi take the gradient");
});

// (A scalar b is supported too, but every finite-difference step of it moves all 123 products,
// some across a bound: not checkable this way.)
for (const [bc, bShape] of [["same", [41, 3]], ["column", [41, 1]], ["row", [3]]] as const) {
  Deno.test(`clampedMul: clamp(a ⊙ b) in one pass matches clamp(mul) in float64 (41×3, b ${bc})`, async () => {
    const rng = new Random(16 + bShape.length);
    const lo = -0.6, hi = 0.9, cols = 3;
    const bSize = (bShape as readonly number[]).reduce((x, y) => x * y, 1);
    const a = rng.normals(41 * 3), b = rng.normals(bSize, 1.5);
    // Products exactly at the bounds (b = 0.5: exact in float32 too) pass the gradient, as in
    // PyTorch's clamp: a[0]·b = lo, a[4]·b = hi.
    const bAt = (i: number) =>
      bc === "same" ? i : bc === "column" ? Math.floor(i / cols) : i % cols;
    b[bAt(0)] = 0.5;
    b[bAt(4)] = 0.5;
    a[0] = 2 * lo;
    a[4] = 2 * hi;
    const product = (x: Float64Array, y: Float64Array) => binaryForward("mul", x, y, bc, cols);
    const r = await checkOp({
      name: `clampedMul b ${bc}`,
      inputs: [{ name: "a", data: a, shape: [41, 3] }, { name: "b", data: b, shape: [...bShape] }],
      gpu: ([x, y]) => clampedMul(x, y, lo, hi),
      forward: ([x, y]) => clampForward(product(x, y), lo, hi),
      backward: ([x, y], dout) => {
        const g = binaryBackward("mul", x, y, bc, cols, clampBackward(product(x, y), dout, lo, hi));
        return [g.da, g.db];
      },
      kinks: ([x, y]) => product(x, y).map((p) => (p - lo) * (p - hi)),
    });
    assert.ok(r.grads[0]![0] !== 0 && r.grads[0]![4] !== 0, "products at the bounds pass");
  });
}

Deno.test("unary: a WGSL function and its derivative, 1/(√(r²+ε)+1), match the reference", async () => {
  const rng = new Random(15);
  const f = (v: number) => 1 / (Math.sqrt(v + 1e-8) + 1);
  const df = (v: number) => -0.5 / (Math.sqrt(v + 1e-8) * (Math.sqrt(v + 1e-8) + 1) ** 2);
  await checkOp({
    name: "unary",
    inputs: [{ name: "x", data: rng.uniforms(37 * 3, 0.5, 4), shape: [37, 3] }],
    gpu: ([t]) =>
      unary(
        t,
        "inverseNormPlusOne",
        "1.0 / (safeSqrt(av) + 1.0)",
        "-0.5 / (safeSqrt(bv) * (safeSqrt(bv) + 1.0) * (safeSqrt(bv) + 1.0))",
      ),
    forward: ([v]) => v.map(f),
    backward: ([v], dout) => [v.map((e, i) => dout[i] * df(e))],
  });
});
