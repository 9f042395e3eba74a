// The small ops of the SE(3) baselines against float64 (tests/reference/se3_layers.ts) with
// finite differences (tests/kernels/check_op.ts): layerNorm, fibreLinear (self-interaction) and
// the differentiable view, used twice so that its gradient accumulates.
import { add, mul } from "../../mod.ts";
import { layerNorm } from "../../lib/gpu/kernels/layer_norm.ts";
import { fibreLinear } from "../../lib/gpu/kernels/fibre_linear.ts";
import { view } from "../../lib/gpu/kernels/view.ts";
import {
  fibreLinearBackward,
  fibreLinearForward,
  layerNormBackward,
  layerNormForward,
} from "../reference/se3_layers.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "../kernels/check_op.ts";

for (const cols of [16, 32, 21]) {
  Deno.test(`layerNorm (29×${cols}): forward, dx, dγ, dβ match float64`, async () => {
    const rows = 29, rng = new Random(300 + cols);
    await checkOp({
      name: `layerNorm ${rows}×${cols}`,
      inputs: [
        { name: "x", data: rng.normals(rows * cols, 2), shape: [rows, cols] },
        { name: "gamma", data: rng.uniforms(cols, 0.5, 1.5), shape: [cols] },
        { name: "beta", data: rng.normals(cols), shape: [cols] },
      ],
      gpu: ([x, g, b]) => layerNorm(x, g, b),
      forward: ([x, g, b]) => layerNormForward(x, g, b, cols),
      backward: ([x, g], dy) => layerNormBackward(x, g, dy, cols),
    });
  });
}

for (const l of [0, 1, 2]) {
  Deno.test(`fibreLinear (type ${l}, 3 → 4 channels): forward, df, dW match float64`, async () => {
    const nodes = 11, ci = 3, co = 4, d = 2 * l + 1, rng = new Random(310 + l);
    await checkOp({
      name: `fibreLinear l=${l}`,
      inputs: [
        { name: "feat", data: rng.normals(nodes * ci * d), shape: [nodes, ci * d] },
        { name: "w", data: rng.normals(co * ci), shape: [co, ci] },
      ],
      gpu: ([f, w]) => fibreLinear(f, w, l),
      forward: ([f, w]) => fibreLinearForward(f, w, ci, co, d),
      backward: ([f, w], dout) => fibreLinearBackward(f, w, dout, ci, co, d),
    });
  });
}

Deno.test("view: a differentiable reshape; two views of one tensor accumulate", async () => {
  const rng = new Random(320);
  await checkOp({
    name: "view(x)·view(x)",
    inputs: [{ name: "x", data: rng.normals(24), shape: [4, 6] }],
    gpu: ([x]) => add(mul(view(x, [8, 3]), view(x, [8, 3])), view(x, [8, 3])),
    forward: ([x]) => x.map((v) => v * v + v),
    backward: ([x], dy) => [x.map((v, i) => (2 * v + 1) * dy[i])],
  });
});
