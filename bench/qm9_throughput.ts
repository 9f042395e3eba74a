/**
 * Forward throughput of the QM9 model over the shared QM9 geometries (`geometries/qm9_geom_*.xyz`,
 * 128,744 molecules of H, C, N, O): molecules per second of the paper-size model (128 hidden,
 * 7 layers, attention; 745,224 parameters) in batches of 96 unpadded, fully connected molecules,
 * on this run's adapter. The figure a GPU is judged by.
 *
 * Geometries are streamed file by file; each batch is uploaded, its forward pass recorded and
 * submitted, and the host builds the next batch while the device works; one read every
 * `--sync-every` batches bounds the queue. Reading and batching are timed with the rest: the
 * figure is end to end.
 *
 * Run: `deno task bench:qm9 [--limit N] [--every K] [--hidden 128] [--layers 7] [--batch 96]
 * [--data dir] [--json file]`. `--every K` keeps every K-th molecule (the whole size distribution
 * at 1/K of the time); `--limit N` stops after N molecules.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { getGpu } from "../lib/gpu/device.ts";
import { readMany, type Tensor } from "../lib/gpu/tensor.ts";
import { noGrad, resetTape } from "../lib/gpu/tape.ts";
import { endStep, fromArray } from "../lib/gpu/tensor.ts";
import { submit } from "../lib/gpu/commands.ts";
import { QM9Model } from "../lib/egnn/qm9_model.ts";
import { fullyConnected } from "../lib/egnn/graph.ts";
import { type DeviceGraph, uploadGraph } from "../lib/egnn/device_graph.ts";
import { readXyzMolecules } from "../lib/qm9/xyz.ts";
import { nodeFeatures } from "../lib/qm9/targets.ts";
import type { Molecule } from "../lib/qm9/molecule.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string" },
    limit: { type: "string" },
    every: { type: "string", default: "1" },
    hidden: { type: "string", default: "128" },
    layers: { type: "string", default: "7" },
    batch: { type: "string", default: "96" },
    "sync-every": { type: "string", default: "4" },
    json: { type: "string", default: "bench/results/qm9_throughput.json" },
  },
});
const root = values.data ?? Deno.env.get("QM9_DATA") ??
  decodeURIComponent(new URL("../../shared/data/qm9/", import.meta.url).pathname);
const dir = `${root.replace(/\/+$/, "")}/geometries`;
const limit = values.limit ? Number(values.limit) : Infinity;
const every = Number(values.every), batchSize = Number(values.batch);
const syncEvery = Number(values["sync-every"]);
const hidden = Number(values.hidden), layers = Number(values.layers);

let names: string[];
try {
  names = [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => n.startsWith("qm9_geom_") && n.endsWith(".xyz")).sort();
} catch (e) {
  console.error(`bench:qm9: cannot list ${dir} (${(e as Error).message}); give --data <dir>`);
  Deno.exit(1);
}

const { info } = await getGpu();
const model = new QM9Model({ hiddenNf: hidden, nLayers: layers });
console.log(
  `QM9 forward throughput — adapter: ${info.description} (${info.backendGuess}); model ` +
    `${hidden}×${layers} (${model.params.tensors.reduce((s, t) => s + t.size, 0)} parameters), ` +
    `batch ${batchSize}, every ${every}. molecule(s), limit ${limit}`,
);

function upload(mols: Molecule[]): { h0: Tensor; x: Tensor; graph: DeviceGraph; edges: number } {
  const sizes = mols.map((m) => m.charges.length);
  const atoms = sizes.reduce((a, b) => a + b, 0);
  const h0 = new Float32Array(atoms * 15), x = new Float32Array(atoms * 3);
  let a = 0;
  for (const m of mols) {
    nodeFeatures(m.charges, h0.subarray(a * 15, (a + m.charges.length) * 15));
    x.set(m.positions, a * 3);
    a += m.charges.length;
  }
  const g = fullyConnected(sizes);
  return {
    h0: fromArray(h0, [atoms, 15]),
    x: fromArray(x, [atoms, 3]),
    graph: uploadGraph(g),
    edges: g.numEdges,
  };
}

// Warm-up on the first batch: pipelines compiled before timing.
let warm: Molecule[] = [];
for await (const m of readXyzMolecules(`${dir}/${names[0]}`)) {
  warm.push(m);
  if (warm.length === batchSize) break;
}
{
  const b = upload(warm);
  const out = noGrad(() => model.forward(b.h0, b.x, b.graph));
  await readMany([out]);
  resetTape();
  endStep();
  b.graph.dispose();
  warm = [];
}

let molecules = 0, atoms = 0, edges = 0, batches = 0, seen = 0;
let checksum = 0;
const t0 = performance.now();
let pendingGraphs: DeviceGraph[] = [];
let last: Tensor | null = null;
/** Reads the newest batch's predictions: every batch before it has then finished. */
const drain = async () => {
  if (last === null) return;
  const [v] = await readMany([last]);
  for (const x of v) checksum += x;
  last.dispose();
  last = null;
  for (const g of pendingGraphs) g.dispose();
  pendingGraphs = [];
};
const run = async (mols: Molecule[]) => {
  const b = upload(mols);
  const out = noGrad(() => model.forward(b.h0, b.x, b.graph)).keep();
  resetTape();
  batches++;
  molecules += mols.length;
  edges += b.edges;
  for (const m of mols) atoms += m.charges.length;
  pendingGraphs.push(b.graph);
  last?.dispose();
  last = out;
  if (batches % syncEvery === 0) await drain();
  else await submit();
  endStep();
};
let batch: Molecule[] = [];
outer: for (const name of names) {
  for await (const m of readXyzMolecules(`${dir}/${name}`)) {
    if (seen++ % every !== 0) continue;
    batch.push(m);
    if (batch.length === batchSize) {
      await run(batch);
      batch = [];
      if (batches % 20 === 0) {
        const s = (performance.now() - t0) / 1000;
        console.error(
          `  ${molecules} molecules, ${s.toFixed(0)} s, ${(molecules / s).toFixed(1)}/s`,
        );
      }
    }
    if (molecules + batch.length >= limit) break outer;
  }
}
if (batch.length > 0) await run(batch);
await drain();
const seconds = (performance.now() - t0) / 1000;
const result = {
  adapter: `${info.description} (${info.backendGuess})`,
  model: { hidden, layers },
  batchSize,
  every,
  molecules,
  atoms,
  edges,
  batches,
  seconds,
  moleculesPerSecond: molecules / seconds,
  projectedAllSeconds: 128744 / (molecules / seconds),
  checksum,
  date: new Date().toISOString(),
};
console.log(
  `${molecules} molecules (${atoms} atoms, ${edges} edges, ${batches} batches) in ` +
    `${seconds.toFixed(1)} s: ${result.moleculesPerSecond.toFixed(1)} molecules/s` +
    (molecules < 128744
      ? `; all 128,744 would take ${(result.projectedAllSeconds / 60).toFixed(1)} min`
      : ""),
);
await Deno.mkdir(values.json.replace(/\/[^/]*$/, ""), { recursive: true });
await writeFileAtomic(values.json, JSON.stringify(result, null, 2) + "\n");
console.log(`written: ${values.json}`);
