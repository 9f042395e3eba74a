/**
 * Host cost of a training step: how long the CPU spends recording a step (building forward,
 * backward and Adam: tensors, tape, kernel choice, uniform packing) and submitting it (encoding
 * every dispatch, `finish`, `queue.submit`), against how long the device then takes. On a GPU
 * the host's part is most of a small model's step (bench/README.md, "On a GPU"), so it is
 * measured here on its own, where the device's noise does not reach it.
 *
 * Method: per workload, warm-up steps, then `--steps` steps each timed in three parts — record
 * (until just before `submit`), submit (until `submit` returns), device (until
 * `onSubmittedWorkDone`) — each step starting with the device idle. Medians, with µs per
 * dispatch of the host's two parts.
 *
 * Usage: `deno run -A bench/host.ts [--steps N]`.
 *
 * @module
 */

import { getGpu } from "../lib/gpu/device.ts";
import { describeKernelProfile } from "../lib/gpu/tuning.ts";
import { resetStats, stats, submit } from "../lib/gpu/commands.ts";
import { backward, resetTape } from "../lib/gpu/tape.ts";
import { endStep, type Tensor } from "../lib/gpu/tensor.ts";
import { full } from "../lib/gpu/kernels/elementwise.ts";
import { Adam } from "../lib/gpu/optim.ts";
import { bceWithLogitsLoss, mseLoss } from "../lib/gpu/kernels/losses.ts";
import { parseCommandLine } from "../lib/cli/args.ts";
import { syntheticNBody } from "./synthetic_nbody.ts";
import { BatchGraphs, uploadBatch } from "../lib/experiments/nbody/batches.ts";
import { buildNBodyModel } from "../lib/experiments/nbody/methods.ts";
import { erdosRenyiDataset } from "../lib/sim/graphs.ts";
import { AeGraphCache } from "../lib/experiments/ae/batches.ts";
import { GraphAutoencoder } from "../lib/egnn/autoencoder.ts";

const SPEC = {
  steps: { type: "string" as const, description: "timed steps per workload (default 30)" },
};
const args = parseCommandLine(Deno.args, SPEC).options;
const steps = Number(args.steps ?? 30);
if (!Number.isInteger(steps) || steps < 1) throw new Error("--steps takes a positive integer");

const gpu = await getGpu();
console.log(`adapter: ${gpu.info.description} (${gpu.info.backendGuess})`);
console.log(`kernel profile: ${describeKernelProfile()}`);

/** A workload: its parameters' optimiser and the loss of its k-th step. */
interface Workload {
  name: string;
  opt: Adam;
  loss(k: number): Tensor;
}

function nbodyEgnn(): Workload {
  const data = syntheticNBody(3000, 5, 42);
  const graphs = new BatchGraphs(5);
  const model = buildNBodyModel("egnn", { hiddenNf: 64, nLayers: 4, dim: 3, seed: 1 });
  return {
    name: "N-body EGNN, 100 systems",
    opt: new Adam(model.params!, { lr: 5e-4 }),
    loss: (k) => {
      const idx = Array.from({ length: 100 }, (_, i) => (k * 100 + i) % 3000);
      const b = uploadBatch(data, idx, graphs);
      return mseLoss(model.forward(b), b.target);
    },
  };
}

function autoencoderEgnn(): Workload {
  const graphs = erdosRenyiDataset(500, 0);
  const cache = new AeGraphCache();
  const model = new GraphAutoencoder({ encoder: "egnn", seed: 1 });
  // One size, so that every step binds the same buffers (bind groups cached, as in a long run).
  const same = graphs.filter((g) => g.n === 12);
  return {
    name: "autoencoder EGNN, one graph of 12",
    opt: new Adam(model.params, { lr: 1e-4 }),
    loss: (k) => {
      const b = cache.batch([same[k % same.length]]);
      return bceWithLogitsLoss(model.forward(b.graph, b.adjacency), b.adjacency, "sum");
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

console.log(
  ["workload".padEnd(34), "disp", "record ms", "submit ms", "device ms", "host µs/disp"]
    .join("  "),
);
for (const make of [nbodyEgnn, autoencoderEgnn]) {
  const w = make();
  const record: number[] = [], submitted: number[] = [], device: number[] = [];
  let dispatches = 0;
  for (let k = 0; k < steps + 3; k++) {
    resetStats();
    const t0 = performance.now();
    try {
      const loss = w.loss(k);
      backward(loss, full(loss.shape, 1));
      w.opt.step();
      const t1 = performance.now();
      await submit();
      const t2 = performance.now();
      await gpu.device.queue.onSubmittedWorkDone();
      const t3 = performance.now();
      if (k >= 3) record.push(t1 - t0), submitted.push(t2 - t1), device.push(t3 - t2);
      dispatches = stats.dispatches;
    } finally {
      resetTape();
      endStep();
    }
  }
  const r = median(record), s = median(submitted);
  console.log([
    w.name.padEnd(34),
    String(dispatches).padStart(4),
    r.toFixed(2).padStart(9),
    s.toFixed(2).padStart(9),
    median(device).toFixed(2).padStart(9),
    ((1000 * (r + s)) / dispatches).toFixed(1).padStart(12),
  ].join("  "));
}
