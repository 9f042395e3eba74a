// The EGCL, EGNN and EGNN_vel built by lib/egnn against the float64 reference of
// tests/reference/egnn.ts (written from the spec, shared/spec/reference_implementation.md §1–2):
// forward outputs (h and x) and the gradients of Σ seed ⊙ output with respect to every
// parameter and every input (h, x, velocities, edge and node attributes), on one batch of graphs
// of different sizes: fully connected graphs of 5, 3, 1 and 4 nodes and an explicit edge list
// with a node that receives no edge, coordinates in 3-D and edge attributes of width 2.
//
// Metric (per tensor, elementwise): |gpu − ref| ≤ 1e-4 · max(RMS(ref), |ref|). The RMS floor is
// there because f32 error scales with the magnitude of the terms a value is summed from, not with
// the value: an entry that cancels to ~0 carries an absolute error of the order of its tensor's
// scale. Everywhere else this is a plain 1e-4 relative bound.
//
// The reference's own gradients are checked first against float64 central differences.
//
// Set EGNN_TEST_REPORT=1 to print the worst measured error of each case. The batch, the metric
// and the checks are shared with baselines_test.ts in model_check.ts.
import assert from "node:assert/strict";
import {
  concat,
  EGCL,
  type EGCLOptions,
  EGNN,
  type EGNNOptions,
  EGNNVel,
  type EGNNVelOptions,
  endStep,
  getGpu,
  type GraphBatch,
  ParameterSet,
  Random as ModelRandom,
  resetTape,
} from "../../mod.ts";
import {
  egclModel,
  egnnModel,
  egnnVelModel,
  evaluate,
  type HostMatrix,
} from "../reference/egnn.ts";
import { Random } from "../reference/random.ts";
import {
  checkModel,
  checkReferenceGradient,
  DIM,
  float64Parameters,
  onTestBatch,
  randomParameters,
  testBatch,
  worstError,
} from "./model_check.ts";

const EDGE_ATTR = 2;
/** φx's last weight, scaled by `coordGain` in `randomParameters`. */
const COORD_WEIGHT = /coord_mlp\.2\.weight$/;

/** Host inputs of a batch: coordinates, edge attributes, and N × width random node features. */
function batchInputs(batch: GraphBatch, rng: Random, hWidth: number): Record<string, HostMatrix> {
  return {
    h: { value: rng.normals(batch.numNodes * hWidth), cols: hWidth },
    x: { value: Float64Array.from(batch.coords!), cols: batch.dim },
    edgeAttr: { value: Float64Array.from(batch.edgeAttr!), cols: batch.edgeAttrDim },
  };
}

/** One EGCL in a ParameterSet of its own, against the reference layer. */
function checkEgcl(
  name: string,
  options: EGCLOptions,
  o: { seed: number; coordGain?: number; xScale?: number; vel?: boolean; nodeAttr?: number },
): Promise<void> {
  return onTestBatch({ seed: o.seed, edgeAttrDim: EDGE_ATTR }, async ({ rng, batch, graph }) => {
    const ps = new ParameterSet();
    const layer = new EGCL(ps, "", options, new ModelRandom(o.seed));
    ps.build();
    const inputs = batchInputs(batch, rng, options.inputNf);
    inputs.x.value = (inputs.x.value as Float64Array).map((v) => Math.fround(v * (o.xScale ?? 1)));
    if (o.vel) inputs.vel = { value: rng.normals(batch.numNodes * DIM), cols: DIM };
    if (o.nodeAttr) {
      inputs.nodeAttr = { value: rng.normals(batch.numNodes * o.nodeAttr), cols: o.nodeAttr };
    }
    await checkModel({
      name,
      ps,
      params: randomParameters(ps, rng, { names: COORD_WEIGHT, gain: o.coordGain ?? 1 }),
      inputs,
      gpu: (xs) => {
        const r = layer.forward({
          h: xs.h,
          x: xs.x,
          graph,
          edgeAttr: xs.edgeAttr,
          vel: xs.vel ?? null,
          nodeAttr: xs.nodeAttr ?? null,
        });
        return concat([r.h, r.x]);
      },
      reference: egclModel(batch, "", options),
      outputs: [{ name: "h", cols: options.outputNf }, { name: "x", cols: DIM }],
      seed: o.seed + 1000,
    });
  });
}

function checkEgnn(name: string, options: EGNNOptions, seed: number): Promise<void> {
  return onTestBatch({ seed, edgeAttrDim: EDGE_ATTR }, async ({ rng, batch, graph }) => {
    const model = new EGNN({ ...options, seed });
    await checkModel({
      name,
      ps: model.params,
      params: randomParameters(model.params, rng),
      inputs: batchInputs(batch, rng, options.inNodeNf),
      gpu: (xs) => {
        const r = model.forward(xs.h, xs.x, graph, xs.edgeAttr);
        return concat([r.h, r.x]);
      },
      reference: egnnModel(batch, options),
      outputs: [{ name: "h", cols: options.outNodeNf }, { name: "x", cols: DIM }],
      seed: seed + 1000,
    });
  });
}

function checkEgnnVel(
  name: string,
  options: EGNNVelOptions,
  seed: number,
  ownInit = false,
): Promise<EGNNVel> {
  return onTestBatch({ seed, edgeAttrDim: EDGE_ATTR }, async ({ rng, batch, graph }) => {
    const model = new EGNNVel({ ...options, seed });
    const inputs = batchInputs(batch, rng, 1);
    const vel = rng.normals(batch.numNodes * DIM, 0.5);
    inputs.vel = { value: vel, cols: DIM };
    inputs.h.value = Float64Array.from(
      { length: batch.numNodes },
      (_, i) => Math.fround(Math.hypot(vel[3 * i], vel[3 * i + 1], vel[3 * i + 2])),
    );
    await checkModel({
      name,
      ps: model.params,
      params: ownInit ? null : randomParameters(model.params, rng),
      inputs,
      gpu: (xs) => model.forward(xs.h, xs.x, xs.vel, graph, xs.edgeAttr),
      reference: egnnVelModel(batch, options),
      outputs: [{ name: "x", cols: DIM }],
      seed: seed + 1000,
    });
    return model;
  });
}

// ---------------------------------------------------------------------------------------------
// The reference's gradients against float64 central differences.

Deno.test("reference EGCL / EGNN / EGNN_vel gradients match float64 central differences", async () => {
  const rng = new Random(11);
  const batch = testBatch(rng, DIM, EDGE_ATTR);
  const H = 6;

  // One EGCL with every option on: attention, sum, tanh, plusOne, clamp, node attributes,
  // velocity, coords weight, outputNf ≠ inputNf (no residual).
  const layerOptions: EGCLOptions = {
    inputNf: 4,
    outputNf: 3,
    hiddenNf: H,
    edgesInD: EDGE_ATTR,
    nodesAttDim: 2,
    residual: false,
    attention: true,
    coordsAgg: "sum",
    coordsWeight: 0.7,
    normalize: "plusOne",
    tanh: true,
    velocity: true,
  };
  const layerSet = new ParameterSet();
  new EGCL(layerSet, "layer", layerOptions, new ModelRandom(1));
  const layerInputs = {
    ...batchInputs(batch, rng, 4),
    vel: { value: rng.normals(batch.numNodes * DIM), cols: DIM },
    nodeAttr: { value: rng.normals(batch.numNodes * 2), cols: 2 },
  };
  checkReferenceGradient(
    "EGCL (all options)",
    egclModel(batch, "layer", layerOptions),
    float64Parameters(layerSet, rng),
    layerInputs,
    rng,
    48,
  );

  // Mean aggregation, detached normalisation, residual, no attention.
  const plainOptions: EGCLOptions = {
    inputNf: 4,
    outputNf: 4,
    hiddenNf: H,
    edgesInD: EDGE_ATTR,
    normalize: "detached",
  };
  const plainSet = new ParameterSet();
  new EGCL(plainSet, "", plainOptions, new ModelRandom(2));
  checkReferenceGradient(
    "EGCL (mean, detached)",
    egclModel(batch, "", plainOptions),
    float64Parameters(plainSet, rng),
    batchInputs(batch, rng, 4),
    rng,
    32,
    ["x"], // the detached norm has no gradient by design: d/dx is not the derivative
  );

  // Whole models, 2 layers.
  await getGpu();
  const egnnOptions: EGNNOptions = {
    inNodeNf: 3,
    hiddenNf: H,
    outNodeNf: 2,
    inEdgeNf: EDGE_ATTR,
    nLayers: 2,
    attention: true,
  };
  checkReferenceGradient(
    "EGNN (2 layers, attention)",
    egnnModel(batch, egnnOptions),
    float64Parameters(new EGNN(egnnOptions).params, rng),
    batchInputs(batch, rng, 3),
    rng,
    48,
  );
  const velOptions: EGNNVelOptions = { hiddenNf: H, nLayers: 2, normDiff: true, tanh: true };
  checkReferenceGradient(
    "EGNN_vel (2 layers, normDiff, tanh)",
    egnnVelModel(batch, velOptions),
    float64Parameters(new EGNNVel(velOptions).params, rng),
    {
      ...batchInputs(batch, rng, 1),
      vel: { value: rng.normals(batch.numNodes * DIM), cols: DIM },
    },
    rng,
    48,
  );
  resetTape();
  endStep();
});

// ---------------------------------------------------------------------------------------------
// The GPU layer and models against the reference.

Deno.test("EGCL (H=16, inputNf 7): defaults — mean, clamp, residual — match the reference", () =>
  checkEgcl("EGCL defaults", {
    inputNf: 7,
    outputNf: 7,
    hiddenNf: 16,
    edgesInD: EDGE_ATTR,
  }, { seed: 21 }));

Deno.test("EGCL (H=16, 10): φe's first layer split by input block or concatenated matches the reference", async () => {
  // inputNf 7: the weight's blocks start at unaligned rows; 8: vec4 widths throughout; H = 10:
  // the split form without the fused kernel (gathers, adds, activation).
  for (
    const [inputNf, hiddenNf, split, seed] of [
      [7, 16, true, 31],
      [8, 16, true, 32],
      [7, 16, false, 33],
      [8, 10, true, 34],
    ] as const
  ) {
    await checkEgcl(
      `EGCL ${split ? "split" : "concatenated"} edge input (F ${inputNf}, H ${hiddenNf})`,
      {
        inputNf,
        outputNf: inputNf,
        hiddenNf,
        edgesInD: EDGE_ATTR,
        attention: true,
        splitEdgeInput: split,
      },
      { seed },
    );
  }
});

Deno.test(
  "EGCL (H=16): attention, sum, tanh, normalize plusOne, coordsWeight, node attributes match",
  () =>
    checkEgcl("EGCL attention/sum/tanh/plusOne", {
      inputNf: 7,
      outputNf: 7,
      hiddenNf: 16,
      edgesInD: EDGE_ATTR,
      nodesAttDim: 3,
      attention: true,
      coordsAgg: "sum",
      tanh: true,
      normalize: "plusOne",
      coordsWeight: 0.6,
    }, { seed: 22, nodeAttr: 3 }),
);

Deno.test(
  "EGCL (H=16): velocity (eq. 7), normalize detached, no residual (outputNf 5) match",
  () =>
    checkEgcl("EGCL velocity/detached", {
      inputNf: 7,
      outputNf: 5,
      hiddenNf: 16,
      edgesInD: EDGE_ATTR,
      residual: false,
      velocity: true,
      normalize: "detached",
    }, { seed: 23, vel: true }),
);

Deno.test("EGCL (H=16): tanh with coordsRange 3, updateCoords off (invariant layer) match", async () => {
  await checkEgcl("EGCL tanh range 3", {
    inputNf: 7,
    outputNf: 7,
    hiddenNf: 16,
    edgesInD: EDGE_ATTR,
    tanh: true,
    coordsRange: 3,
  }, { seed: 24 });
  await checkEgcl("EGCL no coordinate update", {
    inputNf: 7,
    outputNf: 7,
    hiddenNf: 16,
    edgesInD: EDGE_ATTR,
    updateCoords: false,
  }, { seed: 25 });
});

Deno.test("EGCL (H=16): messages beyond ±100 are clamped (and not, without clampMessages)", async () => {
  // Coordinates ×20 and φx's last weight ×10: many |(x_i − x_j) φx(m_ij)| exceed 100.
  const options: EGCLOptions = { inputNf: 7, outputNf: 7, hiddenNf: 16, edgesInD: EDGE_ATTR };
  const o = { seed: 26, xScale: 20, coordGain: 10 };
  await checkEgcl("EGCL clamp active", options, o);
  await checkEgcl("EGCL clamp off", { ...options, clampMessages: false }, o);
  // The clamp did act: the reference's coordinates differ with and without it.
  const rng = new Random(o.seed);
  const batch = testBatch(rng, DIM, EDGE_ATTR);
  const ps = new ParameterSet();
  new EGCL(ps, "", options, new ModelRandom(o.seed));
  const inputs = batchInputs(batch, rng, 7);
  inputs.x.value = (inputs.x.value as Float64Array).map((v) => Math.fround(v * o.xScale));
  const params = randomParameters(ps, rng, { names: COORD_WEIGHT, gain: o.coordGain });
  const on = evaluate(egclModel(batch, "", options), params, inputs).output;
  const off = evaluate(egclModel(batch, "", { ...options, clampMessages: false }), params, inputs)
    .output;
  assert.ok(worstError(on, off) > 1e-2, "the clamp changes the coordinates in this case");
  resetTape();
  endStep();
});

Deno.test("EGNN (H=16, 4 layers, edge attributes): forward and gradients match", () =>
  checkEgnn("EGNN H=16", {
    inNodeNf: 5,
    hiddenNf: 16,
    outNodeNf: 3,
    inEdgeNf: EDGE_ATTR,
  }, 31));

Deno.test("EGNN (H=16, 4 layers): attention, sum, tanh, normalize plusOne match", () =>
  checkEgnn("EGNN H=16 attention/sum/tanh/plusOne", {
    inNodeNf: 5,
    hiddenNf: 16,
    outNodeNf: 3,
    inEdgeNf: EDGE_ATTR,
    attention: true,
    coordsAgg: "sum",
    tanh: true,
    normalize: "plusOne",
  }, 32));

Deno.test("EGNN (H=64, 4 layers, attention): forward and gradients match", () =>
  checkEgnn("EGNN H=64", {
    inNodeNf: 5,
    hiddenNf: 64,
    outNodeNf: 3,
    inEdgeNf: EDGE_ATTR,
    attention: true,
  }, 33));

Deno.test("EGNN_vel (H=16): attention, normDiff, tanh, coordsWeight match", async () => {
  await checkEgnnVel("EGNN_vel H=16", {
    hiddenNf: 16,
    attention: true,
    normDiff: true,
    tanh: true,
    coordsWeight: 0.8,
  }, 41);
});

Deno.test("EGNN_vel (reference defaults, own init): 134,020 parameters; forward and gradients match", async () => {
  const model = await checkEgnnVel("EGNN_vel H=64 own init", {}, 42, true);
  assert.equal(model.params.count, 134_020);
  const perLayer = model.params.names.filter((n) => n.startsWith("gcl_1."))
    .reduce((a, n) => a + model.params.get(n).size, 0);
  assert.equal(perLayer, 33_473, "one E_GCL_vel(64, 64, 64, edges_in_d=2)");
});
