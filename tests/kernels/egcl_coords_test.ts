// The EGCL's fused coordinate ops (lib/gpu/kernels/egcl_coords.ts) against the float64 reference
// (tests/reference/egcl_coords.ts), with finite-difference gradient checks: x_i − x_j and its
// squared norm in one pass (both outputs, or either alone), and eq. 4 with eq. 7's velocity in
// one pass (mean or sum, clamped or not, weighted). The graphs include a node with no edges and
// nodes that only send or only receive.
import assert from "node:assert/strict";
import {
  concat,
  coordinateUpdate,
  type DeviceGraph,
  edgeDifferences,
  fromEdgeLists,
  fullyConnected,
  getGpu,
  type GraphBatch,
  uploadGraph,
} from "../../mod.ts";
import {
  coordinateUpdateBackward,
  coordinateUpdateForward,
  edgeDifferencesBackward,
  edgeDifferencesForward,
  type EdgeList,
  type UpdateOptions,
} from "../reference/egcl_coords.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "./check_op.ts";

/** Graphs of 4, 1 and 3 nodes, fully connected (node 4 has no edges). */
const fullBatch = () => fullyConnected([4, 1, 3]);
/** A sparse graph of 6 nodes: node 5 only sends, node 0 only receives, node 3 neither. */
const sparseBatch = () =>
  fromEdgeLists([{ numNodes: 6, edges: [[0, 1], [0, 5], [1, 2], [2, 1], [4, 5], [1, 5]] }]);

function edgesOf(b: GraphBatch): EdgeList {
  return { receivers: b.receivers, senders: b.senders, numNodes: b.numNodes };
}

async function withGraph(b: GraphBatch, fn: (g: DeviceGraph) => Promise<void>) {
  await getGpu();
  const g = uploadGraph(b);
  try {
    await fn(g);
  } finally {
    g.dispose();
  }
}

for (
  const [label, make, n] of [["fully connected", fullBatch, 3], ["sparse", sparseBatch, 8]] as const
) {
  Deno.test(`edgeDifferences (${label}, n = ${n}): x_i − x_j and ‖·‖² with their gradient`, async () => {
    const b = make();
    const g = edgesOf(b);
    const E = b.numEdges;
    const x = new Random(3).normals(b.numNodes * n);
    await withGraph(b, async (dg) => {
      await checkOp({
        name: `edgeDifferences ${label}`,
        inputs: [{ name: "x", data: x, shape: [b.numNodes, n] }],
        gpu: ([xt]) => {
          const { diff, radial } = edgeDifferences(xt, dg);
          return concat([diff, radial]);
        },
        forward: ([xs]) => edgeDifferencesForward(xs, g, n),
        backward: ([xs], seed) => [edgeDifferencesBackward(xs, g, n, seed)],
        seed: 11,
      });
      // Either output alone: the op's one backward runs for whichever has a gradient.
      const column = (full: Float64Array, c: number, w: number) =>
        Float64Array.from(
          { length: E * w },
          (_, t) => full[Math.floor(t / w) * (n + 1) + c + (t % w)],
        );
      const widen = (seed: Float64Array, c: number, w: number) => {
        const s = new Float64Array(E * (n + 1));
        for (let t = 0; t < E * w; t++) s[Math.floor(t / w) * (n + 1) + c + (t % w)] = seed[t];
        return s;
      };
      await checkOp({
        name: `edgeDifferences ${label}, radial only`,
        inputs: [{ name: "x", data: x, shape: [b.numNodes, n] }],
        gpu: ([xt]) => edgeDifferences(xt, dg).radial,
        forward: ([xs]) => column(edgeDifferencesForward(xs, g, n), n, 1),
        backward: ([xs], seed) => [edgeDifferencesBackward(xs, g, n, widen(seed, n, 1))],
        seed: 12,
      });
      await checkOp({
        name: `edgeDifferences ${label}, differences only`,
        inputs: [{ name: "x", data: x, shape: [b.numNodes, n] }],
        gpu: ([xt]) => edgeDifferences(xt, dg).diff,
        forward: ([xs]) => column(edgeDifferencesForward(xs, g, n), 0, n),
        backward: ([xs], seed) => [edgeDifferencesBackward(xs, g, n, widen(seed, 0, n))],
        seed: 13,
      });
    });
  });
}

const UPDATE_CASES: {
  label: string;
  make: () => GraphBatch;
  n: number;
  o: Omit<UpdateOptions, "vel"> & { outScale?: number };
  velocity: boolean;
}[] = [
  {
    label: "mean, clamped ±0.5, weight 0.7, velocity, scaled 0.8",
    make: fullBatch,
    n: 3,
    o: { mean: true, weight: 0.7, clamp: [-0.5, 0.5], outScale: 0.8 },
    velocity: true,
  },
  {
    label: "sum, unclamped",
    make: sparseBatch,
    n: 8,
    o: { mean: false, weight: 1, clamp: null },
    velocity: false,
  },
  {
    label: "mean, clamped ±100 (the reference's), velocity",
    make: sparseBatch,
    n: 3,
    o: { mean: true, weight: 1, clamp: [-100, 100] },
    velocity: true,
  },
];

for (const c of UPDATE_CASES) {
  Deno.test(`coordinateUpdate (${c.label}): eqs. 4 and 7 and their gradients`, async () => {
    const b = c.make();
    const g = edgesOf(b);
    const N = b.numNodes, E = b.numEdges, n = c.n;
    const rng = new Random(21);
    const vel = c.velocity ? rng.normals(N * n) : null;
    const o: UpdateOptions = { ...c.o, vel };
    const inputs = [
      { name: "x", data: rng.normals(N * n), shape: [N, n] },
      { name: "diff", data: rng.normals(E * n), shape: [E, n] },
      { name: "phi", data: rng.normals(E), shape: [E, 1] },
      { name: "phiV", data: rng.normals(N), shape: [N, 1], grad: c.velocity },
      { name: "vel", data: vel ?? new Float64Array(N * n), shape: [N, n], grad: false },
    ];
    await withGraph(b, async (dg) => {
      const r = await checkOp({
        name: `coordinateUpdate ${c.label}`,
        inputs,
        gpu: ([x, diff, phi, phiV, v]) =>
          coordinateUpdate(x, diff, phi, dg.incoming, {
            ...c.o,
            velocity: c.velocity ? { vel: v, phiV } : null,
          }),
        forward: ([x, diff, phi, phiV]) => coordinateUpdateForward(x, diff, phi, phiV, g, n, o),
        backward: ([, diff, phi], seed) => {
          const d = coordinateUpdateBackward(diff, phi, g, n, o, seed);
          return [d.dx, d.dDiff, d.dPhi, c.velocity ? d.dPhiV : null, null];
        },
        kinks: ([, diff, phi]) => {
          if (!c.o.clamp) return new Float64Array(0);
          const [lo, hi] = c.o.clamp;
          const k = new Float64Array(2 * E * n);
          for (let e = 0; e < E; e++) {
            for (let d = 0; d < n; d++) {
              const p = diff[e * n + d] * phi[e];
              k[2 * (e * n + d)] = p - lo;
              k[2 * (e * n + d) + 1] = p - hi;
            }
          }
          return k;
        },
        seed: 31,
      });
      if (c.o.clamp?.[0] === -0.5) {
        // The case clamps some messages: their gradients are exactly zero.
        const clipped = Array.from({ length: E * n }, (_, t) => t).filter((t) =>
          Math.abs(inputs[1].data[t] * inputs[2].data[Math.floor(t / n)]) > 0.5
        );
        assert.ok(clipped.length > 0, "the case must clamp some messages");
        for (const t of clipped) assert.equal(r.grads[1]![t], 0);
      }
    });
  });
}
