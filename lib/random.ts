/**
 * A seeded pseudo-random generator of our own (xoshiro128**, seeded by splitmix32), with uniform
 * and normal draws and a state that can be saved and restored for resumable runs.
 *
 * The stream differs from NumPy's and PyTorch's: the same seed gives the same numbers here on
 * every platform, not the same numbers as the reference code.
 *
 * @module
 */

/** What a simulator draws from: uniforms in [0, 1) and standard normals. */
export interface RandomStream {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
}

/**
 * Seeded generator.
 *
 * @example Two generators with one seed agree
 * ```ts
 * import { Random } from "./random.ts";
 * const a = new Random(42), b = new Random(42);
 * console.log(a.uniform() === b.uniform()); // true
 * ```
 */
export class Random implements RandomStream {
  private s = new Uint32Array(4);
  private spareNormal: number | null = null;

  /** Seeds the four state words by splitmix32 from `seed` (taken as a u32). */
  constructor(readonly seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** The next 32 random bits. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5, lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniformIn(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Shuffles an array in place (Fisher–Yates). */
  shuffle<T>(a: T[] | Uint32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t as never;
    }
  }

  /** The generator's state, for checkpoints. */
  getState(): number[] {
    return [...this.s, this.spareNormal ?? NaN];
  }

  /** Restores a state from `getState()`. */
  setState(state: number[]): void {
    if (state.length !== 5) throw new Error("Random.setState: expected 5 numbers");
    this.s.set(state.slice(0, 4));
    this.spareNormal = Number.isNaN(state[4]) ? null : state[4];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
