/**
 * Autoencoder step benchmark: the cost of the graph-autoencoder protocol's unit of work, one
 * optimiser step on one Erdős–Rényi graph (7–16 nodes, fully connected, n = 8 dimensions), per
 * encoder, and the full protocol's training time projected from it (5,000 graphs × 100 epochs).
 *
 * Method. For each encoder: warm-up steps (two, then one graph of every size, whose pipelines
 * may compile on first use), then `--steps` steps back to back as the trainer
 * runs them (each `trainStep` is one submission; nothing is read inside a step) closed by the one
 * read of their mean loss; ms per step = wall time / steps. Also one step waited for alone
 * (`queue.onSubmittedWorkDone()`), the dispatches and submissions per step. The projection
 * counts training steps only (evaluation every 2 epochs adds 1,000 forward passes, a few %).
 *
 * With `--profile`, after timing, 20 further steps per encoder run with GPU timestamps and a
 * table gives each kernel's calls and GPU time per step (by kernel name, variants summed).
 *
 * Usage: `deno run -A bench/ae.ts [--steps N] [--encoders gnn,noise_gnn,rf,egnn] [--profile
 * [--variants]]`.
 *
 * @module
 */

import { getGpu, gpuSync } from "../lib/gpu/device.ts";
import { profileReport, resetStats, setProfiling, stats, submit } from "../lib/gpu/commands.ts";
import { trainStep } from "../lib/gpu/step.ts";
import { Adam } from "../lib/gpu/optim.ts";
import { bceWithLogitsLoss, LossMeter } from "../lib/gpu/kernels/losses.ts";
import { parseCommandLine } from "../lib/cli/args.ts";
import { erdosRenyiDataset } from "../lib/sim/graphs.ts";
import { AeGraphCache } from "../lib/experiments/ae/batches.ts";
import { GraphAutoencoder } from "../lib/egnn/autoencoder.ts";
import { printProfile } from "./profile_table.ts";

const ENCODERS = ["gnn", "noise_gnn", "rf", "egnn"] as const;
type Encoder = typeof ENCODERS[number];

const SPEC = {
  steps: { type: "string" as const, description: "timed steps per encoder (default 200)" },
  encoders: { type: "string" as const, description: "comma-separated: gnn,noise_gnn,rf,egnn" },
  profile: { type: "boolean" as const, description: "GPU time per kernel over 20 more steps" },
  variants: {
    type: "boolean" as const,
    description: "with --profile: a row per kernel variant (its constants), not per kernel",
  },
};
const args = parseCommandLine(Deno.args, SPEC).options;
const steps = Number(args.steps ?? 200);
if (!Number.isInteger(steps) || steps < 1) throw new Error("--steps takes a positive integer");
const encoders = ((args.encoders as string | undefined) ?? ENCODERS.join(",")).split(",")
  .map((s) => s.trim()).filter((s) => s) as Encoder[];
for (const e of encoders) {
  if (!ENCODERS.includes(e)) {
    throw new Error(`--encoders: unknown encoder ${e} (choose from ${ENCODERS.join(", ")})`);
  }
}

const gpu = await getGpu();
console.log(`adapter: ${gpu.info.description} (${gpu.info.backendGuess})`);
const graphs = erdosRenyiDataset(500, 0);
const cache = new AeGraphCache();
const rows: Record<string, unknown>[] = [];
console.log(
  ["encoder".padEnd(10), "ms/step".padStart(8), "alone ms".padStart(9), "disp/step".padStart(9)]
    .join(" ") + "  full protocol (5,000 × 100 steps)",
);
for (const encoder of encoders) {
  const model = new GraphAutoencoder({ encoder, seed: 1 });
  const opt = new Adam(model.params, { lr: 1e-4 });
  const meter = new LossMeter();
  const stepOn = (g: (typeof graphs)[number]) =>
    trainStep(
      () => {
        const b = cache.batch([g]);
        return bceWithLogitsLoss(model.forward(b.graph, b.adjacency), b.adjacency, "sum");
      },
      opt,
      { meter },
    );
  let k = 0;
  const step = () => stepOn(graphs[k++ % graphs.length]);
  // Warm-up: two steps, then one graph of every size (each size may compile its own pipelines).
  for (let i = 0; i < 2; i++) await step();
  for (const n of new Set(graphs.map((g) => g.n))) await stepOn(graphs.find((g) => g.n === n)!);
  await meter.readMean();
  meter.reset();
  resetStats();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const loss = await meter.readMean();
  const ms = (performance.now() - t0) / steps;
  const dispatches = stats.dispatches / steps, submits = stats.submits / steps;
  if (!Number.isFinite(loss)) throw new Error(`${encoder}: the loss became ${loss}`);
  const alone: number[] = [];
  for (let i = 0; i < 5; i++) {
    await gpuSync().device.queue.onSubmittedWorkDone();
    const t = performance.now();
    await step();
    await gpuSync().device.queue.onSubmittedWorkDone();
    alone.push(performance.now() - t);
  }
  alone.sort((a, b) => a - b);
  const fullH = ms * 5000 * 100 / 3.6e6;
  console.log(
    [
      encoder.padEnd(10),
      ms.toFixed(2).padStart(8),
      alone[2].toFixed(2).padStart(9),
      String(+dispatches.toFixed(1)).padStart(9),
    ].join(" ") + `  ${fullH.toFixed(2)} h (${submits.toFixed(0)} submission/step)`,
  );
  rows.push({ encoder, msPerStep: ms, aloneMs: alone[2], dispatches, submits, fullH });
  if (args.profile) {
    setProfiling(true);
    for (let i = 0; i < 20; i++) await step();
    await gpuSync().device.queue.onSubmittedWorkDone();
    const report = profileReport();
    setProfiling(false);
    console.log(`\nprofile of ${encoder}: GPU time per training step, 20 steps`);
    printProfile(report, 20, { byName: !args.variants });
    console.log();
  }
  opt.dispose();
  meter.dispose();
  model.params.dispose();
  await submit();
}
cache.dispose();
console.log(JSON.stringify({ adapter: gpu.info, steps, rows }));
