/**
 * A small seeded PRNG for test data: mulberry32 for uniforms, Box–Muller for normals.
 *
 * Every array it returns holds float32-representable values (each rounded with `Math.fround`),
 * so the float64 reference and the f32 GPU kernels see exactly the same inputs.
 *
 * @module
 */

/** Rounds every value to the nearest float32, kept in a Float64Array. */
export function toF32(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values, (v) => Math.fround(v));
}

/** A seeded source of test data. */
export class Random {
  private state: number;
  private spare: number | null = null;

  /** @param seed any integer; equal seeds give equal streams */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform value in [0, 1) (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A standard normal value (Box–Muller, both values of a pair used). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = 1 - this.next(); // (0, 1]: log stays finite
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** An integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }

  /** `n` normal values times `std`, rounded to float32. */
  normals(n: number, std = 1): Float64Array {
    return toF32(Array.from({ length: n }, () => std * this.normal()));
  }

  /** `n` uniform values in [lo, hi), rounded to float32. */
  uniforms(n: number, lo: number, hi: number): Float64Array {
    return toF32(Array.from({ length: n }, () => lo + (hi - lo) * this.next()));
  }

  /** `n` integers in [lo, hi). */
  ints(n: number, lo: number, hi: number): number[] {
    return Array.from({ length: n }, () => this.int(lo, hi));
  }

  /** `k` distinct integers from [0, n), in random order (k ≤ n). */
  sample(n: number, k: number): number[] {
    const all = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < Math.min(k, n); i++) {
      const j = this.int(i, n);
      [all[i], all[j]] = [all[j], all[i]];
    }
    return all.slice(0, Math.min(k, n));
  }
}
