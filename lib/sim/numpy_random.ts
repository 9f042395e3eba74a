/**
 * NumPy's legacy random stream (`np.random.seed(s)`, then `random_sample` and `randn`) in
 * TypeScript: the Mersenne Twister MT19937 seeded by `init_genrand(s)`, doubles from two 32-bit
 * words (`(a >> 5)·2²⁶ + (b >> 6)) / 2⁵³`), and normals by the Marsaglia polar method with the
 * second value kept for the next call, as NumPy's `legacy_gauss`.
 *
 * Why: the reference generator (`generate_dataset.py`) draws its N-body data from this stream, so
 * with it our simulator makes the reference's own data sets without Python (see
 * `NBodyDatasetOptions.stream`). The doubles are bit-identical to NumPy's; a normal may differ in
 * its last bit where `Math.log` and the C library's `log` round differently.
 *
 * @module
 */

import type { RandomStream } from "../random.ts";

const N = 624, M = 397;
const UPPER = 0x80000000, LOWER = 0x7fffffff, MATRIX_A = 0x9908b0df;

/**
 * NumPy's `RandomState(seed)` stream: `uniform()` is `random_sample()`, `normal()` is `randn()`.
 *
 * @example The first draws of `np.random.seed(43)`
 * ```ts
 * import { NumpyRandom } from "./numpy_random.ts";
 * console.log(new NumpyRandom(43).uniform()); // 0.11505456638977896
 * console.log(new NumpyRandom(43).normal()); // 0.25739992534469336
 * ```
 */
export class NumpyRandom implements RandomStream {
  private readonly mt = new Uint32Array(N);
  private mti = N;
  private gauss: number | null = null;

  /**
   * Seeds as `np.random.seed(seed)` does for an integer seed (`init_genrand`).
   *
   * @param seed an integer in [0, 2³²)
   */
  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`NumpyRandom: seed ${seed}, expected an integer in [0, 2^32)`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 · prev + i, mod 2³², split to stay exact in doubles
      mt[i] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) +
        (prev & 0x0000ffff) * 1812433253 + i) >>> 0;
    }
  }

  /** The next 32 bits (`genrand_int32`). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.mti >= N) {
      let k = 0;
      for (; k < N - M; k++) {
        const y = (mt[k] & UPPER) | (mt[k + 1] & LOWER);
        mt[k] = mt[k + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; k < N - 1; k++) {
        const y = (mt[k] & UPPER) | (mt[k + 1] & LOWER);
        mt[k] = mt[k + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      const y = (mt[N - 1] & UPPER) | (mt[0] & LOWER);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.mti = 0;
    }
    let y = mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random_sample()`: uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5, b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `randn()`: a standard normal (polar method; every second value is the first's partner). */
  normal(): number {
    if (this.gauss !== null) {
      const g = this.gauss;
      this.gauss = null;
      return g;
    }
    let x1 = 0, x2 = 0, r2 = 0;
    do {
      x1 = 2 * this.uniform() - 1;
      x2 = 2 * this.uniform() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt(-2 * Math.log(r2) / r2);
    this.gauss = f * x1;
    return f * x2;
  }
}
