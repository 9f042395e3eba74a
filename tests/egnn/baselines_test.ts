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
// Set EGNN_TEST_REPORT=1 to print the worst measured error of each case. The batch, the metric
// and the checks are shared with egcl_test.ts in model_check.ts; the parameters' gradients are
// read through `ParameterSet.gradsToHost`.
import assert from "node:assert/strict";
import {
  concat,
  endStep,
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
  resetTape,
} from "../../mod.ts";
import { evaluate, type HostMatrix } from "../reference/egnn.ts";
import {
  gclModel,
  gnnEncoderModel,
  gnnModel,
  radialFieldLayerModel,
  radialFieldModel,
} from "../reference/baselines.ts";
import { Random } from "../reference/random.ts";
import {
  checkModel,
  checkReferenceGradient,
  float64Parameters,
  onTestBatch,
  randomParameters,
  testBatch,
  worstError,
} from "./model_check.ts";

/** The Radial Field φ's last weight, scaled by `phiGain` in `randomParameters`. */
const PHI_WEIGHT = /(^|\.)phi\.2\.weight$/;

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

// ---------------------------------------------------------------------------------------------
// The cases, each a GPU model and its reference on one batch.

function checkGcl(name: string, options: GCLOptions, seed: number): Promise<void> {
  return onTestBatch({ seed }, async ({ rng, batch, graph }) => {
    const ps = new ParameterSet();
    const layer = new GCL(ps, "", options, new ModelRandom(seed));
    ps.build();
    const e = options.edgesInNf ?? 0;
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
      gradsToHost: true,
      seed: seed + 1000,
    });
  });
}

function checkGnn(name: string, options: GNNOptions, seed: number): Promise<GNN> {
  return onTestBatch({ seed }, async ({ rng, batch, graph }) => {
    const model = new GNN({ ...options, seed });
    const { vel } = velocityInputs(batch, rng);
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
      gradsToHost: true,
      seed: seed + 1000,
    });
    return model;
  });
}

function checkRadialField(
  name: string,
  options: RadialFieldOptions,
  seed: number,
): Promise<RadialField> {
  return onTestBatch({ seed }, async ({ rng, batch, graph }) => {
    const model = new RadialField({ ...options, seed });
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
      gradsToHost: true,
      seed: seed + 1000,
    });
    return model;
  });
}

/** The autoencoder's edge attribute a_ij ∈ {0, 1} (edge present or not), E × 1. */
function adjacencyAttr(batch: GraphBatch, rng: Random): HostMatrix {
  return { value: Float64Array.from({ length: batch.numEdges }, () => rng.int(0, 2)), cols: 1 };
}

/** The GCL_rf inputs: 8-D coordinates (the autoencoder's K) times `xScale`, a_ij ∈ {0, 1}. */
function rfLayerInputs(batch: GraphBatch, rng: Random, xScale: number) {
  return { x: coordsInput(batch, xScale), edgeAttr: adjacencyAttr(batch, rng) };
}

function checkRadialFieldLayer(
  name: string,
  options: RadialFieldLayerOptions,
  o: { seed: number; xScale?: number; phiGain?: number },
): Promise<void> {
  return onTestBatch({ seed: o.seed, dim: 8 }, async ({ rng, batch, graph }) => {
    const ps = new ParameterSet();
    const layer = new RadialFieldLayer(ps, "", options, new ModelRandom(o.seed));
    ps.build();
    await checkModel({
      name,
      ps,
      params: randomParameters(ps, rng, { names: PHI_WEIGHT, gain: o.phiGain ?? 1 }),
      inputs: rfLayerInputs(batch, rng, o.xScale ?? 1),
      gpu: (xs) => layer.forward(xs.x, graph, xs.edgeAttr),
      reference: radialFieldLayerModel(batch, "", options),
      gradsToHost: true,
      seed: o.seed + 1000,
    });
  });
}

function checkEncoder(
  name: string,
  options: GNNEncoderOptions,
  seed: number,
): Promise<GNNEncoder> {
  return onTestBatch({ seed }, async ({ rng, batch, graph }) => {
    const model = new GNNEncoder({ ...options, noiseDim: 0, seed });
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
      gradsToHost: true,
      seed: seed + 1000,
    });
    return model;
  });
}

// ---------------------------------------------------------------------------------------------
// The reference's gradients against float64 central differences.

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
  const params = randomParameters(ps, rng, { names: PHI_WEIGHT, gain: o.phiGain });
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
