/**
 * Synthetic five-body systems for the step benchmarks (bench/nbody.ts, bench/se3.ts): positions
 * N(0, 1), velocities 0.5·N(0, 1), targets x0 + v0 + 0.1·N(0, 1), charges ±1. The values do not
 * change the work; the simulator's data is what the experiments train on.
 *
 * @module
 */

import { Random } from "../lib/random.ts";
import type { NBodySplitData } from "../lib/experiments/nbody/batches.ts";

/**
 * `count` systems of `bodies` bodies in 3-D, seeded.
 *
 * @param count systems
 * @param bodies bodies per system
 * @param seed the generator's seed
 * @returns the split in the experiment's layout
 */
export function syntheticNBody(count: number, bodies: number, seed: number): NBodySplitData {
  const rng = new Random(seed), n = count * bodies * 3;
  const x0 = new Float32Array(n), v0 = new Float32Array(n), xT = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x0[i] = rng.normal();
    v0[i] = 0.5 * rng.normal();
    xT[i] = x0[i] + v0[i] + 0.1 * rng.normal();
  }
  const charges = Float32Array.from({ length: count * bodies }, () => rng.uniform() < 0.5 ? -1 : 1);
  return { count, nBodies: bodies, dim: 3, x0, v0, charges, xT };
}
