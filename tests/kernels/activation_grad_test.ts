// Gradients through a declared activation (tape.ts): a layer y = act(x·W1 + b1) whose consumers
// write its gradient either fused (a following linear's dX product multiplies by act' in its
// epilogue, so y's buffer holds dZ) or plain (folded in later), in every order — against the
// float64 reference, with finite differences (check_op.ts), and with fusion on the gradients
// equal to fusion off up to float rounding. The case sizes avoid multiples of the matmul blocks.
import assert from "node:assert/strict";
import {
  add,
  backward,
  endStep,
  fromArray,
  getGpu,
  linear,
  readMany,
  resetTape,
  scale,
  type Tensor,
} from "../../mod.ts";
import { stats } from "../../lib/gpu/commands.ts";
import { tapeSwitches } from "../../lib/gpu/tape.ts";
import { type Activation, linearBackward, linearForward } from "../reference/linear.ts";
import { assertClose } from "../reference/finite_difference.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "./check_op.ts";

/** How y = act(x·W1 + b1) is consumed: out = … */
type Order =
  /** add(linear(y, W2, b2, tanh), y): the plain contribution (add) comes first. */
  | "plain-first"
  /** add(linear(y, W2, b2, tanh), scale(y, 0.5)) with scale recorded first: fused first. */
  | "fused-first"
  /** add(linear(y, W2, b2, tanh), linear(y, W2, b2, none)): two fused contributions. */
  | "fused-twice";

const M = 37, K = 13;

function gpuForward(order: Order, act: Activation, [x, w1, b1, w2, b2]: Tensor[]): Tensor {
  const y = linear(x, w1, b1, act);
  switch (order) {
    case "plain-first":
      return add(linear(y, w2, b2, "tanh"), y);
    case "fused-first": {
      const half = scale(y, 0.5);
      return add(linear(y, w2, b2, "tanh"), half);
    }
    case "fused-twice":
      return add(linear(y, w2, b2, "tanh"), linear(y, w2, b2, "none"));
  }
}

function reference(order: Order, act: Activation) {
  const sizes = { m: M, k: K, n: K };
  const forward = (xs: Float64Array[]) => {
    const first = linearForward(xs[0], xs[1], xs[2], sizes, act);
    const second = linearForward(first.y, xs[3], xs[4], sizes, "tanh");
    const third = order === "fused-twice"
      ? linearForward(first.y, xs[3], xs[4], sizes, "none")
      : null;
    const other = order === "plain-first"
      ? first.y
      : order === "fused-first"
      ? first.y.map((v) => 0.5 * v)
      : third!.y;
    return { first, second, third, out: second.y.map((v, i) => v + other[i]) };
  };
  const backwardRef = (xs: Float64Array[], dy: Float64Array) => {
    const { first, second, third } = forward(xs);
    const g2 = linearBackward(first.y, xs[3], second.z, dy, sizes, "tanh");
    const dY = g2.dx.slice();
    let dW2 = g2.dw, dB2 = g2.db;
    if (order === "plain-first") dy.forEach((v, i) => dY[i] += v);
    if (order === "fused-first") dy.forEach((v, i) => dY[i] += 0.5 * v);
    if (third) {
      const g3 = linearBackward(first.y, xs[3], third.z, dy, sizes, "none");
      g3.dx.forEach((v, i) => dY[i] += v);
      dW2 = dW2.map((v, i) => v + g3.dw[i]);
      dB2 = dB2.map((v, i) => v + g3.db[i]);
    }
    const g1 = linearBackward(xs[0], xs[1], first.z, dY, sizes, act);
    return [g1.dx, g1.dw, g1.db, dW2, dB2];
  };
  return { forward: (xs: Float64Array[]) => forward(xs).out, backward: backwardRef };
}

function inputs(seed: number) {
  const rng = new Random(seed);
  return [
    { name: "x", data: rng.normals(M * K), shape: [M, K] },
    { name: "W1", data: rng.normals(K * K, 1 / Math.sqrt(K)), shape: [K, K] },
    { name: "b1", data: rng.normals(K, 0.5), shape: [K] },
    { name: "W2", data: rng.normals(K * K, 1 / Math.sqrt(K)), shape: [K, K] },
    { name: "b2", data: rng.normals(K, 0.5), shape: [K] },
  ];
}

/** The gradients of all five inputs with fusion on or off, and the dispatches it took. */
async function gradients(order: Order, act: Activation, fuse: boolean, seed: number) {
  const ins = inputs(seed);
  const ts = ins.map((i) => {
    const t = fromArray(i.data, i.shape).keep();
    t.requiresGrad = true;
    return t;
  });
  tapeSwitches.fuseActivationGrad = fuse;
  try {
    const before = stats.dispatches;
    const out = gpuForward(order, act, ts);
    backward(out, fromArray(new Random(seed + 1).normals(out.size), out.shape));
    const grads = await readMany(ts.map((t) => t.grad!)) as Float32Array[];
    const dispatches = stats.dispatches - before; // counted as they are submitted
    return { grads, dispatches };
  } finally {
    tapeSwitches.fuseActivationGrad = true;
    resetTape();
    endStep();
    ts.forEach((t) => t.dispose());
  }
}

const CASES: [Order, Activation][] = [
  ["plain-first", "silu"],
  ["fused-first", "silu"],
  ["fused-twice", "silu"],
  ["fused-first", "sigmoid"],
  ["fused-twice", "sigmoid"],
  ["plain-first", "tanh"],
];

CASES.forEach(([order, act], c) => {
  Deno.test(`activation gradient: y = ${act}(x·W1 + b1) consumed ${order} matches float64`, async () => {
    const ref = reference(order, act);
    await checkOp({
      name: `${order}, ${act}`,
      seed: 20 + c,
      inputs: inputs(10 + c),
      gpu: (ts) => gpuForward(order, act, ts),
      forward: ref.forward,
      backward: ref.backward,
    });
  });
});

Deno.test("activation gradient: fused and unfused agree, and fusing saves the ⊙ act' passes", async () => {
  await getGpu();
  // ReLU here only: its kink defeats the finite differences of the float64 checks above.
  for (
    const [order, act] of [...CASES, ["fused-first", "relu"], ["fused-twice", "relu"]] as const
  ) {
    const fused = await gradients(order, act, true, 31);
    const plain = await gradients(order, act, false, 31);
    fused.grads.forEach((g, i) => {
      assertClose(g, plain.grads[i], { rtol: 1e-5, label: `${order} ${act} grad ${i}` });
    });
    // Unfused, the first layer's backward runs one ⊙ act' pass; fused, the products carry it —
    // unless a plain contribution came first (the slot stays plain).
    if (order === "plain-first") assert.equal(fused.dispatches, plain.dispatches);
    else if (order === "fused-twice") assert.equal(fused.dispatches, plain.dispatches - 1);
    // fused-first: the plain contribution is folded in by a pass of its own (one for one).
    else assert.equal(fused.dispatches, plain.dispatches);
  }
});
