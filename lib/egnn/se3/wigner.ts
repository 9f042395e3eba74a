/**
 * Rotations, an exact quadrature on the sphere, and the real Wigner matrices D^l(R) of the
 * spherical harmonics of `spherical_harmonics.ts`, in float64.
 *
 * D^l(R) is defined by Y_l(R·v) = D^l(R)·Y_l(v) (so D(R₁R₂) = D(R₁)D(R₂), and D¹(R) = R in
 * this basis). It is computed by projection, D^l_{mm'}(R) = ∫ Y_l^m(R·u) Y_l^{m'}(u) dΩ(u), with
 * a product rule (Gauss–Legendre in cos θ × equal steps in φ) that integrates polynomials of
 * degree ≤ 2l exactly: the result is exact up to rounding, not a fit. That Y_l(R·v) = D·Y_l(v)
 * then holds at every v is the test that the harmonics span an invariant space.
 *
 * @module
 */

import {
  type Normalization,
  polyEval,
  sphericalHarmonicPolynomials,
} from "./spherical_harmonics.ts";

/** Points u_k on the unit sphere (k×3, row-major) and weights w_k with Σ_k w_k = 4π. */
export interface SphereQuadrature {
  /** Unit vectors, 3 numbers each. */
  points: Float64Array;
  /** One weight per point. */
  weights: Float64Array;
}

/** Nodes and weights of n-point Gauss–Legendre quadrature on [−1, 1] (Newton on P_n). */
export function gaussLegendre(n: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(n), weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = Math.cos(Math.PI * (i + 0.75) / (n + 0.5));
    let dp = 1;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1, p1 = x;
      for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k];
      dp = n * (x * p1 - p0) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    nodes[i] = x;
    weights[i] = 2 / ((1 - x * x) * dp * dp);
  }
  return { nodes, weights };
}

const quadratures = new Map<number, SphereQuadrature>();

/**
 * A quadrature that integrates every polynomial in (x, y, z) of total degree ≤ `degree` over
 * the unit sphere exactly (up to rounding).
 *
 * Why: a monomial x^a y^b z^c is sin^{a+b}θ cos^cθ times a trigonometric polynomial of degree
 * a+b in φ; equal steps in φ integrate it exactly when there are more than a+b of them, and the
 * φ-average vanishes unless a and b are even, leaving a polynomial of degree ≤ `degree` in
 * cos θ, which ⌈(degree+1)/2⌉ Gauss–Legendre nodes integrate exactly.
 *
 * @param degree the highest total degree to integrate exactly
 * @returns points and weights
 */
export function sphereQuadrature(degree: number): SphereQuadrature {
  const hit = quadratures.get(degree);
  if (hit) return hit;
  const gl = gaussLegendre(Math.ceil((degree + 1) / 2) + 1);
  const nPhi = degree + 2;
  const n = gl.nodes.length * nPhi;
  const points = new Float64Array(3 * n), weights = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < gl.nodes.length; i++) {
    const t = gl.nodes[i], s = Math.sqrt(1 - t * t);
    for (let j = 0; j < nPhi; j++, k++) {
      const phi = 2 * Math.PI * (j + 0.5) / nPhi;
      points.set([s * Math.cos(phi), s * Math.sin(phi), t], 3 * k);
      weights[k] = gl.weights[i] * 2 * Math.PI / nPhi;
    }
  }
  const q = { points, weights };
  quadratures.set(degree, q);
  return q;
}

/** `R·v` for a 3×3 row-major R. */
export function rotate(r: ArrayLike<number>, v: ArrayLike<number>): [number, number, number] {
  return [
    r[0] * v[0] + r[1] * v[1] + r[2] * v[2],
    r[3] * v[0] + r[4] * v[1] + r[5] * v[2],
    r[6] * v[0] + r[7] * v[1] + r[8] * v[2],
  ];
}

/** The rotation matrix (3×3 row-major) of a quaternion (w, x, y, z), normalised first. */
export function rotationFromQuaternion(w: number, x: number, y: number, z: number): Float64Array {
  const n = Math.hypot(w, x, y, z);
  [w, x, y, z] = [w / n, x / n, y / n, z / n];
  return Float64Array.of(
    1 - 2 * (y * y + z * z),
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    1 - 2 * (x * x + z * z),
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    1 - 2 * (x * x + y * y),
  );
}

/**
 * A uniformly distributed rotation (a Gaussian quaternion, normalised).
 *
 * @param normal a source of standard normal numbers
 */
export function randomRotation(normal: () => number): Float64Array {
  return rotationFromQuaternion(normal(), normal(), normal(), normal());
}

/**
 * The real Wigner matrix D^l(R), (2l+1)×(2l+1) row-major, with Y_l(R·v) = D^l(R)·Y_l(v).
 *
 * @param l the degree
 * @param r a rotation, 3×3 row-major
 * @returns D^l(R) (orthogonal; the same for either normalization of Y_l)
 * @example Type 1 is the rotation itself
 * ```ts
 * import { rotationFromQuaternion, wignerD } from "./wigner.ts";
 * const r = rotationFromQuaternion(1, 2, 3, 4);
 * const d = wignerD(1, r);
 * console.log(Math.abs(d[5] - r[5]) < 1e-12); // true
 * ```
 */
export function wignerD(l: number, r: ArrayLike<number>): Float64Array {
  const n = 2 * l + 1;
  const ys = sphericalHarmonicPolynomials(l, "integral" satisfies Normalization);
  const q = sphereQuadrature(2 * l);
  const d = new Float64Array(n * n);
  const y = new Float64Array(n), yr = new Float64Array(n);
  for (let k = 0; k < q.weights.length; k++) {
    const u = q.points.subarray(3 * k, 3 * k + 3);
    const ru = rotate(r, u);
    for (let m = 0; m < n; m++) {
      y[m] = polyEval(ys[m], u[0], u[1], u[2]);
      yr[m] = polyEval(ys[m], ru[0], ru[1], ru[2]);
    }
    const w = q.weights[k];
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) d[a * n + b] += w * yr[a] * y[b];
  }
  return d;
}
