/**
 * `equivariantMessage`: the message of a TFN convolution from one input type li to one output
 * type lo, on every edge e = (i, j) (the reference's `PairwiseConv` followed by `kernel @ src`):
 *
 *   m_e[co, mo] = Σ_{ci, J} R_e[co, ci, J] · Σ_mi Q^J_e[mo, mi] · f_{j(e)}[ci, mi],
 *
 * R_e the radial weights (E × CO·CI·NJ, laid out [co][ci][J]), Q_e the (lo, li) block of the
 * per-edge kernel basis (`sphericalBasis`), f the input features (N × CI·(2li+1), [ci][mi]).
 * The sender's row is read through the gather index, never materialised per edge.
 *
 * Forward: one invocation per (edge, co), the basis block in private memory. Backward, one
 * kernel per input: dR per (e, co, ci); dQ per basis entry (several blocks and layers may share
 * one basis tensor, so its gradient is cleared by the first contribution and every
 * contribution adds, as `rowBlock` does); df per (node, ci), summing the node's outgoing edges
 * through the sender-sorted permutation (deterministic, no atomics).
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordClear, recordDispatch } from "../commands.ts";
import { empty, type Tensor } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";
import type { RowIndex } from "./segment.ts";
import type { BasisPair } from "../../egnn/se3/clebsch_gordan.ts";

const SHAPE = { CO: "u32", CI: "u32", DO: "u32", DI: "u32", NJ: "u32" } as const;
const BASIS = { WIDTH: "u32", OFFSET: "u32" } as const;

const forwardKernel = defineKernel({
  name: "equivariant_message",
  workgroupSize: 64,
  constants: { ...SHAPE, ...BASIS },
  uniforms: { edges: "u32" },
  bindings: {
    radial: { type: "f32", access: "read" },
    basis: { type: "f32", access: "read" },
    feat: { type: "f32", access: "read" },
    send: { type: "u32", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  body: `
  if (index >= params.edges * CO) { return; }
  let e = index / CO;
  let co = index % CO;
  let j = send[e];
  var q: array<f32, NJ * DO * DI>;
  for (var k = 0u; k < NJ * DO * DI; k++) { q[k] = basis[e * WIDTH + OFFSET + k]; }
  var acc: array<f32, DO>;
  for (var ci = 0u; ci < CI; ci++) {
    var f: array<f32, DI>;
    for (var mi = 0u; mi < DI; mi++) { f[mi] = feat[(j * CI + ci) * DI + mi]; }
    for (var J = 0u; J < NJ; J++) {
      let r = radial[(index * CI + ci) * NJ + J];
      for (var mo = 0u; mo < DO; mo++) {
        var t = 0.0;
        for (var mi = 0u; mi < DI; mi++) { t += q[(J * DO + mo) * DI + mi] * f[mi]; }
        acc[mo] += r * t;
      }
    }
  }
  for (var mo = 0u; mo < DO; mo++) { out[index * DO + mo] = acc[mo]; }`,
});

const radialGradKernel = defineKernel({
  name: "equivariant_message_dradial",
  workgroupSize: 64,
  constants: { ...SHAPE, ...BASIS, ACCUMULATE: "bool" },
  uniforms: { edges: "u32" },
  bindings: {
    basis: { type: "f32", access: "read" },
    feat: { type: "f32", access: "read" },
    send: { type: "u32", access: "read" },
    dout: { type: "f32", access: "read" },
    dradial: { type: "f32", access: "read_write" },
  },
  // index = (e·CO + co)·CI + ci; dR[·, J] = Σ_mo dm[mo] Σ_mi Q^J[mo, mi] f[ci, mi].
  body: (c) => `
  if (index >= params.edges * CO * CI) { return; }
  let e = index / (CO * CI);
  let eco = index / CI;
  let ci = index % CI;
  let j = send[e];
  var f: array<f32, DI>;
  for (var mi = 0u; mi < DI; mi++) { f[mi] = feat[(j * CI + ci) * DI + mi]; }
  for (var J = 0u; J < NJ; J++) {
    var s = 0.0;
    for (var mo = 0u; mo < DO; mo++) {
      var t = 0.0;
      for (var mi = 0u; mi < DI; mi++) {
        t += basis[e * WIDTH + OFFSET + (J * DO + mo) * DI + mi] * f[mi];
      }
      s += dout[eco * DO + mo] * t;
    }
    let o = index * NJ + J;
    ${c.ACCUMULATE ? "dradial[o] = dradial[o] + s;" : "dradial[o] = s;"}
  }`,
});

const basisGradKernel = defineKernel({
  name: "equivariant_message_dbasis",
  workgroupSize: 64,
  constants: { ...SHAPE, ...BASIS },
  uniforms: { edges: "u32" },
  bindings: {
    radial: { type: "f32", access: "read" },
    feat: { type: "f32", access: "read" },
    send: { type: "u32", access: "read" },
    dout: { type: "f32", access: "read" },
    dbasis: { type: "f32", access: "read_write" },
  },
  // One invocation per entry (e, J, mo, mi) of the block: Σ_co dm[co, mo] Σ_ci R[co, ci, J] f[ci, mi].
  body: `
  let nq = NJ * DO * DI;
  if (index >= params.edges * nq) { return; }
  let e = index / nq;
  let k = index % nq;
  let J = k / (DO * DI);
  let mo = (k / DI) % DO;
  let mi = k % DI;
  let j = send[e];
  var s = 0.0;
  for (var co = 0u; co < CO; co++) {
    var t = 0.0;
    for (var ci = 0u; ci < CI; ci++) {
      t += radial[((e * CO + co) * CI + ci) * NJ + J] * feat[(j * CI + ci) * DI + mi];
    }
    s += dout[(e * CO + co) * DO + mo] * t;
  }
  let o = e * WIDTH + OFFSET + k;
  dbasis[o] = dbasis[o] + s;`,
});

const featGradKernel = defineKernel({
  name: "equivariant_message_dfeat",
  workgroupSize: 64,
  constants: { ...SHAPE, ...BASIS, ACCUMULATE: "bool" },
  uniforms: { nodes: "u32" },
  bindings: {
    radial: { type: "f32", access: "read" },
    basis: { type: "f32", access: "read" },
    dout: { type: "f32", access: "read" },
    ptr: { type: "u32", access: "read" },
    perm: { type: "u32", access: "read" },
    dfeat: { type: "f32", access: "read_write" },
  },
  // One invocation per (node n, ci): Σ over edges e with j(e) = n of Σ_{J,mo} s·Q^J[mo, ·],
  // s = Σ_co R[co, ci, J] dm[co, mo].
  body: (c) => `
  if (index >= params.nodes * CI) { return; }
  let n = index / CI;
  let ci = index % CI;
  var acc: array<f32, DI>;
  for (var p = ptr[n]; p < ptr[n + 1u]; p++) {
    let e = perm[p];
    for (var J = 0u; J < NJ; J++) {
      for (var mo = 0u; mo < DO; mo++) {
        var s = 0.0;
        for (var co = 0u; co < CO; co++) {
          s += radial[((e * CO + co) * CI + ci) * NJ + J] * dout[(e * CO + co) * DO + mo];
        }
        for (var mi = 0u; mi < DI; mi++) {
          acc[mi] += s * basis[e * WIDTH + OFFSET + (J * DO + mo) * DI + mi];
        }
      }
    }
  }
  for (var mi = 0u; mi < DI; mi++) {
    let o = index * DI + mi;
    ${c.ACCUMULATE ? "dfeat[o] = dfeat[o] + acc[mi];" : "dfeat[o] = acc[mi];"}
  }`,
});

/**
 * The per-edge messages of one (input type, output type) pair of a TFN convolution (see the
 * module).
 *
 * @param radial E × CO·CI·NJ radial weights, laid out [co][ci][J]
 * @param basis E × width: the per-edge kernel basis (`sphericalBasis`)
 * @param pair the (lo, li) block of the basis (`basisPair(basisLayout(L), lo, li)`)
 * @param feat N × CI·(2li+1) input features of type li, laid out [ci][mi]
 * @param senders the gather index of j(e), with its sender-sorted inverse
 * @returns E × CO·(2lo+1) messages, laid out [co][mo]
 */
export function equivariantMessage(
  radial: Tensor,
  basis: Tensor,
  pair: BasisPair,
  feat: Tensor,
  senders: RowIndex,
): Tensor {
  const DO = 2 * pair.lo + 1, DI = 2 * pair.li + 1, NJ = pair.js.length;
  const [edges, width] = basis.shape;
  const nodes = feat.shape[0];
  if (basis.shape.length !== 2 || pair.offset + pair.size > width) {
    throw new Error(
      `equivariantMessage: basis is [${basis.shape}], too narrow for block (${pair.lo}, ` +
        `${pair.li}) at ${pair.offset}+${pair.size}`,
    );
  }
  if (feat.shape.length !== 2 || feat.shape[1] % DI !== 0) {
    throw new Error(`equivariantMessage: features [${feat.shape}] are not N × CI·${DI}`);
  }
  const CI = feat.shape[1] / DI;
  if (radial.shape.length !== 2 || radial.shape[0] !== edges || radial.shape[1] % (CI * NJ) !== 0) {
    throw new Error(
      `equivariantMessage: radial is [${radial.shape}], expected [${edges}, CO·${CI}·${NJ}]`,
    );
  }
  if (senders.index.size !== edges || senders.numSourceRows !== nodes) {
    throw new Error(
      `equivariantMessage: the graph has ${senders.index.size} edges and ` +
        `${senders.numSourceRows} nodes, the tensors ${edges} and ${nodes}`,
    );
  }
  const CO = radial.shape[1] / (CI * NJ);
  const constants = { CO, CI, DO, DI, NJ, WIDTH: width, OFFSET: pair.offset };
  const out = empty([edges, CO * DO]);
  recordDispatch(
    forwardKernel.variant(constants),
    [radial, basis, feat, senders.index, out],
    edges * CO,
    { edges },
  );
  if (needsGrad(radial, basis, feat)) {
    recordOp("equivariantMessage", out, () => {
      const dout = gradOf(out)!;
      if (radial.requiresGrad) {
        const s = gradSlot(radial);
        recordDispatch(
          radialGradKernel.variant({ ...constants, ACCUMULATE: s.accumulate }),
          [basis, feat, senders.index, dout, s.grad],
          edges * CO * CI,
          { edges },
        );
      }
      if (basis.requiresGrad) {
        const s = gradSlot(basis);
        if (!s.accumulate) recordClear(s.grad);
        recordDispatch(
          basisGradKernel.variant(constants),
          [radial, feat, senders.index, dout, s.grad],
          edges * pair.size,
          { edges },
        );
      }
      if (feat.requiresGrad) {
        const s = gradSlot(feat);
        recordDispatch(
          featGradKernel.variant({ ...constants, ACCUMULATE: s.accumulate }),
          [radial, basis, dout, senders.inversePtr, senders.inversePerm, s.grad],
          nodes * CI,
          { nodes },
        );
      }
    });
  }
  return out;
}
