/**
 * The charged-particle N-body simulator of the reference generator (`ChargedParticlesSim` in
 * vgsatorras/egnn `n_body_system/dataset/synthetic_sim.py`, NRI's simulator extended to 3-D),
 * in float64, for any number of bodies and dimensions.
 *
 * It follows the reference step by step: charges ±1 with equal probability, Gaussian positions,
 * velocities of norm exactly `velNorm`, one reflection into the box at t = 0 (no walls after),
 * Coulomb forces with squared distances computed as |a|² + |b|² − 2a·b and each component clipped
 * to ±`maxForce`, one initial kick, then `x += dt·v; (store); v += dt·F(x)` for steps 1 … T−1.
 * Saved frame k is the state after (k+1)·`sampleFreq` steps: the reference's slot for the initial
 * state is overwritten by the first sample, so `T/sampleFreq − 1` frames are kept.
 *
 * One deviation in arithmetic: ‖r‖³ is computed as ‖r‖²·√‖r‖² instead of NumPy's
 * `power(‖r‖², 1.5)` — within about one ulp of it and three times faster in V8 (bit-identical
 * trajectories with the reference were never possible: see the random stream below).
 *
 * Our random stream (lib/random.ts) differs from NumPy's, so the same seed does not give the
 * reference's trajectories; the distribution is the same. With `noiseVar = 0` (the default, as in
 * the reference) we also skip the reference's unused noise draws.
 *
 * Arrays are row-major: positions `(nBodies, dim)`, trajectories `(frames, nBodies, dim)` — the
 * layout the reference loader produces after its transpose.
 *
 * @module
 */

import type { RandomStream } from "../random.ts";

/** Options of the simulator; every default is the reference's `ChargedParticlesSim`. */
export interface ChargedParticlesOptions {
  /** Number of bodies (default 5). */
  nBodies?: number;
  /** Spatial dimensions (default 3). */
  dim?: number;
  /** Half-width of the box the initial positions are reflected into (default 5). */
  boxSize?: number;
  /** Position standard deviation before the reference's rescale by (nBodies/5)^(1/3) (default 1). */
  locStd?: number;
  /** Norm of every initial velocity (default 0.5; the reference's `--initial_vel 0` is 1e-16). */
  velNorm?: number;
  /** Coulomb constant (default 1). */
  interactionStrength?: number;
  /** Std of the Gaussian noise added to the saved frames (default 0: none). */
  noiseVar?: number;
  /** Time step (default 0.001). */
  dt?: number;
  /** Elementwise force clip (default 0.1/dt = 100). */
  maxForce?: number;
  /** Number of steps T (default 5000). */
  steps?: number;
  /** Steps between saved frames (default 100); must divide `steps`. */
  sampleFreq?: number;
}

/** Simulator options with every default filled in. */
export type ChargedParticlesConfig = Required<ChargedParticlesOptions>;

/** A state of the system: positions and velocities `(nBodies, dim)`, charges `(nBodies)`. */
export interface ParticleState {
  /** Number of bodies. */
  nBodies: number;
  /** Spatial dimensions. */
  dim: number;
  /** Positions, row-major `(nBodies, dim)`. */
  x: Float64Array;
  /** Velocities, row-major `(nBodies, dim)`. */
  v: Float64Array;
  /** Charges, ±1. */
  charges: Float64Array;
}

/** Saved frames of one simulation. */
export interface Trajectory {
  /** Number of bodies. */
  nBodies: number;
  /** Spatial dimensions. */
  dim: number;
  /** Saved frames, `steps/sampleFreq − 1`; frame k is the state after (k+1)·sampleFreq steps. */
  frames: number;
  /** Positions, row-major `(frames, nBodies, dim)`. */
  loc: Float64Array;
  /** Velocities at the same times (the velocity that produced each saved position). */
  vel: Float64Array;
  /** Charges, ±1. */
  charges: Float64Array;
}

/**
 * Fills in the reference's defaults and checks the options.
 *
 * @param options any subset of the options
 * @returns every option, with `maxForce = 0.1/dt` unless given
 */
export function resolveSimOptions(options: ChargedParticlesOptions = {}): ChargedParticlesConfig {
  const dt = options.dt ?? 0.001;
  const c: ChargedParticlesConfig = {
    nBodies: options.nBodies ?? 5,
    dim: options.dim ?? 3,
    boxSize: options.boxSize ?? 5,
    locStd: options.locStd ?? 1,
    velNorm: options.velNorm ?? 0.5,
    interactionStrength: options.interactionStrength ?? 1,
    noiseVar: options.noiseVar ?? 0,
    dt,
    maxForce: options.maxForce ?? 0.1 / dt,
    steps: options.steps ?? 5000,
    sampleFreq: options.sampleFreq ?? 100,
  };
  const positiveInt = ["nBodies", "dim", "steps", "sampleFreq"] as const;
  for (const k of positiveInt) {
    if (!Number.isInteger(c[k]) || c[k] < 1) {
      throw new Error(`nbody: ${k} = ${c[k]}, expected a positive integer`);
    }
  }
  if (c.nBodies < 2) throw new Error(`nbody: nBodies = ${c.nBodies}, expected at least 2`);
  if (c.steps % c.sampleFreq !== 0 || c.steps / c.sampleFreq < 2) {
    throw new Error(
      `nbody: steps = ${c.steps}, expected a multiple of sampleFreq = ${c.sampleFreq} ` +
        `of at least 2·sampleFreq (one frame is kept fewer than steps/sampleFreq)`,
    );
  }
  for (const k of ["boxSize", "dt", "maxForce", "locStd"] as const) {
    if (!(c[k] > 0)) throw new Error(`nbody: ${k} = ${c[k]}, expected a positive number`);
  }
  if (!(c.noiseVar >= 0)) throw new Error(`nbody: noiseVar = ${c.noiseVar}, expected ≥ 0`);
  return c;
}

/**
 * The reference's `_clamp`, applied once at t = 0: a coordinate beyond ±boxSize is reflected
 * back and its velocity component pointed inwards. In place.
 *
 * @param x positions `(nBodies, dim)`
 * @param v velocities `(nBodies, dim)`
 * @param boxSize half-width of the box
 */
export function reflectIntoBox(x: Float64Array, v: Float64Array, boxSize: number): void {
  for (let k = 0; k < x.length; k++) {
    // reference: asserts |x| < 3·box before reflecting
    if (!(Math.abs(x[k]) < 3 * boxSize)) {
      throw new Error(`nbody: initial coordinate ${x[k]} outside ±3·boxSize = ±${3 * boxSize}`);
    }
    if (x[k] > boxSize) {
      x[k] = 2 * boxSize - x[k];
      v[k] = -Math.abs(v[k]);
    } else if (x[k] < -boxSize) {
      x[k] = -2 * boxSize - x[k];
      v[k] = Math.abs(v[k]);
    }
  }
}

/**
 * Coulomb forces F_i = Σ_{j≠i} s·q_i q_j (x_i − x_j)/‖x_i − x_j‖³ with each component clipped to
 * ±maxForce, computed as the reference does (squared distance |x_i|² + |x_j|² − 2x_i·x_j, each
 * body's sum in order of partner index; ‖r‖³ as ‖r‖²·√‖r‖²). Any dimension.
 *
 * @param x positions `(nBodies, dim)`
 * @param charges charges `(nBodies)`
 * @param dim spatial dimensions
 * @param strength Coulomb constant
 * @param maxForce elementwise clip
 * @param out receives the forces `(nBodies, dim)`
 * @param sqNorm scratch of length nBodies (allocated when omitted)
 */
export function chargedForces(
  x: Float64Array,
  charges: Float64Array,
  dim: number,
  strength: number,
  maxForce: number,
  out: Float64Array,
  sqNorm: Float64Array = new Float64Array(charges.length),
): void {
  const n = charges.length;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += x[i * dim + d] * x[i * dim + d];
    sqNorm[i] = s;
  }
  out.fill(0);
  // Pair (i, j) once: x_j − x_i = −(x_i − x_j) exactly, so body j's term is the negation of i's,
  // and every body still sums its partners in ascending index order, as the reference's row sum.
  for (let i = 0; i < n; i++) {
    const io = i * dim;
    for (let j = i + 1; j < n; j++) {
      const jo = j * dim;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += x[io + d] * x[jo + d];
      const dist2 = sqNorm[i] + sqNorm[j] - 2 * dot;
      const size = (strength * (charges[i] * charges[j])) / (dist2 * Math.sqrt(dist2));
      for (let d = 0; d < dim; d++) {
        const f = size * (x[io + d] - x[jo + d]);
        out[io + d] += f;
        out[jo + d] -= f;
      }
    }
  }
  for (let k = 0; k < out.length; k++) {
    if (out[k] > maxForce) out[k] = maxForce;
    else if (out[k] < -maxForce) out[k] = -maxForce;
  }
}

/**
 * {@linkcode chargedForces} unrolled for three dimensions (the same operations in the same order,
 * so bit-identical results, about twice as fast); {@linkcode simulate} uses it when dim = 3.
 *
 * @param x positions `(nBodies, 3)`
 * @param charges charges `(nBodies)`
 * @param strength Coulomb constant
 * @param maxForce elementwise clip
 * @param out receives the forces `(nBodies, 3)`
 * @param sqNorm scratch of length nBodies (allocated when omitted)
 */
export function chargedForces3(
  x: Float64Array,
  charges: Float64Array,
  strength: number,
  maxForce: number,
  out: Float64Array,
  sqNorm: Float64Array = new Float64Array(charges.length),
): void {
  const n = charges.length;
  for (let i = 0; i < n; i++) {
    const a = x[3 * i], b = x[3 * i + 1], c = x[3 * i + 2];
    sqNorm[i] = a * a + b * b + c * c;
  }
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const xi0 = x[3 * i], xi1 = x[3 * i + 1], xi2 = x[3 * i + 2];
    const qi = charges[i], sqi = sqNorm[i];
    let f0 = out[3 * i], f1 = out[3 * i + 1], f2 = out[3 * i + 2];
    for (let j = i + 1; j < n; j++) {
      const xj0 = x[3 * j], xj1 = x[3 * j + 1], xj2 = x[3 * j + 2];
      const dist2 = sqi + sqNorm[j] - 2 * (xi0 * xj0 + xi1 * xj1 + xi2 * xj2);
      const size = (strength * (qi * charges[j])) / (dist2 * Math.sqrt(dist2));
      const g0 = size * (xi0 - xj0), g1 = size * (xi1 - xj1), g2 = size * (xi2 - xj2);
      f0 += g0;
      f1 += g1;
      f2 += g2;
      out[3 * j] -= g0;
      out[3 * j + 1] -= g1;
      out[3 * j + 2] -= g2;
    }
    out[3 * i] = f0;
    out[3 * i + 1] = f1;
    out[3 * i + 2] = f2;
  }
  for (let k = 0; k < 3 * n; k++) {
    if (out[k] > maxForce) out[k] = maxForce;
    else if (out[k] < -maxForce) out[k] = -maxForce;
  }
}

/**
 * Draws an initial state as the reference: charges (one uniform each: < ½ → −1), positions
 * N(0, (locStd·(n/5)^(1/3))²), velocities a Gaussian direction scaled to norm velNorm (drawn
 * dimension-major, as NumPy's `randn(dim, n)`), then the one reflection into the box.
 *
 * @param rng the random stream (advanced)
 * @param options simulator options
 * @returns the state at t = 0
 */
export function sampleInitialState(
  rng: RandomStream,
  options: ChargedParticlesOptions = {},
): ParticleState {
  const c = resolveSimOptions(options);
  const { nBodies: n, dim } = c;
  const locStd = c.locStd * Math.pow(n / 5, 1 / 3);
  const charges = new Float64Array(n);
  for (let i = 0; i < n; i++) charges[i] = rng.uniform() < 0.5 ? -1 : 1;
  const x = new Float64Array(n * dim), v = new Float64Array(n * dim);
  for (let d = 0; d < dim; d++) for (let i = 0; i < n; i++) x[i * dim + d] = rng.normal() * locStd;
  for (let d = 0; d < dim; d++) for (let i = 0; i < n; i++) v[i * dim + d] = rng.normal();
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += v[i * dim + d] * v[i * dim + d];
    const norm = Math.sqrt(s);
    for (let d = 0; d < dim; d++) v[i * dim + d] = (v[i * dim + d] * c.velNorm) / norm;
  }
  reflectIntoBox(x, v, c.boxSize);
  return { nBodies: n, dim, x, v, charges };
}

/**
 * Integrates from a given state as the reference: one kick v += dt·F(x₀), then for step
 * i = 1 … T−1: x += dt·v; every sampleFreq-th step save (x, v); v += dt·F(x). No reflection
 * (the reference only reflects at t = 0, see {@linkcode sampleInitialState}) and no noise.
 *
 * @param initial the state at t = 0 (not modified)
 * @param options simulator options (`nBodies`, `dim` are taken from the state)
 * @returns the saved frames
 * @example Two opposite charges at rest attract
 * ```ts
 * import { simulate } from "./nbody.ts";
 * const t = simulate({
 *   nBodies: 2, dim: 1, x: new Float64Array([-1, 1]), v: new Float64Array(2),
 *   charges: new Float64Array([1, -1]),
 * }, { steps: 200, sampleFreq: 100 });
 * console.log(t.frames, t.loc[0] > -1); // 1 true
 * ```
 */
export function simulate(
  initial: ParticleState,
  options: ChargedParticlesOptions = {},
): Trajectory {
  const c = resolveSimOptions({ ...options, nBodies: initial.nBodies, dim: initial.dim });
  const { nBodies: n, dim, dt, steps, sampleFreq, interactionStrength, maxForce } = c;
  const size = n * dim;
  if (initial.x.length !== size || initial.v.length !== size || initial.charges.length !== n) {
    throw new Error(`nbody: state arrays do not match nBodies = ${n}, dim = ${dim}`);
  }
  const frames = steps / sampleFreq - 1;
  const loc = new Float64Array(frames * size), vel = new Float64Array(frames * size);
  const x = initial.x.slice(), v = initial.v.slice(), q = initial.charges;
  const force = new Float64Array(size), sqNorm = new Float64Array(n);
  const forces = dim === 3
    ? () => chargedForces3(x, q, interactionStrength, maxForce, force, sqNorm)
    : () => chargedForces(x, q, dim, interactionStrength, maxForce, force, sqNorm);
  forces();
  for (let k = 0; k < size; k++) v[k] += dt * force[k];
  let saved = 0;
  for (let step = 1; step < steps; step++) {
    for (let k = 0; k < size; k++) x[k] += dt * v[k];
    if (step % sampleFreq === 0) {
      loc.set(x, saved * size);
      vel.set(v, saved * size);
      saved++;
    }
    forces();
    for (let k = 0; k < size; k++) v[k] += dt * force[k];
  }
  return { nBodies: n, dim, frames, loc, vel, charges: q.slice() };
}

/**
 * One simulation as the reference's `sample_trajectory`: draw the initial state, integrate, then
 * add N(0, noiseVar²) noise to the saved positions and velocities when `noiseVar > 0`.
 *
 * @param rng the random stream (advanced)
 * @param options simulator options
 * @param referenceDraws draw the noise even when `noiseVar` is 0, as the reference does (its
 *   draws are multiplied by 0): needed to stay in step with its stream (`NumpyRandom`); our own
 *   stream skips them (default false)
 * @returns the saved frames
 * @example The default simulation keeps 49 frames of 5 bodies in 3-D
 * ```ts
 * import { Random } from "../random.ts";
 * import { sampleTrajectory } from "./nbody.ts";
 * const t = sampleTrajectory(new Random(1));
 * console.log(t.frames, t.loc.length); // 49 735
 * ```
 */
export function sampleTrajectory(
  rng: RandomStream,
  options: ChargedParticlesOptions = {},
  referenceDraws = false,
): Trajectory {
  const c = resolveSimOptions(options);
  const t = simulate(sampleInitialState(rng, c), c);
  if (c.noiseVar > 0 || referenceDraws) {
    // reference order: loc noise (T_save, dim, n), then vel noise
    for (const a of [t.loc, t.vel]) {
      for (let f = 0; f < t.frames; f++) {
        for (let d = 0; d < t.dim; d++) {
          for (let i = 0; i < t.nBodies; i++) {
            a[(f * t.nBodies + i) * t.dim + d] += rng.normal() * c.noiseVar;
          }
        }
      }
    }
  }
  return t;
}

/**
 * Advances the stream past one simulation without integrating it: the draws of
 * {@linkcode sampleTrajectory} with `referenceDraws` (charges, positions, velocities, noise).
 * The reference keeps the first 3,000 of 10,000 training simulations, then draws validation and
 * test from the same stream; this reaches them without simulating the 7,000.
 *
 * @param rng the random stream (advanced)
 * @param options simulator options
 */
export function skipTrajectory(rng: RandomStream, options: ChargedParticlesOptions = {}): void {
  const c = resolveSimOptions(options);
  const { nBodies: n, dim } = c;
  for (let i = 0; i < n; i++) rng.uniform();
  const noise = 2 * (c.steps / c.sampleFreq - 1) * dim * n;
  for (let k = 0; k < 2 * dim * n + noise; k++) rng.normal();
}
