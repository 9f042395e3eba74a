/**
 * SE(3) baselines' training-step benchmark: one optimiser step (forward, backward, Adam, one
 * submission) of the N-body TFN or SE(3)-Transformer on a batch of five-body systems, as Table 2
 * trains them (fully connected, the reference's N-body settings), and where its time goes.
 *
 * Method. Synthetic systems (positions and velocities N(0, 1), charges ±1; the values do not
 * change the work). A first step (its pipelines compile: Mesa caches them on disk, so a second
 * run is faster) is timed alone; then `--steps` steps, each followed by
 * `queue.onSubmittedWorkDone()` and timed alone (median, min); dispatches per step; then one
 * profiled step: every dispatch stamped in a compute pass of its own (`setProfiling`), the
 * GPU time of each kernel variant, slowest first (variants under 0.5 % left out), and the
 * totals by kernel name. The profiled step is slower than a plain one (a pass per dispatch);
 * its shares are what it is for. The projection is 10 epochs of 30 steps of 100 systems
 * (issue #7), from the median step at `--systems`.
 *
 * Usage: `deno run -A bench/se3.ts [--model tfn|se3_transformer] [--systems N] [--steps N]`
 * (defaults se3_transformer, 20 systems, 3 steps).
 *
 * @module
 */

import { getGpu, gpuSync } from "../lib/gpu/device.ts";
import { profileReport, resetStats, setProfiling, stats } from "../lib/gpu/commands.ts";
import { trainStep } from "../lib/gpu/step.ts";
import { Adam } from "../lib/gpu/optim.ts";
import { mseLoss } from "../lib/gpu/kernels/losses.ts";
import { Random } from "../lib/random.ts";
import { parseCommandLine } from "../lib/cli/args.ts";
import { BatchGraphs, type NBodySplitData, uploadBatch } from "../lib/experiments/nbody/batches.ts";
import { buildNBodyModel, REFERENCE_LR } from "../lib/experiments/nbody/methods.ts";

const MODELS = ["tfn", "se3_transformer"] as const;
type Model = typeof MODELS[number];
const BODIES = 5;
/** Issue #7's budget: 10 epochs of 30 steps of 100 systems. */
const BUDGET = { epochs: 10, steps: 30, systems: 100 };

const SPEC = {
  model: { type: "string" as const, description: "tfn or se3_transformer (default)" },
  systems: { type: "string" as const, description: "five-body systems per step (default 20)" },
  steps: { type: "string" as const, description: "timed steps (default 3)" },
};
const args = parseCommandLine(Deno.args, SPEC).options;
const model = (args.model as string | undefined) ?? "se3_transformer";
if (!MODELS.includes(model as Model)) {
  throw new Error(`--model: unknown model ${model} (choose from ${MODELS.join(", ")})`);
}
const positive = (name: string, fallback: number) => {
  const v = Number(args[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} takes a positive integer`);
  return v;
};
const systems = positive("systems", 20), steps = positive("steps", 3);

const gpu = await getGpu();
console.log(`adapter: ${gpu.info.description} (${gpu.info.backendGuess})`);

// Two batches' worth of systems, alternated, so that no step reuses the previous one's inputs.
const rng = new Random(42);
const count = 2 * systems, n = count * BODIES * 3;
const x0 = new Float32Array(n), v0 = new Float32Array(n), xT = new Float32Array(n);
for (let i = 0; i < n; i++) {
  x0[i] = rng.normal();
  v0[i] = 0.5 * rng.normal();
  xT[i] = x0[i] + v0[i] + 0.1 * rng.normal();
}
const charges = Float32Array.from({ length: count * BODIES }, () => rng.uniform() < 0.5 ? -1 : 1);
const data: NBodySplitData = { count, nBodies: BODIES, dim: 3, x0, v0, charges, xT };
const graphs = new BatchGraphs(BODIES);
const net = buildNBodyModel(model as Model, { hiddenNf: 64, nLayers: 4, dim: 3, seed: 1 });
const opt = new Adam(net.params!, { lr: REFERENCE_LR[model as Model], weightDecay: 1e-12 });
let k = 0;
const step = async () => {
  const t0 = performance.now();
  await trainStep(() => {
    const first = (k++ % 2) * systems;
    const b = uploadBatch(data, Array.from({ length: systems }, (_, i) => first + i), graphs);
    return mseLoss(net.forward(b), b.target);
  }, opt);
  await gpuSync().device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
};

const firstMs = await step();
resetStats();
const times: number[] = [];
for (let i = 0; i < steps; i++) times.push(await step());
const dispatches = stats.dispatches / steps;
times.sort((a, b) => a - b);
const medianMs = times[Math.floor(steps / 2)];

setProfiling(true);
await step();
await gpuSync().device.queue.onSubmittedWorkDone();
const report = profileReport();
setProfiling(false);

const edges = systems * BODIES * (BODIES - 1);
const budgetH = (medianMs * BUDGET.systems / systems) * BUDGET.epochs * BUDGET.steps / 3.6e6;
console.log(
  `${model}: ${systems} systems (${systems * BODIES} nodes, ${edges} edges) per step\n` +
    `first step ${firstMs.toFixed(0)} ms (compiles)\n` +
    `step ${medianMs.toFixed(0)} ms median, ${times[0].toFixed(0)} min, ${steps} steps\n` +
    `${dispatches.toFixed(0)} dispatches per step\n` +
    `issue #7 budget (${BUDGET.epochs} × ${BUDGET.steps} steps of ${BUDGET.systems} systems), ` +
    `scaled linearly from this step: ${budgetH.toFixed(2)} h`,
);

const total = report.reduce((s, r) => s + r.ms, 0);
console.log(`\nprofiled step: GPU time per kernel variant`);
console.log(`${"calls".padStart(6)} ${"ms".padStart(8)} ${"%".padStart(6)}  kernel {constants}`);
for (const r of report) {
  if (r.ms / total < 0.005) continue;
  console.log(
    `${String(r.count).padStart(6)} ${r.ms.toFixed(1).padStart(8)} ` +
      `${(100 * r.ms / total).toFixed(1).padStart(6)}  ${r.kernel}`,
  );
}
console.log(`${"".padStart(6)} ${total.toFixed(1).padStart(8)}         total`);

const byName = new Map<string, { count: number; ms: number }>();
for (const r of report) {
  const name = r.kernel.replace(/\{.*$/, "");
  const s = byName.get(name) ?? { count: 0, ms: 0 };
  byName.set(name, { count: s.count + r.count, ms: s.ms + r.ms });
}
console.log(`\nby kernel`);
for (const [name, s] of [...byName].sort((a, b) => b[1].ms - a[1].ms)) {
  if (s.ms / total < 0.005) continue;
  console.log(
    `${String(s.count).padStart(6)} ${s.ms.toFixed(1).padStart(8)} ` +
      `${(100 * s.ms / total).toFixed(1).padStart(6)}  ${name}`,
  );
}
console.log(JSON.stringify({
  adapter: gpu.info,
  model,
  systems,
  firstMs,
  medianMs,
  stepsMs: times,
  dispatches,
  profile: report,
}));
