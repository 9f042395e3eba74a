/**
 * The WGSL kernels of the SE(3) message ops (see equivariant_message.ts for the factoring, the
 * layout of T and the strategy on the CPU adapter): the projection T_e = Q_e·f_j and its two
 * backward kernels (df, dQ), the contraction m_e = R_e·T_e and its two (dR, dT). Constants: CI,
 * CO, DO, DI, NJ; K = CI·NJ values of k = (ci, J) in KC = ⌈K/4⌉ chunks; WIDTH and OFFSET place
 * the (lo, li) block in the basis tensor; CIG / COG / KCG rows per invocation in GROUPS groups.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";

/** [0, 1, …, n − 1]. */
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

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

export const projectKernel = defineKernel({
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

export const projectFeatGradKernel = defineKernel({
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

export const projectBasisGradKernel = defineKernel({
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

export const contractKernel = defineKernel({
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

export const contractRadialGradKernel = defineKernel({
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

export const contractProjGradKernel = defineKernel({
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
