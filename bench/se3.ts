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
import { parseCommandLine } from "../lib/cli/args.ts";
import { BatchGraphs, uploadBatch } from "../lib/experiments/nbody/batches.ts";
import { syntheticNBody } from "./synthetic_nbody.ts";
import { printProfile } from "./profile_table.ts";
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
const data = syntheticNBody(2 * systems, BODIES, 42);
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

console.log(`\nprofiled step: GPU time per kernel variant`);
printProfile(report, 1);
console.log(`\nby kernel`);
printProfile(report, 1, { byName: true });
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
