// The graph autoencoders of lib/egnn/autoencoder.ts (paper §5.2, the reference's models/ae.py)
// against the float64 reference of tests/reference/autoencoder.ts (written from the spec,
// shared/spec/reference_implementation.md §5, composed from the layer references of egnn.ts and
// baselines.ts and the two decoders): the E×1 edge logits and the gradients of Σ seed ⊙ logits
// with respect to every parameter and every input — the noise (x⁰, N×K, for `egnn` and `rf`;
// the N×1 node input of `noise_gnn`) and the adjacency attribute a_ij ∈ {0, 1} — on the batch of
// egcl_test.ts (fully connected graphs of 5, 3, 1 and 4 nodes and an explicit edge list with a
// node that receives no edge: the model is defined for any edge list).
//
// Cases:
// - each encoder (`egnn`, `rf`, `gnn`, `noise_gnn`) at H = 16, 2 layers, K = 4, reg 1e-3,
//   against the reference; the reference's own gradients first against float64 central
//   differences (H = 6, 2 layers, K = 3). With the GNN decoder, which sees only z_i − z_j, the
//   output checked is the logits beside the receivers' z_i: a bias of `fc_emb` or of the last
//   GCL's φh shifts every z alike, so the logits alone give it an exactly zero gradient, which
//   f32 round-off cannot be measured against;
// - parameter counts at the reference's defaults (H = 64, 4 layers, K = 8): egnn 104,642, gnn and
//   noise_gnn 88,017, rf 1,026 (the reference's 1,218 include an unused 192-parameter GCL_rf);
// - E(n) equivariance of `egnn` and `rf` on `fullyConnected([5, 7])` in K = 8 with a random
//   symmetric 0/1 adjacency: x⁰ → x⁰Q + t (Q orthogonal, det +1 and det −1) gives
//   z → zQ + (1 − reg)^L·t and unchanged logits — both layers end with x ← x + Δ(x) − reg·x
//   where Δ is translation-invariant, so each shrinks a translation by (1 − reg); reg = 0.1 and
//   3 layers make the factor 0.729 visible, and the check without it must fail; a permutation
//   of the nodes within each graph (noise and adjacency relabelled) permutes z and the logits;
// - the GNN autoencoder is a sanity check, not an equivariance claim: `noise_gnn`'s logits
//   depend on its noise;
// - determinism: two models with the same seed and noiseSeed give identical logits from their
//   own noise, a different noiseSeed different ones, and the noise is fresh at every forward.
//
// Metric against the reference (per tensor, elementwise): |gpu − ref| ≤ 1e-4 · max(RMS(ref),
// |ref|), as egcl_test.ts. Parameters are random U(±1/√fan_in) loaded by name, the scalars w and b
// U(±1) and φx's / φ's last weight included (their own xavier-0.001 init would hide the
// coordinate path). Equivariance metric (f32 throughout), as equivariance_test.ts: for z,
// max |got − expected| over the copy divided by the spread of the expected z; for the logits,
// max |got − expected| / max |expected|. Bound 1e-4.
//
// Set EGNN_TEST_REPORT=1 to print the worst measured error of each case. The batch, the metric
// and the checks are shared with egcl_test.ts in model_check.ts.
import assert from "node:assert/strict";
import { egclSwitches } from "../../lib/egnn/egcl.ts";
import {
  type AutoencoderKind,
  concat,
  type DeviceGraph,
  endStep,
  fromArray,
  fullyConnected,
  gatherRows,
  getGpu,
  GraphAutoencoder,
  type GraphAutoencoderOptions,
  type GraphBatch,
  noGrad,
  read,
  readMany,
  resetTape,
  type Tensor,
  uploadGraph,
} from "../../mod.ts";
import type { HostMatrix } from "../reference/egnn.ts";
import {
  autoencoderEmbeddingModel,
  autoencoderModel,
  type ReferenceAutoencoderOptions,
} from "../reference/autoencoder.ts";
import { randomOrthogonal, symmetryError, transformRows } from "../reference/orthogonal.ts";
import { Random, toF32 } from "../reference/random.ts";
import {
  checkModel,
  checkReferenceGradient,
  float64Parameters,
  onTestBatch,
  randomParameters,
  testBatch,
  worstError,
} from "./model_check.ts";

const RTOL = 1e-4;
const REPORT = Deno.env.get("EGNN_TEST_REPORT") === "1";
const KINDS: AutoencoderKind[] = ["egnn", "rf", "gnn", "noise_gnn"];

/** The autoencoder's edge attribute a_ij ∈ {0, 1} (edge present or not), E × 1. */
function adjacencyAttr(batch: GraphBatch, rng: Random): HostMatrix {
  return { value: Float64Array.from({ length: batch.numEdges }, () => rng.int(0, 2)), cols: 1 };
}

/** The random input of an encoder: x⁰ (N×K), Noise-GNN's N×1 node input, or none for the GNN. */
function noiseInput(
  kind: AutoencoderKind,
  numNodes: number,
  K: number,
  rng: Random,
): HostMatrix | null {
  const cols = kind === "gnn" ? 0 : kind === "noise_gnn" ? 1 : K;
  return cols > 0 ? { value: rng.normals(numNodes * cols), cols } : null;
}

/** The model's inputs: the adjacency attribute and, except for the GNN, the noise. */
function modelInputs(
  kind: AutoencoderKind,
  batch: GraphBatch,
  K: number,
  rng: Random,
): Record<string, HostMatrix> {
  const noise = noiseInput(kind, batch.numNodes, K, rng);
  return { edgeAttr: adjacencyAttr(batch, rng), ...(noise ? { noise } : {}) };
}

/**
 * The GNN decoder sees only z_i − z_j: a bias of `fc_emb` or of the last GCL's φh shifts every
 * z alike, and the logits' gradients with respect to it are exactly zero (f32 round-off on the
 * GPU, with no scale to compare it at). For those encoders the output checked is the logits
 * beside the receivers' z_i, E × (1 + K).
 */
function withEmbedding(encoder: AutoencoderKind): boolean {
  return encoder === "gnn" || encoder === "noise_gnn";
}

/** The reference of what is checked: the logits, and z_i with the GNN decoder. */
function referenceOf(graph: GraphBatch, o: ReferenceAutoencoderOptions) {
  return withEmbedding(o.encoder)
    ? autoencoderEmbeddingModel(graph, o)
    : autoencoderModel(graph, o);
}

// ---------------------------------------------------------------------------------------------
// The reference's gradients against float64 central differences.

Deno.test("reference graph autoencoders (egnn, rf, gnn, noise_gnn) match float64 central differences", async () => {
  await getGpu();
  const rng = new Random(71);
  const batch = testBatch(rng);
  try {
    for (const encoder of KINDS) {
      const options = { encoder, hiddenNf: 6, nLayers: 2, embeddingNf: 3 };
      checkReferenceGradient(
        `autoencoder ${encoder} (2 layers, K = 3)`,
        referenceOf(batch, options),
        float64Parameters(new GraphAutoencoder(options).params, rng),
        modelInputs(encoder, batch, 3, rng),
        rng,
        40,
      );
    }
  } finally {
    resetTape();
    endStep();
  }
});

// ---------------------------------------------------------------------------------------------
// The GPU models against the reference.

function checkAutoencoder(encoder: AutoencoderKind, seed: number): Promise<void> {
  const K = 4;
  const options: GraphAutoencoderOptions = { encoder, hiddenNf: 16, nLayers: 2, embeddingNf: K };
  return onTestBatch({ seed }, async ({ rng, batch, graph }) => {
    const model = new GraphAutoencoder({ ...options, seed });
    await checkModel({
      name: `autoencoder ${encoder} H=16`,
      ps: model.params,
      params: randomParameters(model.params, rng),
      inputs: modelInputs(encoder, batch, K, rng),
      gpu: (xs) => {
        const z = model.encode(graph, xs.edgeAttr, xs.noise);
        const logits = model.decode(z, graph);
        return withEmbedding(encoder) ? concat([logits, gatherRows(z, graph.receivers)]) : logits;
      },
      reference: referenceOf(batch, options),
      outputs: [
        { name: "logits", cols: 1 },
        ...(withEmbedding(encoder) ? [{ name: "z", cols: K }] : []),
      ],
      seed: seed + 1000,
    });
  });
}

for (const [k, encoder] of KINDS.entries()) {
  Deno.test(`graph autoencoder ${encoder} (H=16, 2 layers, K=4): logits and gradients match the reference`, () =>
    checkAutoencoder(encoder, 81 + k));
}

Deno.test("graph autoencoder egnn with the coordinate path as separate ops (the decay a pass of its own) matches the reference", async () => {
  egclSwitches.fuseCoordinates = false;
  try {
    await checkAutoencoder("egnn", 90);
  } finally {
    egclSwitches.fuseCoordinates = true;
  }
});

Deno.test("graph autoencoders at the reference's defaults: egnn 104,642, gnn and noise_gnn 88,017, rf 1,026 parameters", async () => {
  await getGpu();
  const want: Record<AutoencoderKind, number> = {
    egnn: 104_642,
    gnn: 88_017,
    noise_gnn: 88_017,
    rf: 1_026,
  };
  for (const encoder of KINDS) {
    assert.equal(new GraphAutoencoder({ encoder }).params.count, want[encoder], encoder);
  }
});

// ---------------------------------------------------------------------------------------------
// Equivariance on fully connected graphs.

/** Rows of `x` (rows × w) in the order `from`: row k of the result is row from[k]. */
function permuteRows(x: ArrayLike<number>, w: number, from: ArrayLike<number>): Float64Array {
  return Float64Array.from(
    { length: from.length * w },
    (_, i) => x[from[Math.floor(i / w)] * w + i % w],
  );
}

/** The equivariance case: graphs, adjacency and noise, the transformed copies of them. */
interface Copy {
  kind: "identity" | "rotation" | "reflection" | "permutation";
  noise: Float64Array;
  adjacency: Float64Array;
  /** z of this copy given the original's z (translation factor applied by the caller). */
  z: (z: Float64Array, decay: number) => Float64Array;
  /** The logits of this copy given the original's. */
  logits: (l: Float64Array) => Float64Array;
}

/** fullyConnected([5, 7]) in K dimensions, random symmetric 0/1 adjacency and its copies. */
function equivarianceCase(K: number, rng: Random): { batch: GraphBatch; copies: Copy[] } {
  const sizes = [5, 7];
  const batch = fullyConnected(sizes);
  const N = batch.numNodes, E = batch.numEdges;
  const edge = new Map<string, number>();
  for (let e = 0; e < E; e++) edge.set(`${batch.receivers[e]},${batch.senders[e]}`, e);
  // a symmetric 0/1 adjacency: one draw per unordered pair
  const a = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = i + 1; j < N; j++) {
      if (edge.has(`${i},${j}`)) a[i * N + j] = a[j * N + i] = rng.int(0, 2);
    }
  }
  const adjacency = Float64Array.from(
    { length: E },
    (_, e) => a[batch.receivers[e] * N + batch.senders[e]],
  );
  const x0 = rng.normals(N * K);
  const euclidean = (kind: "rotation" | "reflection"): Copy => {
    const q = randomOrthogonal(K, kind === "rotation" ? 1 : -1, rng);
    const t = Float64Array.from({ length: K }, () => 2 * rng.normal());
    return {
      kind,
      noise: toF32(transformRows(x0, K, q, t)),
      adjacency,
      z: (z, decay) => transformRows(z, K, q, t.map((v) => v * decay)),
      logits: (l) => l,
    };
  };
  // node k of the permuted copy is node from[k] of the original, within its graph
  const from: number[] = [];
  let offset = 0;
  for (const n of sizes) {
    for (const p of rng.sample(n, n)) from.push(offset + p);
    offset += n;
  }
  const edgeFrom = Float64Array.from(
    { length: E },
    (_, e) => edge.get(`${from[batch.receivers[e]]},${from[batch.senders[e]]}`)!,
  );
  return {
    batch,
    copies: [
      { kind: "identity", noise: x0, adjacency, z: (z) => z, logits: (l) => l },
      euclidean("rotation"),
      euclidean("reflection"),
      {
        kind: "permutation",
        noise: permuteRows(x0, K, from),
        adjacency: permuteRows(adjacency, 1, edgeFrom),
        z: (z) => permuteRows(z, K, from),
        logits: (l) => permuteRows(l, 1, edgeFrom),
      },
    ],
  };
}

/** z and logits of every copy, one read. */
async function forwardCopies(
  model: GraphAutoencoder,
  graph: DeviceGraph,
  copies: Copy[],
  K: number,
): Promise<{ z: Float64Array[]; logits: Float64Array[] }> {
  const N = graph.numNodes, E = copies[0].adjacency.length;
  const reads: Tensor[] = [];
  noGrad(() => {
    for (const c of copies) {
      const z = model.encode(graph, fromArray(c.adjacency, [E, 1]), fromArray(c.noise, [N, K]));
      reads.push(z, model.decode(z, graph));
    }
  });
  const values = (await readMany(reads)).map((v) => Float64Array.from(v));
  return {
    z: values.filter((_, i) => i % 2 === 0),
    logits: values.filter((_, i) => i % 2 === 1),
  };
}

for (const [k, encoder] of (["egnn", "rf"] as const).entries()) {
  Deno.test(`graph autoencoder ${encoder} (K=8, 3 layers, reg 0.1) is E(8)-equivariant: z → zQ + (1 − reg)³t, logits invariant, permutations permute`, async () => {
    await getGpu();
    const K = 8, L = 3, reg = 0.1;
    const rng = new Random(91 + k);
    const { batch, copies } = equivarianceCase(K, rng);
    const graph = uploadGraph(batch);
    try {
      const model = new GraphAutoencoder({
        encoder,
        hiddenNf: 16,
        nLayers: L,
        embeddingNf: K,
        reg,
      });
      model.params.load(randomParameters(model.params, rng));
      const { z, logits } = await forwardCopies(model, graph, copies, K);
      const decay = (1 - reg) ** L;
      // The layers do move the points: z is not just the decayed x⁰.
      const still = copies[0].noise.map((v) => v * decay);
      const moved = symmetryError(z[0], still, K, true);
      assert.ok(moved > 1e-2, `${encoder}: z − (1 − reg)^L x⁰ is ${moved} of the spread`);
      const errors: string[] = [];
      copies.forEach((c, i) => {
        if (i === 0) return;
        const ez = symmetryError(z[i], c.z(z[0], decay), K, true);
        const el = symmetryError(logits[i], c.logits(logits[0]), 1, false);
        errors.push(`${c.kind} z ${ez.toExponential(2)} logits ${el.toExponential(2)}`);
        assert.ok(ez <= RTOL, `${encoder}: ${c.kind} z error ${ez.toExponential(3)}`);
        assert.ok(el <= RTOL, `${encoder}: ${c.kind} logits error ${el.toExponential(3)}`);
        if (c.kind === "rotation") {
          // The check can fail: without the decay factor the translation is off.
          const naive = symmetryError(z[i], c.z(z[0], 1), K, true);
          assert.ok(naive > 1e-2, `${encoder}: z → zQ + t (no decay) is off by ${naive}`);
          errors.push(`(z → zQ + t without decay: ${naive.toExponential(2)})`);
        }
      });
      if (REPORT) console.log(`autoencoder ${encoder} equivariance: ${errors.join(", ")}`);
    } finally {
      graph.dispose();
      resetTape();
      endStep();
    }
  });
}

Deno.test("graph autoencoder noise_gnn (a sanity check, not equivariant): its logits depend on the noise", async () => {
  await getGpu();
  const rng = new Random(95);
  const batch = fullyConnected([5, 7]);
  const graph = uploadGraph(batch);
  try {
    const model = new GraphAutoencoder({ encoder: "noise_gnn", hiddenNf: 16, nLayers: 2 });
    model.params.load(randomParameters(model.params, rng));
    const N = batch.numNodes, E = batch.numEdges;
    const adjacency = fromArray(adjacencyAttr(batch, rng).value, [E, 1]);
    const [a, b] = await readMany(noGrad(() => [
      model.forward(graph, adjacency, fromArray(rng.normals(N), [N, 1])),
      model.forward(graph, adjacency, fromArray(rng.normals(N), [N, 1])),
    ]));
    const change = symmetryError(b, a, 1, true);
    if (REPORT) {
      console.log(
        `autoencoder noise_gnn: new noise moves the logits by ${change.toExponential(2)}`,
      );
    }
    assert.ok(change > 1e-2, `noise_gnn: new noise moves the logits by ${change} of their spread`);
  } finally {
    graph.dispose();
    resetTape();
    endStep();
  }
});

Deno.test("graph autoencoders are deterministic given seed and noiseSeed; the noise is fresh at every forward", async () => {
  await getGpu();
  const batch = fullyConnected([5, 7]);
  const graph = uploadGraph(batch);
  const rng = new Random(96);
  const adjacency = adjacencyAttr(batch, rng).value;
  try {
    for (const encoder of KINDS) {
      const options = { encoder, hiddenNf: 8, nLayers: 2, embeddingNf: 4, seed: 5 };
      const logits = async (m: GraphAutoencoder) => {
        const out = noGrad(() => m.forward(graph, fromArray(adjacency, [batch.numEdges, 1])));
        const values = await read(out);
        resetTape();
        endStep();
        return values;
      };
      const a = new GraphAutoencoder({ ...options, noiseSeed: 17 });
      const b = new GraphAutoencoder({ ...options, noiseSeed: 17 });
      const c = new GraphAutoencoder({ ...options, noiseSeed: 18 });
      const first = await logits(a);
      assert.deepEqual(await logits(b), first, `${encoder}: same seeds, same logits`);
      const other = await logits(c), again = await logits(a);
      if (encoder === "gnn") {
        // The GNN's input is ones: no noise at all.
        assert.deepEqual(other, first, "gnn: the noise seed does not matter");
        assert.deepEqual(again, first, "gnn: every forward is the same");
      } else {
        const e1 = worstError(other, first), e2 = worstError(again, first);
        assert.ok(e1 > 1e-3, `${encoder}: another noiseSeed changes the logits (${e1})`);
        assert.ok(e2 > 1e-3, `${encoder}: a second forward draws new noise (${e2})`);
      }
    }
  } finally {
    graph.dispose();
    resetTape();
    endStep();
  }
});
