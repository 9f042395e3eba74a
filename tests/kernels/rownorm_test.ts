// rowSquaredNorm (eq. 3's ‖x_i − x_j‖²) and its backward 2·x·dout, against
// tests/reference/rownorm.ts (checks: see check_op.ts).
import { add, rowSquaredNorm, sub } from "../../mod.ts";
import { rowSquaredNormBackward, rowSquaredNormForward } from "../reference/rownorm.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "./check_op.ts";

Deno.test("rowSquaredNorm: forward and gradient match the float64 reference (67×3)", async () => {
  const rows = 67, cols = 3, rng = new Random(41);
  await checkOp({
    name: "rowSquaredNorm 67×3",
    inputs: [{ name: "x", data: rng.normals(rows * cols), shape: [rows, cols] }],
    gpu: ([x]) => rowSquaredNorm(x),
    forward: ([x]) => rowSquaredNormForward(x, rows, cols),
    backward: ([x], dout) => [rowSquaredNormBackward(x, dout, cols)],
  });
});

Deno.test("rowSquaredNorm: ‖a − b‖² + ‖a‖² (a used twice) matches the reference (37×13)", async () => {
  const rows = 37, cols = 13, rng = new Random(42);
  await checkOp({
    name: "‖a − b‖² + ‖a‖²",
    inputs: [
      { name: "a", data: rng.normals(rows * cols), shape: [rows, cols] },
      { name: "b", data: rng.normals(rows * cols), shape: [rows, cols] },
    ],
    gpu: ([a, b]) => add(rowSquaredNorm(sub(a, b)), rowSquaredNorm(a)),
    forward: ([a, b]) => {
      const d = rowSquaredNormForward(a.map((v, i) => v - b[i]), rows, cols);
      const n = rowSquaredNormForward(a, rows, cols);
      return d.map((v, i) => v + n[i]);
    },
    backward: ([a, b], dout) => {
      const dd = rowSquaredNormBackward(a.map((v, i) => v - b[i]), dout, cols);
      const da = rowSquaredNormBackward(a, dout, cols);
      return [dd.map((v, i) => v + da[i]), dd.map((v) => -v)];
    },
  });
});
