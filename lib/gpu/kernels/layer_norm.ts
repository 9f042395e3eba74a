/**
 * `layerNorm`: PyTorch's `nn.LayerNorm(C)` over the last dimension of an R×C matrix,
 * y = (x − mean)/√(var + ε)·γ + β with the biased variance and ε = 1e-5 (the SE(3)-Transformer's
 * `BN` module is this, in its radial networks and norm nonlinearities).
 *
 * Forward: one invocation per row; with a gradient to take it saves x̂ and 1/√(var + ε).
 * Backward: dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂)) with dx̂ = dy ⊙ γ, one invocation per
 * row; dγ = Σ_rows dy ⊙ x̂ and dβ = Σ_rows dy, one invocation per column.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, type Tensor, unusedBinding } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";

const EPS = 1e-5;

const forwardKernel = defineKernel({
  name: "layer_norm",
  workgroupSize: 64,
  constants: { C: "u32", EPS: "f32", SAVE: "bool" },
  uniforms: { rows: "u32" },
  bindings: {
    x: { type: "f32", access: "read" },
    gamma: { type: "f32", access: "read" },
    beta: { type: "f32", access: "read" },
    out: { type: "f32", access: "read_write" },
    xhat: { type: "f32", access: "read_write" },
    rstd: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.rows) { return; }
  let base = index * C;
  var mean = 0.0;
  for (var k = 0u; k < C; k++) { mean += x[base + k]; }
  mean = mean / f32(C);
  var variance = 0.0;
  for (var k = 0u; k < C; k++) { let d = x[base + k] - mean; variance += d * d; }
  let r = inverseSqrt(variance / f32(C) + EPS);
  for (var k = 0u; k < C; k++) {
    let h = (x[base + k] - mean) * r;
    out[base + k] = h * gamma[k] + beta[k];
    ${c.SAVE ? "xhat[base + k] = h;" : ""}
  }
  ${c.SAVE ? "rstd[index] = r;" : ""}`,
});

const inputGradKernel = defineKernel({
  name: "layer_norm_dx",
  workgroupSize: 64,
  constants: { C: "u32", ACCUMULATE: "bool" },
  uniforms: { rows: "u32" },
  bindings: {
    dy: { type: "f32", access: "read" },
    gamma: { type: "f32", access: "read" },
    xhat: { type: "f32", access: "read" },
    rstd: { type: "f32", access: "read" },
    dx: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.rows) { return; }
  let base = index * C;
  var a = 0.0;
  var b = 0.0;
  for (var k = 0u; k < C; k++) {
    let g = dy[base + k] * gamma[k];
    a += g;
    b += g * xhat[base + k];
  }
  a = a / f32(C);
  b = b / f32(C);
  let r = rstd[index];
  for (var k = 0u; k < C; k++) {
    let v = r * (dy[base + k] * gamma[k] - a - xhat[base + k] * b);
    ${c.ACCUMULATE ? "dx[base + k] = dx[base + k] + v;" : "dx[base + k] = v;"}
  }`,
});

const affineGradKernel = defineKernel({
  name: "layer_norm_daffine",
  workgroupSize: 64,
  constants: { C: "u32", ACC_GAMMA: "bool", ACC_BETA: "bool" },
  uniforms: { rows: "u32" },
  bindings: {
    dy: { type: "f32", access: "read" },
    xhat: { type: "f32", access: "read" },
    dgamma: { type: "f32", access: "read_write" },
    dbeta: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= C) { return; }
  var g = 0.0;
  var b = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    let d = dy[r * C + index];
    g += d * xhat[r * C + index];
    b += d;
  }
  ${c.ACC_GAMMA ? "dgamma[index] = dgamma[index] + g;" : "dgamma[index] = g;"}
  ${c.ACC_BETA ? "dbeta[index] = dbeta[index] + b;" : "dbeta[index] = b;"}`,
});

/**
 * Layer normalisation of every row with a learned scale and shift.
 *
 * @param x R×C
 * @param gamma C scales (PyTorch's `weight`, initially ones)
 * @param beta C shifts (PyTorch's `bias`, initially zeros)
 * @returns R×C
 * @example Normalise one row
 * ```ts
 * import { fromArray, getGpu, read } from "../../../mod.ts";
 * import { layerNorm } from "./layer_norm.ts";
 * await getGpu();
 * const y = layerNorm(fromArray([1, 3], [1, 2]), fromArray([1, 1], [2]), fromArray([0, 0], [2]));
 * console.log(await read(y)); // ≈ Float32Array [-1, 1]
 * ```
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor): Tensor {
  if (x.shape.length !== 2) throw new Error(`layerNorm: x is [${x.shape}], expected 2-D`);
  const [rows, C] = x.shape;
  if (gamma.size !== C || beta.size !== C) {
    throw new Error(`layerNorm: γ and β have ${gamma.size} and ${beta.size} values, not ${C}`);
  }
  const out = empty([rows, C]);
  const grad = needsGrad(x, gamma, beta);
  const xhat = grad ? empty([rows, C]) : null, rstd = grad ? empty([rows]) : null;
  const u = unusedBinding();
  recordDispatch(
    forwardKernel.variant({ C, EPS, SAVE: grad }),
    [x, gamma, beta, out, xhat ?? u, rstd ?? u],
    rows,
    { rows },
  );
  if (grad) {
    recordOp("layerNorm", out, () => {
      const dy = gradOf(out)!;
      if (x.requiresGrad) {
        const s = gradSlot(x);
        recordDispatch(
          inputGradKernel.variant({ C, ACCUMULATE: s.accumulate }),
          [dy, gamma, xhat!, rstd!, s.grad],
          rows,
          { rows },
        );
      }
      if (gamma.requiresGrad || beta.requiresGrad) {
        const sg = gamma.requiresGrad ? gradSlot(gamma) : { grad: empty([C]), accumulate: false };
        const sb = beta.requiresGrad ? gradSlot(beta) : { grad: empty([C]), accumulate: false };
        recordDispatch(
          affineGradKernel.variant({ C, ACC_GAMMA: sg.accumulate, ACC_BETA: sb.accumulate }),
          [dy, xhat!, sg.grad, sb.grad],
          C,
          { rows },
        );
      }
    });
  }
  return out;
}
