// A two-layer MLP trained by the engine: the loss falls 100-fold, a repeated step allocates no
// new buffer and creates no new bind group, and the same seed gives bit-identical losses.
import assert from "node:assert/strict";
import {
  Adam,
  bufferPool,
  fromArray,
  getGpu,
  linear,
  LossMeter,
  mseLoss,
  ParameterSet,
  resetStats,
  stats,
  trainStep,
} from "../../mod.ts";
import { Random } from "../reference/random.ts";

const N = 200, D = 3, H = 32, STEPS = 400;

/** A teacher network makes the targets, so the student can fit them closely. */
function makeData(rand: () => number) {
  const x = Array.from({ length: N * D }, () => 2 * rand());
  const y = new Array<number>(N);
  for (let i = 0; i < N; i++) {
    const [a, b, c] = [x[i * D], x[i * D + 1], x[i * D + 2]];
    y[i] = Math.tanh(a - 0.5 * b) + 0.3 * Math.sin(2 * c) * a;
  }
  return { x, y };
}

async function train(seed: number) {
  await getGpu();
  const r = new Random(seed);
  const rand = () => r.next() - 0.5;
  const { x, y } = makeData(rand);
  const ps = new ParameterSet();
  const w1 = ps.add("w1", [D, H], Float32Array.from({ length: D * H }, () => rand() * 2));
  const b1 = ps.add("b1", [H], Float32Array.from({ length: H }, () => rand()));
  const w2 = ps.add("w2", [H, 1], Float32Array.from({ length: H }, () => rand() * 0.5));
  const b2 = ps.add("b2", [1], new Float32Array(1));
  ps.build();
  const xs = fromArray(x, [N, D]).keep();
  const ys = fromArray(y, [N, 1]).keep();
  const opt = new Adam(ps, { lr: 0.02 });
  const meter = new LossMeter();
  const losses: number[] = [];
  let createdAfterFirst = -1, bindGroupsAt100 = -1;
  resetStats();
  for (let s = 0; s < STEPS; s++) {
    await trainStep(() => mseLoss(linear(linear(xs, w1, b1, "silu"), w2, b2), ys), opt, {
      meter,
      lr: 0.02 * (s < STEPS / 2 ? 1 : 0.3),
    });
    if (s === 0) createdAfterFirst = bufferPool.stats.created;
    if (s === 100) bindGroupsAt100 = stats.bindGroupsCreated;
    if (s === 0 || (s + 1) % 50 === 0) losses.push(await meter.readMean());
  }
  const syncs = stats.syncs;
  const submits = stats.submits;
  const params = await ps.toHost();
  const createdAtEnd = bufferPool.stats.created;
  const bindGroupsAfter100 = stats.bindGroupsCreated - bindGroupsAt100;
  xs.dispose();
  ys.dispose();
  meter.dispose();
  return { losses, params, createdAfterFirst, createdAtEnd, syncs, submits, bindGroupsAfter100 };
}

Deno.test("engine: a two-layer MLP lowers its loss 100-fold; same seed, bit-identical", async () => {
  const a = await train(7);
  const first = a.losses[0], last = a.losses[a.losses.length - 1];
  console.log(
    `loss ${first.toExponential(3)} → ${last.toExponential(3)} (${(first / last).toFixed(0)}×)`,
  );
  assert.ok(first / last >= 100, `loss fell only ${(first / last).toFixed(1)}-fold`);
  // One submission per step (a read submits nothing of its own); a sync only per loss read.
  assert.equal(a.submits, STEPS);
  assert.equal(a.syncs, a.losses.length);
  // A repeated step allocates nothing new after the first run.
  assert.equal(a.createdAtEnd, a.createdAfterFirst);
  // ... and gets the same buffers in the same places, so its bind groups are cached (pool.ts).
  assert.equal(a.bindGroupsAfter100, 0, "bind groups created after step 100");

  const b = await train(7);
  assert.deepEqual(b.losses, a.losses, "same seed must give bit-identical losses");
  for (const [name, v] of a.params) assert.deepEqual(b.params.get(name), v, name);
  const c = await train(8);
  assert.notDeepEqual(c.losses, a.losses, "another seed gives other losses");
});
