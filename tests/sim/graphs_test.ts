// The graph auto-encoder data sets: node counts, densities and duplicates against the figures
// measured on the reference generators (shared/spec/ae_reference_figures.md), determinism, the
// reference's fixed-seed communities rebuilt exactly (numbers from CPython 3 and networkx 3.6.1),
// and parameter validation.
import assert from "node:assert/strict";
import {
  type AdjacencyGraph,
  aeDatasetSplits,
  communitySmallDataset,
  directedDensity,
  distinctGraphs,
  erdosRenyiDataset,
  nodeCountRange,
  overfitDataset,
  pythonRandom,
} from "../../lib/sim/graphs.ts";

/** Independent checks of the representation; returns the number of directed edges. */
function checkGraph(g: AdjacencyGraph): number {
  assert.equal(g.adj.length, g.n * g.n);
  let edges = 0;
  for (let i = 0; i < g.n; i++) {
    assert.equal(g.adj[i * g.n + i], 0, "zero diagonal");
    for (let j = 0; j < g.n; j++) {
      const a = g.adj[i * g.n + j];
      assert.ok(a === 0 || a === 1);
      assert.equal(a, g.adj[j * g.n + i], "symmetric");
      edges += a;
    }
  }
  return edges;
}

function histogram(graphs: AdjacencyGraph[]): Map<number, number> {
  const h = new Map<number, number>();
  for (const g of graphs) h.set(g.n, (h.get(g.n) ?? 0) + 1);
  return h;
}

const same = (a: AdjacencyGraph[], b: AdjacencyGraph[]) =>
  a.length === b.length &&
  a.every((g, k) => g.n === b[k].n && g.adj.every((v, i) => v === b[k].adj[i]));

Deno.test("erdos-renyi: 500 graphs per node count 7…16, pooled directed density 0.25 ± 0.01", () => {
  const { train, val, test } = aeDatasetSplits("erdos_renyi");
  assert.deepEqual([train.length, val.length, test.length], [5000, 500, 500]);
  for (const [split, per] of [[train, 500], [val, 50], [test, 50]] as const) {
    const h = histogram(split);
    assert.deepEqual([...h.keys()].sort((a, b) => a - b), [7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    for (const c of h.values()) assert.equal(c, per);
  }
  let edges = 0, pairs = 0;
  for (const g of train) {
    edges += checkGraph(g);
    pairs += g.n * (g.n - 1);
  }
  // 32,250 node pairs: the standard error of the density is 0.0024
  assert.ok(Math.abs(edges / pairs - 0.25) < 0.01, `density ${edges / pairs}`);
  assert.equal(directedDensity(train), edges / pairs);
  assert.deepEqual(nodeCountRange(train), { min: 7, max: 16 });
  // shuffled: not the generation order 7, 8, …, 16, 7, …
  assert.notDeepEqual(train.slice(0, 10).map((g) => g.n), [7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  console.log(
    `ER densities train/val/test: ${
      [train, val, test].map((s) => directedDensity(s).toFixed(4)).join(" / ")
    } (reference 0.2500 / 0.2515 / 0.2511); distinct train ${distinctGraphs(train)} of 5000 ` +
      "(reference 4993: small 7-node graphs repeat)",
  );
});

Deno.test("erdos-renyi: same seed ⇒ same graphs, other seed ⇒ other graphs; p = 1 complete", () => {
  assert.ok(same(erdosRenyiDataset(100, 7), erdosRenyiDataset(100, 7)));
  assert.ok(!same(erdosRenyiDataset(100, 7), erdosRenyiDataset(100, 8)));
  const s = aeDatasetSplits("erdos_renyi", { train: 50, val: 50, test: 50, seed: 4 });
  assert.ok(!same(s.train, s.val) && !same(s.val, s.test));
  assert.ok(same(s.train, erdosRenyiDataset(50, 12))); // split k uses seed 3·base + k
  assert.equal(directedDensity(erdosRenyiDataset(10, 1, { p: 1 })), 1);
});

Deno.test("erdos-renyi: the over-fitting set is 10 graphs per node count, seed 3", () => {
  const g = overfitDataset(0.2);
  assert.equal(g.length, 100);
  for (const c of histogram(g).values()) assert.equal(c, 10);
  assert.ok(same(g, erdosRenyiDataset(100, 3, { p: 0.2 })));
  g.forEach(checkGraph);
  // 6,450 node pairs: standard error 0.005
  assert.ok(Math.abs(directedDensity(g) - 0.2) < 0.02, `density ${directedDensity(g)}`);
  assert.equal(overfitDataset(0.5, 3, { minNodes: 4, maxNodes: 5, perSize: 3 }).length, 6);
});

/** Pooled directed density expected of the generator, given each community's expected edges. */
function expectedCommunityDensity(internalEdges: (slot: number, size: number) => number): number {
  let num = 0, den = 0;
  for (let a = 6; a <= 10; a++) {
    for (let b = 6; b <= 10; b++) {
      // cross edges: Binomial(ab, 0.01), plus the forced one when none
      const cross = 0.01 * a * b + 0.99 ** (a * b);
      num += 2 * (internalEdges(0, a) + internalEdges(1, b) + cross);
      den += (a + b) * (a + b - 1);
    }
  }
  return num / den;
}

// edges of networkx's gnp_random_graph(size, 0.7, seed=slot), sizes 6…10 (networkx 3.6.1)
const REFERENCE_COMMUNITY_EDGES = [[10, 12, 17, 21, 27], [10, 13, 19, 27, 32]];

Deno.test("community: sizes, cross edges and density for both seedings; the reference's leak", () => {
  for (const seeding of ["intended", "reference"] as const) {
    const graphs = communitySmallDataset(5000, 0, { seeding });
    const pairCounts = new Map<string, number>();
    let edges = 0, pairs = 0, crossEdges = 0, crossPairs = 0;
    for (const g of graphs) {
      edges += checkGraph(g);
      pairs += g.n * (g.n - 1);
      const [a, b] = g.communitySizes;
      assert.ok(a >= 6 && a <= 10 && b >= 6 && b <= 10 && g.n === a + b);
      pairCounts.set(`${a},${b}`, (pairCounts.get(`${a},${b}`) ?? 0) + 1);
      let cross = 0;
      for (let i = 0; i < a; i++) for (let j = a; j < g.n; j++) cross += g.adj[i * g.n + j];
      assert.ok(cross >= 1, "at least one edge across the communities");
      crossEdges += cross;
      crossPairs += a * b;
    }
    assert.equal(pairCounts.size, 25); // every pair of sizes, about 200 each
    for (const c of pairCounts.values()) assert.ok(c > 130 && c < 270, `size pair count ${c}`);
    assert.deepEqual(nodeCountRange(graphs), { min: 12, max: 20 });
    // 0.01 per pair plus the forced edges (about half the graphs): about 0.0183
    assert.ok(crossEdges / crossPairs > 0.015 && crossEdges / crossPairs < 0.022);
    const density = edges / pairs, distinct = distinctGraphs(graphs);
    if (seeding === "intended") {
      // each community G(s, 0.7) ⇒ 0.3424 (the reference's 0.318 comes from its fixed graphs)
      const expected = expectedCommunityDensity((_, s) => (0.7 * s * (s - 1)) / 2);
      assert.ok(Math.abs(expected - 0.3424) < 5e-4);
      assert.ok(Math.abs(density - expected) < 0.005, `density ${density}, expected ${expected}`);
      assert.ok(distinct >= 4990, `distinct ${distinct}`);
    } else {
      const expected = expectedCommunityDensity((k, s) => REFERENCE_COMMUNITY_EDGES[k][s - 6]);
      assert.ok(Math.abs(density - expected) < 0.003, `density ${density}, expected ${expected}`);
      assert.ok(Math.abs(density - 0.318) < 0.01, `density ${density}, reference 0.3180`);
      assert.ok(distinct < 2500, `distinct ${distinct}`);
    }
    const test = communitySmallDataset(500, 2, { seeding });
    const trainKeys = new Set(graphs.map((g) => `${g.n}:${g.adj.join("")}`));
    const leaked = test.filter((g) => trainKeys.has(`${g.n}:${g.adj.join("")}`)).length;
    if (seeding === "intended") assert.equal(leaked, 0);
    console.log(
      `community (${seeding}): density ${density.toFixed(4)}, distinct ${distinct} of 5000, ` +
        `${leaked} of 500 test graphs in training (reference: 0.3180, 1732, 365)`,
    );
  }
});

Deno.test("community: reference seeding rebuilds networkx's gnp_random_graph(s, 0.7, seed=k)", () => {
  // CPython 3: random.Random(k).random(), draws 1–3 and 1001 (after one twist)
  for (
    const [seed, first, th1001] of [
      [0, [0.8444218515250481, 0.7579544029403025, 0.420571580830845], 0.9466893945947962],
      [1, [0.13436424411240122, 0.8474337369372327, 0.763774618976614], 0.4116430517162146],
    ] as const
  ) {
    const r = pythonRandom(seed);
    assert.deepEqual([r(), r(), r()], first);
    for (let k = 3; k < 1000; k++) r();
    assert.equal(r(), th1001);
  }
  // sorted(nx.gnp_random_graph(6, 0.7, seed=k).edges())
  const nx6 = [
    "0-3 0-4 0-5 1-2 1-4 1-5 2-3 2-5 3-4 4-5",
    "0-1 0-4 0-5 1-2 1-3 1-5 2-3 2-5 3-5 4-5",
  ];
  const graphs = communitySmallDataset(400, 5, { seeding: "reference" });
  const seen = new Set<string>();
  for (const g of graphs) {
    for (const k of [0, 1]) {
      const s = g.communitySizes[k], offset = k === 0 ? 0 : g.communitySizes[0];
      const list: string[] = [];
      for (let i = 0; i < s; i++) {
        for (let j = i + 1; j < s; j++) {
          if (g.adj[(offset + i) * g.n + offset + j]) list.push(`${i}-${j}`);
        }
      }
      assert.equal(list.length, REFERENCE_COMMUNITY_EDGES[k][s - 6]);
      if (s === 6) assert.equal(list.join(" "), nx6[k]);
      seen.add(`${k}:${s}`);
    }
  }
  assert.equal(seen.size, 10);
});

Deno.test("community: deterministic in the seed", () => {
  assert.ok(same(communitySmallDataset(50, 9), communitySmallDataset(50, 9)));
  assert.ok(!same(communitySmallDataset(50, 9), communitySmallDataset(50, 10)));
  const s = aeDatasetSplits("community", { train: 20, val: 10, test: 10, seed: 2 });
  assert.ok(same(s.test, communitySmallDataset(10, 8)));
});

Deno.test("graphs: bad parameters are refused with the parameter named", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => erdosRenyiDataset(10, 0, { p: 0 }), /p = 0, expected a probability in \(0, 1\]/],
    [() => erdosRenyiDataset(10, 0, { p: 1.5 }), /p = 1.5/],
    [() => erdosRenyiDataset(10, 0, { p: NaN }), /p = NaN/],
    [() => erdosRenyiDataset(0, 0), /count = 0, expected an integer ≥ 1/],
    [() => erdosRenyiDataset(-10, 0), /count = -10/],
    [() => erdosRenyiDataset(2.5, 0), /count = 2.5/],
    [() => erdosRenyiDataset(15, 0), /count = 15, expected a multiple of the 10 node counts/],
    [() => erdosRenyiDataset(10, 0, { minNodes: 9, maxNodes: 8 }), /minNodes = 9 > maxNodes = 8/],
    [() => erdosRenyiDataset(10, 0, { minNodes: 7.5 }), /minNodes = 7.5, expected an integer/],
    [() => erdosRenyiDataset(10, 0, { maxNodes: 0 }), /maxNodes = 0/],
    [() => erdosRenyiDataset(10, -1), /seed = -1, expected an integer in \[0, 2\^32\)/],
    [() => erdosRenyiDataset(10, 0.5), /seed = 0.5/],
    [() => communitySmallDataset(10, 0, { pIn: 0 }), /pIn = 0, expected a probability in \(0/],
    [() => communitySmallDataset(10, 0, { pOut: -0.1 }), /pOut = -0.1, .* in \[0, 1\]/],
    [() => communitySmallDataset(10, 0, { minCommunity: 8, maxCommunity: 7 }), /minCommunity = 8/],
    [() => communitySmallDataset(0, 0), /count = 0/],
    [
      () => communitySmallDataset(1, 0, { seeding: "other" as "reference" }),
      /seeding = other, expected "intended" or "reference"/,
    ],
    [() => overfitDataset(0), /p = 0/],
    [() => overfitDataset(0.2, 3, { perSize: 0 }), /perSize = 0/],
    [() => aeDatasetSplits("grid" as "community"), /kind = grid/],
    [() => aeDatasetSplits("community", { seed: -2 }), /seed = -2/],
    [() => aeDatasetSplits("erdos_renyi", { val: 55 }), /count = 55/],
    [() => nodeCountRange([]), /no graphs/],
  ];
  for (const [f, message] of cases) assert.throws(f, message);
});
