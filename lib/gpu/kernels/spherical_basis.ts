/**
 * `sphericalBasis`: the equivariant kernel basis of TFN / the SE(3)-Transformer on every edge,
 * from r_e = x_i − x_j, and its backward (the gradient with respect to r_e).
 *
 * Forward, one invocation per edge: u = r/√(|r|² + ε), the harmonics Ŷ_J(u) for J ≤ 2·maxDegree
 * as polynomials, then every column of the basis (layout of `basisLayout`) as its
 * Clebsch–Gordan combination Σ_m C·Ŷ_J^m. Both steps are straight-line WGSL generated from the
 * float64 tables of lib/egnn/se3 (polynomial coefficients and Clebsch–Gordan values become
 * literals), so the kernel holds no tables and no loops.
 *
 * Backward: dŶ_J^m = Σ_columns C·dQ, then dr = Σ_{J,m} dŶ_J^m (∇P_J^m(u) − J·P_J^m(u)·u)/√s, the
 * gradient of P(r/√s) for P homogeneous of degree J (Euler: ∇P(u)·u = J·P(u)); s = |r|² + ε.
 *
 * @module
 */

import { defineKernel } from "../dsl.ts";
import { recordDispatch } from "../commands.ts";
import { empty, type Tensor } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";
import { basisColumns, basisLayout } from "../../egnn/se3/clebsch_gordan.ts";
import {
  polyGrad,
  type Polynomial,
  sphericalHarmonicPolynomials,
} from "../../egnn/se3/spherical_harmonics.ts";

function literal(v: number): string {
  const t = String(v);
  return `(${/[.eE]/.test(t) ? t : t + ".0"})`;
}

function power(name: string, n: number): string | null {
  return n === 0 ? null : `${name}${n}`;
}

/** A polynomial in the unit vector as WGSL over the powers x1…, y1…, z1… declared before. */
function polyExpr(p: Polynomial): string {
  if (p.length === 0) return "0.0";
  return p.map((t) => {
    const factors = [literal(t.c), power("x", t.e[0]), power("y", t.e[1]), power("z", t.e[2])];
    return factors.filter((f) => f !== null).join(" * ");
  }).join(" + ");
}

/** Declarations shared by both kernels: u, its powers and every Ŷ_J^m as `Y<J>_<m>`. */
function harmonicsPrelude(maxJ: number): string {
  const lines = [
    "let v = vec3f(rel[e * 3u], rel[e * 3u + 1u], rel[e * 3u + 2u]);",
    "let invNorm = 1.0 / safeSqrt(dot(v, v));",
    "let u = v * invNorm;",
  ];
  for (const axis of ["x", "y", "z"]) {
    lines.push(`let ${axis}1 = u.${axis};`);
    for (let k = 2; k <= maxJ; k++) lines.push(`let ${axis}${k} = ${axis}${k - 1} * u.${axis};`);
  }
  for (let J = 0; J <= maxJ; J++) {
    sphericalHarmonicPolynomials(J, "norm").forEach((p, m) => {
      lines.push(`let Y${J}_${m} = ${polyExpr(p)};`);
    });
  }
  return lines.map((l) => "  " + l).join("\n");
}

function forwardBody(maxDegree: number): string {
  const layout = basisLayout(maxDegree);
  const lines = [
    "  if (index >= params.edges) { return; }",
    "  let e = index;",
    harmonicsPrelude(2 * maxDegree),
    `  let o = e * ${layout.width}u;`,
  ];
  for (const col of basisColumns(layout)) {
    const sum = col.terms.map((t) => `${literal(t.c)} * Y${col.J}_${t.m}`).join(" + ") || "0.0";
    lines.push(`  out[o + ${col.column}u] = ${sum};`);
  }
  return lines.join("\n");
}

function backwardBody(maxDegree: number, accumulate: boolean): string {
  const layout = basisLayout(maxDegree);
  const maxJ = 2 * maxDegree;
  const lines = [
    "  if (index >= params.edges) { return; }",
    "  let e = index;",
    harmonicsPrelude(maxJ),
    `  let o = e * ${layout.width}u;`,
    "  var g = vec3f(0.0);",
  ];
  // dŶ_J^m = Σ over the columns that use it of C·dQ[column].
  const uses = new Map<string, string[]>();
  for (const col of basisColumns(layout)) {
    for (const t of col.terms) {
      const key = `${col.J}_${t.m}`;
      if (!uses.has(key)) uses.set(key, []);
      uses.get(key)!.push(`${literal(t.c)} * dq[o + ${col.column}u]`);
    }
  }
  for (let J = 1; J <= maxJ; J++) {
    sphericalHarmonicPolynomials(J, "norm").forEach((p, m) => {
      const terms = uses.get(`${J}_${m}`);
      if (!terms) return;
      const [gx, gy, gz] = polyGrad(p).map(polyExpr);
      lines.push(
        `  { let d = ${terms.join(" + ")};`,
        `    g += d * (vec3f(${gx}, ${gy}, ${gz}) - ${literal(J)} * Y${J}_${m} * u); }`,
      );
    });
  }
  lines.push("  let dv = g * invNorm;");
  for (let k = 0; k < 3; k++) {
    const i = `e * 3u + ${k}u`;
    lines.push(
      accumulate ? `  drel[${i}] = drel[${i}] + dv[${k}];` : `  drel[${i}] = dv[${k}];`,
    );
  }
  return lines.join("\n");
}

const forwardKernel = defineKernel({
  name: "spherical_basis",
  workgroupSize: 64,
  constants: { MAX_DEGREE: "u32" },
  uniforms: { edges: "u32" },
  bindings: {
    rel: { type: "f32", access: "read" },
    out: { type: "f32", access: "read_write" },
  },
  body: (c) => forwardBody(c.MAX_DEGREE as number),
});

const backwardKernel = defineKernel({
  name: "spherical_basis_backward",
  workgroupSize: 64,
  constants: { MAX_DEGREE: "u32", ACCUMULATE: "bool" },
  uniforms: { edges: "u32" },
  bindings: {
    rel: { type: "f32", access: "read" },
    dq: { type: "f32", access: "read" },
    drel: { type: "f32", access: "read_write" },
  },
  body: (c) => backwardBody(c.MAX_DEGREE as number, c.ACCUMULATE as boolean),
});

/**
 * The kernel basis of every edge (see the module): row e holds, for each (lo, li) block of
 * `basisLayout(maxDegree)`, the matrices Q^J_{lo,li}(r_e) laid out [J][mo][mi].
 *
 * @param rel E×3 relative positions x_i − x_j
 * @param maxDegree the highest feature type, ≤ 2 (1: 34 columns, 2: 259)
 * @returns E×width
 * @example The (0, 0) block is 1 and the (1, 0) block the unit vector
 * ```ts
 * import { fromArray, getGpu, read } from "../../../mod.ts";
 * import { sphericalBasis } from "./spherical_basis.ts";
 * await getGpu();
 * const q = await read(sphericalBasis(fromArray([0, 3, 4], [1, 3]), 1));
 * console.log(q[0], q.slice(4, 7)); // 1 Float32Array [0, 0.6, 0.8]
 * ```
 */
export function sphericalBasis(rel: Tensor, maxDegree: number): Tensor {
  if (rel.shape.length !== 2 || rel.shape[1] !== 3) {
    throw new Error(`sphericalBasis: rel is [${rel.shape}], expected [E, 3]`);
  }
  // Types ≤ 2 (harmonics ≤ 4) are what the N-body models use and what the tests cover.
  if (!Number.isInteger(maxDegree) || maxDegree < 0 || maxDegree > 2) {
    throw new Error(`sphericalBasis: maxDegree ${maxDegree} is not one of 0, 1, 2`);
  }
  const edges = rel.shape[0];
  const width = basisLayout(maxDegree).width;
  const out = empty([edges, width]);
  recordDispatch(forwardKernel.variant({ MAX_DEGREE: maxDegree }), [rel, out], edges, { edges });
  if (needsGrad(rel)) {
    recordOp("sphericalBasis", out, () => {
      const s = gradSlot(rel);
      recordDispatch(
        backwardKernel.variant({ MAX_DEGREE: maxDegree, ACCUMULATE: s.accumulate }),
        [rel, gradOf(out)!, s.grad],
        edges,
        { edges },
      );
    });
  }
  return out;
}
