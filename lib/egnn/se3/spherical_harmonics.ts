/**
 * Real spherical harmonics as homogeneous polynomials in float64 (the oracle of the SE(3)
 * baselines, and the source the WGSL of `sphericalBasis` is generated from).
 *
 * Convention (e3nn's, and the SE(3)-Transformer's `get_spherical_from_cartesian`): the standard
 * real harmonics without the Condon–Shortley phase (Y_1^{-1} ∝ Y, Y_1^0 ∝ Z, Y_1^1 ∝ X, as in
 * the usual tables), evaluated at (X, Y, Z) = (v_z, v_x, v_y), so the y axis is the polar axis
 * and `Y_1(v) = √(3/4π) v`: the Wigner matrix of type 1 is the rotation matrix itself,
 * D¹(R) = R, and vectors (velocities, displacements) are type-1 features as they are. Orders
 * m = −l … l. For l ≤ 2 the polynomials equal e3nn's `spherical_harmonics` up to its
 * normalization constant.
 *
 * Y_l^m is kept as a homogeneous polynomial P of degree l, with Y(v) = P(v)/|v|^l; its gradient
 * in v is (∇P(u) − l·P(u)·u)/|v| at u = v/|v| (Euler's identity for homogeneous P).
 *
 * Cartesian form (Wikipedia, "Spherical harmonics", real forms):
 * Y_l^m = √((2l+1)/2π) Π_l^m(Z) A_m(X, Y) for m > 0, √((2l+1)/4π) Π_l^0(Z) for m = 0,
 * √((2l+1)/2π) Π_l^{|m|}(Z) B_{|m|}(X, Y) for m < 0, with A_m + iB_m = (X + iY)^m and
 * Π_l^m = √((l−m)!/(l+m)!) Σ_k (−1)^k 2^{−l} C(l,k) C(2l−2k, l) (l−2k)!/(l−2k−m)! r^{2k} Z^{l−2k−m}.
 *
 * @module
 */

/** One monomial x^a y^b z^c times a coefficient. */
export interface Term {
  /** Exponents of x, y and z. */
  e: readonly [number, number, number];
  /** The coefficient. */
  c: number;
}

/** A polynomial in (x, y, z): its terms, like terms merged, zero terms dropped. */
export type Polynomial = Term[];

/** How Y_l is scaled: ∫ Y_l^m Y_l^m dΩ = 1 (`integral`), or Σ_m Y_l^m(u)² = 1 (`norm`). */
export type Normalization = "integral" | "norm";

function merge(terms: Iterable<Term>): Polynomial {
  const byKey = new Map<string, Term>();
  for (const t of terms) {
    const key = t.e.join(",");
    const old = byKey.get(key);
    byKey.set(key, { e: t.e, c: (old?.c ?? 0) + t.c });
  }
  return [...byKey.values()].filter((t) => t.c !== 0)
    .sort((a, b) => b.e[0] - a.e[0] || b.e[1] - a.e[1] || b.e[2] - a.e[2]);
}

/** The sum of polynomials. */
export function polyAdd(...ps: Polynomial[]): Polynomial {
  return merge(ps.flat());
}

/** A polynomial times a number. */
export function polyScale(p: Polynomial, s: number): Polynomial {
  return merge(p.map((t) => ({ e: t.e, c: t.c * s })));
}

/** The product of two polynomials. */
export function polyMul(a: Polynomial, b: Polynomial): Polynomial {
  const out: Term[] = [];
  for (const s of a) {
    for (const t of b) {
      out.push({ e: [s.e[0] + t.e[0], s.e[1] + t.e[1], s.e[2] + t.e[2]], c: s.c * t.c });
    }
  }
  return merge(out);
}

/** The value of a polynomial at (x, y, z). */
export function polyEval(p: Polynomial, x: number, y: number, z: number): number {
  let s = 0;
  for (const t of p) s += t.c * x ** t.e[0] * y ** t.e[1] * z ** t.e[2];
  return s;
}

/** The gradient [∂/∂x, ∂/∂y, ∂/∂z] of a polynomial, as three polynomials. */
export function polyGrad(p: Polynomial): [Polynomial, Polynomial, Polynomial] {
  const d = (axis: 0 | 1 | 2) =>
    merge(
      p.filter((t) => t.e[axis] > 0).map((t) => {
        const e = [...t.e] as [number, number, number];
        e[axis]--;
        return { e, c: t.c * t.e[axis] };
      }),
    );
  return [d(0), d(1), d(2)];
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

function binomial(n: number, k: number): number {
  return factorial(n) / (factorial(k) * factorial(n - k));
}

// The standard frame's X, Y, Z as monomials of v = (x, y, z): X = z, Y = x, Z = y.
const X: Polynomial = [{ e: [0, 0, 1], c: 1 }];
const Y: Polynomial = [{ e: [1, 0, 0], c: 1 }];
const Z: Polynomial = [{ e: [0, 1, 0], c: 1 }];
const R2: Polynomial = polyAdd(polyMul(X, X), polyMul(Y, Y), polyMul(Z, Z));
const ONE: Polynomial = [{ e: [0, 0, 0], c: 1 }];

function power(p: Polynomial, n: number): Polynomial {
  let out = ONE;
  for (let i = 0; i < n; i++) out = polyMul(out, p);
  return out;
}

/** A_m (cos = true) or B_m: the real and imaginary parts of (X + iY)^m. */
function azimuthal(m: number, cos: boolean): Polynomial {
  const COS = [1, 0, -1, 0], SIN = [0, 1, 0, -1];
  const terms: Polynomial[] = [];
  for (let p = 0; p <= m; p++) {
    const phase = (cos ? COS : SIN)[(m - p) % 4];
    if (phase !== 0) {
      terms.push(polyScale(polyMul(power(X, p), power(Y, m - p)), binomial(m, p) * phase));
    }
  }
  return polyAdd(...terms);
}

/** Π_l^m(Z) with r² kept, so that the product with A_m or B_m is homogeneous of degree l. */
function polar(l: number, m: number): Polynomial {
  const terms: Polynomial[] = [];
  for (let k = 0; k <= Math.floor((l - m) / 2); k++) {
    const c = (-1) ** k * 2 ** -l * binomial(l, k) * binomial(2 * l - 2 * k, l) *
      factorial(l - 2 * k) / factorial(l - 2 * k - m);
    terms.push(polyScale(polyMul(power(R2, k), power(Z, l - 2 * k - m)), c));
  }
  return polyAdd(...terms); // without its factor √((l−m)!/(l+m)!), applied with the others
}

const cache = new Map<string, Polynomial[]>();

/**
 * Y_l^m for m = −l … l as homogeneous polynomials of degree l in v = (x, y, z).
 *
 * @param l the degree (any non-negative integer; the models use l ≤ 4)
 * @param normalization `integral` (orthonormal on the sphere) or `norm` (Σ_m Y² = 1)
 * @returns 2l+1 polynomials, m = −l first
 * @example Type 1 is the vector itself (times √(3/4π))
 * ```ts
 * import { sphericalHarmonicPolynomials } from "./spherical_harmonics.ts";
 * const [p] = sphericalHarmonicPolynomials(1, "norm");
 * console.log(p); // [ { e: [ 1, 0, 0 ], c: 1 } ]
 * ```
 */
export function sphericalHarmonicPolynomials(
  l: number,
  normalization: Normalization = "integral",
): Polynomial[] {
  if (!Number.isInteger(l) || l < 0) throw new Error(`spherical harmonics: bad degree ${l}`);
  const key = `${l},${normalization}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const base2 = normalization === "integral" ? (2 * l + 1) / (4 * Math.PI) : 1;
  const out: Polynomial[] = [];
  for (let m = -l; m <= l; m++) {
    const a = Math.abs(m);
    const p = m === 0 ? polar(l, 0) : polyMul(polar(l, a), azimuthal(a, m > 0));
    // One square root of all factors: Y_1 comes out exactly (x, y, z) under `norm`.
    const scale2 = base2 * (m === 0 ? 1 : 2) * factorial(l - a) / factorial(l + a);
    out.push(polyScale(p, Math.sqrt(scale2)));
  }
  cache.set(key, out);
  return out;
}

/**
 * Y_l(v/|v|): the 2l+1 real spherical harmonics of a direction (v ≠ 0).
 *
 * @param l the degree
 * @param v a 3-vector (need not be unit)
 * @param normalization as for `sphericalHarmonicPolynomials`
 * @returns 2l+1 values, m = −l first
 */
export function sphericalHarmonics(
  l: number,
  v: ArrayLike<number>,
  normalization: Normalization = "integral",
): Float64Array {
  const r = Math.hypot(v[0], v[1], v[2]);
  const ps = sphericalHarmonicPolynomials(l, normalization);
  return Float64Array.from(ps, (p) => polyEval(p, v[0] / r, v[1] / r, v[2] / r));
}
