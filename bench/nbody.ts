/**
 * Model benchmark, side by side with PyTorch: the N-body models of Table 2 — EGNN (velocity
 * variant, 4 layers, hidden 64), GNN and Radial Field — on batches of 100 five-body systems, and
 * the QM9 model (7 layers, hidden 128) on batches of 96 QM9-like molecules. Per model: forward
 * time of a batch, training-step time (forward + backward + Adam, one submission), epoch time,
 * dispatches per step, syncs per epoch, matrix-product FLOPs per step and the GFLOP/s they give;
 * then the same figures from our own PyTorch implementation (bench/torch/bench_nbody.py, run as a
 * child process on the same data) and the ratio ours/torch. Before timing, each model's
 * initialised weights are exported in PyTorch's layout and PyTorch's forward on the bench batch
 * is compared with ours (max |ours − torch| / max(1, |torch|) ≤ 1e-5: PASS).
 *
 * Method (ours). Forward: R passes recorded into one submission and closed by one read, divided
 * by R; median of the samples, after a warm-up. Step: `trainStep` (the batch's upload, forward,
 * backward, Adam: one submission) followed by `queue.onSubmittedWorkDone()`, so each step is
 * timed alone; median over `--steps` steps after two warm-up steps (QM9: `--qm9-steps` after
 * one). Epoch (N-body): `trainStep` back to back over the 30 batches of 3,000 samples, then the
 * one read of the epoch's loss (LossMeter), wall time; QM9 (20–40 s a step here): the median
 * step scaled to 1,000 molecules. FLOPs: every dense layer's 2·M·K·N (M = edges, nodes or
 * graphs, per layer), ×3 for a training step (forward, dX, dW). See bench/README.md.
 *
 * Usage: `deno task bench:nbody [--models egnn,gnn,rf,qm9] [--steps N] [--qm9-steps N]
 * [--no-torch] [--torch-device cpu|cuda] [--rounds R] [--profile] [--whole-layer auto|on|off]`.
 * `--whole-layer` sets how the forward column's passes (no gradients) run their EGCLs: one
 * whole-layer dispatch each (kernels/egcl_layer.ts) or per op; by default as the kernel profile
 * says (GPUs: whole layer; CPU adapters: per op). `--rounds R` times ours and
 * PyTorch's R times over, in alternating order (ours first in rounds 1, 3 …), and reports the
 * median of the rounds (both sides sampled over the same minutes on a shared machine; the
 * per-round step ratios are printed too). `--profile` adds, per model, the GPU time
 * of each kernel over 5 training steps (GPU timestamps, see `setProfiling`; not used for the
 * step figures). With `--torch-device cuda` (a machine with an NVIDIA
 * GPU and PyTorch built for CUDA) the PyTorch rows run on the GPU, one row per model, and the
 * ratios are taken against that row. Writes `bench/results/nbody_bench.json`. About 9 minutes on a 2-core CPU
 * adapter (QM9 ~6 of them).
 *
 * @module
 */

import { getGpu, gpuSync } from "../lib/gpu/device.ts";
import { describeKernelProfile } from "../lib/gpu/tuning.ts";
import { egclSwitches } from "../lib/egnn/egcl.ts";
import { endStep, fromArray, read, type Tensor } from "../lib/gpu/tensor.ts";
import { profileReport, resetStats, setProfiling, stats, submit } from "../lib/gpu/commands.ts";
import { noGrad, resetTape } from "../lib/gpu/tape.ts";
import { trainStep } from "../lib/gpu/step.ts";
import { Adam } from "../lib/gpu/optim.ts";
import { l1Loss, LossMeter, mseLoss } from "../lib/gpu/kernels/losses.ts";
import type { ParameterSet } from "../lib/gpu/parameters.ts";
import { Random } from "../lib/random.ts";
import { writeNpz } from "../lib/io/npz.ts";
import { syntheticNBody } from "./synthetic_nbody.ts";
import { printProfile } from "./profile_table.ts";
import { parseCommandLine } from "../lib/cli/args.ts";
import { fullyConnected, type GraphBatch } from "../lib/egnn/graph.ts";
import { type DeviceGraph, uploadGraph } from "../lib/egnn/device_graph.ts";
import { QM9Model } from "../lib/egnn/qm9_model.ts";
import { BatchGraphs, type NBodySplitData, uploadBatch } from "../lib/experiments/nbody/batches.ts";
import { buildNBodyModel, REFERENCE_LR } from "../lib/experiments/nbody/methods.ts";

type ModelName = "egnn" | "gnn" | "rf" | "qm9";
const ALL_MODELS: ModelName[] = ["egnn", "gnn", "rf", "qm9"];
const LABELS: Record<ModelName, string> = {
  egnn: "EGNN (vel)",
  gnn: "GNN",
  rf: "Radial Field",
  qm9: "QM9 EGNN",
};

const NBODY = { systems: 3000, bodies: 5, batch: 100, hidden: 64, layers: 4 };
const QM9 = { molecules: 96, batches: 4, epochMolecules: 1000, hidden: 128, layers: 7 };
const TOLERANCE = 1e-5;
const RESULTS_DIR = "bench/results";
const RESULTS_FILE = `${RESULTS_DIR}/nbody_bench.json`;

/** What one workload gives the timing code. */
interface Workload {
  name: ModelName;
  params: ParameterSet;
  batchLabel: string;
  shape: { nodes: number; edges: number; graphs: number };
  lr: number;
  /** The forward pass on the fixed bench batch (its inputs are kept on the device). */
  forward(): Tensor;
  /** Uploads the k-th training batch and returns its loss (inside `trainStep`). */
  stepLoss(k: number): Tensor;
  /** After the k-th step's submission (frees what the step uploaded and kept). */
  afterStep(): void;
  /**
   * Steps of a timed epoch (0: the epoch figure is the median step scaled to `perSamples`), and
   * what the epoch figure is per.
   */
  epoch: { steps: number; perSamples: number; samplesPerStep: number; unit: string };
  /** Timing repetitions: forward passes per sample, forward samples, warm-up and timed steps. */
  forwardReps: number;
  forwardSamples: number;
  warmupSteps: number;
  stepCount: number;
  dispose(): void;
}

/** One row of the table (ours or PyTorch). */
interface Row {
  model: ModelName;
  impl: string;
  params: number;
  forwardMs: number;
  stepMs: number;
  /** Ours: host time of a step (recording, encoding, submission), device idle at its start. */
  hostMs: number | null;
  epochS: number;
  epochUnit: string;
  dispatchesPerStep: number | null;
  syncsPerEpoch: number | null;
  forwardFlops: number;
  stepFlops: number;
  forwardGflops: number;
  stepGflops: number;
  forwardReps: string;
  stepReps: number;
  epochSteps: number;
}

/** What the PyTorch script prints (one JSON object on stdout). */
interface TorchReport {
  /** Where PyTorch ran its rows ("cpu" or "cuda") and the GPU's name on cuda. */
  device?: string;
  gpu?: string | null;
  torch: string;
  numpy: string;
  defaultThreads: number;
  cpuCount: number;
  /** PyTorch's 2000×131×64 matrix product, 1 thread (its BLAS: reference or OpenBLAS). */
  matmulGflops: number;
  rows: {
    model: ModelName;
    device?: string;
    threads: number;
    forwardMs: number;
    stepMs: number;
    epochS: number | null;
    epochSteps: number;
    forwardReps: number;
    stepReps: number;
    params: number;
  }[];
  crosscheck: Record<string, { maxRelErr: number; outputs: number }>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---------------------------------------------------------------------------------------------
// Data: seeded, written to the exchange directory so that PyTorch runs on the same numbers.

interface Molecules {
  sizes: number[];
  z: Float32Array;
  pos: Float32Array;
  h0: Float32Array;
  y: Float32Array;
  host: GraphBatch;
}

/**
 * A batch of QM9-like molecules: 9–29 atoms (18 ± 3, rounded and clipped; QM9's mean is 18),
 * elements H, C, N, O, F in roughly QM9's proportions, Gaussian positions (σ 1.5 Å), features
 * one-hot(H,C,N,O,F) ⊗ (Z/9)^0..2 as the reference's, normal targets; fully connected.
 */
function qm9Batch(rng: Random): Molecules {
  const species = [1, 6, 7, 8, 9], weights = [0.51, 0.35, 0.06, 0.075, 0.005];
  const sizes: number[] = [];
  for (let m = 0; m < QM9.molecules; m++) {
    sizes.push(Math.min(29, Math.max(9, Math.round(18 + 3 * rng.normal()))));
  }
  const atoms = sizes.reduce((a, b) => a + b, 0);
  const z = new Float32Array(atoms), pos = new Float32Array(atoms * 3);
  const h0 = new Float32Array(atoms * 15);
  for (let a = 0; a < atoms; a++) {
    let u = rng.uniform(), s = 0;
    while (s < 4 && u >= weights[s]) u -= weights[s++];
    z[a] = species[s];
    for (let p = 0; p < 3; p++) h0[a * 15 + 3 * s + p] = (z[a] / 9) ** p;
    for (let k = 0; k < 3; k++) pos[a * 3 + k] = 1.5 * rng.normal();
  }
  const y = Float32Array.from({ length: QM9.molecules }, () => rng.normal());
  return { sizes, z, pos, h0, y, host: fullyConnected(sizes) };
}

// ---------------------------------------------------------------------------------------------
// Workloads.

function nbodyWorkload(
  name: "egnn" | "gnn" | "rf",
  data: NBodySplitData,
  graphs: BatchGraphs,
  stepCount: number,
): Workload {
  const model = buildNBodyModel(name, {
    hiddenNf: NBODY.hidden,
    nLayers: NBODY.layers,
    dim: 3,
    seed: 1,
  });
  const B = NBODY.batch;
  const fixed = uploadBatch(data, Array.from({ length: B }, (_, i) => i), graphs);
  const kept = [fixed.x, fixed.v, fixed.vNorm, fixed.nodes, fixed.edgeAttr, fixed.chargeProduct];
  for (const t of [...kept, fixed.target]) t.keep();
  const order = Array.from({ length: data.count }, (_, i) => i);
  new Random(7).shuffle(order);
  const batches = Math.floor(data.count / B);
  const g = graphs.get(B).host;
  return {
    name,
    params: model.params!,
    batchLabel: `${B} systems × ${NBODY.bodies} bodies`,
    shape: { nodes: g.numNodes, edges: g.numEdges, graphs: B },
    lr: REFERENCE_LR[name],
    forward: () => model.forward(fixed),
    stepLoss: (k) => {
      const s = k % batches;
      const b = uploadBatch(data, order.slice(s * B, (s + 1) * B), graphs);
      return mseLoss(model.forward(b), b.target);
    },
    afterStep: () => {},
    epoch: { steps: batches, perSamples: data.count, samplesPerStep: B, unit: "epoch of 3,000" },
    forwardReps: 10,
    forwardSamples: 5,
    warmupSteps: 2,
    stepCount,
    dispose: () => {
      for (const t of [...kept, fixed.target]) t.dispose();
      model.params!.dispose();
    },
  };
}

function qm9Workload(batches: Molecules[], stepCount: number): Workload {
  const model = new QM9Model({ hiddenNf: QM9.hidden, nLayers: QM9.layers, seed: 1 });
  const up = (m: Molecules) => ({
    h0: fromArray(m.h0, [m.z.length, 15]),
    x: fromArray(m.pos, [m.z.length, 3]),
    y: fromArray(m.y, [m.y.length, 1]),
  });
  const f = batches[0];
  const fixed = up(f);
  for (const t of Object.values(fixed)) t.keep();
  const fixedGraph = uploadGraph(f.host);
  let stepGraph: DeviceGraph | null = null;
  return {
    name: "qm9",
    params: model.params,
    batchLabel: `${QM9.molecules} molecules (${f.z.length} atoms)`,
    shape: { nodes: f.host.numNodes, edges: f.host.numEdges, graphs: QM9.molecules },
    lr: 5e-4,
    forward: () => model.forward(fixed.h0, fixed.x, fixedGraph),
    stepLoss: (k) => {
      // Each step uploads its batch's graph and features (the host graph is built beforehand).
      const m = batches[k % batches.length];
      stepGraph = uploadGraph(m.host);
      const b = up(m);
      return l1Loss(model.forward(b.h0, b.x, stepGraph), b.y);
    },
    afterStep: () => {
      stepGraph?.dispose(); // safe: later commands run after this step's (one queue, in order)
      stepGraph = null;
    },
    // 20–40 s a step on a 2-core CPU: the epoch figure is the median step scaled to 1,000.
    epoch: {
      steps: 0,
      perSamples: QM9.epochMolecules,
      samplesPerStep: QM9.molecules,
      unit: "per 1,000 molecules",
    },
    forwardReps: 1,
    forwardSamples: 2,
    warmupSteps: 1,
    stepCount,
    dispose: () => {
      for (const t of Object.values(fixed)) t.dispose();
      fixedGraph.dispose();
      model.params.dispose();
    },
  };
}

/** Σ 2·M·K·N over the dense layers; M from the layer's name (edges, graphs or nodes). */
function forwardFlops(w: Workload): number {
  let flops = 0;
  for (const t of w.params.tensors) {
    if (t.shape.length !== 2) continue;
    const rows = /(^|\.)(edge_mlp|coord_mlp|phi|att_mlp)\.\d/.test(t.name)
      ? w.shape.edges
      : /^graph_dec\./.test(t.name)
      ? w.shape.graphs
      : w.shape.nodes;
    flops += 2 * rows * t.shape[0] * t.shape[1];
  }
  return flops;
}

// ---------------------------------------------------------------------------------------------
// Timing (ours).

async function idle(): Promise<void> {
  await submit();
  await gpuSync().device.queue.onSubmittedWorkDone();
}

/**
 * Median ms of one forward pass: R passes in one submission plus one read, over R. R is at least
 * the workload's, and more where a pass is fast (a GPU): enough that a sample lasts ≥ 100 ms, so
 * the read's fixed ~11 ms (Deno polls for it) is ≤ ~10 % of the figure, at most 200.
 */
async function timeForward(w: Workload): Promise<{ ms: number; out: Float32Array; reps: number }> {
  const sample = async (reps: number) => {
    await idle();
    const t0 = performance.now();
    let out: Tensor | null = null;
    for (let r = 0; r < reps; r++) {
      if (r > 0) endStep(); // the previous pass's temporaries are reused by the next
      out = noGrad(() => w.forward());
    }
    const values = await read(out!.reshape([out!.size]));
    const ms = (performance.now() - t0) / reps;
    resetTape();
    endStep();
    return { ms, values };
  };
  const { values } = await sample(1); // warm-up: pipelines compiled; the cross-check's output
  const probe = await sample(w.forwardReps);
  const reps = Math.min(200, Math.max(w.forwardReps, Math.ceil(100 / probe.ms)));
  const samples: number[] = [];
  for (let i = 0; i < w.forwardSamples; i++) samples.push((await sample(reps)).ms);
  return { ms: median(samples), out: values, reps };
}

async function benchOurs(w: Workload): Promise<{ row: Row; out: Float32Array }> {
  const opt = new Adam(w.params, { lr: w.lr, weightDecay: 1e-12 });
  const meter = new LossMeter();
  const fwd = await timeForward(w);
  let k = 0;
  const step = async () => {
    await trainStep(() => w.stepLoss(k++), opt, { meter, lossWeight: 1 });
    w.afterStep();
  };
  for (let i = 0; i < w.warmupSteps; i++) await step(); // warm-up: backward and Adam pipelines
  meter.reset();
  await idle();
  resetStats();
  const stepMs: number[] = [], hostMs: number[] = [];
  for (let i = 0; i < w.stepCount; i++) {
    const t0 = performance.now();
    await step(); // returns once submitted: the host's part
    hostMs.push(performance.now() - t0);
    await gpuSync().device.queue.onSubmittedWorkDone();
    stepMs.push(performance.now() - t0);
  }
  const dispatches = stats.dispatches / w.stepCount, submits = stats.submits / w.stepCount;
  const ms = median(stepMs);
  let epochS: number, loss: number;
  if (w.epoch.steps > 0) {
    meter.reset();
    await idle();
    resetStats();
    const t0 = performance.now();
    for (let s = 0; s < w.epoch.steps; s++) await step();
    loss = await meter.readMean();
    epochS = (performance.now() - t0) / 1000 * w.epoch.perSamples /
      (w.epoch.steps * w.epoch.samplesPerStep);
  } else {
    loss = await meter.readMean(); // the timed steps' one loss read
    epochS = ms / 1000 * w.epoch.perSamples / w.epoch.samplesPerStep;
  }
  const syncs = stats.syncs;
  if (!Number.isFinite(loss)) throw new Error(`${w.name}: the training loss became ${loss}`);
  opt.dispose();
  meter.dispose();
  const ff = forwardFlops(w), sf = 3 * ff;
  if (submits !== 1) console.error(`${w.name}: a training step made ${submits} submissions`);
  const row: Row = {
    model: w.name,
    impl: "ours (WebGPU)",
    params: w.params.count,
    forwardMs: fwd.ms,
    stepMs: ms,
    hostMs: median(hostMs),
    epochS,
    epochUnit: w.epoch.unit,
    dispatchesPerStep: dispatches,
    syncsPerEpoch: syncs,
    forwardFlops: ff,
    stepFlops: sf,
    forwardGflops: ff / fwd.ms / 1e6,
    stepGflops: sf / ms / 1e6,
    forwardReps: `${w.forwardSamples}×${fwd.reps}`,
    stepReps: w.stepCount,
    epochSteps: w.epoch.steps,
  };
  return { row, out: fwd.out };
}

/** One row with the median forward, step and epoch times of several rounds' rows of a model. */
function medianRow(same: Row[]): Row {
  const forwardMs = median(same.map((r) => r.forwardMs)),
    stepMs = median(same.map((r) => r.stepMs));
  return {
    ...same[0],
    forwardMs,
    stepMs,
    hostMs: median(same.map((r) => r.hostMs ?? NaN)),
    epochS: median(same.map((r) => r.epochS)),
    forwardGflops: same[0].forwardFlops / forwardMs / 1e6,
    stepGflops: same[0].stepFlops / stepMs / 1e6,
  };
}

/**
 * Per-kernel GPU time of `n` training steps (`setProfiling`: every dispatch stamped in a pass of
 * its own), printed per step, slowest first. For finding hot kernels; the step figures above are
 * timed without it.
 */
async function profileSteps(w: Workload, n: number): Promise<void> {
  const opt = new Adam(w.params, { lr: w.lr, weightDecay: 1e-12 });
  let k = 0;
  const step = async () => {
    await trainStep(() => w.stepLoss(k++), opt, { lossWeight: 1 });
    w.afterStep();
  };
  await step(); // the profiled pipelines' first use
  setProfiling(true);
  for (let i = 0; i < n; i++) await step();
  await gpuSync().device.queue.onSubmittedWorkDone();
  const report = profileReport();
  setProfiling(false);
  opt.dispose();
  console.log(`\nprofile of ${LABELS[w.name]}: GPU time per training step, ${n} steps`);
  printProfile(report, n);
}

// ---------------------------------------------------------------------------------------------
// Exchange with PyTorch.

/** Our parameters under PyTorch's names and layout (2-D weights out×in). */
async function torchStateDict(
  ps: ParameterSet,
): Promise<Record<string, { data: Float32Array; shape: number[] }>> {
  const values = await ps.toHost();
  const out: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const t of ps.tensors) {
    const v = values.get(t.name)!;
    if (t.shape.length === 2) {
      const [inp, o] = t.shape, tr = new Float32Array(v.length);
      for (let i = 0; i < inp; i++) for (let j = 0; j < o; j++) tr[j * inp + i] = v[i * o + j];
      out[t.name] = { data: tr, shape: [o, inp] };
    } else out[t.name] = { data: v, shape: [...t.shape] };
  }
  return out;
}

async function findPython(): Promise<string | null> {
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      const r = await new Deno.Command(py, {
        args: ["-c", "import torch, numpy"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (r.success) return py;
    } catch {
      // not installed: try the next
    }
  }
  return null;
}

async function runTorch(
  python: string,
  dir: string,
  models: ModelName[],
  steps: number,
  qm9Steps: number,
  device: string,
): Promise<TorchReport> {
  const script = new URL("./torch/bench_nbody.py", import.meta.url).pathname;
  const child = new Deno.Command(python, {
    args: [
      script,
      "--dir",
      dir,
      "--models",
      models.join(","),
      "--steps",
      String(steps),
      "--qm9-steps",
      String(qm9Steps),
      "--device",
      device,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${python} ${script} failed (exit ${out.code})`);
  const last = text.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as TorchReport;
}

// ---------------------------------------------------------------------------------------------
// Table.

function fmt(x: number | null, digits: number): string {
  if (x === null || !Number.isFinite(x)) return "–";
  return x.toFixed(digits);
}

function printTable(
  rows: Row[],
  ratios: Map<ModelName, Record<string, number>>,
  ratioLabel: string,
): void {
  const head = [
    "model".padEnd(13),
    "implementation".padEnd(17),
    "params".padStart(8),
    "fwd ms".padStart(9),
    "step ms".padStart(9),
    "host ms".padStart(8),
    "epoch s".padStart(8),
    "disp/step".padStart(9),
    "syncs/ep".padStart(8),
    "GFLOP/step".padStart(10),
    "GFLOP/s fwd".padStart(11),
    "GFLOP/s step".padStart(12),
  ];
  console.log(head.join(" "));
  let last: ModelName | null = null;
  for (const r of rows) {
    if (last && last !== r.model) {
      const q = ratios.get(last);
      if (q) printRatio(q, ratioLabel);
    }
    last = r.model;
    console.log([
      LABELS[r.model].padEnd(13),
      r.impl.padEnd(17),
      String(r.params).padStart(8),
      fmt(r.forwardMs, 1).padStart(9),
      fmt(r.stepMs, 1).padStart(9),
      fmt(r.hostMs, 1).padStart(8),
      fmt(r.epochS, 2).padStart(8),
      (r.dispatchesPerStep === null ? "–" : String(+r.dispatchesPerStep.toFixed(1))).padStart(9),
      (r.syncsPerEpoch === null ? "–" : String(r.syncsPerEpoch)).padStart(8),
      fmt(r.stepFlops / 1e9, 3).padStart(10),
      fmt(r.forwardGflops, 2).padStart(11),
      fmt(r.stepGflops, 2).padStart(12),
    ].join(" "));
  }
  if (last && ratios.get(last)) printRatio(ratios.get(last)!, ratioLabel);
}

function printRatio(q: Record<string, number>, label: string): void {
  console.log([
    "".padEnd(13),
    label.padEnd(17),
    "".padStart(8),
    `${fmt(q.forward, 2)}×`.padStart(9),
    `${fmt(q.step, 2)}×`.padStart(9),
    "".padStart(8),
    `${fmt(q.epoch, 2)}×`.padStart(8),
  ].join(" "));
}

// ---------------------------------------------------------------------------------------------
// Main.

const SPEC = {
  models: { type: "string" as const, description: "comma-separated: egnn,gnn,rf,qm9" },
  steps: { type: "string" as const, description: "timed training steps (N-body; default 20)" },
  "qm9-steps": {
    type: "string" as const,
    description: "timed training steps of the QM9 model (default 3)",
  },
  "no-torch": { type: "boolean" as const, description: "skip the PyTorch rows" },
  rounds: {
    type: "string" as const,
    description:
      "repeat ours-then-PyTorch this many times; the table takes the medians (default 1)",
  },
  profile: {
    type: "boolean" as const,
    description:
      "after timing, profile 5 training steps per model kernel by kernel (GPU timestamps)",
  },
  "torch-device": {
    type: "string" as const,
    description: "where PyTorch's rows run: cpu (default; 1 thread and all threads) or cuda",
  },
  "whole-layer": {
    type: "string" as const,
    description: "EGCL forward without gradients as one dispatch per layer: auto (the kernel " +
      "profile's choice, default), on or off; the fwd column shows it",
  },
};
const args = parseCommandLine(Deno.args, SPEC).options;
const models = ((args.models as string | undefined) ?? ALL_MODELS.join(",")).split(",")
  .map((s) => s.trim()).filter((s) => s.length > 0) as ModelName[];
for (const m of models) {
  if (!ALL_MODELS.includes(m)) {
    throw new Error(`--models: unknown model ${m} (choose from ${ALL_MODELS.join(", ")})`);
  }
}
const steps = Number(args.steps ?? 20), qm9Steps = Number(args["qm9-steps"] ?? 3);
if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(qm9Steps) && qm9Steps >= 1)) {
  throw new Error("--steps and --qm9-steps take positive integers");
}
const rounds = Number(args.rounds ?? 1);
if (!(Number.isInteger(rounds) && rounds >= 1)) {
  throw new Error("--rounds takes a positive integer");
}
const torchDevice = (args["torch-device"] as string | undefined) ?? "cpu";
if (torchDevice !== "cpu" && torchDevice !== "cuda") {
  throw new Error(`--torch-device: expected cpu or cuda, got ${torchDevice}`);
}
const onCuda = torchDevice === "cuda";
const wholeLayer = (args["whole-layer"] as string | undefined) ?? "auto";
if (wholeLayer !== "auto" && wholeLayer !== "on" && wholeLayer !== "off") {
  throw new Error(`--whole-layer: expected auto, on or off, got ${wholeLayer}`);
}
egclSwitches.wholeLayer = wholeLayer === "auto" ? "auto" : wholeLayer === "on";

const gpu = await getGpu();
const adapter = `${gpu.info.description} (${gpu.info.backendGuess})`;
const loadBefore = Deno.loadavg();
console.log(`adapter: ${adapter}`);
const profile = describeKernelProfile() +
  (wholeLayer === "auto" ? "" : `; whole-layer EGCL forward ${wholeLayer} (--whole-layer)`);
console.log(`kernel profile: ${profile}`);
console.log(`load average (1, 5, 15 min): ${loadBefore.map((v) => v.toFixed(2)).join(", ")}`);

const python = args["no-torch"] ? null : await findPython();
if (!args["no-torch"] && !python) {
  console.log(
    "PyTorch rows are skipped: neither python3 nor /usr/bin/python3 imports torch and numpy " +
      "(install with `apt-get install -y python3-torch` or `pip install torch numpy`).",
  );
}
const dir = await Deno.makeTempDir({ prefix: "egnn-bench-" });
const inputs: Record<string, { data: Float32Array | Int32Array; shape: number[] }> = {};
const nbody = syntheticNBody(NBODY.systems, NBODY.bodies, 42);
inputs.x0 = { data: Float32Array.from(nbody.x0), shape: [NBODY.systems, NBODY.bodies, 3] };
inputs.v0 = { data: Float32Array.from(nbody.v0), shape: [NBODY.systems, NBODY.bodies, 3] };
inputs.xT = { data: Float32Array.from(nbody.xT), shape: [NBODY.systems, NBODY.bodies, 3] };
inputs.charges = { data: Float32Array.from(nbody.charges), shape: [NBODY.systems, NBODY.bodies] };
inputs.nbody_batch = { data: Int32Array.from([NBODY.batch]), shape: [1] };
const qrng = new Random(43);
const molecules = models.includes("qm9")
  ? Array.from({ length: QM9.batches }, () => qm9Batch(qrng))
  : [];
molecules.forEach((m, i) => {
  inputs[`qm9_sizes_${i}`] = { data: Int32Array.from(m.sizes), shape: [m.sizes.length] };
  inputs[`qm9_h0_${i}`] = { data: m.h0, shape: [m.z.length, 15] };
  inputs[`qm9_pos_${i}`] = { data: m.pos, shape: [m.z.length, 3] };
  inputs[`qm9_y_${i}`] = { data: m.y, shape: [m.y.length] };
});
await Deno.writeFile(`${dir}/inputs.npz`, writeNpz(inputs));

const graphs = new BatchGraphs(NBODY.bodies);
const shapes: Record<string, Workload["shape"] & { batch: string }> = {};
// Each round times ours and PyTorch's for every model: ours first in even rounds, PyTorch first in
// odd ones (its exchange files are the first round's: the weights are seeded), so that a drift of
// the machine's load does not always favour the same side; with several rounds the table takes the
// median of the rounds' figures, both sides sampled over the same minutes.
const oursRounds: Row[][] = [];
const torchRounds: TorchReport[] = [];
const timeTorch = async () => {
  if (!python) return;
  console.error(`PyTorch: ${python} bench/torch/bench_nbody.py …`);
  torchRounds.push(await runTorch(python, dir, models, steps, qm9Steps, torchDevice));
};
for (let round = 0; round < rounds; round++) {
  if (rounds > 1) console.error(`round ${round + 1} of ${rounds}`);
  const torchFirst = round % 2 === 1;
  if (torchFirst) await timeTorch();
  const rows: Row[] = [];
  for (const name of models) {
    const w = name === "qm9"
      ? qm9Workload(molecules, qm9Steps)
      : nbodyWorkload(name, nbody, graphs, steps);
    shapes[name] = { ...w.shape, batch: w.batchLabel };
    console.error(
      `${LABELS[name]}: ${w.params.count} parameters, ${w.batchLabel}, ` +
        `${w.shape.nodes} nodes, ${w.shape.edges} edges …`,
    );
    // The initialised weights, before any training step: PyTorch's forward must agree.
    await Deno.writeFile(`${dir}/weights_${name}.npz`, writeNpz(await torchStateDict(w.params)));
    const t0 = performance.now();
    const { row, out } = await benchOurs(w);
    await Deno.writeFile(
      `${dir}/out_${name}.npz`,
      writeNpz({ out: { data: out, shape: [out.length] } }),
    );
    rows.push(row);
    if (args.profile && round === 0) await profileSteps(w, 5);
    console.error(`  ours done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    w.dispose();
    endStep();
  }
  oursRounds.push(rows);
  if (!torchFirst) await timeTorch();
}
graphs.dispose();
const rows = models.map((name) =>
  medianRow(oursRounds.map((r) => r.find((x) => x.model === name)!))
);
const torch: TorchReport | null = torchRounds.length === 0 ? null : {
  ...torchRounds[0],
  rows: torchRounds[0].rows.map((first) => {
    const same = torchRounds.map((t) =>
      t.rows.find((r) => r.model === first.model && r.threads === first.threads)!
    );
    const epochs = same.map((r) => r.epochS).filter((v): v is number => v !== null);
    return {
      ...first,
      forwardMs: median(same.map((r) => r.forwardMs)),
      stepMs: median(same.map((r) => r.stepMs)),
      epochS: epochs.length > 0 ? median(epochs) : null,
    };
  }),
};
await Deno.remove(dir, { recursive: true });
const loadAfter = Deno.loadavg();

// Rows in model order: ours, then PyTorch's (1 thread, then all threads), then the ratios.
const table: Row[] = [];
const ratios = new Map<ModelName, Record<string, number>>();
const crosscheck: Record<string, { maxRelErr: number; pass: boolean }> = {};
for (const name of models) {
  const ours = rows.find((r) => r.model === name)!;
  table.push(ours);
  for (const t of torch?.rows.filter((r) => r.model === name) ?? []) {
    if (t.params !== ours.params) {
      throw new Error(`${name}: PyTorch's model has ${t.params} parameters, ours ${ours.params}`);
    }
    // As ours: a timed epoch, or (QM9) the median step scaled to 1,000 molecules; none for
    // the all-threads rows.
    const epochS = t.epochSteps > 0
      ? t.epochS ?? NaN
      : name === "qm9" && (t.threads === 1 || onCuda)
      ? t.stepMs / 1000 * QM9.epochMolecules / QM9.molecules
      : NaN;
    table.push({
      model: name,
      impl: onCuda ? "torch CUDA" : `torch ${t.threads} thread${t.threads > 1 ? "s" : ""}`,
      params: t.params,
      forwardMs: t.forwardMs,
      stepMs: t.stepMs,
      hostMs: null,
      epochS,
      epochUnit: ours.epochUnit,
      dispatchesPerStep: null,
      syncsPerEpoch: null,
      forwardFlops: ours.forwardFlops,
      stepFlops: ours.stepFlops,
      forwardGflops: ours.forwardFlops / t.forwardMs / 1e6,
      stepGflops: ours.stepFlops / t.stepMs / 1e6,
      forwardReps: String(t.forwardReps),
      stepReps: t.stepReps,
      epochSteps: t.epochSteps,
    });
    if (t.threads === 1 || onCuda) {
      ratios.set(name, {
        forward: ours.forwardMs / t.forwardMs,
        step: ours.stepMs / t.stepMs,
        epoch: ours.epochS / epochS,
      });
    }
  }
  const c = torch?.crosscheck[name];
  if (c) crosscheck[name] = { maxRelErr: c.maxRelErr, pass: c.maxRelErr <= TOLERANCE };
}

console.log("");
const ratioLabel = onCuda ? "ours/torch(CUDA)" : "ours/torch(1t)";
printTable(table, ratios, ratioLabel);
const notes = [
  `fwd ms: forward pass of one batch. Ours: median of 5 samples of (R passes in one submission + ` +
  `one read)/R, R ≥ 10 so that a sample lasts ≥ 100 ms (at most 200; the JSON's forwardReps) ` +
  `(QM9: 2 samples of R ≥ 1); torch: median of ${Math.max(20, steps)} single ` +
  `no_grad passes (QM9: ${Math.max(2, qm9Steps)}).`,
  `step ms: median of ${steps} training steps (QM9: ${qm9Steps}) after warm-up, each waited ` +
  "for alone: batch upload/assembly, forward, loss, backward, Adam (ours: one submission).",
  "host ms (ours): the same steps' host part, from the step's start to its submission (the " +
  "device idle at the start): recording, encoding, queue.submit. A step back to back cannot " +
  "take less; on a GPU it is most of the step.",
  "epoch s: N-body: 30 steps of 100 systems (3,000 samples) back to back + the epoch's one " +
  `loss read (PyTorch: 1 thread only). QM9: seconds per 1,000 molecules = ` +
  `median step × ${QM9.epochMolecules}/${QM9.molecules} (not timed as a run: tens of seconds ` +
  "a step here).",
  "disp/step: compute dispatches of one step; syncs/ep: GPU→CPU reads in an epoch (QM9: in " +
  "the timed steps + their loss read). GFLOP/step: dense layers, Σ 2·M·K·N × 3 (forward, dX, " +
  "dW); GFLOP/s from the fwd and step medians (forward FLOPs = step / 3).",
  `ratio: time ours / time PyTorch (${onCuda ? "CUDA" : "1 thread"}); > 1 means ours is slower.`,
];
if (rounds > 1) {
  notes.push(
    `rounds: ${rounds}, ours first in odd-numbered rounds, PyTorch first in even-numbered ones; ` +
      "the table gives the median of the rounds' " +
      "fwd, step and epoch figures (per-round step ratios below).",
  );
}
for (const n of notes) console.log(n);
for (const name of models) {
  if (rounds === 1 || torchRounds.length === 0) break;
  const per = oursRounds.map((r, i) => {
    const t = torchRounds[i].rows.find((x) => x.model === name && (x.threads === 1 || onCuda));
    return t ? r.find((x) => x.model === name)!.stepMs / t.stepMs : NaN;
  });
  console.log(
    `step ratio per round, ${LABELS[name]}: ${per.map((q) => `${fmt(q, 2)}×`).join(", ")}`,
  );
}
for (const [name, c] of Object.entries(crosscheck)) {
  console.log(
    `cross-check ${LABELS[name as ModelName]}: max |ours − torch| / max(1, |torch|) = ` +
      `${c.maxRelErr.toExponential(2)} (≤ 1e-5): ${c.pass ? "PASS" : "FAIL"}`,
  );
}
if (torch?.gpu) console.log(`PyTorch ${torch.torch} on ${torch.gpu} (CUDA)`);
if (torch) {
  console.log(
    `torch matmul 2000×131×64, 1 thread: ${torch.matmulGflops.toFixed(1)} GFLOP/s` +
      (torch.matmulGflops < 15
        ? " — slow BLAS (Debian's reference libblas3?): install libopenblas0-pthread for a fair " +
          "baseline"
        : ""),
  );
}
console.log(`load average after: ${loadAfter.map((v) => v.toFixed(2)).join(", ")}`);

const report = {
  date: new Date().toISOString(),
  adapter: gpu.info,
  kernelProfile: profile,
  cpuCores: navigator.hardwareConcurrency,
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadAfter,
  options: { models, steps, qm9Steps, rounds, torch: !!python, torchDevice },
  torch: torch
    ? {
      python,
      version: torch.torch,
      numpy: torch.numpy,
      defaultThreads: torch.defaultThreads,
      matmulGflops: torch.matmulGflops,
      device: torch.device ?? "cpu",
      gpu: torch.gpu ?? null,
    }
    : null,
  shapes,
  method: {
    forward: "ours: median over samples of (R passes in one submission + one read) / R; " +
      "torch: median of single no_grad passes",
    step: "median of single training steps (upload/assembly, forward, backward, Adam) after " +
      "warm-up; ours waits for each step with queue.onSubmittedWorkDone()",
    epoch: "N-body: wall time of 30 steps (3,000 samples) + one loss read; QM9: seconds per " +
      "1,000 molecules = median step × 1000/96",
    flops: "dense layers only: Σ 2·M·K·N forward (M = edges, nodes or graphs), ×3 per step",
  },
  rows: table,
  ratiosOursOverTorch: { against: ratioLabel, ...Object.fromEntries(ratios) },
  crosscheck,
};
await Deno.mkdir(RESULTS_DIR, { recursive: true });
await Deno.writeTextFile(`${RESULTS_FILE}.tmp`, JSON.stringify(report, null, 2) + "\n");
await Deno.rename(`${RESULTS_FILE}.tmp`, RESULTS_FILE);
console.log(`wrote ${RESULTS_FILE}`);
if (Object.values(crosscheck).some((c) => !c.pass)) Deno.exit(1);
