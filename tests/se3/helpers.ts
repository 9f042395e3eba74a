/**
 * Helpers of the SE(3) layer and model tests: rotating coordinates and typed features of a batch
 * copy, measuring equivariance errors, and checking tape gradients against central differences
 * of the device forward pass.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  backward,
  endStep,
  fromArray,
  noGrad,
  type ParameterSet,
  readMany,
  resetTape,
  type Tensor,
} from "../../mod.ts";
import { rotate, wignerD } from "../../lib/egnn/se3/wigner.ts";
import type { Features, Fibre } from "../../lib/egnn/se3/fibre.ts";
import { assertClose, rms } from "../reference/finite_difference.ts";
import type { Random } from "../reference/random.ts";

/** Rows of 3-vectors mapped to R·v (+ g), rounded to float32. */
export function transformPoints(
  x: ArrayLike<number>,
  r: ArrayLike<number>,
  g: ArrayLike<number> | null = null,
): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length / 3; i++) {
    const v = rotate(r, [x[3 * i], x[3 * i + 1], x[3 * i + 2]]);
    for (let k = 0; k < 3; k++) out[3 * i + k] = Math.fround(v[k] + (g ? g[k] : 0));
  }
  return out;
}

/** Type-l features (N × C·(2l+1), [c][m]) with D^l(R) applied to every channel (not rounded). */
export function rotateFeatures(
  f: ArrayLike<number>,
  l: number,
  r: ArrayLike<number>,
): Float64Array {
  const d = 2 * l + 1, D = wignerD(l, r);
  const out = new Float64Array(f.length);
  for (let row = 0; row < f.length / d; row++) {
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += D[a * d + b] * f[row * d + b];
      out[row * d + a] = s;
    }
  }
  return out;
}

/** A rotation matrix (3×3) with det = −1 times a rotation: a reflection. */
export function reflect(r: Float64Array): Float64Array {
  return Float64Array.from(r, (v, i) => (i < 3 ? -v : v));
}

/** max |got − want| / max |want − mean(want)| (column means for coordinates) over the arrays. */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>, cols = 0): number {
  const mean = new Float64Array(Math.max(cols, 1));
  if (cols > 0) {
    for (let i = 0; i < want.length; i++) mean[i % cols] += want[i] / (want.length / cols);
  }
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i] - (cols > 0 ? mean[i % cols] : 0)));
  }
  return Number.isNaN(err) ? Infinity : err / scale;
}

/** One quantity a gradient check perturbs: an input tensor's data or a parameter. */
export type Probe =
  | { kind: "input"; name: string; index: number; data: Float64Array; shape: number[] }
  | { kind: "param"; name: string; ps: ParameterSet };

/** The finite-difference steps of `checkGradients`, averaged. */
const STEPS = [1e-3, 2e-3, 3e-3];

/**
 * Checks the tape's gradients of L = Σ seed ⊙ f(inputs) against finite differences of the
 * device forward pass (rtol 2e-2 with floor 0.1·RMS of the gradient, as step 4 of
 * tests/kernels/check_op.ts) at `points` random coordinates of each probed input and parameter.
 * The central difference is averaged over the steps h = 1e-3, 2e-3, 3e-3. A whole network is
 * curved enough (layer norms over three channels, f/‖f‖ at small norms) that h = 1e-2 misses a
 * correct gradient by 20 % (measured: differences 2.21, 1.89, 1.86 at h = 1e-2, 3e-3, 1e-3 for
 * a tape gradient of 1.856; the mean's error is that of one step with the mean h², ~0.9 % there),
 * and at one small h float32 round-off is as large as the tolerance: for the SE(3)-Transformer's
 * d(net.6.weight[35]) = 0.0757 the difference at h = 1e-3 was 0.0744 or 0.0733 depending only
 * on the order of the message kernels' sums (bound ±0.0015), and 0.0773, 0.0751 at h = 2e-3,
 * 3e-3; round-off at different steps is independent, so the mean has less of it (0.0752).
 * `run` builds the forward pass from input tensors (in the order of `inputs`).
 */
export async function checkGradients(
  label: string,
  inputs: { name: string; data: Float64Array; shape: number[]; grad: boolean }[],
  params: ParameterSet,
  paramNames: string[],
  run: (xs: Tensor[]) => Tensor,
  rng: Random,
  points = 3,
): Promise<void> {
  const tensors = inputs.map((i) => {
    const t = fromArray(i.data, i.shape).keep();
    t.requiresGrad = i.grad;
    return t;
  });
  try {
    const out = run(tensors);
    const seed = rng.normals(out.size);
    backward(out, fromArray(seed, out.shape));
    const host = await params.toHost();
    const grads = await params.gradsToHost();
    const inputGrads = await readMany(tensors.filter((_, k) => inputs[k].grad).map((t) => t.grad!));
    type Case = {
      what: string;
      grad: number;
      scale: number;
      /** The outputs at +h and −h for each of `STEPS`. */
      outs: Tensor[];
      /** Each 2h as rounded in float32. */
      steps: number[];
    };
    const stencil = (at: (delta: number) => { value: number; out: Tensor }) => {
      const ends = STEPS.map((h) => [at(h), at(-h)]);
      return {
        outs: ends.flatMap(([p, m]) => [p.out, m.out]),
        steps: ends.map(([p, m]) => p.value - m.value),
      };
    };
    const cases: Case[] = [];
    noGrad(() => {
      let g = 0;
      inputs.forEach((input, k) => {
        if (!input.grad) return;
        const grad = inputGrads[g++];
        for (const index of rng.sample(input.data.length, points)) {
          const at = (delta: number) => {
            const v = Float64Array.from(input.data);
            v[index] = Math.fround(v[index] + delta);
            const xs = tensors.slice();
            xs[k] = fromArray(v, input.shape);
            return { value: v[index], out: run(xs) };
          };
          cases.push({
            what: `${input.name}[${index}]`,
            grad: grad[index],
            scale: rms(grad),
            ...stencil(at),
          });
        }
      });
      for (const name of paramNames) {
        const base = host.get(name)!, grad = grads.get(name)!;
        for (const index of rng.sample(base.length, points)) {
          const at = (delta: number) => {
            const v = Float32Array.from(base);
            v[index] = Math.fround(v[index] + delta);
            params.load(new Map([[name, v]]));
            return { value: v[index], out: run(tensors) };
          };
          const points = stencil(at);
          params.load(new Map([[name, base]]));
          cases.push({ what: `${name}[${index}]`, grad: grad[index], scale: rms(grad), ...points });
        }
      }
    });
    const outs = await readMany(cases.flatMap((c) => c.outs));
    const dot = (a: ArrayLike<number>) => seed.reduce((s, v, i) => s + v * a[i], 0);
    const n = 2 * STEPS.length;
    cases.forEach((c, i) => {
      const l = outs.slice(n * i, n * (i + 1)).map(dot);
      const fd = c.steps.reduce((s, step, k) => s + (l[2 * k] - l[2 * k + 1]) / step, 0) /
        STEPS.length;
      assertClose([c.grad], [fd], {
        rtol: 2e-2,
        floor: 0.1 * c.scale,
        label: `${label}: d${c.what}, tape vs central difference`,
      });
    });
    assert.ok(cases.length > 0);
  } finally {
    resetTape();
    endStep();
    for (const t of tensors) t.dispose();
  }
}

/**
 * A batch of two copies: `M` random points and random features of the fibre `fin`, then the same
 * rotated by `r` (features by their Wigner D) and the points shifted by `shift`.
 *
 * @returns the 2M×3 positions and the 2M-row features, on the device
 */
export function rotatedPair(
  rng: Random,
  M: number,
  fin: Fibre,
  r: Float64Array,
  shift: number[],
): { x: Tensor; f: Features } {
  const x0 = rng.normals(M * 3, 1.5);
  const x = [...x0, ...transformPoints(x0, r, shift)];
  const f: Features = new Map();
  for (const t of fin) {
    const f0 = rng.normals(M * t.channels * (2 * t.l + 1));
    const data = [...f0, ...Float64Array.from(rotateFeatures(f0, t.l, r), Math.fround)];
    f.set(t.l, fromArray(data, [2 * M, data.length / (2 * M)]));
  }
  return { x: fromArray(x, [2 * M, 3]), f };
}

/**
 * Reads outputs of a `rotatedPair` batch (one read) and asserts that each second half is the
 * first half rotated by `r`, to `rtol` relative; prints the errors with EGNN_TEST_REPORT=1.
 *
 * @param outs label, feature type and output tensor of each output
 * @param r the rotation of the second copy
 * @param rtol the largest error allowed
 */
export async function assertRotatedHalves(
  outs: [string, number, Tensor][],
  r: Float64Array,
  rtol: number,
): Promise<void> {
  const values = await readMany(outs.map((o) => o[2]));
  outs.forEach(([what, l], k) => {
    const v = values[k], half = v.length / 2;
    const err = relativeError(v.subarray(half), rotateFeatures(v.subarray(0, half), l, r));
    if (Deno.env.get("EGNN_TEST_REPORT") === "1") {
      console.log(`${what} type ${l}: ${err.toExponential(2)}`);
    }
    assert.ok(err <= rtol, `${what}, type ${l}: equivariance error ${err.toExponential(3)}`);
  });
}
