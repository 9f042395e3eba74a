/**
 * Float64 reference of `linear` (`y = act(x·W + b)`, W stored in×out) and its backward, and of
 * the activations it fuses. Pairs: forward next to backward, as in llm.c's `train_gpt2.c`.
 *
 * @module
 */

/** Activations fused into `linear` and available as an op of their own. */
export type Activation = "none" | "silu" | "relu" | "tanh" | "sigmoid";

/** Logistic function. */
export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** The activation at z. */
export function activate(act: Activation, z: number): number {
  switch (act) {
    case "none":
      return z;
    case "silu":
      return z * sigmoid(z);
    case "relu":
      return Math.max(z, 0);
    case "tanh":
      return Math.tanh(z);
    case "sigmoid":
      return sigmoid(z);
  }
}

/** The activation's derivative at z (ReLU's is taken as 0 at 0, as PyTorch does). */
export function activationDerivative(act: Activation, z: number): number {
  switch (act) {
    case "none":
      return 1;
    case "silu": {
      const s = sigmoid(z);
      return s * (1 + z * (1 - s));
    }
    case "relu":
      return z > 0 ? 1 : 0;
    case "tanh": {
      const t = Math.tanh(z);
      return 1 - t * t;
    }
    case "sigmoid": {
      const s = sigmoid(z);
      return s * (1 - s);
    }
  }
}

/** Sizes of a product: C (M×N) = op(A) (M×K) · op(B) (K×N). */
export interface MatmulSizes {
  m: number;
  k: number;
  n: number;
  /** A is stored K×M. */
  transA?: boolean;
  /** B is stored N×K. */
  transB?: boolean;
}

/** `C = op(A)·op(B)`, row-major M×N. */
export function matmulForward(a: Float64Array, b: Float64Array, s: MatmulSizes): Float64Array {
  const { m, k, n } = s;
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) {
        const av = s.transA ? a[p * m + i] : a[i * k + p];
        const bv = s.transB ? b[j * k + p] : b[p * n + j];
        acc += av * bv;
      }
      c[i * n + j] = acc;
    }
  }
  return c;
}

/** Sizes of a linear layer: x is M×K, W is K×N, y is M×N. */
export interface LinearSizes {
  m: number;
  k: number;
  n: number;
}

/**
 * `y = act(x·W + b)`.
 *
 * @returns y and the pre-activation z
 */
export function linearForward(
  x: Float64Array,
  w: Float64Array,
  bias: Float64Array | null,
  s: LinearSizes,
  act: Activation,
): { y: Float64Array; z: Float64Array } {
  const z = matmulForward(x, w, s);
  if (bias) { for (let i = 0; i < z.length; i++) z[i] += bias[i % s.n]; }
  return { y: z.map((v) => activate(act, v)), z };
}

/**
 * `dZ = dY ⊙ act'(z)`, `dX = dZ·Wᵀ`, `dW = Xᵀ·dZ`, `db = Σ_rows dZ`.
 *
 * @param z the pre-activation from `linearForward`
 * @param dy d(objective)/dy
 */
export function linearBackward(
  x: Float64Array,
  w: Float64Array,
  z: Float64Array,
  dy: Float64Array,
  s: LinearSizes,
  act: Activation,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const { m, k, n } = s;
  const dz = dy.map((d, i) => d * activationDerivative(act, z[i]));
  const dx = matmulForward(dz, w, { m, k: n, n: k, transB: true });
  const dw = matmulForward(x, dz, { m: k, k: m, n, transA: true });
  const db = new Float64Array(n);
  for (let i = 0; i < m * n; i++) db[i % n] += dz[i];
  return { dx, dw, db };
}
