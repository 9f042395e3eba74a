/**
 * Float64 reference of `sphericalBasis` (lib/gpu/kernels/spherical_basis.ts): the kernel basis
 * of every edge from lib/egnn/se3 (`kernelBasis`, u = r/|r| exactly), and its gradient with
 * respect to r through the harmonics' polynomial gradients.
 *
 * @module
 */

import { basisColumns, basisLayout, kernelBasis } from "../../lib/egnn/se3/clebsch_gordan.ts";
import {
  polyEval,
  polyGrad,
  sphericalHarmonicPolynomials,
} from "../../lib/egnn/se3/spherical_harmonics.ts";

/** E×width: `kernelBasis` of each row of rel (E×3). */
export function sphericalBasisForward(rel: Float64Array, maxDegree: number): Float64Array {
  const layout = basisLayout(maxDegree);
  const edges = rel.length / 3;
  const out = new Float64Array(edges * layout.width);
  for (let e = 0; e < edges; e++) {
    out.set(kernelBasis(layout, rel.subarray(3 * e, 3 * e + 3)), e * layout.width);
  }
  return out;
}

/** dL/dr given dL/dQ (E×width): Σ_col dQ·Σ_m C·∇_r Ŷ_J^m(r/|r|). */
export function sphericalBasisBackward(
  rel: Float64Array,
  dq: Float64Array,
  maxDegree: number,
): Float64Array {
  const layout = basisLayout(maxDegree);
  const columns = basisColumns(layout);
  const edges = rel.length / 3;
  const grads = Array.from(
    { length: 2 * maxDegree + 1 },
    (_, J) => sphericalHarmonicPolynomials(J, "norm").map((p) => ({ p, g: polyGrad(p) })),
  );
  const out = new Float64Array(3 * edges);
  for (let e = 0; e < edges; e++) {
    const v = rel.subarray(3 * e, 3 * e + 3);
    const r = Math.hypot(v[0], v[1], v[2]);
    const u = [v[0] / r, v[1] / r, v[2] / r];
    for (const col of columns) {
      const d = dq[e * layout.width + col.column];
      for (const t of col.terms) {
        const { p, g } = grads[col.J][t.m];
        const value = polyEval(p, u[0], u[1], u[2]);
        for (let k = 0; k < 3; k++) {
          const dYdr = (polyEval(g[k], u[0], u[1], u[2]) - col.J * value * u[k]) / r;
          out[3 * e + k] += d * t.c * dYdr;
        }
      }
    }
  }
  return out;
}
