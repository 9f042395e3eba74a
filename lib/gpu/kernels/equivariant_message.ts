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
 * Factored in two ops, k = (ci, J) (K = CI·NJ values):
 * - `projectOnBasis`: the projection T_e[k, mo] = Σ_mi Q^J_e[mo, mi]·f_{j(e)}[ci, mi]; it
 *   depends on the basis block and the features only, so the values and the keys of an
 *   attention block share it; backward df (per node, over its outgoing edges through the
 *   sender-sorted permutation: deterministic, no atomics) and dQ, both from dT;
 * - `contractRadial`: m_e[co, mo] = Σ_k R_e[co, k]·T_e[k, mo], a CO×K by K×DO product per edge;
 *   backward dR_e = dm_e·T_eᵀ and dT_e = R_eᵀ·dm_e.
 * That is 2·CO·K·DO multiply-adds per edge for the forward and for each of dR and dT, against
 * CO·K·DO·DI for each of the unfactored loops (dR was 55k per edge at 21/21/5/5/5).
 *
 * Layout and strategy, for Mesa's CPU adapter (see matmul.ts: a storage read whose address
 * differs between invocations costs as much as hundreds of multiply-adds, a vec4 about as much
 * as a scalar): T is stored in chunks of 4 k, E × KC·DO·4 with KC = ⌈K/4⌉ ([kc][mo][4], zero
 * past K), so the contractions read it as vec4s. R's rows (K values from (e·CO + co)·K) are not
 * vec4-aligned: they are read as a stream of aligned vec4s, each chunk of 4 k shifted out of
 * two neighbours (`shifted`; the shift differs per row and invocation, a select is cheap), the
 * chunk past K masked to 0. Each invocation owns a group of output rows (COG rows of m or dR, CIG
 * channels of T or df, KCG chunks of dT), so that what the group shares (T's chunks, the
 * basis block, dm's rows) is read once per group; the forward and dT unroll the loops over their
 * group in the generated WGSL, so that carries and accumulators are registers rather than
 * private arrays indexed at run time (the forward 25 ms against 31, dT 24 against 29).
 * Measured on lavapipe, 20 five-body systems (400 edges), pairs (lo, li) = (2,2), (1,1), (2,1),
 * (1,2), (0,2) at 21 channels, forward and backward: 74 ms against 756 ms for the unfactored
 * kernels (one invocation per (e, co) or (e, co, ci), Q and f re-read from storage by each).
 * The price is compile time: five kernels per pair instead of three, each variant ~0.3–1 s
 * to compile cold (the unrolled forward at CO = 21, DO = 5 the longest); Mesa's disk cache
 * keeps them after the first run.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordClear, recordDispatch } from "../commands.ts";
import { empty, type Tensor } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";
import type { RowIndex } from "./segment.ts";
import type { BasisPair } from "../../egnn/se3/clebsch_gordan.ts";

/** Chunk s.. of the stream a, b: the 4 values from component s of a on (s < 4, per lane). */
const SHIFTED = `
fn shifted(a: vec4f, b: vec4f, s: u32) -> vec4f {
  let lo = select(a, vec4f(a.yzw, b.x), s == 1u);
  let hi = select(vec4f(a.zw, b.xy), vec4f(a.w, b.xyz), s == 3u);
  return select(lo, hi, s >= 2u);
}
fn chunkMask(kc: u32) -> vec4<bool> { return vec4u(4u * kc) + vec4u(0u, 1u, 2u, 3u) < vec4u(K); }`;

/** The flat index of T[e, k, mo] in its chunked layout. */
const PROJ_AT = `
fn projAt(e: u32, k: u32, mo: u32) -> u32 { return ((e * KC + k / 4u) * DO + mo) * 4u + k % 4u; }`;

const PROJECT = {
  CI: "u32",
  DO: "u32",
  DI: "u32",
  NJ: "u32",
  K: "u32",
  KC: "u32",
  WIDTH: "u32",
  OFFSET: "u32",
  CIG: "u32",
  GROUPS: "u32",
} as const;

const projectKernel = defineKernel({
  name: "equivariant_message_project",
  workgroupSize: 64,
  constants: PROJECT,
  uniforms: { edges: "u32" },
  bindings: {
    basis: { type: "f32", access: "read" },
    feat: { type: "f32", access: "read" },
    send: { type: "u32", access: "read" },
    proj: { type: "f32", access: "read_write" },
  },
  functions: PROJ_AT,
  // One invocation per (edge, group of CIG channels); the group whose channels end at CI writes
  // the zeros past K. The basis block is read once per group; the loop over the group's channels
  // has a run-time bound, so that the compiler does not unroll it (J, mo, mi: NJ·DO·DI ≤ 125
  // multiply-adds are unrolled) and the variant compiles in a fraction of the time.
  body: `
  if (index >= params.edges * GROUPS) { return; }
  let e = index / GROUPS;
  let group = index % GROUPS;
  let ci0 = group * CIG;
  let j = send[e];
  var q: array<f32, NJ * DO * DI>;
  for (var x = 0u; x < NJ * DO * DI; x++) { q[x] = basis[e * WIDTH + OFFSET + x]; }
  let count = min(CIG, CI - ci0);
  for (var g = 0u; g < count; g++) {
    let ci = ci0 + g;
    var f: array<f32, DI>;
    for (var mi = 0u; mi < DI; mi++) { f[mi] = feat[(j * CI + ci) * DI + mi]; }
    for (var J = 0u; J < NJ; J++) {
      for (var mo = 0u; mo < DO; mo++) {
        var s = 0.0;
        for (var mi = 0u; mi < DI; mi++) { s += q[(J * DO + mo) * DI + mi] * f[mi]; }
        proj[projAt(e, ci * NJ + J, mo)] = s;
      }
    }
  }
  if (group == GROUPS - 1u) {
    for (var k = K; k < 4u * KC; k++) {
      for (var mo = 0u; mo < DO; mo++) { proj[projAt(e, k, mo)] = 0.0; }
    }
  }`,
});

const projectFeatGradKernel = defineKernel({
  name: "equivariant_message_dfeat",
  workgroupSize: 64,
  constants: { ...PROJECT, ACCUMULATE: "bool" },
  uniforms: { nodes: "u32" },
  bindings: {
    basis: { type: "f32", access: "read" },
    dproj: { type: "f32", access: "read" },
    ptr: { type: "u32", access: "read" },
    perm: { type: "u32", access: "read" },
    dfeat: { type: "f32", access: "read_write" },
  },
  functions: PROJ_AT,
  // One invocation per (node n, group of channels): Σ over edges e with j(e) = n of
  // Σ_{J,mo} dT[e, (ci, J), mo]·Q^J[mo, ·].
  body: (c) => `
  if (index >= params.nodes * GROUPS) { return; }
  let n = index / GROUPS;
  let ci0 = (index % GROUPS) * CIG;
  var acc: array<f32, CIG * DI>;
  for (var p = ptr[n]; p < ptr[n + 1u]; p++) {
    let e = perm[p];
    for (var J = 0u; J < NJ; J++) {
      var q: array<f32, DO * DI>;
      for (var x = 0u; x < DO * DI; x++) { q[x] = basis[e * WIDTH + OFFSET + J * DO * DI + x]; }
      for (var g = 0u; g < CIG; g++) {
        let k = min(ci0 + g, CI - 1u) * NJ + J;
        for (var mo = 0u; mo < DO; mo++) {
          let d = dproj[projAt(e, k, mo)];
          for (var mi = 0u; mi < DI; mi++) { acc[g * DI + mi] += d * q[mo * DI + mi]; }
        }
      }
    }
  }
  for (var g = 0u; g < CIG; g++) {
    if (ci0 + g < CI) {
      for (var mi = 0u; mi < DI; mi++) {
        let o = (n * CI + ci0 + g) * DI + mi;
        ${c.ACCUMULATE ? "dfeat[o] = dfeat[o] + acc[g * DI + mi];" : "dfeat[o] = acc[g * DI + mi];"}
      }
    }
  }`,
});

const projectBasisGradKernel = defineKernel({
  name: "equivariant_message_dbasis",
  workgroupSize: 64,
  constants: PROJECT,
  uniforms: { edges: "u32" },
  bindings: {
    feat: { type: "f32", access: "read" },
    send: { type: "u32", access: "read" },
    dproj: { type: "f32", access: "read" },
    dbasis: { type: "f32", access: "read_write" },
  },
  functions: PROJ_AT,
  // One invocation per (e, J, mo): dQ^J[mo, mi] += Σ_ci dT[e, (ci, J), mo]·f[ci, mi].
  body: `
  if (index >= params.edges * NJ * DO) { return; }
  let e = index / (NJ * DO);
  let J = (index / DO) % NJ;
  let mo = index % DO;
  let j = send[e];
  var acc: array<f32, DI>;
  for (var ci = 0u; ci < CI; ci++) {
    let d = dproj[projAt(e, ci * NJ + J, mo)];
    for (var mi = 0u; mi < DI; mi++) { acc[mi] += d * feat[(j * CI + ci) * DI + mi]; }
  }
  for (var mi = 0u; mi < DI; mi++) {
    let o = e * WIDTH + OFFSET + (J * DO + mo) * DI + mi;
    dbasis[o] = dbasis[o] + acc[mi];
  }`,
});

const CONTRACT = {
  CO: "u32",
  DO: "u32",
  K: "u32",
  KC: "u32",
  COG: "u32",
  GROUPS: "u32",
} as const;

const contractKernel = defineKernel({
  name: "equivariant_message",
  workgroupSize: 64,
  constants: CONTRACT,
  uniforms: { edges: "u32" },
  bindings: {
    radial: { type: "vec4f", access: "read" },
    proj: { type: "vec4f", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  functions: SHIFTED,
  // One invocation per (edge, group of COG output channels): T's chunks are read once per group,
  // each row of R as a stream of KC + 1 vec4s. The loops over the group and over mo are
  // unrolled here: the carries and accumulators are registers, not private arrays.
  body: (c) => {
    const rows = range(c.COG as number), mos = range(c.DO as number);
    return `
  if (index >= params.edges * GROUPS) { return; }
  let e = index / GROUPS;
  let co0 = (index % GROUPS) * COG;
  ${
      rows.map((g) =>
        `let p${g} = (e * CO + min(co0 + ${g}u, CO - 1u)) * K; ` +
        `let at${g} = p${g} / 4u; let s${g} = p${g} % 4u; var carry${g} = radial[at${g}];`
      ).join("\n  ")
    }
  ${rows.flatMap((g) => mos.map((mo) => `var acc${g}_${mo} = 0.0;`)).join(" ")}
  for (var kc = 0u; kc < KC; kc++) {
    ${mos.map((mo) => `let t${mo} = proj[(e * KC + kc) * DO + ${mo}u];`).join(" ")}
    let valid = chunkMask(kc);
    ${
      rows.map((g) =>
        `{
      let next = radial[at${g} + kc + 1u];
      let r = select(vec4f(0.0), shifted(carry${g}, next, s${g}), valid);
      carry${g} = next;
      ${mos.map((mo) => `acc${g}_${mo} += dot(r, t${mo});`).join(" ")}
    }`
      ).join("\n    ")
    }
  }
  ${
      rows.map((g) =>
        `if (co0 + ${g}u < CO) {
    ${mos.map((mo) => `out[(e * CO + co0 + ${g}u) * DO + ${mo}u] = acc${g}_${mo};`).join(" ")}
  }`
      ).join("\n  ")
    }`;
  },
});

const contractRadialGradKernel = defineKernel({
  name: "equivariant_message_dradial",
  workgroupSize: 64,
  constants: { ...CONTRACT, ACCUMULATE: "bool" },
  uniforms: { edges: "u32" },
  bindings: {
    proj: { type: "vec4f", access: "read" },
    dout: { type: "f32", access: "read" },
    dradial: { type: "f32", access: "read_write" },
  },
  // One invocation per (edge, group of COG channels): dR[co, k] = Σ_mo dm[co, mo]·T[k, mo], T's
  // chunks read once per group. (Unrolling the loops over the group, as the forward does, was
  // no faster here: the writes, not private arrays, are what this kernel spends.)
  body: (c) => `
  if (index >= params.edges * GROUPS) { return; }
  let e = index / GROUPS;
  let co0 = (index % GROUPS) * COG;
  var d: array<f32, COG * DO>;
  for (var g = 0u; g < COG; g++) {
    let co = min(co0 + g, CO - 1u);
    for (var mo = 0u; mo < DO; mo++) { d[g * DO + mo] = dout[(e * CO + co) * DO + mo]; }
  }
  for (var kc = 0u; kc < KC; kc++) {
    var t: array<vec4f, DO>;
    for (var mo = 0u; mo < DO; mo++) { t[mo] = proj[(e * KC + kc) * DO + mo]; }
    for (var g = 0u; g < COG; g++) {
      var v = vec4f(0.0);
      for (var mo = 0u; mo < DO; mo++) { v += d[g * DO + mo] * t[mo]; }
      if (co0 + g < CO) {
        let o = (e * CO + co0 + g) * K + 4u * kc;
        for (var x = 0u; x < 4u; x++) {
          if (4u * kc + x < K) {
            ${c.ACCUMULATE ? "dradial[o + x] = dradial[o + x] + v[x];" : "dradial[o + x] = v[x];"}
          }
        }
      }
    }
  }`,
});

const contractProjGradKernel = defineKernel({
  name: "equivariant_message_dproj",
  workgroupSize: 64,
  constants: { ...CONTRACT, KCG: "u32", ACCUMULATE: "bool" },
  uniforms: { edges: "u32" },
  bindings: {
    radial: { type: "vec4f", access: "read" },
    dout: { type: "f32", access: "read" },
    dproj: { type: "vec4f", access: "read_write" },
  },
  functions: SHIFTED,
  // One invocation per (edge, group of KCG chunks of k): dT[k, mo] = Σ_co R[co, k]·dm[co, mo],
  // each row of R read as a stream of KCG + 1 vec4s. GROUPS counts the chunk groups here. The
  // loops over the group's chunks and over mo are unrolled here, so that the accumulators are
  // registers, never a private array indexed at run time.
  body: (c) => {
    const chunks = range(c.KCG as number), mos = range(c.DO as number);
    return `
  if (index >= params.edges * GROUPS) { return; }
  let e = index / GROUPS;
  let kc0 = (index % GROUPS) * KCG;
  ${chunks.flatMap((h) => mos.map((mo) => `var acc${h}_${mo} = vec4f(0.0);`)).join(" ")}
  for (var co = 0u; co < CO; co++) {
    let pd = (e * CO + co) * DO;
    ${mos.map((mo) => `let d${mo} = dout[pd + ${mo}u];`).join(" ")}
    let p = (e * CO + co) * K;
    let at = p / 4u + kc0;
    let s = p % 4u;
    var carry = radial[at];
    ${
      chunks.map((h) =>
        `{
      let next = radial[at + ${h + 1}u];
      let r = select(vec4f(0.0), shifted(carry, next, s), chunkMask(kc0 + ${h}u));
      carry = next;
      ${mos.map((mo) => `acc${h}_${mo} += r * d${mo};`).join(" ")}
    }`
      ).join("\n    ")
    }
  }
  ${
      chunks.map((h) =>
        `if (kc0 + ${h}u < KC) {
    ${
          mos.map((mo) => {
            const o = `(e * KC + kc0 + ${h}u) * DO + ${mo}u`;
            return c.ACCUMULATE
              ? `dproj[${o}] = dproj[${o}] + acc${h}_${mo};`
              : `dproj[${o}] = acc${h}_${mo};`;
          }).join("\n    ")
        }
  }`
      ).join("\n  ")
    }`;
  },
});

/** [0, 1, …, n − 1]. */
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * The group size g in [⌈max/2⌉, max] (n itself when n ≤ max) that leaves the fewest idle slots
 * in ⌈n/g⌉ groups, the larger on ties.
 */
export function groupSize(n: number, max: number): number {
  if (n <= max) return n;
  let best = max;
  for (let g = max; g >= Math.ceil(max / 2); g--) {
    if (Math.ceil(n / g) * g - n < Math.ceil(n / best) * best - n) best = g;
  }
  return best;
}

/**
 * Most channels per invocation: output channels of m and dR, input channels of T and df. All
 * of the N-body models' 16 or 21 in one group: on lavapipe (20 five-body systems, types ≤ 2)
 * the forward took 25 ms where groups of at most 8 took 32–38, dR 14 where 8 took 23; T and df
 * gained less (~15 %), groups of 4 lost 40 %.
 */
export const MAX_CHANNEL_GROUP = 24;
/**
 * Most chunks of 4 k per invocation of dT: 9 (dT in 24 ms) against 4 (29 ms; dm's values are
 * read once per group).
 */
export const MAX_CHUNK_GROUP = 9;

/** T_e[k, mo] (`projectOnBasis`): the tensor and the sizes its consumers need. */
export interface BasisProjection {
  /** E × KC·DO·4, laid out [kc][mo][4] (k = ci·NJ + J = 4·kc + lane), zero past K. */
  tensor: Tensor;
  /** Input channels CI. */
  ci: number;
  /** NJ, the number of J of the block. */
  nJ: number;
  /** 2lo + 1. */
  dO: number;
}

/**
 * The projection of the senders' features on the (lo, li) block of the kernel basis (see the
 * module): T_e[(ci, J), mo] = Σ_mi Q^J_e[mo, mi]·f_{j(e)}[ci, mi].
 *
 * @param basis E × width: the per-edge kernel basis (`sphericalBasis`)
 * @param pair the (lo, li) block of the basis (`basisPair(basisLayout(L), lo, li)`)
 * @param feat N × CI·(2li+1) input features of type li, laid out [ci][mi]
 * @param senders the gather index of j(e), with its sender-sorted inverse
 * @returns T, for `contractRadial`
 */
export function projectOnBasis(
  basis: Tensor,
  pair: BasisPair,
  feat: Tensor,
  senders: RowIndex,
): BasisProjection {
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
  if (senders.index.size !== edges || senders.numSourceRows !== nodes) {
    throw new Error(
      `equivariantMessage: the graph has ${senders.index.size} edges and ` +
        `${senders.numSourceRows} nodes, the tensors ${edges} and ${nodes}`,
    );
  }
  const CI = feat.shape[1] / DI, K = CI * NJ, KC = Math.ceil(K / 4);
  const CIG = groupSize(CI, MAX_CHANNEL_GROUP), GROUPS = Math.ceil(CI / CIG);
  const constants = { CI, DO, DI, NJ, K, KC, WIDTH: width, OFFSET: pair.offset, CIG, GROUPS };
  const proj = empty([edges, KC * DO * 4]);
  recordDispatch(
    projectKernel.variant(constants),
    [basis, feat, senders.index, proj],
    edges * GROUPS,
    { edges },
  );
  if (needsGrad(basis, feat)) {
    recordOp("projectOnBasis", proj, () => {
      const dproj = gradOf(proj)!;
      if (basis.requiresGrad) {
        // Several blocks and layers may share one basis tensor: the first contribution clears
        // its gradient and every contribution adds (as `rowBlock` does).
        const s = gradSlot(basis);
        if (!s.accumulate) recordClear(s.grad);
        recordDispatch(
          projectBasisGradKernel.variant(constants),
          [feat, senders.index, dproj, s.grad],
          edges * NJ * DO,
          { edges },
        );
      }
      if (feat.requiresGrad) {
        const s = gradSlot(feat);
        recordDispatch(
          projectFeatGradKernel.variant({ ...constants, ACCUMULATE: s.accumulate }),
          [basis, dproj, senders.inversePtr, senders.inversePerm, s.grad],
          nodes * GROUPS,
          { nodes },
        );
      }
    });
  }
  return { tensor: proj, ci: CI, nJ: NJ, dO: DO };
}

/**
 * The messages m_e[co, mo] = Σ_k R_e[co, k]·T_e[k, mo] from the radial weights and a projection.
 *
 * @param radial E × CO·CI·NJ radial weights, laid out [co][ci][J]
 * @param proj T from `projectOnBasis` (the same edges)
 * @returns E × CO·(2lo+1) messages, laid out [co][mo]
 */
export function contractRadial(radial: Tensor, proj: BasisProjection): Tensor {
  const { ci: CI, nJ: NJ, dO: DO } = proj;
  const edges = proj.tensor.shape[0], K = CI * NJ, KC = Math.ceil(K / 4);
  if (radial.shape.length !== 2 || radial.shape[0] !== edges || radial.shape[1] % K !== 0) {
    throw new Error(
      `equivariantMessage: radial is [${radial.shape}], expected [${edges}, CO·${CI}·${NJ}]`,
    );
  }
  const CO = radial.shape[1] / K;
  const COG = groupSize(CO, MAX_CHANNEL_GROUP);
  const constants = { CO, DO, K, KC, COG, GROUPS: Math.ceil(CO / COG) };
  const out = empty([edges, CO * DO]);
  recordDispatch(
    contractKernel.variant(constants),
    [radial, proj.tensor, out],
    edges * constants.GROUPS,
    { edges },
  );
  if (needsGrad(radial, proj.tensor)) {
    recordOp("contractRadial", out, () => {
      const dout = gradOf(out)!;
      if (radial.requiresGrad) {
        const s = gradSlot(radial);
        recordDispatch(
          contractRadialGradKernel.variant({ ...constants, ACCUMULATE: s.accumulate }),
          [proj.tensor, dout, s.grad],
          edges * constants.GROUPS,
          { edges },
        );
      }
      if (proj.tensor.requiresGrad) {
        const s = gradSlot(proj.tensor);
        const KCG = groupSize(KC, MAX_CHUNK_GROUP), groups = Math.ceil(KC / KCG);
        recordDispatch(
          contractProjGradKernel.variant({
            ...constants,
            GROUPS: groups,
            KCG,
            ACCUMULATE: s.accumulate,
          }),
          [radial, dout, s.grad],
          edges * groups,
          { edges },
        );
      }
    });
  }
  return out;
}

/**
 * The per-edge messages of one (input type, output type) pair of a TFN convolution (see the
 * module): `contractRadial(radial, projectOnBasis(basis, pair, feat, senders))`.
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
  return contractRadial(radial, projectOnBasis(basis, pair, feat, senders));
}
