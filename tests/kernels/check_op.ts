/**
 * The gradient check every kernel test runs (tinygrad's `helper_test_op`, with finite
 * differences added). For one op and its inputs:
 *
 * 1. forward: GPU output vs the float64 reference (rtol 1e-5);
 * 2. backward: `backward(out, seed)` with a random seed (= dL/dout, so L = Σ seed ⊙ op(inputs));
 *    every input gradient vs the float64 reference gradient (rtol 1e-4);
 * 3. the reference gradient vs a float64 central difference of L (rtol 1e-6, h = 1e-6);
 * 4. the GPU gradient vs a central difference of the GPU forward at a few coordinates per input
 *    (f32: h = 1e-2, rtol 2e-2, floor 0.1·RMS of the reference gradient).
 *
 * Tolerances are `|a − b| ≤ rtol · max(floor, |b|)` (see `assertClose`); the floor is the RMS
 * of the expected array unless stated. Finite-difference points whose ±h perturbation changes
 * the sign of any of the op's `kinks` (ReLU pre-activations, L1 residuals) are skipped.
 * All of a case's GPU values — output, gradients and perturbed outputs — come back in one read.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  backward,
  endStep,
  fromArray,
  getGpu,
  noGrad,
  readMany,
  resetTape,
  type Tensor,
} from "../../mod.ts";
import {
  assertClose,
  centralDifferenceAt,
  rms,
  type ScalarFunction,
} from "../reference/finite_difference.ts";
import { Random } from "../reference/random.ts";

/** One input of an op under test. */
export interface OpInput {
  /** Names the input in failure messages (`x`, `weight`, …). */
  name: string;
  /** Float32-representable values (e.g. from `Random`). */
  data: Float64Array;
  shape: number[];
  /** Whether the op is differentiated with respect to this input (default true). */
  grad?: boolean;
}

/** An op under test: its GPU form and its float64 reference, forward and backward. */
export interface OpCase {
  /** Names the case in failure messages. */
  name: string;
  inputs: OpInput[];
  /** Records the op (or a small graph of ops) on the GPU from the input tensors. */
  gpu: (xs: Tensor[]) => Tensor;
  /** The float64 forward. */
  forward: (xs: Float64Array[]) => Float64Array;
  /** dL/d(input) given seed = dL/dout; null for inputs with `grad: false`. */
  backward: (xs: Float64Array[], seed: Float64Array) => (Float64Array | null)[];
  /** Values whose sign switches a branch of the op; FD points that flip one are skipped. */
  kinks?: (xs: Float64Array[]) => Float64Array;
  /** Seeds the backward seed and the choice of FD points. */
  seed?: number;
  /** GPU finite-difference points per differentiable input (default 4). */
  gpuFdPoints?: number;
  /** Relative tolerance of the forward (default 1e-5). */
  forwardRtol?: number;
}

/** What a check read back, for extra assertions (exact zeros, say). */
export interface Readback {
  out: Float64Array;
  /** Per input: its GPU gradient, or null for inputs with `grad: false`. */
  grads: (Float64Array | null)[];
  /** The float64 reference gradients. */
  referenceGrads: (Float64Array | null)[];
}

const REFERENCE_FD_STEP = 1e-6;
const REFERENCE_FD_MAX_POINTS = 400;
const GPU_FD_STEP = 1e-2;

/** Whether a kink value the perturbation moves changes sign or comes within `margin` of 0. */
function signsDiffer(a: Float64Array, b: Float64Array, margin: number): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue; // not moved by this coordinate: same branch on both sides
    if (Math.sign(a[i]) !== Math.sign(b[i])) return true;
    if (Math.min(Math.abs(a[i]), Math.abs(b[i])) < margin) return true;
  }
  return false;
}

/** Whether perturbing `xs[input][index]` by ±h crosses a kink of the op. */
function crossesKink(
  c: OpCase,
  xs: Float64Array[],
  input: number,
  index: number,
  h: number,
  margin: number,
): boolean {
  if (!c.kinks) return false;
  const x = xs[input];
  const saved = x[index];
  x[index] = saved + h;
  const plus = c.kinks(xs);
  x[index] = saved - h;
  const minus = c.kinks(xs);
  x[index] = saved;
  return signsDiffer(plus, minus, margin);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Runs the four checks above on one op; ends the step (`resetTape(); endStep()`) and frees the
 * inputs whatever happens.
 */
export async function checkOp(c: OpCase): Promise<Readback> {
  await getGpu();
  const rng = new Random(c.seed ?? 1234);
  const xs = c.inputs.map((i) => Float64Array.from(i.data));
  const tensors = c.inputs.map((i) => {
    assert.equal(i.data.length, i.shape.reduce((a, b) => a * b, 1), `${i.name}: data/shape`);
    const t = fromArray(i.data, i.shape).keep();
    t.requiresGrad = i.grad !== false;
    return t;
  });
  try {
    const expectedOut = c.forward(xs);
    const out = c.gpu(tensors);
    assert.equal(out.size, expectedOut.length, `${c.name}: output size`);
    const seed = rng.normals(out.size);
    backward(out, fromArray(seed, out.shape));
    const gradInputs = c.inputs.map((input, j) => ({ input, j })).filter((e) =>
      e.input.grad !== false
    );
    c.inputs.forEach((input, j) => {
      if (input.grad === false) {
        assert.equal(tensors[j].grad, null, `${c.name}: ${input.name} took a gradient`);
      } else assert.ok(tensors[j].grad, `${c.name}: no gradient reached ${input.name}`);
    });
    const referenceGrads = c.backward(xs, seed);
    const objective: ScalarFunction = (v) => dot(seed, c.forward(v));

    // GPU forwards at perturbed inputs, recorded now and read back with everything else.
    const probes: { j: number; index: number; step: number; plus: Tensor; minus: Tensor }[] = [];
    noGrad(() => {
      for (const { j } of gradInputs) {
        let found = 0;
        for (const index of rng.sample(xs[j].length, xs[j].length)) {
          if (found === (c.gpuFdPoints ?? 4)) break;
          if (crossesKink(c, xs, j, index, GPU_FD_STEP, 1e-3)) continue;
          const run = (delta: number) => {
            const v = Float64Array.from(xs[j]);
            v[index] = Math.fround(v[index] + delta);
            const inputs = tensors.slice();
            inputs[j] = fromArray(v, c.inputs[j].shape);
            return { value: v[index], out: c.gpu(inputs) };
          };
          const plus = run(GPU_FD_STEP), minus = run(-GPU_FD_STEP);
          probes.push({
            j,
            index,
            step: plus.value - minus.value,
            plus: plus.out,
            minus: minus.out,
          });
          found++;
        }
        assert.ok(
          found > 0,
          `${c.name}: no finite-difference point of ${c.inputs[j].name} avoids a kink`,
        );
      }
    });
    const read = await readMany([
      out,
      ...gradInputs.map(({ j }) => tensors[j].grad!),
      ...probes.flatMap((p) => [p.plus, p.minus]),
    ]);
    const got = Float64Array.from(read[0]);
    const grads: (Float64Array | null)[] = c.inputs.map(() => null);
    gradInputs.forEach(({ j }, i) => grads[j] = Float64Array.from(read[1 + i]));

    // 1. forward
    assertClose(got, expectedOut, {
      rtol: c.forwardRtol ?? 1e-5,
      label: `${c.name}: forward, GPU vs float64 reference`,
    });
    for (const { input, j } of gradInputs) {
      const ref = referenceGrads[j];
      assert.ok(ref, `${c.name}: the reference gives no gradient for ${input.name}`);
      // 2. GPU gradient vs reference gradient
      assertClose(grads[j]!, ref, {
        rtol: 1e-4,
        label: `${c.name}: d${input.name}, GPU vs float64 reference`,
      });
      // 3. reference gradient vs float64 finite difference
      const points = rng.sample(xs[j].length, REFERENCE_FD_MAX_POINTS)
        .filter((i) => !crossesKink(c, xs, j, i, REFERENCE_FD_STEP, 0));
      const fd = points.map((i) => centralDifferenceAt(objective, xs, j, i, REFERENCE_FD_STEP));
      assertClose(points.map((i) => ref[i]), fd, {
        rtol: 1e-6,
        floor: rms(ref),
        label: `${c.name}: d${input.name}, float64 reference vs finite difference`,
      });
    }
    // 4. GPU gradient vs GPU finite difference
    const probeReads = read.slice(1 + gradInputs.length);
    probes.forEach((p, i) => {
      const lPlus = dot(seed, probeReads[2 * i]), lMinus = dot(seed, probeReads[2 * i + 1]);
      const fd = (lPlus - lMinus) / p.step;
      assertClose([grads[p.j]![p.index]], [fd], {
        rtol: 2e-2,
        floor: 0.1 * rms(referenceGrads[p.j]!),
        label: `${c.name}: d${c.inputs[p.j].name}[${p.index}], GPU vs GPU finite difference`,
      });
    });
    return { out: got, grads, referenceGrads };
  } finally {
    resetTape();
    endStep();
    for (const t of tensors) t.dispose();
  }
}
