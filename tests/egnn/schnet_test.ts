// SchNet (Table 1's E(n)-invariant baseline): graph outputs are invariant to rotations,
// reflections, translations and node permutations, and they do change with the geometry.
import assert from "node:assert/strict";
import {
  endStep,
  fromArray,
  fullyConnected,
  getGpu,
  noGrad,
  readMany,
  SchNet,
  uploadGraph,
} from "../../mod.ts";
import { Random } from "../reference/random.ts";

Deno.test("SchNet: graph outputs are E(3)- and permutation-invariant, and see geometry", async () => {
  await getGpu();
  const rng = new Random(61);
  const sizes = [5, 3, 4];
  const n = sizes.reduce((a, b) => a + b, 0);
  const h0 = rng.normals(n * 4);
  const x = rng.normals(n * 3);
  // An orthogonal matrix with det −1 (a rotation composed with a reflection) and a shift.
  const c = Math.cos(0.9), s = Math.sin(0.9);
  const Q = [[c, -s, 0], [s, c, 0], [0, 0, -1]];
  const shift = [0.3, -1.2, 2.0];
  const xq = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 3; r++) {
      xq[i * 3 + r] = shift[r] + Q[r].reduce((a, q, k) => a + q * x[i * 3 + k], 0);
    }
  }
  // Permute nodes within each graph (reverse order).
  const perm: number[] = [];
  let start = 0;
  for (const m of sizes) {
    for (let k = m - 1; k >= 0; k--) perm.push(start + k);
    start += m;
  }
  const permute = (a: Float64Array, w: number) => {
    const out = new Float64Array(a.length);
    perm.forEach((src, dst) => out.set(a.subarray(src * w, src * w + w), dst * w));
    return out;
  };
  const xMoved = x.map((v) => 1.7 * v); // a dilation: not an isometry
  const model = new SchNet({ inNodeNf: 4, hiddenNf: 16, filterNf: 16, nGaussians: 12, seed: 3 });
  const g = uploadGraph(fullyConnected(sizes));
  const run = (h: Float64Array, xs: Float64Array) =>
    noGrad(() => model.forward(fromArray(h, [n, 4]), fromArray(xs, [n, 3]), g));
  const [base, rotated, permuted, moved] = await readMany([
    run(h0, x),
    run(h0, xq),
    run(permute(h0, 4), permute(xq, 3)),
    run(h0, xMoved),
  ]);
  const scale = Math.max(...base.map(Math.abs));
  const err = (a: ArrayLike<number>) =>
    Math.max(...Array.from(a, (v, i) => Math.abs(v - base[i]))) / scale;
  console.log(
    `invariance error: E(3) ${err(rotated).toExponential(2)}, permutation ${
      err(permuted).toExponential(2)
    }`,
  );
  assert.ok(err(rotated) < 1e-4);
  assert.ok(err(permuted) < 1e-4);
  assert.ok(err(moved) > 1e-3, "a non-rigid change of the geometry must change the output");
  g.dispose();
  endStep();
});
