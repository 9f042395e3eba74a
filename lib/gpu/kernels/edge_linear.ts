/**
 * `edgeLinear`: a dense layer on every edge's concatenated inputs [h_i, h_j, r_ij] evaluated
 * without the concatenation, for eq. 3's first layer:
 *
 *   y_e = act(P[i_e] + Q[j_e] + r_e·W_r + b),   P = h·W_i and Q = h·W_j computed once per node,
 *
 * where W = [W_i; W_j; W_r] by rows. One pass over the edges forward (gathers, the narrow
 * product with r_e, bias and activation fused; four columns per invocation). Backward:
 * `dZ = dY ⊙ act'`, `dP = Σ_{e: i_e = n} dZ_e` and `dQ = Σ_{e: j_e = n} dZ_e` (segment sums by
 * receiver and by sender, written straight into P's and Q's gradients), `dr = dZ·W_rᵀ`,
 * `dW_r = rᵀ·dZ`, `db = Σ_e dZ_e` (one product [dW_r; db] where db's buffer follows W_r's). P and Q are separate tensors (not one N×2H [P | Q]) so that
 * neither their product's weights nor their gradients need a copy into or out of halves.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, type Tensor, unusedBinding } from "../tensor.ts";
import { declareActivation, gradSlot, needsGrad, recordOp } from "../tape.ts";
import { type Activation, activationExpr, matmul } from "./matmul.ts";
import { activationOf, preActivationGrad } from "./elementwise.ts";
import { weightAndBiasGrads } from "./linear.ts";
import { type RowIndex, segmentSumInto } from "./segment.ts";

/** The activation of a vec4f `z`, componentwise with the scalar helpers (as matmul's). */
function activation4(act: Activation): string {
  if (act === "none") return "z";
  return `vec4f(${[..."xyzw"].map((l) => activationExpr(act, `z.${l}`)).join(", ")})`;
}

const edgeLinearKernel = defineKernel({
  name: "edge_linear",
  workgroupSize: 64,
  constants: { H: "u32", K: "u32", HAS_BIAS: "bool", SAVE_Z: "bool" },
  uniforms: { edges: "u32" },
  bindings: {
    p: { type: "vec4f", access: "read" },
    q: { type: "vec4f", access: "read" },
    recv: { type: "u32", access: "read" },
    send: { type: "u32", access: "read" },
    rest: { type: "f32", access: "read" },
    // W_r and the bias are small: uniform arrays (cheap reads on the CPU adapter, and they keep
    // the storage bindings at 8 with params, WebGPU's default limit).
    w: { type: "vec4f", access: "uniform", length: (c) => (c.K as number) * (c.H as number) / 4 },
    b: { type: "vec4f", access: "uniform", length: (c) => (c.H as number) / 4 },
    zOut: { type: "vec4f", access: "read_write" },
    out: { type: "vec4f", access: "read_write" },
  },
  body: (c) => `
  let c4 = H / 4u;
  if (index >= params.edges * c4) { return; }
  let e = index / c4;
  let col = index % c4;
  var z = p[recv[e] * c4 + col] + q[send[e] * c4 + col];
  for (var k = 0u; k < K; k++) {
    z += rest[e * K + k] * w[k * c4 + col];
  }
  ${c.HAS_BIAS ? "z += b[col];" : ""}
  ${c.SAVE_Z ? "zOut[index] = z;" : ""}
  out[index] = ${activation4(c.ACT as Activation)};`,
});

/**
 * `y_e = act(P[i_e] + Q[j_e] + rest_e·w + b)` for every edge e (see the module).
 *
 * @param p N×H: h·W_i (the receivers' part)
 * @param q N×H: h·W_j (the senders' part)
 * @param receivers the gather index of i_e (with its inverse grouping)
 * @param senders the gather index of j_e
 * @param rest E×K per-edge inputs (r², edge attributes)
 * @param w K×H: their rows of the layer's weight
 * @param bias H values or null
 * @param act the activation
 * @returns E×H
 * @example Two nodes, one edge each way, H = 4: (i 0, j 1) 1 + 20 + 0.5·4, (i 1, j 0) 2 + 10 + 0.25·4
 * ```ts
 * import { edgeLinear, fromArray, fullyConnected, getGpu, read, uploadGraph } from "../../../mod.ts";
 * await getGpu();
 * const g = uploadGraph(fullyConnected([2]));
 * const p = fromArray([1, 1, 1, 1, 2, 2, 2, 2], [2, 4]);
 * const q = fromArray([10, 10, 10, 10, 20, 20, 20, 20], [2, 4]);
 * const rest = fromArray([0.5, 0.25], [2, 1]);
 * const w = fromArray([4, 4, 4, 4], [1, 4]);
 * const y = edgeLinear(p, q, g.receivers, g.senders, rest, w, null, "none");
 * console.log(await read(y)); // Float32Array [23, 23, 23, 23, 13, 13, 13, 13]
 * ```
 */
export function edgeLinear(
  p: Tensor,
  q: Tensor,
  receivers: RowIndex,
  senders: RowIndex,
  rest: Tensor,
  w: Tensor,
  bias: Tensor | null,
  act: Activation,
): Tensor {
  const [n, h] = p.shape;
  const [e, k] = rest.shape;
  if (p.shape.length !== 2 || h % 4 !== 0) {
    throw new Error(`edgeLinear: p is [${p.shape}], expected [N, H] with H a multiple of 4`);
  }
  if (q.shape.join() !== p.shape.join()) {
    throw new Error(`edgeLinear: q is [${q.shape}], expected p's shape [${p.shape}]`);
  }
  if (w.shape.join() !== `${k},${h}`) {
    throw new Error(
      `edgeLinear: w is [${w.shape}], expected [${k}, ${h}] (rest is [${rest.shape}])`,
    );
  }
  if (receivers.index.size !== e || senders.index.size !== e) {
    throw new Error(`edgeLinear: rest has ${e} rows, the graph ${receivers.index.size} edges`);
  }
  if (receivers.numSourceRows !== n || senders.numSourceRows !== n) {
    throw new Error(`edgeLinear: p has ${n} rows, the graph ${receivers.numSourceRows} nodes`);
  }
  if (bias && bias.size !== h) {
    throw new Error(`edgeLinear: bias has ${bias.size} values, not ${h}`);
  }
  const out = empty([e, h]);
  const grad = needsGrad(p, q, rest, w, bias);
  const z = grad && act === "silu" ? empty([e, h]) : null;
  const v = edgeLinearKernel.variant({
    H: h,
    K: k,
    HAS_BIAS: !!bias,
    SAVE_Z: !!z,
    ACT: act,
  });
  recordDispatch(
    v,
    [p, q, receivers.index, senders.index, rest, w, bias ?? w, z ?? unusedBinding(), out],
    e * (h / 4),
    { edges: e },
  );
  if (grad) {
    declareActivation(out, activationOf(act, z ?? out));
    recordOp("edgeLinear", out, () => {
      const dz = preActivationGrad(out, act, z ?? out);
      for (const [t, idx] of [[p, receivers], [q, senders]] as const) {
        if (!t.requiresGrad) continue;
        const s = gradSlot(t);
        segmentSumInto(dz, idx.inversePtr, s.grad, n, h, {
          perm: idx.inversePerm,
          accumulate: s.accumulate,
        });
      }
      if (rest.requiresGrad) {
        const s = gradSlot(rest);
        matmul(dz, w, s.grad, { m: e, n: k, k: h, transB: true, accumulate: s.accumulate });
      }
      // dW_r = restᵀ·dZ and db: one product where db's buffer follows W_r's (W_r the last rows
      // of φe's first weight, its bias right after it in the parameter buffer).
      weightAndBiasGrads(rest, dz, w, bias, e, k, h);
    });
  }
  return out;
}
