// The charged-particle simulator: a hand-computed two-body run, conservation of momentum, the
// sign of the Coulomb force, the elementwise clip, the reflection at t = 0, the saved-frame
// timing (the reference's overwritten first slot), any n and dim, and determinism.
import assert from "node:assert/strict";
import { Random } from "../../lib/random.ts";
import {
  chargedForces,
  chargedForces3,
  type ParticleState,
  reflectIntoBox,
  resolveSimOptions,
  sampleInitialState,
  sampleTrajectory,
  simulate,
} from "../../lib/sim/nbody.ts";

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: ${actual}, expected ${expected} ± ${tol}`,
  );
}

function state(x: number[], v: number[], charges: number[], dim: number): ParticleState {
  return {
    nBodies: charges.length,
    dim,
    x: new Float64Array(x),
    v: new Float64Array(v),
    charges: new Float64Array(charges),
  };
}

function momentum(a: Float64Array, frame: number, n: number, dim: number): number[] {
  const p = new Array(dim).fill(0);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) p[d] += a[(frame * n + i) * dim + d];
  return p;
}

// Charges +1 at −a and −1 at +a on one axis, at rest, dt = 0.001, distance 1: F = 1/(2a)².
// Kick u₀ = dt·1; then a₁ = a₀ − dt·u₀, u₁ = u₀ + dt/(2a₁)², … (computed with 40-digit decimals).
const HAND = [
  { a: 0.499999, v: 0.001 },
  { a: 0.4999969999959999879999679999199998079996, v: 0.002000004000012000032000080000192000448 },
  { a: 0.4999939999799998519987359887198996471200, v: 0.0030000160001360012320112001001608795596 },
];

Deno.test("nbody: two opposite charges at rest follow the hand-computed steps (2-D and 3-D)", () => {
  for (const dim of [2, 3]) {
    const axis = dim - 1; // along y in 2-D, z in 3-D
    const x = new Array(2 * dim).fill(0), v = new Array(2 * dim).fill(0);
    x[axis] = -0.5;
    x[dim + axis] = 0.5;
    // steps 4 at sampleFreq 1: frames after steps 1, 2, 3
    const t = simulate(state(x, v, [1, -1], dim), { steps: 4, sampleFreq: 1 });
    assert.equal(t.frames, 3);
    for (let k = 0; k < 3; k++) {
      for (let d = 0; d < dim; d++) {
        const o = k * 2 * dim;
        const onAxis = d === axis;
        close(t.loc[o + d], onAxis ? -HAND[k].a : 0, 1e-12, `dim ${dim} frame ${k} x₀[${d}]`);
        close(t.loc[o + dim + d], onAxis ? HAND[k].a : 0, 1e-12, `dim ${dim} frame ${k} x₁[${d}]`);
        close(t.vel[o + d], onAxis ? HAND[k].v : 0, 1e-12, `dim ${dim} frame ${k} v₀[${d}]`);
        close(t.vel[o + dim + d], onAxis ? -HAND[k].v : 0, 1e-12, `dim ${dim} frame ${k} v₁[${d}]`);
      }
    }
  }
});

Deno.test("nbody: like charges repel, opposite charges attract", () => {
  const f = new Float64Array(6);
  chargedForces3(new Float64Array([0, 0, 0, 2, 0, 0]), new Float64Array([1, 1]), 1, 100, f);
  assert.deepEqual([...f], [-0.25, 0, 0, 0.25, 0, 0]); // pushed apart, 1/2²
  chargedForces3(new Float64Array([0, 0, 0, 2, 0, 0]), new Float64Array([-1, 1]), 1, 100, f);
  assert.deepEqual([...f], [0.25, 0, 0, -0.25, 0, 0]); // pulled together
  const gap = (q: number[]) => {
    const t = simulate(state([0, 0, 1, 0], [0, 0, 0, 0], q, 2), { steps: 2000, sampleFreq: 1000 });
    return t.loc[2] - t.loc[0];
  };
  assert.ok(gap([1, 1]) > 1.1, `like charges: gap ${gap([1, 1])}`);
  assert.ok(gap([-1, -1]) > 1.1, `like negative charges: gap ${gap([-1, -1])}`);
  assert.ok(gap([1, -1]) < 0.9, `opposite charges: gap ${gap([1, -1])}`);
});

Deno.test("nbody: forces are clipped elementwise to ±0.1/dt when bodies are very close", () => {
  const x = new Float64Array([0, 0, 0, 0.01, 0.002, 0]); // ‖r‖ ≈ 0.0102: |F| ≈ 9600
  const f = new Float64Array(6);
  chargedForces3(x, new Float64Array([1, -1]), 1, resolveSimOptions().maxForce, f);
  // Each component is clipped on its own, so the clipped force is no longer along r.
  assert.deepEqual([...f], [100, 100, 0, -100, -100, 0]);
  const unclipped = new Float64Array(6);
  chargedForces3(x, new Float64Array([1, -1]), 1, Infinity, unclipped);
  assert.ok(unclipped[0] > 9000 && unclipped[1] > 1800, `unclipped ${unclipped}`);
  chargedForces(x, new Float64Array([1, -1]), 3, 1, 100, f);
  assert.deepEqual([...f], [100, 100, 0, -100, -100, 0]);
});

Deno.test("nbody: total momentum is conserved over 3,000 steps while no force is clipped", () => {
  let checked = 0;
  for (let seed = 0; seed < 20 && checked < 3; seed++) {
    const s0 = sampleInitialState(new Random(seed));
    const opts = { steps: 3000, sampleFreq: 100 };
    const t = simulate(s0, opts);
    // Unclipped run identical ⇒ the clip never engaged.
    if (!simulate(s0, { ...opts, maxForce: Infinity }).loc.every((v, k) => v === t.loc[k])) {
      continue;
    }
    const p0 = new Array(3).fill(0);
    for (let k = 0; k < 15; k++) p0[k % 3] += s0.v[k];
    for (let f = 0; f < t.frames; f++) {
      momentum(t.vel, f, 5, 3).forEach((p, d) => close(p, p0[d], 1e-9, `seed ${seed} frame ${f}`));
    }
    checked++;
  }
  assert.equal(checked, 3, "three unclipped simulations among the first 20 seeds");
});

Deno.test("nbody: frame k is the state after (k+1)·sampleFreq steps (first slot overwritten)", () => {
  const s0 = sampleInitialState(new Random(5));
  const fine = simulate(s0, { steps: 3000, sampleFreq: 100 });
  const coarse = simulate(s0, { steps: 3000, sampleFreq: 1000 });
  const early = simulate(s0, { steps: 200, sampleFreq: 100 });
  assert.equal(fine.frames, 29);
  assert.equal(coarse.frames, 2);
  assert.equal(early.frames, 1);
  const frame = (t: typeof fine, k: number) => [...t.loc.subarray(k * 15, (k + 1) * 15)];
  assert.deepEqual(frame(coarse, 0), frame(fine, 9)); // after 1,000 steps
  assert.deepEqual(frame(coarse, 1), frame(fine, 19)); // after 2,000 steps
  assert.deepEqual(frame(early, 0), frame(fine, 0)); // after 100 steps, not the initial state
  assert.notDeepEqual(frame(early, 0), [...s0.x]);
  assert.equal(resolveSimOptions().steps / resolveSimOptions().sampleFreq - 1, 49);
  assert.throws(() => resolveSimOptions({ steps: 1050 }), /multiple of sampleFreq/);
});

Deno.test("nbody: the initial state — ±1 charges, |v| = velNorm, reflection into the box", () => {
  const rng = new Random(11);
  let plus = 0, sumSq = 0, count = 0;
  for (let s = 0; s < 400; s++) {
    const st = sampleInitialState(rng, { nBodies: 10 });
    for (const q of st.charges) {
      assert.ok(q === 1 || q === -1);
      if (q === 1) plus++;
    }
    for (let i = 0; i < 10; i++) {
      close(Math.hypot(st.v[3 * i], st.v[3 * i + 1], st.v[3 * i + 2]), 0.5, 1e-15, "|v|");
    }
    for (const x of st.x) sumSq += x * x, count++;
  }
  close(plus / 4000, 0.5, 0.03, "fraction of +1 charges");
  // loc_std rescaled by (n/5)^(1/3) = 2^(1/3) ≈ 1.26 for 10 bodies
  close(Math.sqrt(sumSq / count), Math.cbrt(2), 0.03, "position std");
  const x = new Float64Array([6, -7, 1]), v = new Float64Array([0.5, -0.5, 0.25]);
  reflectIntoBox(x, v, 5);
  assert.deepEqual([...x], [4, -3, 1]);
  assert.deepEqual([...v], [-0.5, 0.5, 0.25]);
  assert.throws(() => reflectIntoBox(new Float64Array([16]), new Float64Array(1), 5), /±3·boxSize/);
});

Deno.test("nbody: any n and dim; the 3-D fast path matches the general one bit for bit", () => {
  const rng = new Random(3);
  for (const n of [2, 5, 8]) {
    const s = sampleInitialState(rng, { nBodies: n });
    const a = new Float64Array(3 * n), b = new Float64Array(3 * n);
    chargedForces(s.x, s.charges, 3, 1, 100, a);
    chargedForces3(s.x, s.charges, 1, 100, b);
    assert.deepEqual(a, b);
  }
  // A planar 3-D system (z = 0) is the 2-D system with a zero column, exactly.
  const s2 = sampleInitialState(new Random(4), { nBodies: 7, dim: 2 });
  const t2 = simulate(s2, { steps: 1000, sampleFreq: 100 });
  const lift = (a: Float64Array) =>
    new Float64Array([...a].flatMap((v, k) => k % 2 ? [v, 0] : [v]));
  const t3 = simulate({ ...s2, dim: 3, x: lift(s2.x), v: lift(s2.v) }, {
    steps: 1000,
    sampleFreq: 100,
  });
  assert.equal(t2.frames, 9);
  assert.equal(t2.loc.length, 9 * 7 * 2);
  assert.deepEqual(t3.loc, lift(t2.loc));
  assert.deepEqual(t3.vel, lift(t2.vel));
  const t1 = sampleTrajectory(new Random(4), { nBodies: 3, dim: 1, steps: 500 });
  assert.equal(t1.loc.length, 4 * 3);
  assert.ok(t1.loc.every(Number.isFinite));
});

Deno.test("nbody: the same seed gives the same trajectory; another seed another", () => {
  const a = sampleTrajectory(new Random(9)), b = sampleTrajectory(new Random(9));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.loc, sampleTrajectory(new Random(10)).loc);
  const noisy = sampleTrajectory(new Random(9), { noiseVar: 0.1 });
  assert.deepEqual(noisy.charges, a.charges);
  assert.notDeepEqual(noisy.loc, a.loc);
});
