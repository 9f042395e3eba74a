/**
 * How much a trained N-body model's MSE moves between independently drawn 2,000-sample sets: the
 * checkpoint's model is evaluated on the validation and test splits of simulator seeds 43 (the
 * configs' data), 1 and 2 (each generated as the configs do: 3,000 training simulations, then
 * validation, then test, from one stream), and on the first 2,000 simulations of seeds 3–8. It
 * also prints the MSE of each batch of 100 of the seed-43 validation split.
 *
 * Why: issue 4 compares our best validation MSE by epoch 100 with the reference code's (0.00866,
 * one run on its own data). This shows how much of a gap the choice of a 2,000-sample set alone
 * can make for one and the same model.
 *
 * With a second argument, the directory of the reference generator's `.npy` files (e.g. made by
 * `python3 bench/torch/reference_nbody_generator.py --out <dir>`, the reference's own data set), it
 * first evaluates the model on that set's validation and test splits.
 *
 * Usage: `deno run -A bench/nbody_val_spread.ts <checkpoint of an EGNN N-body run> [<dir>]`, e.g.
 * `results/nbody_egnn_egnn.ckpt` after `cli.ts --config configs/nbody_egnn.json --set
 * train.epochs=100`. About 1.5 minutes on a 2-core CPU adapter (simulation is most of it).
 *
 * @module
 */

import { getGpu } from "../lib/gpu/device.ts";
import { endStep } from "../lib/gpu/tensor.ts";
import { noGrad } from "../lib/gpu/tape.ts";
import { LossMeter, mseLoss } from "../lib/gpu/kernels/losses.ts";
import { loadCheckpoint } from "../lib/io/checkpoint.ts";
import { BatchGraphs, type NBodySplitData, uploadBatch } from "../lib/experiments/nbody/batches.ts";
import { buildNBodyModel } from "../lib/experiments/nbody/methods.ts";
import {
  generateNBodyDataset,
  type NBodySplit,
  readReferenceNBodyDataset,
} from "../lib/sim/nbody_dataset.ts";

const path = Deno.args[0];
if (!path) throw new Error("usage: deno run -A bench/nbody_val_spread.ts <checkpoint>");
const gpu = await getGpu();
console.log(`adapter: ${gpu.info.description}; checkpoint ${path}`);
const model = buildNBodyModel("egnn", { hiddenNf: 64, nLayers: 4, dim: 3, seed: 1 });
await loadCheckpoint(path, model.params!);
const graphs = new BatchGraphs(5);

const asData = (s: NBodySplit, first = 0, count = s.x0.length / 15): NBodySplitData => ({
  count,
  nBodies: 5,
  dim: 3,
  x0: s.x0.subarray(first * 15, (first + count) * 15),
  v0: s.v0.subarray(first * 15, (first + count) * 15),
  xT: s.xT.subarray(first * 15, (first + count) * 15),
  charges: s.charges.subarray(first * 5, (first + count) * 5),
});

/** The split's MSE (mean over systems, bodies and axes), batches of 100. */
async function mse(split: NBodySplitData): Promise<number> {
  const meter = new LossMeter();
  for (let s = 0; s < split.count; s += 100) {
    const sims = Array.from({ length: Math.min(100, split.count - s) }, (_, i) => s + i);
    noGrad(() => {
      const b = uploadBatch(split, sims, graphs);
      meter.add(mseLoss(model.forward(b), b.target), sims.length);
    });
    endStep();
  }
  const m = await meter.readMean();
  meter.dispose();
  return m;
}

if (Deno.args[1]) {
  const ref = await readReferenceNBodyDataset(Deno.args[1]);
  const val = await mse(asData(ref.splits.val)), test = await mse(asData(ref.splits.test));
  console.log(
    `reference generator's files (${Deno.args[1]}): validation ${val.toFixed(5)}, test ${
      test.toFixed(5)
    }`,
  );
}

const all: number[] = [];
for (const seed of [43, 1, 2]) {
  const ds = generateNBodyDataset({ train: 3000, val: 2000, test: 2000, seed });
  const val = await mse(asData(ds.splits.val)), test = await mse(asData(ds.splits.test));
  all.push(val, test);
  console.log(`simulator seed ${seed}: validation ${val.toFixed(5)}, test ${test.toFixed(5)}`);
  if (seed === 43) {
    const per: string[] = [];
    for (let b = 0; b < 20; b++) {
      per.push((await mse(asData(ds.splits.val, 100 * b, 100))).toFixed(4));
    }
    console.log(`  its validation split by batch of 100: ${per.join(" ")}`);
  }
}
for (const seed of [3, 4, 5, 6, 7, 8]) {
  const ds = generateNBodyDataset({ train: 0, val: 2000, test: 0, seed });
  const m = await mse(asData(ds.splits.val));
  all.push(m);
  console.log(`simulator seed ${seed}, first 2,000 simulations: ${m.toFixed(5)}`);
}
const mean = all.reduce((a, b) => a + b, 0) / all.length;
const sd = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1));
console.log(
  `${all.length} sets of 2,000: mean ${mean.toFixed(5)}, sd ${sd.toFixed(5)}, ` +
    `min ${Math.min(...all).toFixed(5)}, max ${Math.max(...all).toFixed(5)}`,
);
graphs.dispose();
