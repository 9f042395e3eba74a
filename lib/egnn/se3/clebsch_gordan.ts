/**
 * Clebsch–Gordan coefficients in the real basis and the equivariant kernel basis of Tensor
 * Field Networks / the SE(3)-Transformer (Thomas et al. 2018, Fuchs et al. 2020), in float64.
 *
 * The real Clebsch–Gordan tensor C^{lo,li,J} ((2lo+1)·(2li+1) × (2J+1)) intertwines
 * D^{lo} ⊗ D^{li} with D^J: (D^{lo}(R) ⊗ D^{li}(R))·C = C·D^J(R) for every rotation R. As the
 * SE(3)-Transformer's `_basis_transformation_Q_J` does, it is found as the null space of this
 * (Sylvester) constraint stacked for a few fixed generic rotations: one dimension when
 * |lo − li| ≤ J ≤ lo + li, none otherwise. Normalization: CᵀC = I (the real form of the unitary
 * Clebsch–Gordan matrix; the reference scales to ‖C‖ = 1 instead). Sign: the first entry (in
 * storage order) that is not zero is positive.
 *
 * Kernel basis: Q^J_{lo,li}(v) = Σ_m C[·, ·, m] Ŷ_J^m(v/|v|), a (2lo+1)×(2li+1) matrix per J,
 * with Ŷ normalised to Σ_m Ŷ² = 1; then K(R·v) = D^{lo}(R)·K(v)·D^{li}(R)ᵀ, and the matrices of
 * one pair are orthonormal in the Frobenius inner product at every v. (The reference's basis is
 * this one divided by √(4π), up to signs — a constant absorbed by the radial weights.)
 *
 * @module
 */

import { maxAbsDiff, nullSpace } from "./linalg.ts";
import { polyEval, sphericalHarmonicPolynomials } from "./spherical_harmonics.ts";
import { rotationFromQuaternion, wignerD } from "./wigner.ts";

// Generic rotations for the constraint (any two that generate a dense subgroup would do).
const CONSTRAINT_ROTATIONS = [
  rotationFromQuaternion(1, 2, 3, 4),
  rotationFromQuaternion(0.3, -1.1, 0.7, 2.3),
  rotationFromQuaternion(-0.9, 0.4, 1.7, -0.6),
];

const cgCache = new Map<string, Float64Array>();

/**
 * The real Clebsch–Gordan tensor C[mo, mi, m] (row-major (2lo+1)×(2li+1)×(2J+1)).
 *
 * @param lo the first factor's degree (the kernel's output type)
 * @param li the second factor's degree (the kernel's input type)
 * @param J the degree of the coupled representation, |lo − li| ≤ J ≤ lo + li
 * @returns C with CᵀC = I and (D^{lo} ⊗ D^{li})·C = C·D^J
 * @example Coupling two vectors to a scalar is the dot product
 * ```ts
 * import { clebschGordan } from "./clebsch_gordan.ts";
 * const c = clebschGordan(1, 1, 0); // δ_ab / √3
 * console.log(Math.abs(c[4] - 1 / Math.sqrt(3)) < 1e-12); // true
 * ```
 */
export function clebschGordan(lo: number, li: number, J: number): Float64Array {
  const key = `${lo},${li},${J}`;
  const hit = cgCache.get(key);
  if (hit) return hit;
  if (J < Math.abs(lo - li) || J > lo + li) {
    throw new Error(`clebschGordan: J = ${J} is not in [|${lo} − ${li}|, ${lo} + ${li}]`);
  }
  const dO = 2 * lo + 1, dI = 2 * li + 1, dJ = 2 * J + 1;
  const n = dO * dI * dJ; // unknowns C[a, b, k], index (a·dI + b)·dJ + k
  const rows = CONSTRAINT_ROTATIONS.length * n;
  const a = new Float64Array(rows * n);
  CONSTRAINT_ROTATIONS.forEach((r, t) => {
    const Do = wignerD(lo, r), Di = wignerD(li, r), Dj = wignerD(J, r);
    // Row (t, a, b, k): Σ_{a',b'} Do[a,a'] Di[b,b'] C[a',b',k] − Σ_{k'} C[a,b,k'] Dj[k',k].
    for (let ia = 0; ia < dO; ia++) {
      for (let ib = 0; ib < dI; ib++) {
        for (let k = 0; k < dJ; k++) {
          const row = (t * n + (ia * dI + ib) * dJ + k) * n;
          for (let ja = 0; ja < dO; ja++) {
            for (let jb = 0; jb < dI; jb++) {
              a[row + (ja * dI + jb) * dJ + k] += Do[ia * dO + ja] * Di[ib * dI + jb];
            }
          }
          for (let kk = 0; kk < dJ; kk++) a[row + (ia * dI + ib) * dJ + kk] -= Dj[kk * dJ + k];
        }
      }
    }
  });
  const basis = nullSpace(a, rows, n);
  if (basis.length !== 1) {
    throw new Error(`clebschGordan(${key}): null space of dimension ${basis.length}, not 1`);
  }
  const c = basis[0];
  // ‖C‖² = 2J+1 makes CᵀC = I (CᵀC commutes with D^J, so it is a multiple of I by Schur).
  let max = 0;
  for (const v of c) max = Math.max(max, Math.abs(v));
  const first = c.find((v) => Math.abs(v) > 1e-6 * max)!;
  const s = Math.sign(first) * Math.sqrt(dJ);
  for (let i = 0; i < n; i++) c[i] *= s;
  cgCache.set(key, c);
  return c;
}

/** One (output type, input type) block of the kernel basis. */
export interface BasisPair {
  /** Output type lo. */
  lo: number;
  /** Input type li. */
  li: number;
  /** The degrees J = |lo − li| … lo + li, in order. */
  js: number[];
  /** First column of the block in a row of the basis tensor. */
  offset: number;
  /** Columns of the block: js.length·(2lo+1)·(2li+1), laid out [J][mo][mi]. */
  size: number;
}

/** Where each (lo, li) block lies in a row of the per-edge basis tensor. */
export interface BasisLayout {
  /** Types 0 … maxDegree on both sides. */
  maxDegree: number;
  /** Blocks in order lo = 0 … maxDegree, and within one lo, li = 0 … maxDegree. */
  pairs: BasisPair[];
  /** Columns of a row: Σ sizes (34 for maxDegree 1, 259 for 2). */
  width: number;
}

/**
 * The layout of the per-edge kernel basis for feature types 0 … maxDegree.
 *
 * @param maxDegree the highest feature type (1 for TFN on N-body, 2 for the SE(3)-Transformer)
 * @returns the blocks and the row width
 */
export function basisLayout(maxDegree: number): BasisLayout {
  const pairs: BasisPair[] = [];
  let offset = 0;
  for (let lo = 0; lo <= maxDegree; lo++) {
    for (let li = 0; li <= maxDegree; li++) {
      const js = Array.from({ length: 2 * Math.min(lo, li) + 1 }, (_, i) => Math.abs(lo - li) + i);
      const size = js.length * (2 * lo + 1) * (2 * li + 1);
      pairs.push({ lo, li, js, offset, size });
      offset += size;
    }
  }
  return { maxDegree, pairs, width: offset };
}

/** The block of a layout for (lo, li), or an error. */
export function basisPair(layout: BasisLayout, lo: number, li: number): BasisPair {
  const p = layout.pairs.find((q) => q.lo === lo && q.li === li);
  if (!p) {
    throw new Error(
      `basisPair: no block (${lo}, ${li}) in a layout of degree ≤ ${layout.maxDegree}`,
    );
  }
  return p;
}

/** A basis column as a combination of harmonics: Σ c·Ŷ_J^m over its terms. */
export interface BasisColumn {
  /** The column in a row of the basis tensor. */
  column: number;
  /** The degree J of the harmonics it combines. */
  J: number;
  /** Nonzero coefficients: harmonic order index (m + J) and Clebsch–Gordan value. */
  terms: { m: number; c: number }[];
}

/**
 * Every column of a layout as Σ_m C[mo, mi, m]·Ŷ_J^m (the table the device kernel is generated
 * from; coefficients below 1e-12 are dropped).
 *
 * @param layout the layout
 * @returns one entry per column, in column order
 */
export function basisColumns(layout: BasisLayout): BasisColumn[] {
  const out: BasisColumn[] = [];
  for (const p of layout.pairs) {
    const dO = 2 * p.lo + 1, dI = 2 * p.li + 1;
    p.js.forEach((J, j) => {
      const c = clebschGordan(p.lo, p.li, J), dJ = 2 * J + 1;
      for (let a = 0; a < dO; a++) {
        for (let b = 0; b < dI; b++) {
          const terms: { m: number; c: number }[] = [];
          for (let m = 0; m < dJ; m++) {
            const v = c[(a * dI + b) * dJ + m];
            if (Math.abs(v) > 1e-12) terms.push({ m, c: v });
          }
          out.push({ column: p.offset + (j * dO + a) * dI + b, J, terms });
        }
      }
    });
  }
  return out;
}

/**
 * The kernel basis at one vector: every block of the layout, in float64.
 *
 * @param layout the layout
 * @param v a nonzero 3-vector (x_i − x_j)
 * @returns one row of the basis tensor (layout.width values)
 */
export function kernelBasis(layout: BasisLayout, v: ArrayLike<number>): Float64Array {
  const r = Math.hypot(v[0], v[1], v[2]);
  const u = [v[0] / r, v[1] / r, v[2] / r];
  const ys = Array.from(
    { length: 2 * layout.maxDegree + 1 },
    (_, J) => sphericalHarmonicPolynomials(J, "norm").map((p) => polyEval(p, u[0], u[1], u[2])),
  );
  const out = new Float64Array(layout.width);
  for (const col of basisColumns(layout)) {
    let s = 0;
    for (const t of col.terms) s += t.c * ys[col.J][t.m];
    out[col.column] = s;
  }
  return out;
}

/** Largest |C·D^J − (D^{lo} ⊗ D^{li})·C| entry for a rotation (for tests and diagnostics). */
export function clebschGordanResidual(
  lo: number,
  li: number,
  J: number,
  r: ArrayLike<number>,
): number {
  const c = clebschGordan(lo, li, J);
  const Do = wignerD(lo, r), Di = wignerD(li, r), Dj = wignerD(J, r);
  const dO = 2 * lo + 1, dI = 2 * li + 1, dJ = 2 * J + 1;
  const left = new Float64Array(c.length), right = new Float64Array(c.length);
  for (let a = 0; a < dO; a++) {
    for (let b = 0; b < dI; b++) {
      for (let k = 0; k < dJ; k++) {
        let s = 0, t = 0;
        for (let a2 = 0; a2 < dO; a2++) {
          for (let b2 = 0; b2 < dI; b2++) {
            s += Do[a * dO + a2] * Di[b * dI + b2] * c[(a2 * dI + b2) * dJ + k];
          }
        }
        for (let k2 = 0; k2 < dJ; k2++) t += c[(a * dI + b) * dJ + k2] * Dj[k2 * dJ + k];
        left[(a * dI + b) * dJ + k] = s;
        right[(a * dI + b) * dJ + k] = t;
      }
    }
  }
  return maxAbsDiff(left, right);
}
