// E(n) equivariance (paper §3, "Property"): for every orthogonal Q (rotations, det +1, and
// reflections, det −1), translation g and permutation of the nodes of each graph,
//   x_out(Qx + g, Qv) = Q·x_out(x, v) + g,   h_out(Qx + g) = h_out(x),
// and outputs permute with the nodes — in n = 2, 3, 5 and 8, for a 4-layer EGNN with and
// without attention and for EGNN_vel (velocities rotate but do not translate), untrained and
// after a few Adam steps. The plain GNN baseline, which takes positions as features, must fail
// the rotation check by a wide margin: the check can fail.
//
// Each case is one batch holding four copies of the same graphs (fully connected graphs of 5
// and 4 nodes and an explicit edge list of 5 nodes, one of which receives no edge): the
// original, Qx + g with det Q = +1, Qx + g with det Q = −1, and the nodes permuted within each
// graph (edges and edge attributes relabelled, edge list reordered). Invariant inputs are
// recomputed from each copy's own coordinates: edge attributes [q_i q_j, ‖x_i − x_j‖²] and
// EGNN_vel's h = ‖v‖. One GPU read per test.
//
// Metric (f32 throughout): for coordinates, max |got − expected| over the copy divided by the
// spread of the expected output, max |x_out − mean(x_out)| (a translation-free scale: |g| does
// not loosen the bound); for features, max |got − expected| / max |expected|. Bound 1e-4.
//
// The same checks run on the whole-layer EGCL kernel (lib/gpu/kernels/egcl_layer.ts) in n = 3, 8.
//
// Set EGNN_TEST_REPORT=1 to print every measured error.
import assert from "node:assert/strict";
import { egclSwitches } from "../lib/egnn/egcl.ts";
import { pendingCount } from "../lib/gpu/commands.ts";
import {
  Adam,
  type DeviceGraph,
  type EdgeListGraph,
  EGNN,
  EGNNVel,
  endStep,
  fromArray,
  fromEdgeLists,
  getGpu,
  GNN,
  type GraphBatch,
  mseLoss,
  noGrad,
  type ParameterSet,
  readMany,
  resetTape,
  type Tensor,
  trainStep,
  uploadGraph,
} from "../mod.ts";
import { randomOrthogonal, symmetryError, transformRows } from "./reference/orthogonal.ts";
import { Random, toF32 } from "./reference/random.ts";

const DIMS = [2, 3, 5, 8];
const RTOL = 1e-4;
const HIDDEN = 16;
const H_IN = 3;
const REPORT = Deno.env.get("EGNN_TEST_REPORT") === "1";

// ---------------------------------------------------------------------------------------------
// Transformations

/** How one copy of the graphs was made from the original. */
type Copy =
  | { kind: "identity" }
  | { kind: "rotation" | "reflection"; q: Float64Array; g: Float64Array }
  | { kind: "permutation"; from: number[] };

// ---------------------------------------------------------------------------------------------
// The batch: four copies of the same graphs

/** Every ordered pair i ≠ j, i-major. */
function allPairs(n: number): [number, number][] {
  const edges: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) edges.push([i, j]);
  return edges;
}

/** The original graphs: sizes and local edge lists (node 4 of the last receives nothing). */
const BASE_GRAPHS: { numNodes: number; edges: [number, number][] }[] = [
  { numNodes: 5, edges: allPairs(5) },
  { numNodes: 4, edges: allPairs(4) },
  { numNodes: 5, edges: [[2, 0], [0, 1], [2, 1], [1, 4], [0, 4], [3, 2], [0, 2], [1, 3]] },
];
const M = BASE_GRAPHS.reduce((a, g) => a + g.numNodes, 0);

/** A batch of all copies and the per-node inputs, every value float32-representable. */
interface Equivariant {
  n: number;
  copies: Copy[];
  batch: GraphBatch;
  /** Node features N × H_IN (invariant: the same in every copy, permuted with the nodes). */
  h: Float64Array;
  /** Coordinates and velocities, N × n. */
  x: Float64Array;
  vel: Float64Array;
  /** ‖v‖ per node, N × 1. */
  speed: Float64Array;
}

/** Original data in n dimensions, then each copy, all in one batch. */
function makeBatch(n: number, rng: Random): Equivariant {
  const x0 = rng.normals(M * n);
  const v0 = rng.normals(M * n, 0.5);
  const h0 = rng.normals(M * H_IN);
  const charge = Array.from({ length: M }, () => (rng.next() < 0.5 ? -1 : 1));
  const offsets = BASE_GRAPHS.map((_, k) =>
    BASE_GRAPHS.slice(0, k).reduce((a, g) => a + g.numNodes, 0)
  );
  const transform = (kind: "rotation" | "reflection"): Copy => ({
    kind,
    q: randomOrthogonal(n, kind === "rotation" ? 1 : -1, rng),
    g: Float64Array.from({ length: n }, () => 2 * rng.normal()),
  });
  const from: number[] = [];
  BASE_GRAPHS.forEach((g, k) => {
    for (const p of rng.sample(g.numNodes, g.numNodes)) from.push(offsets[k] + p);
  });
  const copies: Copy[] = [
    { kind: "identity" },
    transform("rotation"),
    transform("reflection"),
    { kind: "permutation", from },
  ];

  const graphs: EdgeListGraph[] = [];
  const xs: number[] = [], vs: number[] = [], hs: number[] = [], speeds: number[] = [];
  for (const copy of copies) {
    // node k of this copy is node src(k) of the original
    const src = (k: number) => (copy.kind === "permutation" ? copy.from[k] : k);
    const to = new Array<number>(M);
    for (let k = 0; k < M; k++) to[src(k)] = k;
    let x = x0, v = v0;
    if (copy.kind === "rotation" || copy.kind === "reflection") {
      x = toF32(transformRows(x0, n, copy.q, copy.g));
      v = toF32(transformRows(v0, n, copy.q, null));
    }
    const row = (a: Float64Array, w: number, k: number) => [...a.subarray(k * w, (k + 1) * w)];
    const cx = Array.from({ length: M }, (_, k) => row(x, n, src(k)));
    const cv = Array.from({ length: M }, (_, k) => row(v, n, src(k)));
    for (let k = 0; k < M; k++) {
      xs.push(...cx[k]);
      vs.push(...cv[k]);
      hs.push(...row(h0, H_IN, src(k)));
      speeds.push(Math.fround(Math.hypot(...cv[k])));
    }
    BASE_GRAPHS.forEach((g, gi) => {
      const o = offsets[gi];
      // relabel the edges and list them in reverse, so the batch has to sort them again
      const edges = g.edges.map(([i, j]) => [to[o + i] - o, to[o + j] - o] as [number, number]);
      if (copy.kind === "permutation") edges.reverse();
      const edgeAttr = edges.map(([i, j]) => {
        const a = o + i, b = o + j;
        const d2 = cx[a].reduce((s, c, d) => s + (c - cx[b][d]) ** 2, 0);
        return [charge[src(a)] * charge[src(b)], d2];
      });
      graphs.push({ numNodes: g.numNodes, edges, edgeAttr, coords: cx.slice(o, o + g.numNodes) });
    });
  }
  return {
    n,
    copies,
    batch: fromEdgeLists(graphs, { dim: n, edgeAttrDim: 2 }),
    h: toF32(hs),
    x: toF32(xs),
    vel: toF32(vs),
    speed: toF32(speeds),
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring

/** The copy's block of rows (rows × w) of a batch output. */
function block(out: ArrayLike<number>, w: number, copy: number): Float64Array {
  return Float64Array.from({ length: M * w }, (_, i) => out[copy * M * w + i]);
}

/**
 * What the copy's output must be given the original's: Q·x + g for coordinates (Q alone for
 * features: they are invariant), the original's rows in the copy's node order after a
 * permutation.
 */
function expected(copy: Copy, original: Float64Array, w: number, coords: boolean): Float64Array {
  switch (copy.kind) {
    case "identity":
      return original;
    case "rotation":
    case "reflection":
      return coords ? transformRows(original, w, copy.q, copy.g) : original;
    case "permutation":
      return Float64Array.from(
        { length: M * w },
        (_, i) => original[copy.from[Math.floor(i / w)] * w + (i % w)],
      );
  }
}

/** Errors of each transformed copy for one output of width w. */
function equivarianceErrors(
  e: Equivariant,
  out: ArrayLike<number>,
  w: number,
  coords: boolean,
): Map<string, number> {
  const original = block(out, w, 0);
  const errors = new Map<string, number>();
  e.copies.forEach((copy, c) => {
    if (c === 0) return;
    const want = expected(copy, original, w, coords);
    errors.set(copy.kind, symmetryError(block(out, w, c), want, w, coords));
  });
  return errors;
}

/** Asserts every error of a model's outputs is within RTOL; prints them with REPORT. */
function assertEquivariant(label: string, errors: Map<string, number>) {
  if (REPORT) {
    console.log(
      `${label}: ` + [...errors].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(", "),
    );
  }
  for (const [kind, err] of errors) {
    assert.ok(err <= RTOL, `${label}: ${kind} error ${err.toExponential(3)} exceeds ${RTOL}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The models

/**
 * Weights and biases U(±1/√fan_in), φx's last weight included (the own init's gain 0.001 would
 * leave the coordinates almost unchanged, and identity is trivially equivariant).
 */
function randomParameters(ps: ParameterSet, rng: Random): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const name of ps.names) {
    const bound = 1 / Math.sqrt(ps.get(name.replace(/\.bias$/, ".weight")).shape[0]);
    out.set(name, Float32Array.from(rng.uniforms(ps.get(name).size, -bound, bound)));
  }
  return out;
}

/** Device inputs of a batch, kept across training steps. */
interface DeviceInputs {
  graph: DeviceGraph;
  h: Tensor;
  x: Tensor;
  vel: Tensor;
  speed: Tensor;
  edgeAttr: Tensor;
  dispose(): void;
}

function upload(e: Equivariant): DeviceInputs {
  const N = e.batch.numNodes;
  const t = {
    h: fromArray(e.h, [N, H_IN]).keep(),
    x: fromArray(e.x, [N, e.n]).keep(),
    vel: fromArray(e.vel, [N, e.n]).keep(),
    speed: fromArray(e.speed, [N, 1]).keep(),
  };
  const graph = uploadGraph(e.batch);
  return {
    ...t,
    graph,
    edgeAttr: graph.edgeAttr!,
    dispose() {
      Object.values(t).forEach((x) => x.dispose());
      graph.dispose();
    },
  };
}

/** A model under test: its parameters and a forward giving x (and h for EGNN). */
interface Model {
  name: string;
  params: ParameterSet;
  /** The values loaded before any training. */
  initial: Map<string, Float32Array>;
  forward(d: DeviceInputs): { h: Tensor | null; x: Tensor };
}

function models(n: number, rng: Random): Model[] {
  const plain = new EGNN({ inNodeNf: H_IN, hiddenNf: HIDDEN, outNodeNf: 2, inEdgeNf: 2 });
  const attention = new EGNN({
    inNodeNf: H_IN,
    hiddenNf: HIDDEN,
    outNodeNf: 2,
    inEdgeNf: 2,
    attention: true,
  });
  const vel = new EGNNVel({ hiddenNf: HIDDEN });
  const list: Omit<Model, "initial">[] = [
    {
      name: `EGNN n=${n}`,
      params: plain.params,
      forward: (d) => plain.forward(d.h, d.x, d.graph, d.edgeAttr),
    },
    {
      name: `EGNN+attention n=${n}`,
      params: attention.params,
      forward: (d) => attention.forward(d.h, d.x, d.graph, d.edgeAttr),
    },
    {
      name: `EGNN_vel n=${n}`,
      params: vel.params,
      forward: (d) => ({ h: null, x: vel.forward(d.speed, d.x, d.vel, d.graph, d.edgeAttr) }),
    },
  ];
  return list.map((m) => {
    const initial = randomParameters(m.params, rng);
    m.params.load(initial);
    return { ...m, initial };
  });
}

/** Records every model's forward; returns the tensors to read and how to check them. */
function recordChecks(e: Equivariant, d: DeviceInputs, list: Model[]) {
  const reads: Tensor[] = [];
  const checks: ((values: ArrayLike<number>[]) => void)[] = [];
  for (const m of list) {
    const out = noGrad(() => m.forward(d));
    const at = reads.length;
    reads.push(out.x);
    if (out.h) reads.push(out.h);
    const hWidth = out.h ? out.h.shape[1] : 0;
    checks.push((values) => {
      // The layers do move the coordinates (an identity map would pass trivially).
      const moved = symmetryError(block(values[at], e.n, 0), block(e.x, e.n, 0), e.n, true);
      assert.ok(moved > 1e-2, `${m.name}: x_out − x_in is ${moved} of the spread`);
      assertEquivariant(`${m.name} x`, equivarianceErrors(e, values[at], e.n, true));
      if (hWidth) {
        assertEquivariant(`${m.name} h`, equivarianceErrors(e, values[at + 1], hWidth, false));
      }
    });
  }
  return { reads, check: (values: ArrayLike<number>[]) => checks.forEach((c) => c(values)) };
}

for (const n of DIMS) {
  Deno.test(
    `EGNN, EGNN with attention and EGNN_vel are E(${n})- and permutation-equivariant ` +
      `(rotation, reflection, translation; h invariant)`,
    async () => {
      await getGpu();
      const rng = new Random(100 + n);
      const e = makeBatch(n, rng);
      const d = upload(e);
      try {
        const { reads, check } = recordChecks(e, d, models(n, rng));
        check(await readMany(reads));
      } finally {
        d.dispose();
        resetTape();
        endStep();
      }
    },
  );
}

for (const n of [3, 8]) {
  Deno.test(
    `the whole-layer EGCL kernel (one dispatch per layer) is E(${n})- and permutation-equivariant`,
    async () => {
      await getGpu();
      const rng = new Random(200 + n);
      const e = makeBatch(n, rng);
      const d = upload(e);
      egclSwitches.wholeLayer = true;
      try {
        const list = models(n, rng);
        const before = pendingCount();
        const { reads, check } = recordChecks(e, d, list);
        // 3 models × 4 layers, one dispatch each, plus embeddings: far fewer than per-op (~200).
        assert.ok(pendingCount() - before < 40, `${pendingCount() - before} commands`);
        check(await readMany(reads));
      } finally {
        egclSwitches.wholeLayer = "auto";
        d.dispose();
        resetTape();
        endStep();
      }
    },
  );
}

Deno.test("after 4 Adam steps on an MSE loss the models are still equivariant, n = 2, 3, 5, 8", async () => {
  await getGpu();
  const reads: Tensor[] = [];
  const checks: ((values: ArrayLike<number>[]) => void)[] = [];
  const kept: { dispose(): void }[] = [];
  const trained: { e: Equivariant; d: DeviceInputs; list: Model[] }[] = [];
  try {
    for (const n of DIMS) {
      const rng = new Random(200 + n);
      const e = makeBatch(n, rng);
      const d = upload(e);
      kept.push(d);
      const target = fromArray(rng.normals(e.batch.numNodes * n), [e.batch.numNodes, n]).keep();
      kept.push(target);
      const list = models(n, rng);
      for (const m of list) {
        const opt = new Adam(m.params, { lr: 1e-2 });
        for (let s = 0; s < 4; s++) await trainStep(() => mseLoss(m.forward(d).x, target), opt);
      }
      trained.push({ e, d, list });
    }
    // Record the checks only now: every trainStep ends a step and frees the temporaries.
    for (const { e, d, list } of trained) {
      const r = recordChecks(e, d, list);
      const at = reads.length;
      reads.push(...r.reads);
      const paramsAt = reads.length;
      for (const m of list) reads.push(...m.params.tensors);
      checks.push((values) => {
        let k = paramsAt;
        for (const m of list) {
          let moved = 0;
          for (const name of m.params.names) {
            const before = m.initial.get(name)!, now = values[k++];
            before.forEach((b, i) => moved = Math.max(moved, Math.abs(now[i] - b)));
          }
          assert.ok(moved > 1e-2, `${m.name}: training moved the parameters (by ${moved})`);
        }
        r.check(values.slice(at));
      });
    }
    const values = await readMany(reads);
    for (const c of checks) c(values);
  } finally {
    kept.forEach((d) => d.dispose());
    resetTape();
    endStep();
  }
});

Deno.test("the check can fail: the plain GNN baseline (positions as features) is not rotation-equivariant", async () => {
  await getGpu();
  const reads: Tensor[] = [];
  const checks: ((values: ArrayLike<number>[]) => void)[] = [];
  const devices: DeviceInputs[] = [];
  try {
    for (const n of DIMS) {
      const e = makeBatch(n, new Random(300 + n));
      const d = upload(e);
      devices.push(d);
      const gnn = new GNN({ inputDim: 2 * n, outputDim: n, hiddenNf: HIDDEN, edgesInNf: 2 });
      const N = e.batch.numNodes;
      const nodes = Float64Array.from({ length: N * 2 * n }, (_, i) => {
        const k = Math.floor(i / (2 * n)), c = i % (2 * n);
        return c < n ? e.x[k * n + c] : e.vel[k * n + c - n];
      });
      reads.push(noGrad(() => gnn.forward(fromArray(nodes, [N, 2 * n]), d.graph, d.edgeAttr)));
      const at = reads.length - 1;
      checks.push((values) => {
        const errors = equivarianceErrors(e, values[at], n, true);
        if (REPORT) {
          console.log(
            `GNN n=${n}: ` + [...errors].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(", "),
          );
        }
        for (const kind of ["rotation", "reflection"]) {
          const err = errors.get(kind)!;
          assert.ok(err > 1e-2, `GNN n=${n}: ${kind} error ${err} should exceed 1e-2`);
        }
        // It is a message-passing network all the same: permuting the nodes permutes its output.
        assert.ok(errors.get("permutation")! <= RTOL, `GNN n=${n}: permutation-equivariant`);
      });
    }
    const values = await readMany(reads);
    for (const c of checks) c(values);
  } finally {
    devices.forEach((d) => d.dispose());
    resetTape();
    endStep();
  }
});
