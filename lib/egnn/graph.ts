/**
 * `GraphBatch`: many graphs of different sizes in one batch, without padding.
 *
 * Nodes of all graphs are concatenated (`graphPtr` gives each graph's node range). Edges are
 * directed pairs (receiver i, sender j) — the reference's `row = i`, `col = j` — sorted by
 * receiver, stably, with CSR row pointers, so a per-node sum over incoming edges is a loop over
 * `receiverPtr[i] .. receiverPtr[i+1]` in a fixed order (no atomics). The stable sender-sorted
 * permutation of the same edges (`senderPerm`, `senderPtr`) serves the backward of a gather by
 * sender. Everything is plain CPU typed arrays, ready to upload once.
 *
 * @module
 */

/** Numbers given flat (row-major, `rows × width`) or as one array per row. */
export type Rows = ArrayLike<number> | readonly ArrayLike<number>[];

/** Input of the `GraphBatch` constructor; node ids in `receivers`/`senders` are batch-global. */
export interface GraphBatchInit {
  /** Number of nodes of each graph (positive integers). */
  sizes: ArrayLike<number>;
  /** Receiver (i, the reference's `row`) of each edge, in input order. */
  receivers: ArrayLike<number>;
  /** Sender (j, the reference's `col`) of each edge, in input order. */
  senders: ArrayLike<number>;
  /** Coordinate dimension n (required with flat `coords`; inferred from rows). */
  dim?: number;
  /** Node coordinates, `numNodes × dim`. */
  coords?: Rows | null;
  /** Edge attributes in input edge order, `numEdges × edgeAttrDim`. */
  edgeAttr?: Rows | null;
  /** Edge attribute width (required with flat `edgeAttr`; inferred from rows). */
  edgeAttrDim?: number;
}

/** Edges of one graph, local node ids: `[receiver, sender]` pairs or two parallel arrays. */
export type EdgeList =
  | readonly (readonly [number, number])[]
  | { receivers: ArrayLike<number>; senders: ArrayLike<number> };

/** One graph for `fromEdgeLists`. */
export interface EdgeListGraph {
  /** Number of nodes (a positive integer). */
  numNodes: number;
  /** Directed edges with local node ids in `[0, numNodes)`. */
  edges: EdgeList;
  /** Edge attributes in the order of `edges`, `edges × edgeAttrDim`. */
  edgeAttr?: Rows;
  /** Node coordinates, `numNodes × dim`. */
  coords?: Rows;
}

function fail(message: string): never {
  throw new Error(`GraphBatch: ${message}`);
}

function checkCount(value: number, what: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    fail(`${what} is ${value}, expected an integer ≥ ${min}`);
  }
  return value;
}

/** Copies `Rows` into a flat Float32Array of `count × width` finite values. */
function flatten(
  value: Rows,
  width: number | undefined,
  count: number,
  what: string,
  widthName: string,
  countName: string,
): { data: Float32Array; width: number | undefined } {
  if (value.length === 0 && count === 0) return { data: new Float32Array(0), width };
  if (value.length > 0 && typeof value[0] !== "number") {
    const rows = value as readonly ArrayLike<number>[];
    if (rows.length !== count) {
      fail(`${what} has ${rows.length} rows, expected ${countName} = ${count}`);
    }
    const w = width ?? rows[0].length;
    const data = new Float32Array(count * w);
    for (let r = 0; r < count; r++) {
      const row = rows[r];
      if (row.length !== w) {
        fail(`${what} row ${r} has ${row.length} values, expected ${widthName} = ${w}`);
      }
      for (let c = 0; c < w; c++) data[r * w + c] = row[c];
    }
    return { data: checkFinite(data, what), width: w };
  }
  const flat = value as ArrayLike<number>;
  if (width === undefined) fail(`${what} given as a flat array needs ${widthName}`);
  if (flat.length !== count * width) {
    fail(
      `${what} has ${flat.length} values, expected ${countName}·${widthName} = ${count * width}`,
    );
  }
  return { data: checkFinite(Float32Array.from(flat), what), width };
}

function checkFinite(data: Float32Array, what: string): Float32Array {
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k])) fail(`${what}[${k}] is ${data[k]}, expected finite numbers`);
  }
  return data;
}

/**
 * Nodes of many graphs concatenated, edges sorted by receiver (stable) with CSR row pointers,
 * the sender-sorted permutation, degrees and optional coordinates and edge attributes.
 * Build one with {@linkcode fullyConnected}, {@linkcode fromEdgeLists},
 * {@linkcode radiusGraph} or {@linkcode knnGraph}, or directly from global edge arrays.
 *
 * @example A path 0 ← 1 ← 2 given sender-first order comes out sorted by receiver
 * ```ts
 * import assert from "node:assert/strict";
 * import { GraphBatch } from "./graph.ts";
 *
 * const b = new GraphBatch({ sizes: [3], receivers: [1, 0], senders: [2, 1] });
 * assert.deepEqual([...b.receivers], [0, 1]);
 * assert.deepEqual([...b.senders], [1, 2]);
 * assert.deepEqual([...b.edgePermutation], [1, 0]); // sorted edge k was input edge perm[k]
 * assert.deepEqual([...b.receiverPtr], [0, 1, 2, 2]);
 * assert.deepEqual([...b.invDegree], [1, 1, 1]); // node 2 has no incoming edge: 1/max(1, 0)
 * ```
 */
export class GraphBatch {
  /** Number of graphs. */
  readonly numGraphs: number;
  /** Number of nodes over all graphs. */
  readonly numNodes: number;
  /** Number of directed edges over all graphs. */
  readonly numEdges: number;
  /** Coordinate dimension n (0 when there are no coordinates). */
  readonly dim: number;
  /** Width of the edge attributes (0 when there are none). */
  readonly edgeAttrDim: number;
  /** `numGraphs + 1` node offsets: graph g owns nodes `graphPtr[g] .. graphPtr[g+1]`. */
  readonly graphPtr: Uint32Array;
  /** Graph index of each node. */
  readonly nodeGraph: Uint32Array;
  /** Receiver (i) of each edge, non-decreasing. */
  readonly receivers: Uint32Array;
  /** Sender (j) of each edge. */
  readonly senders: Uint32Array;
  /** `numNodes + 1` CSR row pointers: node i receives edges `receiverPtr[i] ..[i+1]`. */
  readonly receiverPtr: Uint32Array;
  /** Edge ids sorted by sender, stable (ascending edge id within a sender). */
  readonly senderPerm: Uint32Array;
  /** `numNodes + 1` pointers into `senderPerm`: node j sends `senderPerm[senderPtr[j] ..]`. */
  readonly senderPtr: Uint32Array;
  /** `1 / max(1, in-degree)` per node: eq. 4's C, the reference's segment mean. */
  readonly invDegree: Float32Array;
  /** Graph index of each edge. */
  readonly edgeGraph: Uint32Array;
  /** Node coordinates, `numNodes × dim`, or null. */
  readonly coords: Float32Array | null;
  /** Edge attributes in sorted edge order, `numEdges × edgeAttrDim`, or null. */
  readonly edgeAttr: Float32Array | null;
  /** For each sorted edge, its index in the input edge list. */
  readonly edgePermutation: Uint32Array;

  /** Validates `init` and sorts its edges; throws an `Error` naming the bad field. */
  constructor(init: GraphBatchInit) {
    const G = (this.numGraphs = init.sizes.length);
    const graphPtr = (this.graphPtr = checkSizes(init.sizes));
    const N = (this.numNodes = graphPtr[G]);
    const nodeGraph = (this.nodeGraph = new Uint32Array(N));
    for (let g = 0; g < G; g++) nodeGraph.fill(g, graphPtr[g], graphPtr[g + 1]);

    const { receivers: rIn, senders: sIn } = init;
    if (rIn.length !== sIn.length) {
      fail(`receivers has ${rIn.length} entries but senders has ${sIn.length}`);
    }
    const E = (this.numEdges = rIn.length);
    const node = (e: number, v: number, role: string): number => {
      if (!Number.isInteger(v) || v < 0 || v >= N) {
        fail(`edge ${e} has ${role} ${v}, out of range [0, ${N})`);
      }
      return v;
    };
    const inCount = new Uint32Array(N);
    const outCount = new Uint32Array(N);
    for (let e = 0; e < E; e++) {
      const i = node(e, rIn[e], "receiver"), j = node(e, sIn[e], "sender");
      if (nodeGraph[i] !== nodeGraph[j]) {
        fail(
          `edge ${e} joins receiver ${i} (graph ${nodeGraph[i]}) and sender ${j} ` +
            `(graph ${nodeGraph[j]}), expected both in one graph`,
        );
      }
      inCount[i]++;
      outCount[j]++;
    }

    // Counting sort by receiver (stable), then by sender over the sorted edges (stable).
    const receiverPtr = (this.receiverPtr = prefixSum(inCount));
    const senderPtr = (this.senderPtr = prefixSum(outCount));
    const perm = (this.edgePermutation = new Uint32Array(E));
    const next = receiverPtr.slice(0, N);
    for (let e = 0; e < E; e++) perm[next[rIn[e]]++] = e;
    this.receivers = new Uint32Array(E);
    this.senders = new Uint32Array(E);
    this.edgeGraph = new Uint32Array(E);
    this.senderPerm = new Uint32Array(E);
    next.set(senderPtr.subarray(0, N));
    for (let k = 0; k < E; k++) {
      const i = rIn[perm[k]], j = sIn[perm[k]];
      this.receivers[k] = i;
      this.senders[k] = j;
      this.edgeGraph[k] = nodeGraph[i];
      this.senderPerm[next[j]++] = k;
    }
    this.invDegree = new Float32Array(N);
    for (let i = 0; i < N; i++) this.invDegree[i] = 1 / Math.max(1, inCount[i]);

    if (init.dim !== undefined) checkCount(init.dim, "dim", 0);
    if (init.edgeAttrDim !== undefined) checkCount(init.edgeAttrDim, "edgeAttrDim", 0);
    if (init.coords) {
      const c = flatten(init.coords, init.dim, N, "coords", "dim", "numNodes");
      if (c.width === 0 && N > 0) fail(`dim is 0, expected ≥ 1 when coords are given`);
      this.coords = c.data;
      this.dim = c.width ?? 0;
    } else {
      this.coords = null;
      this.dim = init.dim ?? 0;
    }
    if (init.edgeAttr) {
      const a = flatten(init.edgeAttr, init.edgeAttrDim, E, "edgeAttr", "edgeAttrDim", "numEdges");
      this.edgeAttrDim = a.width ?? 0;
      this.edgeAttr = this.permuteEdgeData(a.data, this.edgeAttrDim);
    } else {
      this.edgeAttr = null;
      this.edgeAttrDim = init.edgeAttrDim ?? 0;
    }
  }

  /**
   * Reorders per-edge data given in input edge order (`numEdges × width`) into sorted order.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { GraphBatch } from "./graph.ts";
   *
   * const b = new GraphBatch({ sizes: [2], receivers: [1, 0], senders: [0, 1] });
   * assert.deepEqual([...b.permuteEdgeData([10, 11, 20, 21], 2)], [20, 21, 10, 11]);
   * ```
   */
  permuteEdgeData(data: ArrayLike<number>, width: number): Float32Array {
    checkCount(width, "width", 0);
    if (data.length !== this.numEdges * width) {
      const expected = this.numEdges * width;
      fail(`edge data has ${data.length} values, expected numEdges·width = ${expected}`);
    }
    const out = new Float32Array(data.length);
    for (let k = 0; k < this.numEdges; k++) {
      const src = this.edgePermutation[k] * width;
      for (let c = 0; c < width; c++) out[k * width + c] = data[src + c];
    }
    return out;
  }
}

function prefixSum(counts: Uint32Array): Uint32Array {
  const ptr = new Uint32Array(counts.length + 1);
  for (let i = 0; i < counts.length; i++) ptr[i + 1] = ptr[i] + counts[i];
  return ptr;
}

function checkSizes(sizes: ArrayLike<number>): Uint32Array {
  const ptr = new Uint32Array(sizes.length + 1);
  for (let g = 0; g < sizes.length; g++) {
    if (sizes[g] === 0) fail(`graph ${g} has no nodes`);
    const end = ptr[g] + checkCount(sizes[g], `size of graph ${g}`, 1);
    if (end > 0xffffffff) fail(`more than 2³² − 1 nodes in all`);
    ptr[g + 1] = end;
  }
  return ptr;
}

/**
 * Fully connected graphs: every ordered pair i ≠ j of each graph, i-major then j ascending —
 * the reference's `get_edges_batch` order. A graph of one node has no edges.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullyConnected } from "./graph.ts";
 *
 * const b = fullyConnected([3, 1], { coords: [[0, 0], [1, 0], [0, 1], [5, 5]] });
 * assert.equal(b.numEdges, 6);
 * assert.deepEqual([...b.receivers], [0, 0, 1, 1, 2, 2]);
 * assert.deepEqual([...b.senders], [1, 2, 0, 2, 0, 1]);
 * assert.deepEqual([...b.invDegree], [0.5, 0.5, 0.5, 1]);
 * assert.equal(b.dim, 2);
 * ```
 */
export function fullyConnected(
  sizes: ArrayLike<number>,
  opts: { coords?: Rows | null; dim?: number } = {},
): GraphBatch {
  const all = (i: number, first: number, end: number) => range(first, end).filter((j) => j !== i);
  return byReceiver(sizes, all, opts.coords, opts.dim);
}

function range(first: number, end: number): number[] {
  return Array.from({ length: end - first }, (_, t) => first + t);
}

/** A batch where node i of the graph with nodes [first, end) receives from `pick(i, first, end)`. */
function byReceiver(
  sizes: ArrayLike<number>,
  pick: (i: number, first: number, end: number) => number[],
  coords?: Rows | null,
  dim?: number,
): GraphBatch {
  const ptr = checkSizes(sizes);
  const receivers: number[] = [], senders: number[] = [];
  for (let g = 0; g < sizes.length; g++) {
    for (let i = ptr[g]; i < ptr[g + 1]; i++) {
      for (const j of pick(i, ptr[g], ptr[g + 1])) receivers.push(i), senders.push(j);
    }
  }
  return new GraphBatch({ sizes, receivers, senders, coords, dim });
}

/**
 * Graphs from explicit edge lists with local node ids, optional per-edge attributes and
 * coordinates. Either every graph gives `edgeAttr` (resp. `coords`) or none does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromEdgeLists } from "./graph.ts";
 *
 * const b = fromEdgeLists([
 *   { numNodes: 2, edges: [[1, 0], [0, 1]], edgeAttr: [[10], [20]] },
 *   { numNodes: 3, edges: { receivers: [2], senders: [0] }, edgeAttr: [[30]] },
 * ]);
 * assert.deepEqual([...b.receivers], [0, 1, 4]);
 * assert.deepEqual([...b.senders], [1, 0, 2]);
 * assert.deepEqual([...b.edgeAttr!], [20, 10, 30]);
 * assert.deepEqual([...b.edgeGraph], [0, 0, 1]);
 * ```
 */
export function fromEdgeLists(
  graphs: readonly EdgeListGraph[],
  opts: { dim?: number; edgeAttrDim?: number } = {},
): GraphBatch {
  const sizes = graphs.map((g) => g.numNodes);
  const ptr = checkSizes(sizes);
  const receivers: number[] = [], senders: number[] = [];
  const attrs: number[] = [], coords: number[] = [];
  let { dim, edgeAttrDim } = opts;
  const hasAttr = graphs.length > 0 && graphs[0].edgeAttr !== undefined;
  const hasCoords = graphs.length > 0 && graphs[0].coords !== undefined;
  graphs.forEach((graph, g) => {
    const n = graph.numNodes;
    const edges = graph.edges;
    if (typeof edges !== "object" || edges === null) {
      fail(`graph ${g} edges is ${edges}, expected [i, j] pairs or {receivers, senders}`);
    }
    const { receivers: rs, senders: ss } = "receivers" in edges
      ? edges
      : { receivers: edges.map((p) => p[0]), senders: edges.map((p) => p[1]) };
    if (rs.length !== ss.length) {
      fail(`graph ${g} edges have ${rs.length} receivers but ${ss.length} senders`);
    }
    const count = rs.length;
    for (let e = 0; e < count; e++) {
      for (const [role, v] of [["receiver", rs[e]], ["sender", ss[e]]] as const) {
        if (!Number.isInteger(v) || v < 0 || v >= n) {
          fail(`edge ${e} of graph ${g} has ${role} ${v}, out of range [0, ${n})`);
        }
      }
      receivers.push(ptr[g] + rs[e]);
      senders.push(ptr[g] + ss[e]);
    }
    for (const [key, has] of [["edgeAttr", hasAttr], ["coords", hasCoords]] as const) {
      if ((graph[key] !== undefined) !== has) {
        fail(`graph ${g} ${has ? "lacks" : "has"} ${key}, expected every graph or none`);
      }
    }
    if (graph.edgeAttr !== undefined) {
      const what = `graph ${g} edgeAttr`;
      const a = flatten(graph.edgeAttr, edgeAttrDim, count, what, "edgeAttrDim", "numEdges");
      edgeAttrDim = a.width ?? edgeAttrDim;
      for (const v of a.data) attrs.push(v);
    }
    if (graph.coords !== undefined) {
      const c = flatten(graph.coords, dim, n, `graph ${g} coords`, "dim", "numNodes");
      dim = c.width ?? dim;
      for (const v of c.data) coords.push(v);
    }
  });
  return new GraphBatch({
    sizes,
    receivers,
    senders,
    dim,
    coords: hasCoords ? coords : null,
    edgeAttr: hasAttr ? attrs : null,
    edgeAttrDim,
  });
}

/** Flattens coords for the geometric builders (checking `dim ≥ 1`); squared distances. */
function geometry(sizes: ArrayLike<number>, coords: Rows, dim: number) {
  const n = checkSizes(sizes)[sizes.length];
  checkCount(dim, "dim", 1);
  const x = flatten(coords, dim, n, "coords", "dim", "numNodes").data;
  const dist2 = (i: number, j: number): number => {
    let s = 0;
    for (let c = 0; c < dim; c++) s += (x[i * dim + c] - x[j * dim + c]) ** 2;
    return s;
  };
  return { x, dist2 };
}

/**
 * Radius graphs: an edge (i, j) for every pair of the same graph with ‖x_i − x_j‖ ≤ `cutoff`
 * (squared distances in float64 from the float32 coordinates), i-major then j ascending;
 * no self loops unless `selfLoops`. Brute force, O(Σ n²).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { radiusGraph } from "./graph.ts";
 *
 * const b = radiusGraph([3], [0, 1, 3], 1, 1.5);
 * assert.deepEqual([...b.receivers], [0, 1]);
 * assert.deepEqual([...b.senders], [1, 0]);
 * ```
 */
export function radiusGraph(
  sizes: ArrayLike<number>,
  coords: Rows,
  dim: number,
  cutoff: number,
  opts: { selfLoops?: boolean } = {},
): GraphBatch {
  const { x, dist2 } = geometry(sizes, coords, dim);
  if (!(cutoff >= 0)) fail(`cutoff is ${cutoff}, expected a number ≥ 0`);
  const near = (i: number, first: number, end: number) =>
    range(first, end).filter((j) => (i !== j || opts.selfLoops) && dist2(i, j) <= cutoff ** 2);
  return byReceiver(sizes, near, x, dim);
}

/**
 * k-nearest-neighbour graphs: each node receives from the `k` nearest other nodes of its graph
 * (ties broken by the lower index; all of them if the graph has ≤ k other nodes). Senders of
 * a receiver are listed in ascending index order. Brute force, O(Σ n² log n).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { knnGraph } from "./graph.ts";
 *
 * const b = knnGraph([4], [0, 1, 3, 7], 1, 1);
 * assert.deepEqual([...b.receivers], [0, 1, 2, 3]);
 * assert.deepEqual([...b.senders], [1, 0, 1, 2]);
 * ```
 */
export function knnGraph(
  sizes: ArrayLike<number>,
  coords: Rows,
  dim: number,
  k: number,
): GraphBatch {
  const { x, dist2 } = geometry(sizes, coords, dim);
  checkCount(k, "k", 0);
  const nearest = (i: number, first: number, end: number) => {
    const others = range(first, end).filter((j) => j !== i).map((j) => ({ j, d: dist2(i, j) }));
    others.sort((a, b) => a.d - b.d || a.j - b.j);
    return others.slice(0, k).map((o) => o.j).sort((a, b) => a - b);
  };
  return byReceiver(sizes, nearest, x, dim);
}
