/**
 * Writes the graph auto-encoder splits our toolkit trains on as JSON, for the PyTorch side-by-side
 * (bench/torch/train_ae.py): `{train: [{n, edges: [[i, j], …]}], val, test}`, undirected edges with
 * i < j in row-major order.
 *
 *   deno run -A bench/ae_export.ts --dataset erdos_renyi --train 5000 --val 500 --test 500 \
 *     --seed 0 --out /tmp/ae_er.json
 *   deno run -A bench/ae_export.ts --dataset community --seed 0 --out /tmp/ae_comm.json
 *   deno run -A bench/ae_export.ts --overfit 0.2 --out /tmp/ae_overfit.json
 *
 * `--overfit p` writes the over-fitting set (100 Erdős–Rényi graphs at p, seed 3) as all three
 * splits. `--community-seeding reference` gives the reference's leaking Community graphs.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type AdjacencyGraph, aeDatasetSplits, overfitDataset } from "../lib/sim/graphs.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dataset: { type: "string", default: "erdos_renyi" },
    train: { type: "string", default: "5000" },
    val: { type: "string", default: "500" },
    test: { type: "string", default: "500" },
    seed: { type: "string", default: "0" },
    p: { type: "string" },
    overfit: { type: "string" },
    "community-seeding": { type: "string", default: "intended" },
    out: { type: "string" },
  },
});

if (!values.out) throw new Error("ae_export: --out FILE is required");

function edgeList(g: AdjacencyGraph): { n: number; edges: [number, number][] } {
  const edges: [number, number][] = [];
  for (let i = 0; i < g.n; i++) {
    for (let j = i + 1; j < g.n; j++) if (g.adj[i * g.n + j]) edges.push([i, j]);
  }
  return { n: g.n, edges };
}

let splits: { train: AdjacencyGraph[]; val: AdjacencyGraph[]; test: AdjacencyGraph[] };
let meta: Record<string, unknown>;
if (values.overfit !== undefined) {
  const p = Number(values.overfit);
  const graphs = overfitDataset(p);
  splits = { train: graphs, val: graphs, test: graphs };
  meta = { dataset: "overfit", p, seed: 3 };
} else {
  const dataset = values.dataset;
  if (dataset !== "erdos_renyi" && dataset !== "community") {
    throw new Error(`ae_export: --dataset ${dataset}, expected erdos_renyi or community`);
  }
  const seeding = values["community-seeding"];
  if (seeding !== "intended" && seeding !== "reference") {
    throw new Error(`ae_export: --community-seeding ${seeding}, expected intended or reference`);
  }
  const opts = {
    train: Number(values.train),
    val: Number(values.val),
    test: Number(values.test),
    seed: Number(values.seed),
    p: values.p !== undefined ? Number(values.p) : undefined,
    communitySeeding: seeding as "intended" | "reference",
  };
  splits = aeDatasetSplits(dataset, opts);
  meta = { dataset, ...opts };
}

const out = {
  meta,
  train: splits.train.map(edgeList),
  val: splits.val.map(edgeList),
  test: splits.test.map(edgeList),
};
await Deno.writeTextFile(values.out, JSON.stringify(out));
const count = (gs: { edges: unknown[] }[]) => gs.reduce((s, g) => s + g.edges.length, 0);
console.log(
  `${values.out}: train ${out.train.length} val ${out.val.length} test ${out.test.length} ` +
    `graphs; undirected edges ${count(out.train)} / ${count(out.val)} / ${count(out.test)}`,
);
