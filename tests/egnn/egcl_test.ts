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
// Set EGNN_TEST_REPORT=1 to print the worst measured error of each case.
import assert from "node:assert/strict";
import {
  backward,
  concat,
  EGCL,
  type EGCLOptions,
  EGNN,
  type EGNNOptions,
  EGNNVel,
  type EGNNVelOptions,
  endStep,
  fromArray,
  fromEdgeLists,
  getGpu,
  type GraphBatch,
  ParameterSet,
  Random as ModelRandom,
  readMany,
  resetTape,
  type Tensor,
  uploadGraph,
} from "../../mod.ts";
import {
  egclModel,
  egnnModel,
  egnnVelModel,
  evaluate,
  type HostMatrix,
  type ReferenceModel,
} from "../reference/egnn.ts";
import { assertClose, centralDifferenceAt, rms } from "../reference/finite_difference.ts";
import { Random } from "../reference/random.ts";

const RTOL = 1e-4;
// Central-difference half-step: at 1e-6 float64 round-off dominates (errors ~6e-7), at 1e-5 ~1e-7.
const FD_STEP = 1e-5;
const DIM = 3;
const EDGE_ATTR = 2;
const REPORT = Deno.env.get("EGNN_TEST_REPORT") === "1";

/** Every ordered pair i ≠ j, i-major: a fully connected graph's edges. */
function allPairs(n: number): [number, number][] {
  const edges: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) edges.push([i, j]);
  return edges;
}

/**
 * Fully connected graphs of 5, 3, 1 and 4 nodes, then 5 nodes with an explicit edge list given
 * out of receiver order, where node 4 only sends; random coordinates and edge attributes.
 */
function testBatch(rng: Random, dim = DIM): GraphBatch {
  const explicit: [number, number][] = [[2, 0], [0, 1], [2, 1], [1, 4], [0, 4], [3, 2], [0, 2]];
  const graphs = [
    ...[5, 3, 1, 4].map((n) => ({ numNodes: n, edges: allPairs(n) })),
    { numNodes: 5, edges: explicit },
  ];
  const batch = fromEdgeLists(
    graphs.map((g) => ({
      ...g,
      edgeAttr: rng.normals(g.edges.length * EDGE_ATTR),
      coords: rng.normals(g.numNodes * dim),
    })),
    { dim, edgeAttrDim: EDGE_ATTR },
  );
  const last = batch.numNodes - 1;
  assert.equal(batch.receiverPtr[last + 1] - batch.receiverPtr[last], 0, "a node without edges");
  return batch;
}

/**
 * Parameters for a model's set: weights and biases U(±1/√fan_in) (PyTorch's default bounds),
 * φx's last weight times `coordGain` (the model's own init uses gain 0.001, which would hide the
 * coordinate path from the comparison).
 */
function randomParameters(ps: ParameterSet, rng: Random, coordGain = 1): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const name of ps.names) {
    const weight = ps.get(name.replace(/\.bias$/, ".weight"));
    const bound = 1 / Math.sqrt(weight.shape[0]);
    const gain = /coord_mlp\.2\.weight$/.test(name) ? coordGain : 1;
    out.set(name, Float32Array.from(rng.uniforms(ps.get(name).size, -gain * bound, gain * bound)));
  }
  return out;
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

/** Columns [from, from + width) of a rows × cols matrix. */
function columns(m: ArrayLike<number>, cols: number, from: number, width: number): Float64Array {
  const rows = m.length / cols;
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) out[r * width + c] = m[r * cols + from + c];
  }
  return out;
}

/** One model on the GPU and its reference. */
interface ModelCase {
  name: string;
  ps: ParameterSet;
  /** Values to load, or null to keep (and read back) the model's own initialisation. */
  params: Map<string, Float32Array> | null;
  inputs: Record<string, HostMatrix>;
  /** The GPU forward from the input tensors; its output is laid out as the reference's. */
  gpu: (xs: Record<string, Tensor>) => Tensor;
  reference: ReferenceModel;
  /** Names and widths of the output's column blocks, compared one by one (h, x). */
  outputs: { name: string; cols: number }[];
  seed: number;
}

/**
 * Runs the forward and backward on the GPU (one read for output and all gradients) and compares
 * them with the float64 reference; returns the worst forward and gradient errors.
 */
async function checkModel(c: ModelCase): Promise<{ forward: number; grad: number }> {
  await getGpu();
  try {
    let values = c.params;
    if (values) c.ps.load(values);
    else values = await c.ps.toHost();
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
    // Parameters no output depends on (EGNN_vel's last φh) get no gradient: their gradient
    // buffer is stale, and the reference's must be exactly zero.
    const stale = new Set(c.ps.tensors.filter((t) => !t.gradFresh).map((t) => t.name));
    for (const k of names) assert.ok(tensors[k].grad, `${c.name}: no gradient reached ${k}`);
    const read = await readMany([
      out,
      ...c.ps.tensors.map((t) => t.grad!),
      ...names.map((k) => tensors[k].grad!),
    ]);

    const ref = evaluate(c.reference, values, c.inputs, seed);
    assert.deepEqual(
      [...ref.used].sort(),
      [...c.ps.names].sort(),
      `${c.name}: the model's parameters are the ones the reference layer uses`,
    );
    assert.equal(out.size, ref.output.length, `${c.name}: output size`);
    let forward = 0, grad = 0, worstGrad = "";
    const total = c.outputs.reduce((a, o) => a + o.cols, 0);
    assert.equal(ref.cols, total, `${c.name}: output width`);
    let from = 0;
    for (const o of c.outputs) {
      const got = columns(read[0], total, from, o.cols);
      const want = columns(ref.output, total, from, o.cols);
      forward = Math.max(forward, worstError(got, want));
      assertClose(got, want, { rtol: RTOL, label: `${c.name}: forward ${o.name}` });
      from += o.cols;
    }
    const compareGrad = (label: string, got: ArrayLike<number>, want: Float64Array | undefined) => {
      assert.ok(want, `${c.name}: the reference has no gradient for ${label}`);
      const e = worstError(got, want);
      if (e >= grad) [grad, worstGrad] = [e, label];
      assertClose(got, want, { rtol: RTOL, label: `${c.name}: d/d${label}` });
    };
    c.ps.names.forEach((n, i) => {
      if (!stale.has(n)) return compareGrad(n, read[1 + i], ref.paramGrads.get(n));
      const want = ref.paramGrads.get(n)!;
      assert.ok(want.every((v) => v === 0), `${c.name}: ${n} got no gradient on the GPU`);
    });
    names.forEach((k, i) => compareGrad(k, read[1 + c.ps.names.length + i], ref.inputGrads.get(k)));
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

/** Host inputs of a batch: coordinates, edge attributes, and N × width random node features. */
function batchInputs(batch: GraphBatch, rng: Random, hWidth: number): Record<string, HostMatrix> {
  return {
    h: { value: rng.normals(batch.numNodes * hWidth), cols: hWidth },
    x: { value: Float64Array.from(batch.coords!), cols: batch.dim },
    edgeAttr: { value: Float64Array.from(batch.edgeAttr!), cols: batch.edgeAttrDim },
  };
}

/** One EGCL in a ParameterSet of its own, against the reference layer. */
async function checkEgcl(
  name: string,
  options: EGCLOptions,
  o: { seed: number; coordGain?: number; xScale?: number; vel?: boolean; nodeAttr?: number },
): Promise<void> {
  await getGpu();
  const rng = new Random(o.seed);
  const batch = testBatch(rng);
  const graph = uploadGraph(batch);
  const ps = new ParameterSet();
  const layer = new EGCL(ps, "", options, new ModelRandom(o.seed));
  ps.build();
  const inputs = batchInputs(batch, rng, options.inputNf);
  inputs.x.value = (inputs.x.value as Float64Array).map((v) => Math.fround(v * (o.xScale ?? 1)));
  if (o.vel) inputs.vel = { value: rng.normals(batch.numNodes * DIM), cols: DIM };
  if (o.nodeAttr) {
    inputs.nodeAttr = { value: rng.normals(batch.numNodes * o.nodeAttr), cols: o.nodeAttr };
  }
  try {
    await checkModel({
      name,
      ps,
      params: randomParameters(ps, rng, o.coordGain ?? 1),
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
  } finally {
    graph.dispose();
  }
}

async function checkEgnn(name: string, options: EGNNOptions, seed: number): Promise<void> {
  await getGpu();
  const rng = new Random(seed);
  const batch = testBatch(rng);
  const graph = uploadGraph(batch);
  const model = new EGNN({ ...options, seed });
  try {
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
  } finally {
    graph.dispose();
  }
}

async function checkEgnnVel(
  name: string,
  options: EGNNVelOptions,
  seed: number,
  ownInit = false,
): Promise<EGNNVel> {
  await getGpu();
  const rng = new Random(seed);
  const batch = testBatch(rng);
  const graph = uploadGraph(batch);
  const model = new EGNNVel({ ...options, seed });
  const inputs = batchInputs(batch, rng, 1);
  const vel = rng.normals(batch.numNodes * DIM, 0.5);
  inputs.vel = { value: vel, cols: DIM };
  inputs.h.value = Float64Array.from(
    { length: batch.numNodes },
    (_, i) => Math.fround(Math.hypot(vel[3 * i], vel[3 * i + 1], vel[3 * i + 2])),
  );
  try {
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
  skip: string[] = [],
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
  ].filter((t) => !skip.includes(t.label));
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

/** Float64 parameters for the reference alone, from a model's names and shapes. */
function float64Parameters(ps: ParameterSet, rng: Random): Map<string, Float64Array> {
  return new Map([...randomParameters(ps, rng)].map(([k, v]) => [k, Float64Array.from(v)]));
}

Deno.test("reference EGCL / EGNN / EGNN_vel gradients match float64 central differences", async () => {
  const rng = new Random(11);
  const batch = testBatch(rng);
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
  const batch = testBatch(rng);
  const ps = new ParameterSet();
  new EGCL(ps, "", options, new ModelRandom(o.seed));
  const inputs = batchInputs(batch, rng, 7);
  inputs.x.value = (inputs.x.value as Float64Array).map((v) => Math.fround(v * o.xScale));
  const params = randomParameters(ps, rng, o.coordGain);
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
