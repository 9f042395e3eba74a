// concat along columns (backward: each input takes its block of the output gradient), against
// tests/reference/columns.ts (checks: see check_op.ts).
import { concat } from "../../mod.ts";
import { concatBackward, concatForward } from "../reference/columns.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "./check_op.ts";

/** concat of random blocks of these widths: forward and gradients against the reference. */
async function checkConcat(rows: number, widths: number[], seed: number): Promise<void> {
  const rng = new Random(seed);
  await checkOp({
    name: `concat [${widths.join(", ")}]`,
    inputs: widths.map((w, i) => ({
      name: `part${i}`,
      data: rng.normals(rows * w),
      shape: [rows, w],
    })),
    gpu: (parts) => concat(parts),
    forward: (parts) => concatForward(parts, widths, rows),
    backward: (_, dout) => concatBackward(dout, widths, rows),
  });
}

Deno.test("concat: forward and gradients match the reference (37 rows, widths 5, 1, 7)", () =>
  checkConcat(37, [5, 1, 7], 31));

Deno.test("concat: widths that are multiples of 4 (the vec4 copy) match the reference (29 rows, 8, 4, 64)", () =>
  checkConcat(29, [8, 4, 64], 33));

Deno.test("concat: an input used twice, concat([x, y, x]), accumulates dx from both blocks", async () => {
  const rows = 67, rng = new Random(32);
  await checkOp({
    name: "concat [x, y, x]",
    inputs: [
      { name: "x", data: rng.normals(rows * 3), shape: [rows, 3] },
      { name: "y", data: rng.normals(rows * 2), shape: [rows, 2], grad: false },
    ],
    gpu: ([x, y]) => concat([x, y, x]),
    forward: ([x, y]) => concatForward([x, y, x], [3, 2, 3], rows),
    backward: (_, dout) => {
      const [a, , b] = concatBackward(dout, [3, 2, 3], rows);
      return [a.map((v, i) => v + b[i]), null];
    },
  });
});
