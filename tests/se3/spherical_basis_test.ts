// sphericalBasis on the device against its float64 reference (tests/reference/se3_basis.ts):
// forward values, the gradient with respect to x_i − x_j, and finite differences (see
// tests/kernels/check_op.ts); then the gradient through x_i − x_j to the coordinates.
import { gatherRows, getGpu, rowIndex, sub } from "../../mod.ts";
import { sphericalBasis } from "../../lib/gpu/kernels/spherical_basis.ts";
import { sphericalBasisBackward, sphericalBasisForward } from "../reference/se3_basis.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "../kernels/check_op.ts";

for (const maxDegree of [1, 2]) {
  Deno.test(`sphericalBasis (types ≤ ${maxDegree}): forward and d(x_i − x_j) match float64`, async () => {
    const edges = 23, rng = new Random(70 + maxDegree);
    await checkOp({
      name: `sphericalBasis ≤ ${maxDegree}`,
      inputs: [{ name: "rel", data: rng.normals(edges * 3), shape: [edges, 3] }],
      gpu: ([rel]) => sphericalBasis(rel, maxDegree),
      forward: ([rel]) => sphericalBasisForward(rel, maxDegree),
      backward: ([rel], dq) => [sphericalBasisBackward(rel, dq, maxDegree)],
      gpuFdPoints: 6,
    });
  });
}

Deno.test("sphericalBasis: the gradient reaches the coordinates through x_i − x_j", async () => {
  await getGpu();
  const nodes = 6, rng = new Random(77);
  const recv: number[] = [], send: number[] = [];
  for (let i = 0; i < nodes; i++) {
    for (let j = 0; j < nodes; j++) if (i !== j && (i + j) % 3 !== 0) recv.push(i), send.push(j);
  }
  const receivers = rowIndex(recv, nodes), senders = rowIndex(send, nodes);
  const rel = (x: Float64Array) =>
    Float64Array.from({ length: recv.length * 3 }, (_, k) => {
      const e = Math.floor(k / 3), c = k % 3;
      return x[recv[e] * 3 + c] - x[send[e] * 3 + c];
    });
  try {
    await checkOp({
      name: "sphericalBasis(x_i − x_j)",
      inputs: [{ name: "x", data: rng.normals(nodes * 3, 1.5), shape: [nodes, 3] }],
      gpu: ([x]) => sphericalBasis(sub(gatherRows(x, receivers), gatherRows(x, senders)), 2),
      forward: ([x]) => sphericalBasisForward(rel(x), 2),
      backward: ([x], dq) => {
        const dr = sphericalBasisBackward(rel(x), dq, 2);
        const dx = new Float64Array(nodes * 3);
        recv.forEach((i, e) => {
          for (let c = 0; c < 3; c++) {
            dx[i * 3 + c] += dr[e * 3 + c];
            dx[send[e] * 3 + c] -= dr[e * 3 + c];
          }
        });
        return [dx];
      },
    });
  } finally {
    for (const r of [receivers, senders]) {
      for (const t of [r.index, r.inversePtr, r.inversePerm]) t.dispose();
    }
  }
});
