/**
 * The metrics of the graph auto-encoder experiment, as the reference's `main_ae.py` and `eval.py`
 * compute them, pooled over a split:
 *
 * - BCE: per graph the summed binary cross-entropy over the adjacency, averaged over graphs;
 * - % error: wrong entries over Σ (n² − n), in percent;
 * - F1: TP / (TP + ½(FP + FN)), with TP, FP, FN summed over the split.
 *
 * An entry is predicted present when its probability exceeds 0.5, i.e. when its logit is > 0. The
 * diagonal contributes nothing: the reference multiplies the predicted diagonal by 0 (never
 * predicted, BCE 0 against a zero target), so only the n(n − 1) off-diagonal entries are counted,
 * in i-major order (for i, for j ≠ i) — the order of the fully connected directed edge list.
 *
 * BCE is computed from logits in float64 in the stable form max(l, 0) − l·t + log1p(exp(−|l|)).
 * The reference computes it in float32 from sigmoid probabilities with each log clamped at −100;
 * the two agree except for |l| beyond about 17, where float32's sigmoid saturates.
 *
 * @module
 */

import type { AdjacencyGraph } from "../../sim/graphs.ts";

/** Counts pooled over graphs, from which every metric follows. */
export interface AdjacencyCounts {
  /** Number of graphs. */
  graphs: number;
  /** Off-diagonal entries, Σ (n² − n). */
  entries: number;
  /** Summed BCE over the graphs' off-diagonal entries (NaN when undefined). */
  bceSum: number;
  /** Entries predicted present that are present. */
  tp: number;
  /** Entries predicted present that are absent. */
  fp: number;
  /** Entries predicted absent that are present. */
  fn: number;
}

/** The paper's metrics of a split. */
export interface AdjacencyMetrics {
  /** Number of graphs. */
  graphs: number;
  /** Mean over graphs of the per-graph summed BCE. */
  bce: number;
  /** 100 · (FP + FN) / Σ (n² − n). */
  pctError: number;
  /** TP / (TP + ½(FP + FN)); 0 when TP = 0. */
  f1: number;
  /** Wrong entries, FP + FN. */
  wrong: number;
  /** Off-diagonal entries, Σ (n² − n). */
  entries: number;
}

/**
 * Counts of no graph.
 *
 * @returns zero counts
 */
export function emptyCounts(): AdjacencyCounts {
  return { graphs: 0, entries: 0, bceSum: 0, tp: 0, fp: 0, fn: 0 };
}

/**
 * Sum of two counts (pooling).
 *
 * @param a counts
 * @param b counts
 * @returns a new object with every field summed
 */
export function addCounts(a: AdjacencyCounts, b: AdjacencyCounts): AdjacencyCounts {
  return {
    graphs: a.graphs + b.graphs,
    entries: a.entries + b.entries,
    bceSum: a.bceSum + b.bceSum,
    tp: a.tp + b.tp,
    fp: a.fp + b.fp,
    fn: a.fn + b.fn,
  };
}

/**
 * Counts of one graph from the predicted logits and the targets of its n(n − 1) off-diagonal
 * entries in i-major order (for i, for j ≠ i).
 *
 * @param n number of nodes
 * @param logits predicted logits, n(n − 1) of them
 * @param target 0/1 targets in the same order (see {@link offDiagonalTargets})
 * @returns the graph's counts
 * @example A two-node graph with its edge, predicted present one way only
 * ```ts
 * import { countsOfGraph, metricsFromCounts } from "./metrics.ts";
 * const c = countsOfGraph(2, [2, -1], [1, 1]);
 * console.log(c.tp, c.fn, metricsFromCounts(c).pctError); // 1 1 50
 * ```
 */
export function countsOfGraph(
  n: number,
  logits: ArrayLike<number>,
  target: ArrayLike<number>,
): AdjacencyCounts {
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`countsOfGraph: n = ${n}, expected an integer ≥ 1`);
  }
  const m = n * (n - 1);
  if (logits.length !== m || target.length !== m) {
    throw new Error(
      `countsOfGraph: ${logits.length} logits and ${target.length} targets, expected n(n − 1) = ` +
        `${m} of each (the off-diagonal entries, i-major)`,
    );
  }
  let bceSum = 0, tp = 0, fp = 0, fn = 0;
  for (let k = 0; k < m; k++) {
    const l = logits[k], t = target[k];
    if (t !== 0 && t !== 1) {
      throw new Error(`countsOfGraph: target[${k}] = ${t}, expected 0 or 1`);
    }
    bceSum += Math.max(l, 0) - l * t + Math.log1p(Math.exp(-Math.abs(l)));
    const pred = l > 0;
    if (pred && t === 1) tp++;
    else if (pred) fp++;
    else if (t === 1) fn++;
  }
  return { graphs: 1, entries: m, bceSum, tp, fp, fn };
}

/**
 * The paper's metrics from pooled counts.
 *
 * @param c counts pooled over a split
 * @returns BCE (mean per graph), % error, F1 (0 when TP = 0)
 * @example Pooled counts of two graphs
 * ```ts
 * import { metricsFromCounts } from "./metrics.ts";
 * const m = metricsFromCounts({ graphs: 2, entries: 20, bceSum: 3, tp: 4, fp: 1, fn: 1 });
 * console.log(m.bce, m.pctError, m.f1); // 1.5 10 0.8
 * ```
 */
export function metricsFromCounts(c: AdjacencyCounts): AdjacencyMetrics {
  const wrong = c.fp + c.fn;
  return {
    graphs: c.graphs,
    bce: c.bceSum / c.graphs,
    pctError: (100 * wrong) / c.entries,
    f1: c.tp === 0 ? 0 : c.tp / (c.tp + wrong / 2),
    wrong,
    entries: c.entries,
  };
}

/**
 * Counts of the all-edges-absent baseline (the reference's `baseline` model): nothing predicted,
 * so TP = FP = 0 and FN = the directed edges; its BCE is undefined (NaN; the paper's table leaves
 * it blank).
 *
 * @param graphs the graphs
 * @returns the baseline's counts
 * @example A triangle: all 6 directed entries are wrong
 * ```ts
 * import { allAbsentCounts, metricsFromCounts } from "./metrics.ts";
 * const c = allAbsentCounts([{ n: 3, adj: new Uint8Array([0, 1, 1, 1, 0, 1, 1, 1, 0]) }]);
 * console.log(c.fn, metricsFromCounts(c).pctError); // 6 100
 * ```
 */
export function allAbsentCounts(graphs: readonly AdjacencyGraph[]): AdjacencyCounts {
  const c = emptyCounts();
  c.bceSum = NaN;
  for (const g of graphs) {
    c.graphs++;
    c.entries += g.n * (g.n - 1);
    for (let i = 0; i < g.n; i++) {
      for (let j = 0; j < g.n; j++) if (i !== j) c.fn += g.adj[i * g.n + j];
    }
  }
  return c;
}

/**
 * The graph's off-diagonal adjacency entries in i-major order (for i, for j ≠ i): the targets of
 * {@link countsOfGraph}, and the edge attributes of the fully connected directed edge list.
 *
 * @param g the graph
 * @returns n(n − 1) entries, 0 or 1
 * @example A path 0 – 1 – 2
 * ```ts
 * import { offDiagonalTargets } from "./metrics.ts";
 * const t = offDiagonalTargets({ n: 3, adj: new Uint8Array([0, 1, 0, 1, 0, 1, 0, 1, 0]) });
 * console.log([...t].join(" ")); // 1 0 1 1 0 1
 * ```
 */
export function offDiagonalTargets(g: AdjacencyGraph): Float32Array {
  const out = new Float32Array(g.n * (g.n - 1));
  let k = 0;
  for (let i = 0; i < g.n; i++) {
    for (let j = 0; j < g.n; j++) if (i !== j) out[k++] = g.adj[i * g.n + j];
  }
  return out;
}
