// SchNet's Gaussian distance expansion and shifted softplus (lib/egnn/baselines/schnet.ts),
// against tests/reference/rbf.ts (checks: see check_op.ts).
import { gaussianRbf, shiftedSoftplus } from "../../mod.ts";
import {
  gaussianRbfBackward,
  gaussianRbfForward,
  shiftedSoftplusBackward,
  shiftedSoftplusForward,
} from "../reference/rbf.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "./check_op.ts";

Deno.test("gaussianRbf: forward and gradient match the float64 reference (67 distances, K=13)", async () => {
  const rows = 67, k = 13, cutoff = 4, gamma = 2, rng = new Random(51);
  // Squared distances spread over the centres, away from 0 where √ is steep.
  const r2 = rng.normals(rows).map((v) => Math.fround(0.2 + (1.5 + v) ** 2));
  await checkOp({
    name: "gaussianRbf",
    inputs: [{ name: "r2", data: r2, shape: [rows, 1] }],
    gpu: ([x]) => gaussianRbf(x, k, cutoff, gamma),
    forward: ([x]) => gaussianRbfForward(x, k, cutoff, gamma),
    backward: ([x], dout) => [gaussianRbfBackward(x, dout, k, cutoff, gamma)],
  });
});

Deno.test("shiftedSoftplus: forward and gradient match the float64 reference (37×11)", async () => {
  const rng = new Random(52);
  await checkOp({
    name: "shiftedSoftplus",
    inputs: [{
      name: "x",
      data: rng.normals(37 * 11).map((v) => Math.fround(3 * v)),
      shape: [37, 11],
    }],
    gpu: ([x]) => shiftedSoftplus(x),
    forward: ([x]) => shiftedSoftplusForward(x),
    backward: ([x], dout) => [shiftedSoftplusBackward(x, dout)],
  });
});
