/**
 * Replays autoencoder training from a checkpoint one step at a time, reading every step's loss:
 * to find where a run's training blew up (the trainer reads the loss once per epoch, so its curve
 * only says which epoch). The steps are the run's own (the same shuffling and noise, restored from
 * the checkpoint); reading after each step changes nothing but the time.
 *
 *   deno run -A bench/ae_replay.ts --config configs/ae_community.json \
 *     --set name=ae_community_intended --set 'encoders=["egnn"]' \
 *     --checkpoint /tmp/copy_of_epoch_2.ckpt --epochs 1 --above 1000
 *
 * Give the same `--set`s as the run; `--checkpoint` is a copy of its checkpoint (the file is only
 * read). `--set train.clipGradNorm=c` replays what clipping would have done from the same state
 * (the checkpoint need not have clipped). Prints, per block of `--block` steps, the mean and largest step loss and the decoder's
 * w and b (the distance decoder σ(w‖z_i − z_j‖² + b)), and every step whose loss exceeds `--above`
 * with its graph's size. The last line is JSON with every step's loss.
 *
 * @module
 */

import { getGpu } from "../lib/gpu/device.ts";
import { readMany } from "../lib/gpu/tensor.ts";
import { Adam } from "../lib/gpu/optim.ts";
import { trainStep } from "../lib/gpu/step.ts";
import { LossMeter } from "../lib/gpu/kernels/losses.ts";
import { parseCommandLine } from "../lib/cli/args.ts";
import { loadConfig } from "../lib/config/load.ts";
import { type AeConfig, aeSchema } from "../lib/experiments/ae/config.ts";
import { aeLearningRate, aeStepLoss } from "../lib/experiments/ae/train.ts";
import { aeEncoderSeeds, aeSplits, buildAutoencoder } from "../lib/experiments/ae/run.ts";
import { AeGraphCache } from "../lib/experiments/ae/batches.ts";
import { loadTrainingCheckpoint } from "../lib/experiments/training_checkpoint.ts";
import { Random } from "../lib/random.ts";

const SPEC = {
  config: { type: "string" as const, description: "the run's config file" },
  set: { type: "string" as const, multiple: true, description: "the run's overrides" },
  checkpoint: { type: "string" as const, description: "a copy of the run's checkpoint" },
  epochs: { type: "string" as const, description: "epochs to replay (default 1)" },
  block: { type: "string" as const, description: "steps per printed block (default 250)" },
  above: { type: "string" as const, description: "print every step above this loss (1000)" },
};
const args = parseCommandLine(Deno.args, SPEC).options;
if (!args.config || !args.checkpoint) {
  throw new Error("ae_replay: --config FILE and --checkpoint FILE are required");
}
const { config } = loadConfig(args.config as string, { ae: aeSchema }, args.set as string[]);
const cfg = config as unknown as AeConfig;
const encoder = cfg.encoders[0];
if (encoder === "baseline" || cfg.datasets.length !== 1 || cfg.overfit.length > 0) {
  throw new Error("ae_replay: give one dataset and one trained encoder (--set encoders=[…])");
}
const epochs = Number(args.epochs ?? 1), block = Number(args.block ?? 250);
const above = Number(args.above ?? 1000);

await getGpu();
const data = aeSplits(cfg, cfg.datasets[0]);
const seeds = aeEncoderSeeds(cfg, 0);
const model = buildAutoencoder(cfg, encoder, seeds.params, seeds.noise);
// `--set train.clipGradNorm=c` replays what clipping would have done from the same state.
const opt = new Adam(model.params, {
  lr: cfg.train.lr,
  weightDecay: cfg.train.weightDecay,
  clipGradNorm: cfg.train.clipGradNorm,
});
const train = { ...cfg.train, seed: seeds.shuffling };
const meta = await loadTrainingCheckpoint(args.checkpoint as string, model.params, opt, {
  lr: train.lr,
  seed: train.seed,
  epochs: train.epochs,
  graphsPerStep: train.graphsPerStep,
}) as { epoch: number; rng: number[]; noise: number[] } | null;
if (!meta) throw new Error(`ae_replay: ${args.checkpoint}: no checkpoint there`);
const rng = new Random(train.seed);
rng.setState(meta.rng);
model.noise.setState(meta.noise);
const w = model.params.get("w"), b = model.params.get("b");
const cache = new AeGraphCache();
const meter = new LossMeter();
const order = Array.from({ length: data.train.length }, (_, i) => i);
const steps = Math.ceil(order.length / train.graphsPerStep);
const losses: number[] = [];
const clipNote = cfg.train.clipGradNorm > 0
  ? `, gradients clipped to norm ${cfg.train.clipGradNorm}`
  : "";
console.log(
  `replaying ${cfg.name} (${cfg.datasets[0]}, ${encoder}) from epoch ${meta.epoch}${clipNote}`,
);
console.log("epoch  steps        mean loss   largest   w         b");
for (let epoch = meta.epoch + 1; epoch <= meta.epoch + epochs; epoch++) {
  const lr = aeLearningRate(train, epoch);
  for (let i = 0; i < order.length; i++) order[i] = i;
  rng.shuffle(order);
  let sum = 0, max = -Infinity;
  for (let s = 0; s < steps; s++) {
    const graphs = order.slice(s * train.graphsPerStep, (s + 1) * train.graphsPerStep)
      .map((i) => data.train[i]);
    await trainStep(() => aeStepLoss(model, cache, graphs), opt, { meter, lr });
    const loss = (await meter.read()).mean;
    losses.push(loss);
    sum += loss;
    max = Math.max(max, loss);
    if (loss > above) {
      console.log(
        `  step ${s}: loss ${loss.toFixed(1)} (graph of ${graphs.map((g) => g.n)} nodes)`,
      );
    }
    if ((s + 1) % block === 0 || s === steps - 1) {
      const [wv, bv] = await readMany([w, b]);
      const from = s + 1 - ((s % block) + 1);
      console.log(
        `${String(epoch).padStart(5)}  ${String(from).padStart(4)}–${String(s).padEnd(4)}  ` +
          `${(sum / (s - from + 1)).toFixed(3).padStart(10)}  ${max.toFixed(1).padStart(8)}  ` +
          `${wv[0].toFixed(5).padStart(8)}  ${bv[0].toFixed(4)}`,
      );
      sum = 0;
      max = -Infinity;
    }
  }
}
console.log(JSON.stringify({ name: cfg.name, fromEpoch: meta.epoch, losses }));
cache.dispose();
meter.dispose();
opt.dispose();
