/**
 * `fibreLinear`: TFN's self-interaction, a channel mixing of features of one type that leaves
 * the type's components alone, out[n, co, m] = Σ_ci W[co, ci]·f[n, ci, m] (the reference's
 * `kernel_self` / `G1x1SE3`: `W @ f` on N × C × (2l+1) features). Equivariant because W acts on
 * channels and D^l(R) on m.
 *
 * Forward one invocation per output entry; backward df per input entry
 * (df[n, ci, m] = Σ_co W[co, ci]·dout[n, co, m]) and dW per weight (a sum over nodes and m).
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, type Tensor } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";

const SHAPE = { CO: "u32", CI: "u32", D: "u32" } as const;

const forwardKernel = defineKernel({
  name: "fibre_linear",
  workgroupSize: 64,
  constants: SHAPE,
  uniforms: { nodes: "u32" },
  bindings: {
    feat: { type: "f32", access: "read" },
    w: { type: "f32", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  body: `
  if (index >= params.nodes * CO * D) { return; }
  let n = index / (CO * D);
  let co = (index / D) % CO;
  let m = index % D;
  var s = 0.0;
  for (var ci = 0u; ci < CI; ci++) { s += w[co * CI + ci] * feat[(n * CI + ci) * D + m]; }
  out[index] = s;`,
});

const featGradKernel = defineKernel({
  name: "fibre_linear_dfeat",
  workgroupSize: 64,
  constants: { ...SHAPE, ACCUMULATE: "bool" },
  uniforms: { nodes: "u32" },
  bindings: {
    dout: { type: "f32", access: "read" },
    w: { type: "f32", access: "read" },
    dfeat: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.nodes * CI * D) { return; }
  let n = index / (CI * D);
  let ci = (index / D) % CI;
  let m = index % D;
  var s = 0.0;
  for (var co = 0u; co < CO; co++) { s += w[co * CI + ci] * dout[(n * CO + co) * D + m]; }
  ${c.ACCUMULATE ? "dfeat[index] = dfeat[index] + s;" : "dfeat[index] = s;"}`,
});

const weightGradKernel = defineKernel({
  name: "fibre_linear_dweight",
  workgroupSize: 64,
  constants: { ...SHAPE, ACCUMULATE: "bool" },
  uniforms: { nodes: "u32" },
  bindings: {
    dout: { type: "f32", access: "read" },
    feat: { type: "f32", access: "read" },
    dw: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= CO * CI) { return; }
  let co = index / CI;
  let ci = index % CI;
  var s = 0.0;
  for (var n = 0u; n < params.nodes; n++) {
    for (var m = 0u; m < D; m++) { s += dout[(n * CO + co) * D + m] * feat[(n * CI + ci) * D + m]; }
  }
  ${c.ACCUMULATE ? "dw[index] = dw[index] + s;" : "dw[index] = s;"}`,
});

/**
 * Mixes the channels of type-l features (see the module).
 *
 * @param feat N × CI·(2l+1), laid out [ci][m]
 * @param w CO×CI
 * @param l the features' type
 * @returns N × CO·(2l+1)
 * @example Two type-1 channels summed into one
 * ```ts
 * import { fromArray, getGpu, read } from "../../../mod.ts";
 * import { fibreLinear } from "./fibre_linear.ts";
 * await getGpu();
 * const f = fromArray([1, 2, 3, 10, 20, 30], [1, 6]);
 * console.log(await read(fibreLinear(f, fromArray([1, 1], [1, 2]), 1))); // Float32Array [11, 22, 33]
 * ```
 */
export function fibreLinear(feat: Tensor, w: Tensor, l: number): Tensor {
  const D = 2 * l + 1;
  if (feat.shape.length !== 2 || feat.shape[1] % D !== 0) {
    throw new Error(`fibreLinear: features [${feat.shape}] are not N × C·${D}`);
  }
  const nodes = feat.shape[0], CI = feat.shape[1] / D;
  if (w.shape.length !== 2 || w.shape[1] !== CI) {
    throw new Error(`fibreLinear: w is [${w.shape}], expected [CO, ${CI}]`);
  }
  const CO = w.shape[0];
  const out = empty([nodes, CO * D]);
  recordDispatch(forwardKernel.variant({ CO, CI, D }), [feat, w, out], nodes * CO * D, { nodes });
  if (needsGrad(feat, w)) {
    recordOp("fibreLinear", out, () => {
      const dout = gradOf(out)!;
      if (feat.requiresGrad) {
        const s = gradSlot(feat);
        recordDispatch(
          featGradKernel.variant({ CO, CI, D, ACCUMULATE: s.accumulate }),
          [dout, w, s.grad],
          nodes * CI * D,
          { nodes },
        );
      }
      if (w.requiresGrad) {
        const s = gradSlot(w);
        recordDispatch(
          weightGradKernel.variant({ CO, CI, D, ACCUMULATE: s.accumulate }),
          [dout, feat, s.grad],
          CO * CI,
          { nodes },
        );
      }
    });
  }
  return out;
}
