// The SE(3)-Transformer: its attention primitives against float64 (rowDot, segmentSoftmax,
// with finite differences, tests/kernels/check_op.ts), the attention block's and the N-body
// model's SE(3) equivariance (metric and bound as tests/se3/tfn_test.ts: 1e-4; a reflection must
// fail), and tape gradients of the model against central differences (tests/se3/helpers.ts).
//
// Set EGNN_TEST_REPORT=1 to print the measured errors.
import assert from "node:assert/strict";
import {
  endStep,
  fromArray,
  fullyConnected,
  getGpu,
  ParameterSet,
  Random as LibRandom,
  readMany,
  resetTape,
  segments,
  type Tensor,
  uploadGraph,
} from "../../mod.ts";
import { rowDot, segmentSoftmax } from "../../lib/gpu/kernels/attention.ts";
import { NormNonlinearity } from "../../lib/egnn/se3/conv.ts";
import { edgeGeometry, fibre } from "../../lib/egnn/se3/fibre.ts";
import { SE3Attention, SE3Transformer } from "../../lib/egnn/se3/se3_transformer.ts";
import { randomRotation } from "../../lib/egnn/se3/wigner.ts";
import {
  rowDotBackward,
  rowDotForward,
  segmentSoftmaxBackward,
  segmentSoftmaxForward,
} from "../reference/se3_attention.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "../kernels/check_op.ts";
import {
  assertRotatedHalves,
  checkGradients,
  reflect,
  relativeError,
  rotatedPair,
  transformPoints,
} from "./helpers.ts";

const RTOL = 1e-4;
const REPORT = Deno.env.get("EGNN_TEST_REPORT") === "1";
const SIZES = [5, 4];

function report(label: string, err: number) {
  if (REPORT) console.log(`${label}: ${err.toExponential(2)}`);
}

Deno.test("rowDot: forward, da, db match float64", async () => {
  const rows = 19, cols = 13, rng = new Random(600);
  await checkOp({
    name: "rowDot",
    inputs: [
      { name: "a", data: rng.normals(rows * cols), shape: [rows, cols] },
      { name: "b", data: rng.normals(rows * cols), shape: [rows, cols] },
    ],
    gpu: ([a, b]) => rowDot(a, b),
    forward: ([a, b]) => rowDotForward(a, b, cols),
    backward: ([a, b], d) => rowDotBackward(a, b, d, cols),
  });
});

Deno.test("segmentSoftmax: forward and gradient match float64 (an empty segment too)", async () => {
  await getGpu();
  const ptr = [0, 4, 4, 5, 11, 14], rng = new Random(601);
  const seg = segments(ptr);
  try {
    await checkOp({
      name: "segmentSoftmax",
      inputs: [{ name: "x", data: rng.normals(14, 2), shape: [14, 1] }],
      gpu: ([x]) => segmentSoftmax(x, seg),
      forward: ([x]) => segmentSoftmaxForward(x, ptr),
      backward: ([x], d) => [segmentSoftmaxBackward(x, ptr, d)],
    });
  } finally {
    for (const t of [seg.ptr, seg.ids, seg.invCount]) t.dispose();
  }
});

Deno.test("SE3Attention ×2 + NormNonlinearity (types 0–2): rotation/translation-equivariant", async () => {
  await getGpu();
  const rng = new Random(602);
  const M = SIZES.reduce((a, b) => a + b, 0);
  const fin = fibre({ 0: 2, 1: 2 }), mid = fibre({ 0: 2, 1: 3, 2: 2 });
  const ps = new ParameterSet();
  const prng = new LibRandom(6);
  const att1 = new SE3Attention(ps, "a1", fin, mid, {}, prng);
  const norm = new NormNonlinearity(ps, "n1", mid, {}, prng);
  const att2 = new SE3Attention(ps, "a2", mid, mid, {}, prng);
  ps.build();
  const graph = uploadGraph(fullyConnected([...SIZES, ...SIZES]));
  try {
    const r = randomRotation(() => rng.normal());
    const { x, f } = rotatedPair(rng, M, fin, r, [-1, 2, 0.5]);
    const geom = edgeGeometry(x, graph, 2);
    const h1 = att1.forward(f, geom);
    const h2 = att2.forward(norm.forward(h1), geom);
    const outs: [string, number, Tensor][] = [];
    for (const t of mid) outs.push(["block 1", t.l, h1.get(t.l)!], ["block 2", t.l, h2.get(t.l)!]);
    await assertRotatedHalves(outs, r, RTOL);
  } finally {
    resetTape();
    endStep();
    graph.dispose();
    ps.dispose();
  }
});

Deno.test("SE3Transformer (N-body, 4 blocks, types 0–2, 21 channels): SE(3)-equivariant", async () => {
  await getGpu();
  const rng = new Random(603);
  const M = SIZES.reduce((a, b) => a + b, 0);
  // Output scale 1 instead of 0.01: the network's part of x + s·out is then what is measured.
  const model = new SE3Transformer({ seed: 7, outputScale: 1 });
  const graph = uploadGraph(fullyConnected([...SIZES, ...SIZES, ...SIZES]));
  try {
    const r = randomRotation(() => rng.normal()), q = reflect(randomRotation(() => rng.normal()));
    const g = [1, 0.5, -2];
    const x0 = rng.normals(M * 3), v0 = rng.normals(M * 3, 0.5);
    const charges = Array.from({ length: M }, () => (rng.next() < 0.5 ? -1 : 1));
    const x = [...x0, ...transformPoints(x0, r, g), ...transformPoints(x0, q, g)];
    const v = [...v0, ...transformPoints(v0, r), ...transformPoints(v0, q)];
    const out = model.forward(
      fromArray(x, [3 * M, 3]),
      fromArray(v, [3 * M, 3]),
      fromArray([...charges, ...charges, ...charges], [3 * M, 1]),
      graph,
    );
    const [y] = await readMany([out]);
    const disp = Float64Array.from(y, (value, i) => value - x[i]); // the network's output
    const d0 = disp.subarray(0, 3 * M);
    const rotErr = relativeError(
      y.subarray(3 * M, 6 * M),
      transformPoints(y.subarray(0, 3 * M), r, g),
      3,
    );
    const dispErr = relativeError(disp.subarray(3 * M, 6 * M), transformPoints(d0, r));
    const refErr = relativeError(disp.subarray(6 * M), transformPoints(d0, q));
    report("SE3Transformer rotation + translation (positions)", rotErr);
    report("SE3Transformer rotation (network output)", dispErr);
    report("SE3Transformer reflection (must fail)", refErr);
    assert.ok(rotErr <= RTOL, `positions: error ${rotErr.toExponential(3)}`);
    assert.ok(dispErr <= RTOL, `network output: error ${dispErr.toExponential(3)}`);
    assert.ok(refErr > 100 * RTOL, `a reflection should break the model, error ${refErr}`);
    assert.ok(model.params.names.includes("se3.Gblock.0.GMAB.q.transform.1"));
    assert.ok(!model.params.names.includes("se3.Gblock.0.GMAB.q.transform.2"));
  } finally {
    resetTape();
    endStep();
    graph.dispose();
    model.params.dispose();
  }
});

Deno.test("SE3Transformer: tape gradients match central differences", async () => {
  await getGpu();
  const rng = new Random(604);
  const M = SIZES.reduce((a, b) => a + b, 0);
  // ≥ 3 channels: a LayerNorm over two values is ±1 except near a tie, where it is so steep
  // that no finite step resolves it.
  const model = new SE3Transformer({
    numLayers: 2,
    channels: 4,
    act: "silu",
    outputScale: 1,
    seed: 8,
  });
  const graph = uploadGraph(fullyConnected(SIZES));
  const charges = fromArray(Array.from({ length: M }, (_, i) => (i % 3 ? 1 : -1)), [M, 1]).keep();
  const names = model.params.names;
  const pick = (pattern: RegExp) => names.find((n) => pattern.test(n))!;
  try {
    await checkGradients(
      "SE3Transformer",
      [
        { name: "x", data: rng.normals(M * 3), shape: [M, 3], grad: true },
        { name: "vel", data: rng.normals(M * 3, 0.5), shape: [M, 3], grad: true },
      ],
      model.params,
      [
        pick(/Gblock\.0\.GMAB\.k\.kernel_unary\.\(1,1\)\.rp\.net\.6\.weight/),
        pick(/Gblock\.0\.GMAB\.q\.transform\.1/),
        pick(/Gblock\.2\.GMAB\.v\.kernel_unary\.\(2,1\)\.rp\.net\.3\.weight/),
        pick(/Gblock\.1\.transform\.2\.0\.bn\.weight/),
        pick(/Gblock\.4\.kernel_self\.1/),
        pick(/scalar_trick/),
      ],
      ([x, vel]) => model.forward(x, vel, charges, graph),
      rng,
    );
  } finally {
    graph.dispose();
    charges.dispose();
    model.params.dispose();
  }
});
