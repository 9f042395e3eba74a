/**
 * Writes our generated N-body data set as one `.npz` for the PyTorch side: per split (`train`,
 * `val`, `test`) `<split>_x0`, `<split>_v0`, `<split>_xT` (systems × bodies × dim, float32) and
 * `<split>_charges` (systems × bodies). The set is the one the configs train on (simulator seed 43,
 * 3,000 / 2,000 / 2,000, frames 30 → 40) unless `--seed` says otherwise.
 *
 * Why: `bench/torch/train_nbody.py` trains the reference's EGNN in PyTorch on this file, so the
 * reference model and ours can be compared on the same data (issue 4, point 2).
 *
 * Usage: `deno run -A bench/nbody_export_data.ts --out /tmp/nbody_ours.npz [--seed 43]`
 * (about a minute: the simulation).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { writeNpz } from "../lib/io/npz.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { generateNBodyDataset } from "../lib/sim/nbody_dataset.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { out: { type: "string" }, seed: { type: "string", default: "43" } },
});
if (!values.out) throw new Error("usage: bench/nbody_export_data.ts --out <file.npz> [--seed N]");
const seed = Number(values.seed);
if (!Number.isInteger(seed)) throw new Error(`--seed: ${values.seed}, expected an integer`);
const ds = generateNBodyDataset({ train: 3000, val: 2000, test: 2000, seed });
const arrays: Record<string, { data: Float32Array; shape: number[] }> = {};
for (const [name, s] of Object.entries(ds.splits)) {
  const n = s.charges.length / s.count, dim = s.x0.length / s.charges.length;
  arrays[`${name}_x0`] = { data: s.x0, shape: [s.count, n, dim] };
  arrays[`${name}_v0`] = { data: s.v0, shape: [s.count, n, dim] };
  arrays[`${name}_xT`] = { data: s.xT, shape: [s.count, n, dim] };
  arrays[`${name}_charges`] = { data: s.charges, shape: [s.count, n] };
}
await writeFileAtomic(values.out, writeNpz(arrays));
console.log(`wrote ${values.out}: simulator seed ${seed}, 3000 / 2000 / 2000 systems`);
