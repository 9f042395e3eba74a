/**
 * Central finite differences of a scalar function of Float64Array inputs, and an array
 * comparison that names the worst element when it fails.
 *
 * @module
 */

import { AssertionError } from "node:assert";

/** A scalar function of several arrays (e.g. L = Σ seed ⊙ op(inputs)). */
export type ScalarFunction = (inputs: Float64Array[]) => number;

/**
 * `(f(x + h·e_i) − f(x − h·e_i)) / 2h` for one coordinate of one input.
 *
 * @param f the function
 * @param inputs its arguments (restored before returning)
 * @param input which argument to perturb
 * @param index which element of it
 * @param h the half-step
 */
export function centralDifferenceAt(
  f: ScalarFunction,
  inputs: Float64Array[],
  input: number,
  index: number,
  h = 1e-6,
): number {
  const x = inputs[input];
  const saved = x[index];
  x[index] = saved + h;
  const plus = f(inputs);
  x[index] = saved - h;
  const minus = f(inputs);
  x[index] = saved;
  return (plus - minus) / (2 * h);
}

/**
 * The central-difference gradient of `f` with respect to every element of one input.
 *
 * @param f the function
 * @param inputs its arguments
 * @param input which argument
 * @param h the half-step
 * @returns one value per element of `inputs[input]`
 */
export function centralDifference(
  f: ScalarFunction,
  inputs: Float64Array[],
  input: number,
  h = 1e-6,
): Float64Array {
  return Float64Array.from(
    inputs[input],
    (_, i) => centralDifferenceAt(f, inputs, input, i, h),
  );
}

/** Root mean square of an array (0 for an empty one). */
export function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return a.length === 0 ? 0 : Math.sqrt(s / a.length);
}

/** Options of `assertClose`. */
export interface CloseOptions {
  /** Relative tolerance. */
  rtol: number;
  /**
   * The smallest magnitude an error is measured against (default: the RMS of `expected`, so
   * entries that cancel to about zero are judged on the array's scale, not their own).
   */
  floor?: number;
  /** Names the comparison in the failure message. */
  label?: string;
}

/**
 * Asserts `|actual[i] − expected[i]| ≤ rtol · max(floor, |expected[i]|)` for every i; on
 * failure names the worst element (largest error/bound), its values, and how many failed.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  o: CloseOptions,
): void {
  const label = o.label ?? "values";
  if (actual.length !== expected.length) {
    throw new AssertionError({
      message: `${label}: ${actual.length} values, expected ${expected.length}`,
    });
  }
  const floor = o.floor ?? rms(expected);
  let worst = -1, worstRatio = 0, failed = 0;
  for (let i = 0; i < expected.length; i++) {
    const bound = o.rtol * Math.max(floor, Math.abs(expected[i]));
    const err = Math.abs(actual[i] - expected[i]);
    // NaN fails: `err <= bound` is false for it.
    const ratio = Number.isNaN(err) ? Infinity : bound > 0 ? err / bound : err > 0 ? Infinity : 0;
    if (!(err <= bound)) failed++;
    if (ratio > worstRatio || (worst < 0 && ratio > 1)) {
      worstRatio = ratio;
      worst = i;
    }
  }
  if (failed > 0) {
    const i = worst;
    throw new AssertionError({
      message: `${label}: ${failed} of ${expected.length} differ beyond rtol ${o.rtol} ` +
        `(floor ${floor.toExponential(2)}); worst at [${i}]: got ${actual[i]}, expected ` +
        `${expected[i]} (|diff| ${Math.abs(actual[i] - expected[i]).toExponential(3)}, ` +
        `${worstRatio.toFixed(1)}× the bound)`,
    });
  }
}
