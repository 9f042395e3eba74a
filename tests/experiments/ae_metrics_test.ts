// The auto-encoder metrics (reference main_ae.py / eval.py) on hand-computed examples, pooling,
// numerical stability, and the all-absent baseline.
import assert from "node:assert/strict";
import {
  addCounts,
  allAbsentCounts,
  countsOfGraph,
  emptyCounts,
  metricsFromCounts,
  offDiagonalTargets,
} from "../../lib/experiments/ae/metrics.ts";
import { type AdjacencyGraph, aeDatasetSplits, directedDensity } from "../../lib/sim/graphs.ts";

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

// Three nodes, one edge 0 – 1. Entries in i-major order (0,1) (0,2) (1,0) (1,2) (2,0) (2,1):
//   target  1      0      1      0      0      0
//   logit   ln 3  −ln 3   0      ln 3  −ln 9  −ln 3
//   σ       3/4    1/4    1/2    3/4    1/10   1/4
//   pred    1      0      0      1      0      0     (σ > 1/2; σ = 1/2 is "absent")
//   kind    TP     TN     FN     FP     TN     TN
//   BCE     ln 4/3 ln 4/3 ln 2   ln 4   ln 10/9 ln 4/3
// BCE sum = ln((4/3)³ · 2 · 4 · 10/9) = ln(5120/243) ≈ 3.04785; TP = FP = FN = 1;
// % error = 100 · 2/6 = 33.33…; F1 = 1 / (1 + ½ · 2) = 0.5.
const g3Logits = [Math.log(3), -Math.log(3), 0, Math.log(3), -Math.log(9), -Math.log(3)];
const g3: AdjacencyGraph = { n: 3, adj: new Uint8Array([0, 1, 0, 1, 0, 0, 0, 0, 0]) };

Deno.test("ae metrics: a hand-computed 3-node graph", () => {
  const target = offDiagonalTargets(g3);
  assert.deepEqual([...target], [1, 0, 1, 0, 0, 0]);
  const c = countsOfGraph(3, g3Logits, target);
  assert.deepEqual({ ...c, bceSum: 0 }, { graphs: 1, entries: 6, bceSum: 0, tp: 1, fp: 1, fn: 1 });
  close(c.bceSum, Math.log(5120 / 243), "BCE sum");
  const m = metricsFromCounts(c);
  close(m.bce, Math.log(5120 / 243), "BCE");
  close(m.pctError, 100 / 3, "% error");
  close(m.f1, 0.5, "F1");
  assert.equal(m.wrong, 2);
});

Deno.test("ae metrics: pooled over two graphs, not averaged per graph", () => {
  // Two nodes joined; logits 2 (TP, BCE ln(1 + e⁻²)) and −1 (FN, BCE 1 + ln(1 + e⁻¹) = ln(1 + e)).
  const c2 = countsOfGraph(2, [2, -1], [1, 1]);
  close(c2.bceSum, Math.log(1 + Math.exp(-2)) + Math.log(1 + Math.E), "BCE of the 2-node graph");
  const pooled = addCounts(countsOfGraph(3, g3Logits, offDiagonalTargets(g3)), c2);
  assert.deepEqual(
    { ...pooled, bceSum: 0 },
    { graphs: 2, entries: 8, bceSum: 0, tp: 2, fp: 1, fn: 2 },
  );
  const m = metricsFromCounts(pooled);
  // % error = 100 · 3/8 = 37.5 (the per-graph mean would be (33.3 + 50)/2 = 41.7);
  // F1 = 2 / (2 + ½ · 3) = 4/7; BCE = mean over the two graphs of the summed BCE
  close(m.pctError, 37.5, "% error");
  close(m.f1, 4 / 7, "F1");
  close(
    m.bce,
    (Math.log(5120 / 243) + Math.log(1 + Math.exp(-2)) + Math.log(1 + Math.E)) / 2,
    "BCE",
  );
  assert.deepEqual(addCounts(emptyCounts(), pooled), pooled);
});

Deno.test("ae metrics: BCE stable at large logits; F1 is 0 without true positives", () => {
  const c = countsOfGraph(2, [800, -800], [0, 1]);
  assert.equal(c.bceSum, 1600);
  assert.equal(countsOfGraph(2, [800, -800], [1, 0]).bceSum, 0);
  assert.equal(metricsFromCounts(c).f1, 0);
  assert.equal(metricsFromCounts(countsOfGraph(2, [-1, -1], [0, 0])).f1, 0);
  assert.equal(countsOfGraph(1, [], []).entries, 0);
});

Deno.test("ae metrics: the all-absent baseline", () => {
  // a triangle (6 directed edges of 6) and the path 0 – 1 – 2 (4 of 6): FN = 10, 12 entries
  const tri = { n: 3, adj: new Uint8Array([0, 1, 1, 1, 0, 1, 1, 1, 0]) };
  const path = { n: 3, adj: new Uint8Array([0, 1, 0, 1, 0, 1, 0, 1, 0]) };
  const c = allAbsentCounts([tri, path]);
  assert.deepEqual({ ...c, bceSum: 0 }, {
    graphs: 2,
    entries: 12,
    bceSum: 0,
    tp: 0,
    fp: 0,
    fn: 10,
  });
  assert.ok(Number.isNaN(c.bceSum));
  const m = metricsFromCounts(c);
  close(m.pctError, 100 * 10 / 12, "% error");
  assert.equal(m.f1, 0);
  assert.ok(Number.isNaN(m.bce));
  // the same counts as a model that predicts every entry absent
  const viaModel = [tri, path].map((g) =>
    countsOfGraph(3, new Array(6).fill(-1), offDiagonalTargets(g))
  )
    .reduce(addCounts);
  assert.deepEqual({ ...viaModel, bceSum: NaN }, c);

  // Erdős–Rényi at p = 0.25: the baseline is wrong on about a quarter of the entries
  const { val } = aeDatasetSplits("erdos_renyi", { train: 10, val: 500, test: 10 });
  const mv = metricsFromCounts(allAbsentCounts(val));
  close(mv.pctError, 100 * directedDensity(val), "% error = 100 · density");
  assert.ok(Math.abs(mv.pctError - 25) < 1.5, `% error ${mv.pctError}`);
});

Deno.test("ae metrics: i-major order and bad inputs", () => {
  // a directed 3-cycle 0 → 1 → 2 → 0 pins the order: (0,1) (0,2) (1,0) (1,2) (2,0) (2,1)
  const cycle = { n: 3, adj: new Uint8Array([0, 1, 0, 0, 0, 1, 1, 0, 0]) };
  assert.deepEqual([...offDiagonalTargets(cycle)], [1, 0, 0, 1, 1, 0]);
  assert.throws(() => countsOfGraph(3, [1, 2], [0, 1]), /2 logits and 2 targets, expected .* 6/);
  assert.throws(() => countsOfGraph(2, [1, 2], [0, 0.5]), /target\[1\] = 0.5, expected 0 or 1/);
  assert.throws(() => countsOfGraph(0, [], []), /n = 0, expected an integer ≥ 1/);
});
