// Tensor Field Network layers and the N-body TFN: SE(3) equivariance and gradients.
//
// Equivariance: one batch holds the original systems and a copy with x' = R·x + g, v' = R·v and
// typed features rotated by D^l(R); each layer's output of type l must equal D^l(R) times the
// original's, and the model's prediction R·x_out + g. Metric (f32 throughout): max |got − want|
// over the copy divided by max |want| (features) or by the spread of want (coordinates, so |g|
// does not loosen the bound); bound 1e-4. A reflected copy must fail by a wide margin (TFN's
// 1 ⊗ 1 → 1 path is a cross product, a pseudovector): the check can fail.
//
// Gradients: tape gradients of Σ seed ⊙ output against central differences of the device
// forward (tests/se3/helpers.ts), with SiLU so that no ReLU kink sits inside a step.
//
// Set EGNN_TEST_REPORT=1 to print the measured errors.
import assert from "node:assert/strict";
import {
  endStep,
  fromArray,
  fullyConnected,
  getGpu,
  ParameterSet,
  readMany,
  resetTape,
  type Tensor,
  uploadGraph,
} from "../../mod.ts";
import { NormNonlinearity, SE3Conv } from "../../lib/egnn/se3/conv.ts";
import { edgeGeometry, fibre } from "../../lib/egnn/se3/fibre.ts";
import { TFN } from "../../lib/egnn/se3/tfn.ts";
import { randomRotation } from "../../lib/egnn/se3/wigner.ts";
import { Random as LibRandom } from "../../mod.ts";
import { Random } from "../reference/random.ts";
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
const SIZES = [5, 4]; // one copy: two systems

function report(label: string, err: number) {
  if (REPORT) console.log(`${label}: ${err.toExponential(2)}`);
}

Deno.test("SE3Conv + NormNonlinearity (types 0–2): rotation- and translation-equivariant", async () => {
  await getGpu();
  const rng = new Random(500);
  const M = SIZES.reduce((a, b) => a + b, 0);
  const fin = fibre({ 0: 2, 1: 2, 2: 1 }), fout = fibre({ 0: 2, 1: 3, 2: 2 });
  const ps = new ParameterSet();
  const prng = new LibRandom(5);
  const conv = new SE3Conv(ps, "conv", fin, fout, {}, prng);
  const norm = new NormNonlinearity(ps, "norm", fout, { numLayers: 1 }, prng);
  ps.build();
  const graph = uploadGraph(fullyConnected([...SIZES, ...SIZES]));
  try {
    const r = randomRotation(() => rng.normal());
    const { x, f } = rotatedPair(rng, M, fin, r, [1.5, -2, 0.5]);
    const geom = edgeGeometry(x, graph, 2);
    const h = conv.forward(f, geom);
    const g = norm.forward(h);
    const outs: [string, number, Tensor][] = [];
    for (const t of fout) outs.push(["conv", t.l, h.get(t.l)!], ["norm", t.l, g.get(t.l)!]);
    await assertRotatedHalves(outs, r, RTOL);
  } finally {
    resetTape();
    endStep();
    graph.dispose();
    ps.dispose();
  }
});

Deno.test("TFN (N-body, 4 layers, types 0–1, 16 channels): SE(3)-equivariant", async () => {
  await getGpu();
  const rng = new Random(501);
  const M = SIZES.reduce((a, b) => a + b, 0);
  const model = new TFN({ seed: 3 });
  const graph = uploadGraph(fullyConnected([...SIZES, ...SIZES, ...SIZES]));
  try {
    const r = randomRotation(() => rng.normal()), q = reflect(randomRotation(() => rng.normal()));
    const g = [2, -1, 0.5];
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
    const y0 = y.subarray(0, 3 * M);
    const disp = Float64Array.from(y, (value, i) => value - x[i]); // the network's output
    const rotErr = relativeError(y.subarray(3 * M, 6 * M), transformPoints(y0, r, g), 3);
    const dispErr = relativeError(
      disp.subarray(3 * M, 6 * M),
      transformPoints(disp.subarray(0, 3 * M), r),
    );
    const refErr = relativeError(y.subarray(6 * M), transformPoints(y0, q, g), 3);
    report("TFN rotation + translation (positions)", rotErr);
    report("TFN rotation (network output)", dispErr);
    report("TFN reflection (must fail)", refErr);
    assert.ok(rotErr <= RTOL, `rotation + translation error ${rotErr.toExponential(3)}`);
    assert.ok(dispErr <= RTOL, `network output: error ${dispErr.toExponential(3)}`);
    assert.ok(refErr > 100 * RTOL, `a reflection should break TFN, error ${refErr}`);
    assert.equal(model.params.names.filter((n) => n.endsWith("kernel_self.1")).length, 4);
  } finally {
    resetTape();
    endStep();
    graph.dispose();
    model.params.dispose();
  }
});

Deno.test("TFN: tape gradients of coordinates, velocities and parameters match differences", async () => {
  await getGpu();
  const rng = new Random(502);
  const M = SIZES.reduce((a, b) => a + b, 0);
  const model = new TFN({ numLayers: 2, channels: 3, act: "silu", seed: 4 });
  const graph = uploadGraph(fullyConnected(SIZES));
  const charges = fromArray(Array.from({ length: M }, (_, i) => (i % 2 ? 1 : -1)), [M, 1]).keep();
  const names = model.params.names;
  const pick = (pattern: RegExp) => names.find((n) => pattern.test(n))!;
  try {
    await checkGradients(
      "TFN",
      [
        { name: "x", data: rng.normals(M * 3), shape: [M, 3], grad: true },
        { name: "vel", data: rng.normals(M * 3, 0.5), shape: [M, 3], grad: true },
      ],
      model.params,
      [
        pick(/block0\.0\.kernel_unary\.\(1,1\)\.rp\.net\.0\.weight/),
        pick(/block0\.0\.kernel_unary\.\(0,0\)\.rp\.net\.4\.bn\.weight/),
        pick(/block0\.2\.kernel_unary\.\(1,1\)\.rp\.net\.6\.weight/),
        pick(/block0\.0\.kernel_self\.1/),
        pick(/block0\.1\.transform\.1\.0\.bn\.bias/),
        pick(/block0\.1\.transform\.0\.2\.weight/),
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
