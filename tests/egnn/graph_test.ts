import assert from "node:assert/strict";
import {
  fromEdgeLists,
  fullyConnected,
  GraphBatch,
  knnGraph,
  radiusGraph,
} from "../../lib/egnn/graph.ts";
import { Random } from "../reference/random.ts";

/** Seeded uniform draws in [0, 1) so failures reproduce. */
function rng(seed: number): () => number {
  const r = new Random(seed);
  return () => r.next();
}

const int = (r: () => number, n: number) => Math.floor(r() * n);

/**
 * Checks every derived array of `b` against a brute-force construction from the sizes and the
 * global input edges (and input-order edge attributes, if any).
 */
function checkAgainstBruteForce(
  b: GraphBatch,
  sizes: number[],
  rIn: number[],
  sIn: number[],
  attrIn?: { data: number[]; width: number },
) {
  const N = sizes.reduce((x, y) => x + y, 0);
  const E = rIn.length;
  assert.equal(b.numGraphs, sizes.length);
  assert.equal(b.numNodes, N);
  assert.equal(b.numEdges, E);
  const graphPtr = [0];
  for (const n of sizes) graphPtr.push(graphPtr[graphPtr.length - 1] + n);
  assert.deepEqual([...b.graphPtr], graphPtr);
  const nodeGraph = sizes.flatMap((n, g) => Array(n).fill(g));
  assert.deepEqual([...b.nodeGraph], nodeGraph);

  // Stable sort of the input edges by receiver.
  const perm = [...Array(E).keys()].sort((x, y) => rIn[x] - rIn[y] || x - y);
  assert.deepEqual([...b.edgePermutation], perm);
  assert.deepEqual([...b.receivers], perm.map((e) => rIn[e]));
  assert.deepEqual([...b.senders], perm.map((e) => sIn[e]));
  assert.deepEqual([...b.edgeGraph], perm.map((e) => nodeGraph[rIn[e]]));

  // CSR: node i receives exactly the sorted edges receiverPtr[i] .. receiverPtr[i+1].
  const receiverPtr = [...Array(N + 1).keys()].map((i) => rIn.filter((r) => r < i).length);
  assert.deepEqual([...b.receiverPtr], receiverPtr);
  for (let i = 0; i < N; i++) {
    for (let k = b.receiverPtr[i]; k < b.receiverPtr[i + 1]; k++) assert.equal(b.receivers[k], i);
    const deg = receiverPtr[i + 1] - receiverPtr[i];
    assert.equal(b.invDegree[i], Math.fround(1 / Math.max(1, deg)));
  }

  // Sender permutation: sorted-edge ids ordered by sender, ascending id within a sender.
  const senders = [...b.senders];
  const senderPerm = [...Array(E).keys()].sort((x, y) => senders[x] - senders[y] || x - y);
  assert.deepEqual([...b.senderPerm], senderPerm);
  const senderPtr = [...Array(N + 1).keys()].map((j) => sIn.filter((s) => s < j).length);
  assert.deepEqual([...b.senderPtr], senderPtr);
  for (let j = 0; j < N; j++) {
    for (let p = b.senderPtr[j]; p < b.senderPtr[j + 1]; p++) {
      assert.equal(b.senders[b.senderPerm[p]], j);
      if (p > b.senderPtr[j]) assert.ok(b.senderPerm[p] > b.senderPerm[p - 1]);
    }
  }

  if (attrIn) {
    const w = attrIn.width;
    assert.equal(b.edgeAttrDim, w);
    const expected = perm.flatMap((e) => attrIn.data.slice(e * w, (e + 1) * w));
    assert.deepEqual([...b.edgeAttr!], expected.map(Math.fround));
    assert.deepEqual([...b.permuteEdgeData(attrIn.data, w)], [...b.edgeAttr!]);
  } else {
    assert.equal(b.edgeAttr, null);
  }
}

Deno.test("fullyConnected [5, 1, 3]: i-major order, no edges for one node, CSR", () => {
  const sizes = [5, 1, 3];
  const coords = Array.from({ length: 9 * 2 }, (_, k) => k * 0.5);
  const b = fullyConnected(sizes, { coords, dim: 2 });
  assert.equal(b.numEdges, 5 * 4 + 0 + 3 * 2);
  const rIn: number[] = [], sIn: number[] = [];
  for (const [start, n] of [[0, 5], [5, 1], [6, 3]]) {
    for (let i = start; i < start + n; i++) {
      for (let j = start; j < start + n; j++) if (i !== j) rIn.push(i), sIn.push(j);
    }
  }
  checkAgainstBruteForce(b, sizes, rIn, sIn);
  assert.deepEqual([...b.edgePermutation], [...Array(26).keys()]); // already i-major
  assert.deepEqual(
    [...b.receiverPtr],
    [0, 4, 8, 12, 16, 20, 20, 22, 24, 26],
  );
  assert.equal(b.invDegree[5], 1); // the graph of one node
  assert.deepEqual([...b.invDegree.subarray(0, 5)], Array(5).fill(0.25));
  assert.deepEqual([...b.invDegree.subarray(6)], Array(3).fill(0.5));
  assert.deepEqual([...b.senders.subarray(0, 4)], [1, 2, 3, 4]);
  assert.deepEqual([...b.senders.subarray(20)], [7, 8, 6, 8, 6, 7]);
  assert.equal(b.dim, 2);
  assert.deepEqual([...b.coords!], coords);
  assert.equal(b.edgeAttr, null);
  assert.equal(b.edgeAttrDim, 0);
});

Deno.test("fullyConnected: coords as rows infer dim; no coords gives dim 0 or the given dim", () => {
  const b = fullyConnected([2], { coords: [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]] });
  assert.equal(b.dim, 5);
  assert.deepEqual([...b.coords!], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(fullyConnected([3]).dim, 0);
  assert.equal(fullyConnected([3]).coords, null);
  assert.equal(fullyConnected([3], { dim: 3 }).dim, 3);
  const empty = fullyConnected([]);
  assert.equal(empty.numNodes, 0);
  assert.deepEqual([...empty.graphPtr], [0]);
  assert.deepEqual([...empty.receiverPtr], [0]);
});

Deno.test("fromEdgeLists: random edge lists match the brute-force reference", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = rng(seed);
    const numGraphs = 1 + int(r, 6);
    const width = int(r, 4);
    const asRows = r() < 0.5, asPairs = r() < 0.5;
    const sizes: number[] = [], rIn: number[] = [], sIn: number[] = [], attr: number[] = [];
    let offset = 0;
    const graphs = Array.from({ length: numGraphs }, () => {
      const n = 1 + int(r, 8);
      const m = int(r, 3 * n); // self loops and duplicates allowed
      const recv: number[] = [], send: number[] = [], rows: number[][] = [];
      for (let e = 0; e < m; e++) {
        recv.push(int(r, n)), send.push(int(r, n));
        rows.push(Array.from({ length: width }, () => int(r, 1000) / 8));
      }
      sizes.push(n);
      rIn.push(...recv.map((i) => i + offset)), sIn.push(...send.map((j) => j + offset));
      attr.push(...rows.flat());
      offset += n;
      return {
        numNodes: n,
        edges: asPairs ? recv.map((i, e) => [i, send[e]] as [number, number]) : {
          receivers: Uint32Array.from(recv),
          senders: send,
        },
        edgeAttr: asRows ? rows : new Float32Array(rows.flat()),
      };
    });
    const b = fromEdgeLists(graphs, { edgeAttrDim: width });
    checkAgainstBruteForce(b, sizes, rIn, sIn, { data: attr, width });
    // The same edges through the constructor with global ids.
    const c = new GraphBatch({
      sizes,
      receivers: rIn,
      senders: sIn,
      edgeAttr: attr,
      edgeAttrDim: width,
    });
    assert.deepEqual(c, b);
  }
});

Deno.test("fromEdgeLists: per-graph coords are concatenated; edgeAttrDim inferred from rows", () => {
  const b = fromEdgeLists([
    { numNodes: 1, edges: [], edgeAttr: [], coords: [[1, 2]] },
    {
      numNodes: 2,
      edges: [[0, 1], [1, 1]],
      edgeAttr: [[1, 2, 3], [4, 5, 6]],
      coords: [3, 4, 5, 6],
    },
  ]);
  assert.equal(b.dim, 2);
  assert.equal(b.edgeAttrDim, 3);
  assert.deepEqual([...b.coords!], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...b.receivers], [1, 2]);
  assert.deepEqual([...b.senders], [2, 2]);
  assert.deepEqual([...b.edgeAttr!], [1, 2, 3, 4, 5, 6]);
});

function randomCoords(r: () => number, n: number, dim: number, grid: boolean): number[] {
  return Array.from({ length: n * dim }, () => grid ? int(r, 4) : r() * 4 - 2);
}

function dist2(x: Float32Array, dim: number, i: number, j: number): number {
  let s = 0;
  for (let c = 0; c < dim; c++) s += (x[i * dim + c] - x[j * dim + c]) ** 2;
  return s;
}

Deno.test("radiusGraph matches brute force, with and without self loops", () => {
  for (let seed = 1; seed <= 12; seed++) {
    const r = rng(100 + seed);
    const dim = 1 + int(r, 4);
    const sizes = Array.from({ length: 1 + int(r, 4) }, () => 1 + int(r, 9));
    const N = sizes.reduce((x, y) => x + y, 0);
    const coords = randomCoords(r, N, dim, seed % 2 === 0); // grid: exact boundary distances
    const cutoff = [0, 1, 1.5, 2, 3][int(r, 5)];
    const selfLoops = seed % 3 === 0;
    const b = radiusGraph(sizes, coords, dim, cutoff, { selfLoops });
    const x = Float32Array.from(coords);
    const rIn: number[] = [], sIn: number[] = [];
    let start = 0;
    for (const n of sizes) {
      for (let i = start; i < start + n; i++) {
        for (let j = start; j < start + n; j++) {
          if ((i !== j || selfLoops) && Math.sqrt(dist2(x, dim, i, j)) <= cutoff) {
            rIn.push(i), sIn.push(j);
          }
        }
      }
      start += n;
    }
    checkAgainstBruteForce(b, sizes, rIn, sIn);
    assert.deepEqual([...b.coords!], [...x]);
    assert.equal(b.dim, dim);
  }
  // A pair exactly at the cutoff is connected.
  assert.equal(radiusGraph([2], [0, 0, 3, 4], 2, 5).numEdges, 2);
  assert.equal(radiusGraph([2], [0, 0, 3, 4], 2, 4.99).numEdges, 0);
});

Deno.test("knnGraph matches brute force; ties go to the lower index; small graphs use all", () => {
  for (let seed = 1; seed <= 12; seed++) {
    const r = rng(200 + seed);
    const dim = 1 + int(r, 3);
    const sizes = Array.from({ length: 1 + int(r, 4) }, () => 1 + int(r, 9));
    const N = sizes.reduce((x, y) => x + y, 0);
    const coords = randomCoords(r, N, dim, seed % 2 === 0); // grid: many ties
    const k = [0, 1, 2, 3, 5, 20][int(r, 6)];
    const b = knnGraph(sizes, coords, dim, k);
    const x = Float32Array.from(coords);
    const rIn: number[] = [], sIn: number[] = [];
    let start = 0;
    for (const n of sizes) {
      for (let i = start; i < start + n; i++) {
        const others = [...Array(n).keys()].map((t) => t + start).filter((j) => j !== i);
        others.sort((p, q) => dist2(x, dim, i, p) - dist2(x, dim, i, q) || p - q);
        for (const j of others.slice(0, k).sort((p, q) => p - q)) rIn.push(i), sIn.push(j);
        const expectedDeg = Math.min(k, n - 1);
        assert.equal(b.receiverPtr[i + 1] - b.receiverPtr[i], expectedDeg);
      }
      start += n;
    }
    checkAgainstBruteForce(b, sizes, rIn, sIn);
  }
  // 1-D points 0, 1, -1, 5: node 0 has two neighbours at distance 1 and keeps node 1.
  const b = knnGraph([4], [0, 1, -1, 5], 1, 1);
  assert.deepEqual([...b.senders], [1, 0, 0, 1]);
});

Deno.test("permuteEdgeData reorders input-order rows and checks the length", () => {
  const b = new GraphBatch({ sizes: [3], receivers: [2, 0, 2, 1], senders: [0, 1, 1, 0] });
  assert.deepEqual([...b.edgePermutation], [1, 3, 0, 2]);
  assert.deepEqual([...b.permuteEdgeData([0, 1, 2, 3], 1)], [1, 3, 0, 2]);
  assert.deepEqual(
    [...b.permuteEdgeData(new Float32Array([0, 0, 1, 1, 2, 2, 3, 3]), 2)],
    [1, 1, 3, 3, 0, 0, 2, 2],
  );
  assert.throws(() => b.permuteEdgeData([1, 2, 3], 1), {
    message: "GraphBatch: edge data has 3 values, expected numEdges·width = 4",
  });
});

Deno.test("validation errors name the field and the expected form", () => {
  const throws = (fn: () => unknown, message: string) => assert.throws(fn, { message });
  // Sizes.
  throws(() => fullyConnected([3, 2, 0]), "GraphBatch: graph 2 has no nodes");
  throws(() => fullyConnected([-1]), "GraphBatch: size of graph 0 is -1, expected an integer ≥ 1");
  throws(
    () => fullyConnected([2, 2.5]),
    "GraphBatch: size of graph 1 is 2.5, expected an integer ≥ 1",
  );
  throws(
    () => fromEdgeLists([{ numNodes: 0, edges: [] }]),
    "GraphBatch: graph 0 has no nodes",
  );
  // Edge indices.
  throws(
    () =>
      fromEdgeLists([
        { numNodes: 5, edges: [[0, 1]] },
        { numNodes: 5, edges: [[0, 1], [1, 2], [2, 3], [3, 7]] },
      ]),
    "GraphBatch: edge 3 of graph 1 has sender 7, out of range [0, 5)",
  );
  throws(
    () => fromEdgeLists([{ numNodes: 2, edges: { receivers: [0, -1], senders: [1, 0] } }]),
    "GraphBatch: edge 1 of graph 0 has receiver -1, out of range [0, 2)",
  );
  throws(
    () => fromEdgeLists([{ numNodes: 2, edges: [[0.5, 1]] }]),
    "GraphBatch: edge 0 of graph 0 has receiver 0.5, out of range [0, 2)",
  );
  throws(
    () => fromEdgeLists([{ numNodes: 2, edges: { receivers: [0, 1], senders: [1] } }]),
    "GraphBatch: graph 0 edges have 2 receivers but 1 senders",
  );
  throws(
    () => new GraphBatch({ sizes: [2], receivers: [0, 2], senders: [1, 0] }),
    "GraphBatch: edge 1 has receiver 2, out of range [0, 2)",
  );
  throws(
    () => new GraphBatch({ sizes: [2, 3], receivers: [0], senders: [2] }),
    "GraphBatch: edge 0 joins receiver 0 (graph 0) and sender 2 (graph 1), expected both in one graph",
  );
  throws(
    () => new GraphBatch({ sizes: [2], receivers: [0], senders: [] }),
    "GraphBatch: receivers has 1 entries but senders has 0",
  );
  // Coordinates.
  throws(
    () => fullyConnected([2, 3], { coords: new Float32Array(14), dim: 3 }),
    "GraphBatch: coords has 14 values, expected numNodes·dim = 15",
  );
  throws(
    () => fullyConnected([2], { coords: new Float32Array(6) }),
    "GraphBatch: coords given as a flat array needs dim",
  );
  throws(
    () => fullyConnected([3], { coords: [[0, 0], [1, 1]] }),
    "GraphBatch: coords has 2 rows, expected numNodes = 3",
  );
  throws(
    () => fullyConnected([2], { coords: [[0, 0], [1]] }),
    "GraphBatch: coords row 1 has 1 values, expected dim = 2",
  );
  throws(
    () => fullyConnected([2], { coords: [0, NaN], dim: 1 }),
    "GraphBatch: coords[1] is NaN, expected finite numbers",
  );
  throws(
    () => fromEdgeLists([{ numNodes: 2, edges: [], coords: [0, 1, 2] }], { dim: 2 }),
    "GraphBatch: graph 0 coords has 3 values, expected numNodes·dim = 4",
  );
  throws(
    () =>
      fromEdgeLists([{ numNodes: 1, edges: [], coords: [0] }, { numNodes: 1, edges: [] }], {
        dim: 1,
      }),
    "GraphBatch: graph 1 lacks coords, expected every graph or none",
  );
  throws(() => fullyConnected([2], { dim: -1 }), "GraphBatch: dim is -1, expected an integer ≥ 0");
  // Edge attributes.
  throws(
    () =>
      fromEdgeLists([{
        numNodes: 3,
        edges: [[0, 1], [1, 2], [2, 0]],
        edgeAttr: new Float32Array(5),
      }], { edgeAttrDim: 2 }),
    "GraphBatch: graph 0 edgeAttr has 5 values, expected numEdges·edgeAttrDim = 6",
  );
  throws(
    () =>
      fromEdgeLists([
        { numNodes: 2, edges: [[0, 1]], edgeAttr: [[1, 2]] },
        { numNodes: 2, edges: [[0, 1]], edgeAttr: [[1, 2, 3]] },
      ]),
    "GraphBatch: graph 1 edgeAttr row 0 has 3 values, expected edgeAttrDim = 2",
  );
  throws(
    () => fromEdgeLists([{ numNodes: 2, edges: [[0, 1], [1, 0]], edgeAttr: [[1]] }]),
    "GraphBatch: graph 0 edgeAttr has 1 rows, expected numEdges = 2",
  );
  throws(
    () => fromEdgeLists([{ numNodes: 2, edges: [] }, { numNodes: 2, edges: [], edgeAttr: [] }]),
    "GraphBatch: graph 1 has edgeAttr, expected every graph or none",
  );
  throws(
    () =>
      new GraphBatch({
        sizes: [2],
        receivers: [0],
        senders: [1],
        edgeAttr: [1, 2, 3],
        edgeAttrDim: 2,
      }),
    "GraphBatch: edgeAttr has 3 values, expected numEdges·edgeAttrDim = 2",
  );
  // Geometric builders.
  throws(
    () => radiusGraph([2], [0, 1], 1, -1),
    "GraphBatch: cutoff is -1, expected a number ≥ 0",
  );
  throws(() => radiusGraph([2], [0, 1], 0, 1), "GraphBatch: dim is 0, expected an integer ≥ 1");
  throws(() => knnGraph([2], [0, 1], 1, 1.5), "GraphBatch: k is 1.5, expected an integer ≥ 0");
  throws(
    () => knnGraph([2], [0, 1, 2], 1, 1),
    "GraphBatch: coords has 3 values, expected numNodes·dim = 2",
  );
});
