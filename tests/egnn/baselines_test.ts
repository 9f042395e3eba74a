// The GNN and Radial Field baselines built by lib/egnn/baselines against the float64 reference of
// tests/reference/baselines.ts (written from the spec, shared/spec/reference_implementation.md
// §2 and §5): forward outputs and the gradients of Σ seed ⊙ output with respect to every
// parameter and every input (node features, coordinates, velocities, edge attributes), on one
// batch of graphs of different sizes: fully connected graphs of 5, 3, 1 and 4 nodes and an
// explicit edge list with a node that receives no edge — the batch of egcl_test.ts.
//
// Cases: a non-recurrent GCL with inputNf ≠ outputNf; the N-body GNN (H = 16, and 64 at the
// reference's defaults, 104,387 parameters); the N-body Radial Field `RF_vel` (H = 16, and 64:
// 2,052 parameters); the autoencoder's `GCL_rf` (no velocity, clamp ±100, reg 1e-3, 8-D), with
// the clamp inactive and active; the GNN autoencoder's encoder with deterministic node input
// (noiseDim 0; 88,008 parameters at the defaults).
//
// Metric (per tensor, elementwise): |gpu − ref| ≤ 1e-4 · max(RMS(ref), |ref|), as egcl_test.ts.
// Parameters are random U(±1/√fan_in) loaded by name (the xavier-0.001 init of φ's last layer
// would hide the coordinate path of the Radial Field). The reference's own gradients are checked
// first against float64 central differences.
//
// Set EGNN_TEST_REPORT=1 to print the worst measured error of each case.
import assert from "node:assert/strict";
import {
  backward,
  concat,
  endStep,
  fromArray,
  fromEdgeLists,
  GCL,
  type GCLOptions,
  getGpu,
  GNN,
  GNNEncoder,
  type GNNEncoderOptions,
  type GNNOptions,
  type GraphBatch,
  ParameterSet,
  RadialField,
  RadialFieldLayer,
  type RadialFieldLayerOptions,
  type RadialFieldOptions,
  Random as ModelRandom,
  readMany,
  resetTape,
  type Tensor,
  uploadGraph,
} from "../../mod.ts";
import { evaluate, type HostMatrix, type ReferenceModel } from "../reference/egnn.ts";
import {
  gclModel,
  gnnEncoderModel,
  gnnModel,
  radialFieldLayerModel,
  radialFieldModel,
} from "../reference/baselines.ts";
import { assertClose, centralDifferenceAt, rms } from "../reference/finite_difference.ts";
import { Random } from "../reference/random.ts";

const RTOL = 1e-4;
// Central-difference half-step, as egcl_test.ts: float64 round-off dominates below 1e-5.
const FD_STEP = 1e-5;
const DIM = 3;
const REPORT = Deno.env.get("EGNN_TEST_REPORT") === "1";

/** Every ordered pair i ≠ j, i-major: a fully connected graph's edges. */
function allPairs(n: number): [number, number][] {
  const edges: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) edges.push([i, j]);
  return edges;
}

/**
 * Fully connected graphs of 5, 3, 1 and 4 nodes, then 5 nodes with an explicit edge list given
 * out of receiver order, where node 4 only sends; random coordinates in `dim` dimensions.
 */
function testBatch(rng: Random, dim = DIM): GraphBatch {
  const explicit: [number, number][] = [[2, 0], [0, 1], [2, 1], [1, 4], [0, 4], [3, 2], [0, 2]];
  const graphs = [
    ...[5, 3, 1, 4].map((n) => ({ numNodes: n, edges: allPairs(n) })),
    { numNodes: 5, edges: explicit },
  ];
  const batch = fromEdgeLists(
    graphs.map((g) => ({ ...g, coords: rng.normals(g.numNodes * dim) })),
    { dim },
  );
  const last = batch.numNodes - 1;
  assert.equal(batch.receiverPtr[last + 1] - batch.receiverPtr[last], 0, "a node without edges");
  return batch;
}

/** Per edge (batch order), the product q_i q_j of random charges ±1 — the N-body edge attribute. */
function chargeProducts(batch: GraphBatch, rng: Random): Float64Array {
  const q = Array.from({ length: batch.numNodes }, () => (rng.next() < 0.5 ? -1 : 1));
  return Float64Array.from(batch.receivers, (i, e) => q[i] * q[batch.senders[e]]);
}

/** Per edge, ‖x_i − x_j‖² of the batch's coordinates (rounded to f32). */
function squaredDistances(batch: GraphBatch): Float64Array {
  const x = batch.coords!, d = batch.dim;
  return Float64Array.from(batch.receivers, (i, e) => {
    const j = batch.senders[e];
    let s = 0;
    for (let c = 0; c < d; c++) s += (x[i * d + c] - x[j * d + c]) ** 2;
    return Math.fround(s);
  });
}

/** The N-body Radial Field's edge attributes [q_i q_j, ‖x⁰_i − x⁰_j‖²], E × 2. */
function nbodyEdgeAttr(batch: GraphBatch, rng: Random): HostMatrix {
  const qq = chargeProducts(batch, rng), d2 = squaredDistances(batch);
  const value = new Float64Array(2 * batch.numEdges);
  for (let e = 0; e < batch.numEdges; e++) [value[2 * e], value[2 * e + 1]] = [qq[e], d2[e]];
  return { value, cols: 2 };
}

/** Coordinates of the batch as an input, times `scale` (rounded to f32). */
function coordsInput(batch: GraphBatch, scale = 1): HostMatrix {
  return {
    value: Float64Array.from(batch.coords!, (v) => Math.fround(v * scale)),
    cols: batch.dim,
  };
}

/** Velocities (N × dim, σ 0.5) and their norms ‖v_i‖ (N × 1, rounded to f32). */
function velocityInputs(batch: GraphBatch, rng: Random): { vel: HostMatrix; velNorm: HostMatrix } {
  const d = batch.dim;
  const vel = rng.normals(batch.numNodes * d, 0.5);
  const norm = Float64Array.from({ length: batch.numNodes }, (_, i) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += vel[i * d + c] ** 2;
    return Math.fround(Math.sqrt(s));
  });
  return { vel: { value: vel, cols: d }, velNorm: { value: norm, cols: 1 } };
}

/**
 * Parameters for a model's set: weights and biases U(±1/√fan_in) (PyTorch's default bounds),
 * the Radial Field φ's last weight (`phi.2.weight`) times `phiGain`.
 */
function randomParameters(ps: ParameterSet, rng: Random, phiGain = 1): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const name of ps.names) {
    const weight = ps.get(name.replace(/\.bias$/, ".weight"));
    const bound = 1 / Math.sqrt(weight.shape[0]);
    const gain = /(^|\.)phi\.2\.weight$/.test(name) ? phiGain : 1;
    out.set(name, Float32Array.from(rng.uniforms(ps.get(name).size, -gain * bound, gain * bound)));
  }
  return out;
}

/** Float64 parameters for the reference alone, from a set's names and shapes. */
function float64Parameters(ps: ParameterSet, rng: Random): Map<string, Float64Array> {
  return new Map([...randomParameters(ps, rng)].map(([k, v]) => [k, Float64Array.from(v)]));
}

/** The worst |a − b| / max(RMS(b), |b|) of a tensor. */
function worstError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const floor = rms(b);
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const bound = Math.max(floor, Math.abs(b[i]));
    const e = Math.abs(a[i] - b[i]) / (bound > 0 ? bound : 1);
    worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
  }
  return worst;
}

/** One model on the GPU and its reference. */
interface ModelCase {
  name: string;
  ps: ParameterSet;
  params: Map<string, Float32Array>;
  inputs: Record<string, HostMatrix>;
  /** The GPU forward from the input tensors; its output is laid out as the reference's. */
  gpu: (xs: Record<string, Tensor>) => Tensor;
  reference: ReferenceModel;
  seed: number;
}

/**
 * Runs the forward and backward on the GPU (two reads: the parameters' gradients through
 * `gradsToHost`, then the output and the inputs' gradients) and compares them with the float64
 * reference; returns the worst forward and gradient errors.
 */
async function checkModel(c: ModelCase): Promise<{ forward: number; grad: number }> {
  await getGpu();
  try {
    c.ps.load(c.params);
    const names = Object.keys(c.inputs);
    const tensors: Record<string, Tensor> = {};
    for (const k of names) {
      const m = c.inputs[k];
      tensors[k] = fromArray(m.value, [m.value.length / m.cols, m.cols]);
      tensors[k].requiresGrad = true;
    }
    const out = c.gpu(tensors);
    const seed = new Random(c.seed).normals(out.size);
    backward(out, fromArray(seed, out.shape));
    for (const k of names) assert.ok(tensors[k].grad, `${c.name}: no gradient reached ${k}`);
    const paramGrads = await c.ps.gradsToHost();
    const [output, ...inputGrads] = await readMany([out, ...names.map((k) => tensors[k].grad!)]);

    const ref = evaluate(c.reference, c.params, c.inputs, seed);
    assert.deepEqual(
      [...ref.used].sort(),
      [...c.ps.names].sort(),
      `${c.name}: the model's parameters are the ones the reference uses`,
    );
    assert.equal(out.size, ref.output.length, `${c.name}: output size`);
    assert.equal(out.shape[1], ref.cols, `${c.name}: output width`);
    const forward = worstError(output, ref.output);
    assertClose(output, ref.output, { rtol: RTOL, label: `${c.name}: forward` });
    let grad = 0, worstGrad = "";
    const compareGrad = (label: string, got: ArrayLike<number>, want: Float64Array | undefined) => {
      assert.ok(want, `${c.name}: the reference has no gradient for ${label}`);
      assert.ok(got, `${c.name}: the GPU has no gradient for ${label}`);
      const e = worstError(got, want);
      if (e >= grad) [grad, worstGrad] = [e, label];
      assertClose(got, want, { rtol: RTOL, label: `${c.name}: d/d${label}` });
    };
    for (const n of c.ps.names) compareGrad(n, paramGrads.get(n)!, ref.paramGrads.get(n));
    names.forEach((k, i) => compareGrad(k, inputGrads[i], ref.inputGrads.get(k)));
    if (REPORT) {
      const g = `${grad.toExponential(2)} (d/d${worstGrad})`;
      console.log(`${c.name}: worst forward ${forward.toExponential(2)}, grad ${g}`);
    }
    return { forward, grad };
  } finally {
    resetTape();
    endStep();
  }
}

// ---------------------------------------------------------------------------------------------
// The cases, each a GPU model and its reference on one batch.

async function checkGcl(name: string, options: GCLOptions, seed: number): Promise<void> {
  await getGpu();
  const rng = new Random(seed);
  const batch = testBatch(rng);
  const graph = uploadGraph(batch);
  const ps = new ParameterSet();
  const layer = new GCL(ps, "", options, new ModelRandom(seed));
  ps.build();
  const e = options.edgesInNf ?? 0;
  try {
    await checkModel({
      name,
      ps,
      params: randomParameters(ps, rng),
      inputs: {
        h: { value: rng.normals(batch.numNodes * options.inputNf), cols: options.inputNf },
        edgeAttr: { value: rng.normals(batch.numEdges * e), cols: e },
      },
      gpu: (xs) => layer.forward(xs.h, graph, xs.edgeAttr),
      reference: gclModel(batch, "", options),
      seed: seed + 1000,
    });
  } finally {
    graph.dispose();
  }
}

async function checkGnn(name: string, options: GNNOptions, seed: number): Promise<GNN> {
  await getGpu();
  const rng = new Random(seed);
  const batch = testBatch(rng);
  const graph = uploadGraph(batch);
  const model = new GNN({ ...options, seed });
  const { vel } = velocityInputs(batch, rng);
  try {
    await checkModel({
      name,
      ps: model.params,
      params: randomParameters(model.params, rng),
      inputs: {
        x: coordsInput(batch),
        vel,
        edgeAttr: { value: chargeProducts(batch, rng), cols: 1 },
      },
      gpu: (xs) => model.forward(concat([xs.x, xs.vel]), graph, xs.edgeAttr),
      reference: gnnModel(batch, options),
      seed: seed + 1000,
    });
    return model;
  } finally {
    graph.dispose();
  }
}

async function checkRadialField(
  name: string,
  options: RadialFieldOptions,
  seed: number,
): Promise<RadialField> {
  await getGpu();
  const rng = new Random(seed);
  const batch = testBatch(rng);
  const graph = uploadGraph(batch);
  const model = new RadialField({ ...options, seed });
  try {
    await checkModel({
      name,
      ps: model.params,
      params: randomParameters(model.params, rng),
      inputs: {
        x: coordsInput(batch),
        ...velocityInputs(batch, rng),
        edgeAttr: nbodyEdgeAttr(batch, rng),
      },
      gpu: (xs) => model.forward(xs.x, xs.velNorm, xs.vel, graph, xs.edgeAttr),
      reference: radialFieldModel(batch, options),
      seed: seed + 1000,
    });
    return model;
  } finally {
    graph.dispose();
  }
}

/** The autoencoder's edge attribute a_ij ∈ {0, 1} (edge present or not), E × 1. */
function adjacencyAttr(batch: GraphBatch, rng: Random): HostMatrix {
  return { value: Float64Array.from({ length: batch.numEdges }, () => rng.int(0, 2)), cols: 1 };
}

/** The GCL_rf inputs: 8-D coordinates (the autoencoder's K) times `xScale`, a_ij ∈ {0, 1}. */
function rfLayerInputs(batch: GraphBatch, rng: Random, xScale: number) {
  return { x: coordsInput(batch, xScale), edgeAttr: adjacencyAttr(batch, rng) };
}

async function checkRadialFieldLayer(
  name: string,
  options: RadialFieldLayerOptions,
  o: { seed: number; xScale?: number; phiGain?: number },
): Promise<void> {
  await getGpu();
  const rng = new Random(o.seed);
  const batch = testBatch(rng, 8);
  const graph = uploadGraph(batch);
  const ps = new ParameterSet();
  const layer = new RadialFieldLayer(ps, "", options, new ModelRandom(o.seed));
  ps.build();
  try {
    await checkModel({
      name,
      ps,
      params: randomParameters(ps, rng, o.phiGain ?? 1),
      inputs: rfLayerInputs(batch, rng, o.xScale ?? 1),
      gpu: (xs) => layer.forward(xs.x, graph, xs.edgeAttr),
      reference: radialFieldLayerModel(batch, "", options),
      seed: o.seed + 1000,
    });
  } finally {
    graph.dispose();
  }
}

async function checkEncoder(
  name: string,
  options: GNNEncoderOptions,
  seed: number,
): Promise<GNNEncoder> {
  await getGpu();
  const rng = new Random(seed);
  const batch = testBatch(rng);
  const graph = uploadGraph(batch);
  const model = new GNNEncoder({ ...options, noiseDim: 0, seed });
  try {
    await checkModel({
      name,
      ps: model.params,
      params: randomParameters(model.params, rng),
      inputs: {
        h: { value: rng.normals(batch.numNodes), cols: 1 },
        edgeAttr: adjacencyAttr(batch, rng),
      },
      gpu: (xs) => model.forward(xs.h, graph, xs.edgeAttr),
      reference: gnnEncoderModel(batch, options),
      seed: seed + 1000,
    });
    return model;
  } finally {
    graph.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// The reference's gradients against float64 central differences.

/**
 * Checks `points` random coordinates (a random parameter or input tensor, then a random entry)
 * of the reference gradient of Σ seed ⊙ output against a central difference, h = FD_STEP:
 * |ref − fd| ≤ rtol · max(RMS of that tensor's gradient, |fd|). Returns the worst ratio.
 */
function checkReferenceGradient(
  name: string,
  model: ReferenceModel,
  params: Map<string, Float64Array>,
  inputs: Record<string, HostMatrix>,
  rng: Random,
  points = 40,
  rtol = 1e-6,
): number {
  const size = evaluate(model, params, inputs).output.length;
  const seed = rng.normals(size);
  const ref = evaluate(model, params, inputs, seed);
  assert.deepEqual([...ref.used].sort(), [...params.keys()].sort(), `${name}: parameters used`);
  const targets: { label: string; value: Float64Array; grad: Float64Array }[] = [
    ...[...params].map(([k, v]) => ({ label: k, value: v, grad: ref.paramGrads.get(k)! })),
    ...Object.entries(inputs).map(([k, m]) => ({
      label: k,
      value: m.value as Float64Array,
      grad: ref.inputGrads.get(k)!,
    })),
  ];
  const objective = () => {
    const out = evaluate(model, params, inputs).output;
    return out.reduce((s, v, i) => s + v * seed[i], 0);
  };
  let worst = 0;
  for (let p = 0; p < points; p++) {
    const t = targets[rng.int(0, targets.length)];
    const i = rng.int(0, t.value.length);
    const fd = centralDifferenceAt(() => objective(), [t.value], 0, i, FD_STEP);
    const floor = rms(t.grad);
    const scale = Math.max(floor, Math.abs(fd));
    if (scale > 0) worst = Math.max(worst, Math.abs(t.grad[i] - fd) / scale);
    assertClose([t.grad[i]], [fd], {
      rtol,
      floor,
      label: `${name}: reference d/d${t.label}[${i}] vs central difference`,
    });
  }
  if (REPORT) {
    console.log(`${name}: reference vs finite difference, worst ${worst.toExponential(2)}`);
  }
  return worst;
}

Deno.test("reference GCL / GNN / GNN encoder / Radial Field gradients match float64 central differences", async () => {
  await getGpu();
  const rng = new Random(51);
  const batch = testBatch(rng);
  const H = 6;

  const gclOptions: GCLOptions = {
    inputNf: 4,
    outputNf: 3,
    hiddenNf: H,
    edgesInNf: 2,
    recurrent: false,
  };
  const gclSet = new ParameterSet();
  new GCL(gclSet, "layer", gclOptions, new ModelRandom(1));
  checkReferenceGradient(
    "GCL (not recurrent, 4 → 3)",
    gclModel(batch, "layer", gclOptions),
    float64Parameters(gclSet, rng),
    {
      h: { value: rng.normals(batch.numNodes * 4), cols: 4 },
      edgeAttr: { value: rng.normals(batch.numEdges * 2), cols: 2 },
    },
    rng,
    40,
  );

  const gnnOptions: GNNOptions = { hiddenNf: H, nLayers: 2 };
  checkReferenceGradient(
    "GNN (2 layers)",
    gnnModel(batch, gnnOptions),
    float64Parameters(new GNN(gnnOptions).params, rng),
    {
      x: coordsInput(batch),
      vel: velocityInputs(batch, rng).vel,
      edgeAttr: { value: chargeProducts(batch, rng), cols: 1 },
    },
    rng,
    40,
  );

  const encoderOptions: GNNEncoderOptions = { hiddenNf: H, nLayers: 2, embeddingNf: 3 };
  checkReferenceGradient(
    "GNN encoder (2 layers, noiseDim 0)",
    gnnEncoderModel(batch, encoderOptions),
    float64Parameters(new GNNEncoder({ ...encoderOptions, noiseDim: 0 }).params, rng),
    { h: { value: rng.normals(batch.numNodes), cols: 1 }, edgeAttr: adjacencyAttr(batch, rng) },
    rng,
    40,
  );

  const rfOptions: RadialFieldOptions = { hiddenNf: H, nLayers: 2 };
  checkReferenceGradient(
    "Radial Field (2 layers)",
    radialFieldModel(batch, rfOptions),
    float64Parameters(new RadialField(rfOptions).params, rng),
    { x: coordsInput(batch), ...velocityInputs(batch, rng), edgeAttr: nbodyEdgeAttr(batch, rng) },
    rng,
    48,
  );

  const batch8 = testBatch(rng, 8);
  const layerOptions: RadialFieldLayerOptions = {
    hiddenNf: H,
    edgeAttrNf: 1,
    clampMessages: true,
    reg: 1e-3,
  };
  const layerSet = new ParameterSet();
  new RadialFieldLayer(layerSet, "gcl_0", layerOptions, new ModelRandom(2));
  checkReferenceGradient(
    "GCL_rf (clamp, reg 1e-3, 8-D)",
    radialFieldLayerModel(batch8, "gcl_0", layerOptions),
    float64Parameters(layerSet, rng),
    rfLayerInputs(batch8, rng, 1),
    rng,
    32,
  );
  resetTape();
  endStep();
});

// ---------------------------------------------------------------------------------------------
// The GPU layers and models against the reference.

Deno.test("GCL (H=16, not recurrent, inputNf 5 → outputNf 7, edge attributes): forward and gradients match", () =>
  checkGcl("GCL not recurrent 5→7", {
    inputNf: 5,
    outputNf: 7,
    hiddenNf: 16,
    edgesInNf: 2,
    recurrent: false,
  }, 61));

Deno.test("GNN (H=16, 4 layers): forward and gradients match", async () => {
  await checkGnn("GNN H=16", { hiddenNf: 16 }, 62);
});

Deno.test("GNN (reference defaults, H=64): 104,387 parameters; forward and gradients match", async () => {
  const model = await checkGnn("GNN H=64", {}, 63);
  assert.equal(model.params.count, 104_387);
});

Deno.test("Radial Field (H=16, 4 velocity layers): forward and gradients match", async () => {
  await checkRadialField("Radial Field H=16", { hiddenNf: 16 }, 64);
});

Deno.test("Radial Field (reference defaults, H=64): 2,052 parameters; forward and gradients match", async () => {
  const model = await checkRadialField("Radial Field H=64", {}, 65);
  assert.equal(model.params.count, 2_052);
});

Deno.test("GCL_rf (H=16, 8-D, clamp ±100, reg 1e-3): forward and gradients match, clamp inactive and active", async () => {
  const options: RadialFieldLayerOptions = {
    hiddenNf: 16,
    edgeAttrNf: 1,
    clampMessages: true,
    reg: 1e-3,
  };
  await checkRadialFieldLayer("GCL_rf clamp inactive", options, { seed: 66 });
  // Coordinates ×20 and φ's last weight ×10: many |(x_i − x_j) φ(·)| exceed 100.
  const o = { seed: 67, xScale: 20, phiGain: 10 };
  await checkRadialFieldLayer("GCL_rf clamp active", options, o);
  // The clamp did act: the reference's coordinates differ with and without it.
  const rng = new Random(o.seed);
  const batch = testBatch(rng, 8);
  const ps = new ParameterSet();
  new RadialFieldLayer(ps, "", options, new ModelRandom(o.seed));
  const params = randomParameters(ps, rng, o.phiGain);
  const inputs = rfLayerInputs(batch, rng, o.xScale);
  const on = evaluate(radialFieldLayerModel(batch, "", options), params, inputs).output;
  const off = evaluate(
    radialFieldLayerModel(batch, "", { ...options, clampMessages: false }),
    params,
    inputs,
  ).output;
  assert.ok(worstError(on, off) > 1e-2, "the clamp changes the coordinates in this case");
});

Deno.test("GNN encoder (reference defaults, noiseDim 0): 88,008 parameters; forward and gradients match", async () => {
  const model = await checkEncoder("GNN encoder H=64", {}, 68);
  assert.equal(model.params.count, 88_008);
});
