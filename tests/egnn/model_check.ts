/**
 * Shared helpers of the tests that compare a GPU model of lib/egnn with its float64 reference
 * (egcl_test.ts, baselines_test.ts): the test batch of graphs, random parameters, the error
 * metric, the GPU-against-reference check of forward and gradients, and the check of the
 * reference's own gradients against central differences.
 *
 * Metric (per tensor, elementwise): |gpu − ref| ≤ 1e-4 · max(RMS(ref), |ref|). The RMS floor is
 * there because f32 error scales with the magnitude of the terms a value is summed from, not with
 * the value: an entry that cancels to ~0 carries an absolute error of the order of its tensor's
 * scale.
 *
 * Set EGNN_TEST_REPORT=1 to print the worst measured error of each case.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  backward,
  type DeviceGraph,
  endStep,
  fromArray,
  fromEdgeLists,
  getGpu,
  type GraphBatch,
  type ParameterSet,
  readMany,
  resetTape,
  type Tensor,
  uploadGraph,
} from "../../mod.ts";
import { evaluate, type HostMatrix, type ReferenceModel } from "../reference/egnn.ts";
import { assertClose, centralDifferenceAt, rms } from "../reference/finite_difference.ts";
import { Random } from "../reference/random.ts";

/** Relative tolerance of the GPU against the reference (see the module's metric). */
const RTOL = 1e-4;
/** Central-difference half-step: at 1e-6 float64 round-off dominates (errors ~6e-7), at 1e-5 ~1e-7. */
const FD_STEP = 1e-5;
/** Whether to print the worst measured errors (EGNN_TEST_REPORT=1). */
const REPORT = Deno.env.get("EGNN_TEST_REPORT") === "1";

/** The coordinate dimension of the test batch unless told otherwise. */
export const DIM = 3;

/** Every ordered pair i ≠ j, i-major: a fully connected graph's edges. */
export function allPairs(n: number): [number, number][] {
  const edges: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) edges.push([i, j]);
  return edges;
}

/**
 * Fully connected graphs of 5, 3, 1 and 4 nodes, then 5 nodes with an explicit edge list given
 * out of receiver order, where node 4 only sends; random coordinates in `dim` dimensions and,
 * if `edgeAttrDim` > 0, random edge attributes of that width (drawn before each graph's
 * coordinates).
 */
export function testBatch(rng: Random, dim = DIM, edgeAttrDim = 0): GraphBatch {
  const explicit: [number, number][] = [[2, 0], [0, 1], [2, 1], [1, 4], [0, 4], [3, 2], [0, 2]];
  const graphs = [
    ...[5, 3, 1, 4].map((n) => ({ numNodes: n, edges: allPairs(n) })),
    { numNodes: 5, edges: explicit },
  ];
  const batch = fromEdgeLists(
    graphs.map((g) => ({
      ...g,
      ...(edgeAttrDim > 0 ? { edgeAttr: rng.normals(g.edges.length * edgeAttrDim) } : {}),
      coords: rng.normals(g.numNodes * dim),
    })),
    edgeAttrDim > 0 ? { dim, edgeAttrDim } : { dim },
  );
  const last = batch.numNodes - 1;
  assert.equal(batch.receiverPtr[last + 1] - batch.receiverPtr[last], 0, "a node without edges");
  return batch;
}

/** A test batch on the host and on the GPU, with the generator that drew it. */
export interface TestBatch {
  rng: Random;
  batch: GraphBatch;
  graph: DeviceGraph;
}

/**
 * Runs `check` on `testBatch(new Random(seed), dim, edgeAttrDim)` uploaded to the GPU (the
 * generator goes on to draw the case's parameters and inputs), then frees the graph.
 */
export async function onTestBatch<T>(
  o: { seed: number; dim?: number; edgeAttrDim?: number },
  check: (b: TestBatch) => Promise<T>,
): Promise<T> {
  await getGpu();
  const rng = new Random(o.seed);
  const batch = testBatch(rng, o.dim, o.edgeAttrDim);
  const graph = uploadGraph(batch);
  try {
    return await check({ rng, batch, graph });
  } finally {
    graph.dispose();
  }
}

/** Parameters whose random values are scaled: the names matching `names`, times `gain`. */
export interface ParameterGain {
  names: RegExp;
  gain: number;
}

/**
 * Parameters for a model's set: weights and biases U(±1/√fan_in) (PyTorch's default bounds),
 * those `scaled` names (e.g. the last weight of φx or of the Radial Field's φ) times its gain
 * (the models' own inits, e.g. gain 0.001, would hide the coordinate path from the comparison).
 */
export function randomParameters(
  ps: ParameterSet,
  rng: Random,
  scaled?: ParameterGain,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const name of ps.names) {
    const weight = ps.get(name.replace(/\.bias$/, ".weight"));
    const bound = 1 / Math.sqrt(weight.shape[0]);
    const gain = scaled && scaled.names.test(name) ? scaled.gain : 1;
    out.set(name, Float32Array.from(rng.uniforms(ps.get(name).size, -gain * bound, gain * bound)));
  }
  return out;
}

/** Float64 parameters for the reference alone, from a set's names and shapes. */
export function float64Parameters(ps: ParameterSet, rng: Random): Map<string, Float64Array> {
  return new Map([...randomParameters(ps, rng)].map(([k, v]) => [k, Float64Array.from(v)]));
}

/** The worst |a − b| / max(RMS(b), |b|) of a tensor. */
export function worstError(a: ArrayLike<number>, b: ArrayLike<number>): number {
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
export interface ModelCase {
  name: string;
  ps: ParameterSet;
  /** Values to load, or null to keep (and read back) the model's own initialisation. */
  params: Map<string, Float32Array> | null;
  inputs: Record<string, HostMatrix>;
  /** The GPU forward from the input tensors; its output is laid out as the reference's. */
  gpu: (xs: Record<string, Tensor>) => Tensor;
  reference: ReferenceModel;
  /**
   * Names and widths of the output's column blocks, compared one by one (h, x); without them
   * the whole output is compared as one block.
   */
  outputs?: { name: string; cols: number }[];
  /**
   * Read the parameters' gradients through `ParameterSet.gradsToHost` (a read of its own, which
   * reports a parameter without gradient as zero) rather than with the output in one read.
   */
  gradsToHost?: boolean;
  seed: number;
}

/**
 * Runs the forward and backward on the GPU (one read for output and all gradients, or two with
 * `gradsToHost`) and compares them with the float64 reference; returns the worst forward and
 * gradient errors.
 */
export async function checkModel(c: ModelCase): Promise<{ forward: number; grad: number }> {
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
    const hostGrads = c.gradsToHost ? await c.ps.gradsToHost() : null;
    const paramTensors = hostGrads ? [] : c.ps.tensors.map((t) => t.grad!);
    const [output, ...read] = await readMany([
      out,
      ...paramTensors,
      ...names.map((k) => tensors[k].grad!),
    ]);
    const paramGrads = hostGrads
      ? c.ps.names.map((n) => hostGrads.get(n)!)
      : read.slice(0, paramTensors.length);
    const inputGrads = read.slice(paramTensors.length);

    const ref = evaluate(c.reference, values, c.inputs, seed);
    assert.deepEqual(
      [...ref.used].sort(),
      [...c.ps.names].sort(),
      `${c.name}: the model's parameters are the ones the reference uses`,
    );
    assert.equal(out.size, ref.output.length, `${c.name}: output size`);
    let forward = 0, grad = 0, worstGrad = "";
    const blocks = c.outputs ?? [{ name: "", cols: out.shape[1] }];
    const total = blocks.reduce((a, o) => a + o.cols, 0);
    assert.equal(ref.cols, total, `${c.name}: output width`);
    let from = 0;
    for (const o of blocks) {
      const got = columns(output, total, from, o.cols);
      const want = columns(ref.output, total, from, o.cols);
      forward = Math.max(forward, worstError(got, want));
      const label = `${c.name}: forward${o.name ? ` ${o.name}` : ""}`;
      assertClose(got, want, { rtol: RTOL, label });
      from += o.cols;
    }
    const compareGrad = (label: string, got: ArrayLike<number>, want: Float64Array | undefined) => {
      assert.ok(want, `${c.name}: the reference has no gradient for ${label}`);
      assert.ok(got, `${c.name}: the GPU has no gradient for ${label}`);
      const e = worstError(got, want);
      if (e >= grad) [grad, worstGrad] = [e, label];
      assertClose(got, want, { rtol: RTOL, label: `${c.name}: d/d${label}` });
    };
    c.ps.names.forEach((n, i) => {
      if (hostGrads || !stale.has(n)) return compareGrad(n, paramGrads[i], ref.paramGrads.get(n));
      const want = ref.paramGrads.get(n)!;
      assert.ok(want.every((v) => v === 0), `${c.name}: ${n} got no gradient on the GPU`);
    });
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

/**
 * Checks `points` random coordinates (a random parameter or input tensor, then a random entry)
 * of the reference gradient of Σ seed ⊙ output against a central difference, h = FD_STEP:
 * |ref − fd| ≤ rtol · max(RMS of that tensor's gradient, |fd|), leaving out the tensors named in
 * `skip`. Returns the worst ratio.
 */
export function checkReferenceGradient(
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
