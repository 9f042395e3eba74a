/**
 * `edgeLinear`: a dense layer on every edge's concatenated inputs [h_i, h_j, r_ij] evaluated
 * without the concatenation, for eq. 3's first layer:
 *
 *   y_e = act(P[i_e] + Q[j_e] + r_e·W_r + b),   [P | Q] = h·[W_i | W_j] computed once per node,
 *
 * where W = [W_i; W_j; W_r] by rows. One pass over the edges forward (gathers, the narrow
 * product with r_e, bias and activation fused; four columns per invocation). Backward:
 * `dZ = dY ⊙ act'`, `dP = Σ_{e: i_e = n} dZ_e` and `dQ = Σ_{e: j_e = n} dZ_e` (segment sums by
 * receiver and by sender), `dr = dZ·W_rᵀ`, `dW_r = rᵀ·dZ`, `db = Σ_e dZ_e`.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, type Tensor, unusedBinding } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";
import { type Activation, activationExpr, matmul } from "./matmul.ts";
import { activationBackward } from "./elementwise.ts";
import { columnSum } from "./reduce.ts";
import { copyColumns } from "./columns.ts";
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
    pq: { type: "vec4f", access: "read" },
    recv: { type: "u32", access: "read" },
    send: { type: "u32", access: "read" },
    rest: { type: "f32", access: "read" },
    // W_r and the bias are small: uniform arrays (cheap reads on the CPU adapter, and they keep
    // the storage bindings at 7 with params, within WebGPU's default limit of 8).
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
  var z = pq[recv[e] * 2u * c4 + col] + pq[send[e] * 2u * c4 + c4 + col];
  for (var k = 0u; k < K; k++) {
    z += rest[e * K + k] * w[k * c4 + col];
  }
  ${c.HAS_BIAS ? "z += b[col];" : ""}
  ${c.SAVE_Z ? "zOut[index] = z;" : ""}
  out[index] = ${activation4(c.ACT as Activation)};`,
});

/**
 * `y_e = act(PQ[i_e, :H] + PQ[j_e, H:] + rest_e·w + b)` for every edge e (see the module).
 *
 * @param pq N×2H: [h·W_i | h·W_j]
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
 * const pq = fromArray([1, 1, 1, 1, 10, 10, 10, 10, 2, 2, 2, 2, 20, 20, 20, 20], [2, 8]);
 * const rest = fromArray([0.5, 0.25], [2, 1]);
 * const w = fromArray([4, 4, 4, 4], [1, 4]);
 * const y = edgeLinear(pq, g.receivers, g.senders, rest, w, null, "none");
 * console.log(await read(y)); // Float32Array [23, 23, 23, 23, 13, 13, 13, 13]
 * ```
 */
export function edgeLinear(
  pq: Tensor,
  receivers: RowIndex,
  senders: RowIndex,
  rest: Tensor,
  w: Tensor,
  bias: Tensor | null,
  act: Activation,
): Tensor {
  const [n, twoH] = pq.shape;
  const h = twoH / 2;
  const [e, k] = rest.shape;
  if (pq.shape.length !== 2 || twoH % 8 !== 0) {
    throw new Error(`edgeLinear: pq is [${pq.shape}], expected [N, 2H] with H a multiple of 4`);
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
    throw new Error(`edgeLinear: pq has ${n} rows, the graph ${receivers.numSourceRows} nodes`);
  }
  if (bias && bias.size !== h) {
    throw new Error(`edgeLinear: bias has ${bias.size} values, not ${h}`);
  }
  const out = empty([e, h]);
  const grad = needsGrad(pq, rest, w, bias);
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
    [pq, receivers.index, senders.index, rest, w, bias ?? w, z ?? unusedBinding(), out],
    e * (h / 4),
    { edges: e },
  );
  if (grad) {
    recordOp("edgeLinear", out, () => {
      const dy = gradOf(out)!;
      const dz = act === "none" ? dy : activationBackward(act, dy, z ?? out);
      if (pq.requiresGrad) {
        const s = gradSlot(pq);
        for (const [idx, offset] of [[receivers, 0], [senders, h]] as const) {
          const part = empty([n, h]);
          segmentSumInto(dz, idx.inversePtr, part, n, h, { perm: idx.inversePerm });
          copyColumns(part, 0, s.grad, offset, h, n, s.accumulate);
        }
      }
      if (rest.requiresGrad) {
        const s = gradSlot(rest);
        matmul(dz, w, s.grad, { m: e, n: k, k: h, transB: true, accumulate: s.accumulate });
      }
      if (w.requiresGrad) {
        const s = gradSlot(w);
        matmul(rest, dz, s.grad, {
          m: k,
          n: h,
          k: e,
          transA: true,
          accumulate: s.accumulate,
          fixedK: false,
        });
      }
      if (bias?.requiresGrad) {
        const s = gradSlot(bias);
        columnSum(dz, s.grad, e, h, s.accumulate);
      }
    });
  }
  return out;
}
