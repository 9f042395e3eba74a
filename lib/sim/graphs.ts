/**
 * The graphs of the paper's graph auto-encoder experiment (Satorras et al. 2021, §5.2), after the
 * reference generators in vgsatorras/egnn `ae_datasets/d_creator.py`:
 *
 * - Erdős–Rényi (`DatasetErdosRenyiNodes`): `count / #sizes` graphs G(n, p) for every node count
 *   n = 7 … 16, generated size by size in rounds, then shuffled.
 * - Community Small (`DatasetCommunity`): two communities of 6–10 nodes, each G(size, 0.7), joined
 *   by cross edges of probability 0.01 (at least one).
 * - The over-fitting set: 100 Erdős–Rényi graphs, 10 per node count, seed 3.
 *
 * Graphs are undirected, stored as a symmetric n×n 0/1 adjacency with a zero diagonal; the
 * experiment uses both directions of every edge.
 *
 * Our random stream (lib/random.ts) differs from Python's `random` and NumPy's, so a seed does not
 * give the reference's graphs; the distributions are the same. The reference's Community generator
 * draws each community's internal edges from a generator seeded with the community's slot, so the
 * internal graph depends only on its size (a train/test leak). `seeding: "reference"` reproduces
 * that with the reference's very community graphs (a CPython-compatible Mersenne Twister seeded
 * with the slot, {@link pythonRandom}); the default `"intended"` draws everything from the data
 * set's stream.
 *
 * @module
 */

import { Random } from "../random.ts";

/** An undirected graph: `adj` is n×n row-major, symmetric, 0/1, with a zero diagonal. */
export interface AdjacencyGraph {
  /** Number of nodes. */
  n: number;
  /** Adjacency, row-major `(n, n)`; `adj[i*n + j] = adj[j*n + i] ∈ {0, 1}`, `adj[i*n + i] = 0`. */
  adj: Uint8Array;
}

/** A Community Small graph: community A is nodes 0 … a−1, community B nodes a … a+b−1. */
export interface CommunityGraph extends AdjacencyGraph {
  /** Sizes [a, b] of the two communities. */
  communitySizes: [number, number];
}

/** Options of the Erdős–Rényi data set; every default is the reference's. */
export interface ErdosRenyiOptions {
  /** Edge probability, in (0, 1] (default 0.25). */
  p?: number;
  /** Smallest node count (default 7). */
  minNodes?: number;
  /** Largest node count (default 16). */
  maxNodes?: number;
}

/** Options of the Community Small data set; every default is the reference's. */
export interface CommunityOptions {
  /**
   * Where each community's internal edges come from: `"intended"` (default) the data set's stream;
   * `"reference"` Python's `random.Random(k)` for the community in slot k (0 or 1), exactly as the
   * reference's `gnp_random_graph(size, 0.7, seed=k)`: the reference's own ten community graphs.
   */
  seeding?: "intended" | "reference";
  /** Smallest community (default 6). */
  minCommunity?: number;
  /** Largest community (default 10). */
  maxCommunity?: number;
  /** Edge probability inside a community, in (0, 1] (default 0.7). */
  pIn?: number;
  /** Edge probability of every pair across components, in [0, 1] (default 0.01). */
  pOut?: number;
}

/** Options of {@link aeDatasetSplits}. */
export interface AeSplitOptions {
  /** Training graphs (default 5000). */
  train?: number;
  /** Validation graphs (default 500). */
  val?: number;
  /** Test graphs (default 500). */
  test?: number;
  /** Base seed (default 0); split k (train 0, val 1, test 2) uses seed `3·seed + k`. */
  seed?: number;
  /** Erdős–Rényi edge probability (default 0.25). */
  p?: number;
  /** Community seeding (default `"intended"`). */
  communitySeeding?: "intended" | "reference";
}

/** The three splits of an auto-encoder data set. */
export interface AeSplits {
  /** Training graphs. */
  train: AdjacencyGraph[];
  /** Validation graphs. */
  val: AdjacencyGraph[];
  /** Test graphs. */
  test: AdjacencyGraph[];
}

/**
 * Erdős–Rényi graphs with node counts `minNodes … maxNodes`, `count / #sizes` of each: in rounds of
 * one graph per size (the reference's loop order), each G(n, p), then the list shuffled, all from
 * one stream seeded with `seed`. `count` must be a multiple of the number of sizes (the reference
 * silently floors `count / #sizes`; we refuse instead).
 *
 * @param count number of graphs, a positive multiple of `maxNodes − minNodes + 1`
 * @param seed seed, an integer in [0, 2³²)
 * @param options edge probability and node counts (defaults: the reference's)
 * @returns the graphs, shuffled
 * @example Ten graphs, one per node count 7 … 16
 * ```ts
 * import { erdosRenyiDataset } from "./graphs.ts";
 * const graphs = erdosRenyiDataset(10, 0);
 * console.log(graphs.map((g) => g.n).sort((a, b) => a - b).join(" ")); // 7 8 9 10 11 12 13 14 15 16
 * ```
 */
export function erdosRenyiDataset(
  count: number,
  seed: number,
  options: ErdosRenyiOptions = {},
): AdjacencyGraph[] {
  const where = "erdosRenyiDataset";
  const p = options.p ?? 0.25, minNodes = options.minNodes ?? 7, maxNodes = options.maxNodes ?? 16;
  checkProbability(where, "p", p, false);
  checkInteger(where, "minNodes", minNodes, 1);
  checkInteger(where, "maxNodes", maxNodes, 1);
  if (minNodes > maxNodes) {
    throw new Error(`${where}: minNodes = ${minNodes} > maxNodes = ${maxNodes}`);
  }
  const sizes = maxNodes - minNodes + 1;
  checkInteger(where, "count", count, 1);
  if (count % sizes !== 0) {
    throw new Error(
      `${where}: count = ${count}, expected a multiple of the ${sizes} node counts ` +
        `${minNodes} … ${maxNodes} (equal numbers of graphs per size)`,
    );
  }
  checkSeed(where, seed);
  const rng = new Random(seed);
  const graphs: AdjacencyGraph[] = [];
  for (let round = 0; round < count / sizes; round++) {
    for (let n = minNodes; n <= maxNodes; n++) {
      const adj = new Uint8Array(n * n);
      gnpInto(adj, n, 0, n, p, () => rng.uniform());
      graphs.push({ n, adj });
    }
  }
  rng.shuffle(graphs);
  return graphs;
}

/**
 * Community Small graphs: two communities with sizes uniform in `[minCommunity, maxCommunity]`,
 * community A's nodes first, then B's; each community G(size, pIn); then, as the reference, for
 * every pair of connected components of that union (in order of their smallest node) every node
 * pair across them gets an edge with probability `pOut`, and if none did, their smallest nodes
 * are joined. When both communities are connected (nearly always) that is: every pair across the
 * two communities with probability `pOut`, at least one such edge.
 *
 * Sizes and cross edges come from one stream seeded with `seed`; internal edges too with the
 * default `seeding: "intended"`. With `"reference"`, community k's internal edges come from a fresh
 * Python-compatible Mersenne Twister seeded with k — the reference's
 * `gnp_random_graph(size, 0.7, seed=k)`, so the internal graph is a function of its size and slot,
 * and is the very graph the reference uses. At pIn = 0.7 those ten graphs happen to be sparse
 * (188 edges in all against 203 expected), hence the reference's pooled directed density of 0.318
 * against 0.342 with intended seeding.
 *
 * @param count number of graphs, an integer ≥ 1
 * @param seed seed, an integer in [0, 2³²)
 * @param options seeding, community sizes and edge probabilities (defaults: the reference's)
 * @returns the graphs, with their community sizes
 * @example Every graph has 12 to 20 nodes
 * ```ts
 * import { communitySmallDataset } from "./graphs.ts";
 * const graphs = communitySmallDataset(20, 0);
 * console.log(graphs.every((g) => g.n >= 12 && g.n <= 20)); // true
 * ```
 */
export function communitySmallDataset(
  count: number,
  seed: number,
  options: CommunityOptions = {},
): CommunityGraph[] {
  const where = "communitySmallDataset";
  const seeding = options.seeding ?? "intended";
  const minC = options.minCommunity ?? 6, maxC = options.maxCommunity ?? 10;
  const pIn = options.pIn ?? 0.7, pOut = options.pOut ?? 0.01;
  if (seeding !== "intended" && seeding !== "reference") {
    throw new Error(`${where}: seeding = ${seeding}, expected "intended" or "reference"`);
  }
  checkInteger(where, "minCommunity", minC, 1);
  checkInteger(where, "maxCommunity", maxC, 1);
  if (minC > maxC) {
    throw new Error(`${where}: minCommunity = ${minC} > maxCommunity = ${maxC}`);
  }
  checkProbability(where, "pIn", pIn, false);
  checkProbability(where, "pOut", pOut, true);
  checkInteger(where, "count", count, 1);
  checkSeed(where, seed);
  const rng = new Random(seed);
  const graphs: CommunityGraph[] = [];
  for (let g = 0; g < count; g++) {
    const sizes: [number, number] = [
      minC + rng.int(maxC - minC + 1),
      minC + rng.int(maxC - minC + 1),
    ];
    const n = sizes[0] + sizes[1], adj = new Uint8Array(n * n);
    for (let k = 0, offset = 0; k < 2; offset += sizes[k], k++) {
      const uniform = seeding === "reference" ? pythonRandom(k) : () => rng.uniform();
      gnpInto(adj, n, offset, sizes[k], pIn, uniform);
    }
    const comps = components(adj, n);
    for (let a = 0; a < comps.length; a++) {
      for (let b = a + 1; b < comps.length; b++) {
        let joined = false;
        for (const i of comps[a]) {
          for (const j of comps[b]) {
            if (rng.uniform() < pOut) {
              adj[i * n + j] = adj[j * n + i] = 1;
              joined = true;
            }
          }
        }
        if (!joined) {
          const i = comps[a][0], j = comps[b][0];
          adj[i * n + j] = adj[j * n + i] = 1;
        }
      }
    }
    graphs.push({ n, adj, communitySizes: sizes });
  }
  return graphs;
}

/**
 * The over-fitting set: 10 Erdős–Rényi graphs per node count 7 … 16 (100 graphs), seed 3 — the
 * reference's `erdosrenyinodes_<p>_overfit`, the same graphs for every split.
 *
 * @param p edge probability, in (0, 1]
 * @param seed seed (default 3, the reference's)
 * @param options node counts, and `perSize` graphs of each (default 10)
 * @returns the graphs, shuffled
 * @example 100 graphs at p = 0.2
 * ```ts
 * import { overfitDataset } from "./graphs.ts";
 * console.log(overfitDataset(0.2).length); // 100
 * ```
 */
export function overfitDataset(
  p: number,
  seed = 3,
  options: { minNodes?: number; maxNodes?: number; perSize?: number } = {},
): AdjacencyGraph[] {
  const minNodes = options.minNodes ?? 7, maxNodes = options.maxNodes ?? 16;
  const perSize = options.perSize ?? 10;
  checkInteger("overfitDataset", "perSize", perSize, 1);
  const sizes = Number.isInteger(minNodes) && Number.isInteger(maxNodes) && minNodes <= maxNodes
    ? maxNodes - minNodes + 1
    : 1; // erdosRenyiDataset reports the bad node counts
  return erdosRenyiDataset(perSize * sizes, seed, { p, minNodes, maxNodes });
}

/**
 * The training, validation and test splits of an auto-encoder data set (reference sizes 5000 /
 * 500 / 500). Split k (train 0, val 1, test 2) is generated from seed `3·seed + k`, so base seed 0
 * gives the reference's split seeds 0, 1, 2 (in our stream) and distinct bases never share one.
 *
 * @param kind `"community"` (Community Small) or `"erdos_renyi"` (node counts 7 … 16)
 * @param options split sizes, base seed, Erdős–Rényi p, community seeding
 * @returns the three splits
 * @example Small Erdős–Rényi splits
 * ```ts
 * import { aeDatasetSplits } from "./graphs.ts";
 * const s = aeDatasetSplits("erdos_renyi", { train: 20, val: 10, test: 10 });
 * console.log(s.train.length, s.val.length, s.test.length); // 20 10 10
 * ```
 */
export function aeDatasetSplits(
  kind: "community" | "erdos_renyi",
  options: AeSplitOptions = {},
): AeSplits {
  const seed = options.seed ?? 0;
  checkInteger("aeDatasetSplits", "seed", seed, 0);
  if (3 * seed + 2 > 0xffffffff) {
    throw new Error(`aeDatasetSplits: seed = ${seed}, expected an integer in [0, 1431655764]`);
  }
  const make = (count: number, k: number): AdjacencyGraph[] => {
    if (kind === "erdos_renyi") return erdosRenyiDataset(count, 3 * seed + k, { p: options.p });
    if (kind === "community") {
      return communitySmallDataset(count, 3 * seed + k, { seeding: options.communitySeeding });
    }
    throw new Error(`aeDatasetSplits: kind = ${kind}, expected "community" or "erdos_renyi"`);
  };
  return {
    train: make(options.train ?? 5000, 0),
    val: make(options.val ?? 500, 1),
    test: make(options.test ?? 500, 2),
  };
}

/**
 * Pooled directed density: edges counted in both directions over Σ n(n − 1).
 *
 * @param graphs the graphs
 * @returns the density, in [0, 1] (NaN when there is no node pair)
 * @example A triangle is complete
 * ```ts
 * import { directedDensity } from "./graphs.ts";
 * console.log(directedDensity([{ n: 3, adj: new Uint8Array([0, 1, 1, 1, 0, 1, 1, 1, 0]) }])); // 1
 * ```
 */
export function directedDensity(graphs: readonly AdjacencyGraph[]): number {
  let edges = 0, pairs = 0;
  for (const g of graphs) {
    edges += directedEdgeCount(g);
    pairs += g.n * (g.n - 1);
  }
  return edges / pairs;
}

/**
 * Number of directed edges (every undirected edge twice): the sum of the off-diagonal entries.
 *
 * @param g the graph
 * @returns the count
 */
export function directedEdgeCount(g: AdjacencyGraph): number {
  let edges = 0;
  for (let i = 0; i < g.n; i++) {
    for (let j = 0; j < g.n; j++) if (i !== j) edges += g.adj[i * g.n + j];
  }
  return edges;
}

/**
 * Number of distinct graphs as exact labelled graphs (same n and same adjacency; isomorphic graphs
 * with different labels count as distinct).
 *
 * @param graphs the graphs
 * @returns how many are distinct
 */
export function distinctGraphs(graphs: readonly AdjacencyGraph[]): number {
  const keys = new Set<string>();
  for (const g of graphs) keys.add(`${g.n}:${g.adj.join("")}`);
  return keys.size;
}

/**
 * Smallest and largest node count.
 *
 * @param graphs the graphs, at least one
 * @returns `{ min, max }`
 */
export function nodeCountRange(graphs: readonly AdjacencyGraph[]): { min: number; max: number } {
  if (graphs.length === 0) throw new Error("nodeCountRange: no graphs");
  let min = Infinity, max = -Infinity;
  for (const g of graphs) {
    min = Math.min(min, g.n);
    max = Math.max(max, g.n);
  }
  return { min, max };
}

/**
 * G(size, p) on nodes offset … offset+size−1 of an n-node adjacency, pairs i < j in lexicographic
 * order, one uniform draw each (networkx's `gnp_random_graph`).
 */
function gnpInto(
  adj: Uint8Array,
  n: number,
  offset: number,
  size: number,
  p: number,
  uniform: () => number,
): void {
  for (let i = offset; i < offset + size; i++) {
    for (let j = i + 1; j < offset + size; j++) {
      if (uniform() < p) adj[i * n + j] = adj[j * n + i] = 1;
    }
  }
}

/**
 * `random.Random(seed).random` of CPython (MT19937, `init_by_array([seed])`, 53-bit floats): only
 * to rebuild the reference's fixed-seed communities.
 *
 * @param seed seed, an integer in [0, 2³²)
 * @returns a function giving the next uniform in [0, 1), the same numbers as Python's
 * @example Python's `random.Random(0).random()`
 * ```ts
 * import { pythonRandom } from "./graphs.ts";
 * console.log(pythonRandom(0)()); // 0.8444218515250481
 * ```
 */
export function pythonRandom(seed: number): () => number {
  checkSeed("pythonRandom", seed);
  const N = 624, M = 397, mt = new Uint32Array(N);
  mt[0] = 19650218;
  for (let i = 1; i < N; i++) {
    mt[i] = Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
  }
  let i = 1;
  for (let k = N; k > 0; k--) { // init_by_array with the one-word key [seed]
    mt[i] = (mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1664525)) + (seed >>> 0);
    if (++i >= N) mt[0] = mt[N - 1], i = 1;
  }
  for (let k = N - 1; k > 0; k--) {
    mt[i] = (mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1566083941)) - i;
    if (++i >= N) mt[0] = mt[N - 1], i = 1;
  }
  mt[0] = 0x80000000;
  let next = N;
  const word = (): number => {
    if (next >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
        mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      next = 0;
    }
    let y = mt[next++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    return (y ^ (y >>> 18)) >>> 0;
  };
  return () => ((word() >>> 5) * 67108864 + (word() >>> 6)) / 9007199254740992;
}

/** Connected components, each sorted, in order of their smallest node (networkx's order). */
function components(adj: Uint8Array, n: number): number[][] {
  const seen = new Uint8Array(n), out: number[][] = [];
  for (let s = 0; s < n; s++) {
    if (seen[s]) continue;
    const comp = [s];
    seen[s] = 1;
    for (let k = 0; k < comp.length; k++) {
      for (let j = 0; j < n; j++) {
        if (adj[comp[k] * n + j] && !seen[j]) {
          seen[j] = 1;
          comp.push(j);
        }
      }
    }
    out.push(comp.sort((a, b) => a - b));
  }
  return out;
}

function checkInteger(where: string, name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new Error(`${where}: ${name} = ${v}, expected an integer ≥ ${min}`);
  }
}

function checkSeed(where: string, seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`${where}: seed = ${seed}, expected an integer in [0, 2^32)`);
  }
}

function checkProbability(where: string, name: string, p: number, zeroOk: boolean): void {
  if (typeof p !== "number" || !(zeroOk ? p >= 0 : p > 0) || !(p <= 1)) {
    throw new Error(
      `${where}: ${name} = ${p}, expected a probability in ${zeroOk ? "[" : "("}0, 1]`,
    );
  }
}
