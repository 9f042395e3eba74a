// The reductions that are not autograd ops — columnSum, rowSum, sumAll, squaredNormAll — with
// their alpha and accumulate options, against tests/reference/reduce.ts (forward only, rtol 1e-5
// floored at the RMS of the expected values). Each test reads all its outputs at once.
import assert from "node:assert/strict";
import {
  columnSum,
  empty,
  endStep,
  fromArray,
  getGpu,
  readMany,
  resetTape,
  rowSum,
  squaredNormAll,
  sumAll,
} from "../../mod.ts";
import * as ref from "../reference/reduce.ts";
import { assertClose } from "../reference/finite_difference.ts";
import { Random } from "../reference/random.ts";

/**
 * columnSum of random m×n matrices, overwriting and accumulating (with `alpha`) into a random
 * prior, against the float64 sums; all outputs read at once.
 */
async function checkColumnSums(sizes: number[][], alpha: number, seed: number): Promise<void> {
  await getGpu();
  const rng = new Random(seed);
  try {
    const cases = sizes.map(([m, n]) => {
      const x = rng.normals(m * n), prior = rng.normals(n);
      const plain = empty([n]), acc = fromArray(prior, [n]);
      const xt = fromArray(x, [m, n]);
      columnSum(xt, plain, m, n);
      columnSum(xt, acc, m, n, true, alpha);
      const sums = ref.columnSum(x, m, n);
      return {
        label: `${m}×${n}`,
        tensors: [plain, acc],
        expected: [sums, sums.map((v, j) => prior[j] + alpha * v)],
      };
    });
    const got = await readMany(cases.flatMap((c) => c.tensors));
    cases.forEach((c, i) => {
      assertClose(got[2 * i], c.expected[0], { rtol: 1e-5, label: `columnSum ${c.label}` });
      assertClose(got[2 * i + 1], c.expected[1], {
        rtol: 1e-5,
        label: `columnSum ${c.label}, accumulate, alpha ${alpha}`,
      });
    });
  } finally {
    resetTape();
    endStep();
  }
}

Deno.test("columnSum: overwrite, alpha and accumulate match the reference (67×3, 5×70)", () =>
  checkColumnSums([[67, 3], [5, 70]], -0.5, 61));

Deno.test("columnSum: long columns (≥ 256 rows: a product 1ᵀ·X on a CPU adapter) match, accumulate too", () =>
  checkColumnSums([[2000, 64], [257, 3], [1003, 70], [300, 1]], 1, 62));

Deno.test("rowSum: overwrite and accumulate match the reference (67×3, 3×131)", async () => {
  await getGpu();
  const rng = new Random(62);
  try {
    const cases = [[67, 3], [3, 131]].map(([m, n]) => {
      const x = rng.normals(m * n), prior = rng.normals(m);
      const plain = empty([m]), acc = fromArray(prior, [m]);
      const xt = fromArray(x, [m, n]);
      rowSum(xt, plain, m, n);
      rowSum(xt, acc, m, n, true);
      const sums = ref.rowSum(x, m, n);
      return { m, n, tensors: [plain, acc], expected: [sums, sums.map((v, r) => v + prior[r])] };
    });
    const got = await readMany(cases.flatMap((c) => c.tensors));
    cases.forEach((c, i) => {
      assertClose(got[2 * i], c.expected[0], { rtol: 1e-5, label: `rowSum ${c.m}×${c.n}` });
      assertClose(got[2 * i + 1], c.expected[1], {
        rtol: 1e-5,
        label: `rowSum ${c.m}×${c.n}, accumulate`,
      });
    });
  } finally {
    resetTape();
    endStep();
  }
});

Deno.test("sumAll: n = 1000, 63, 1 and 0, with alpha and accumulate, match the reference", async () => {
  await getGpu();
  const rng = new Random(63);
  try {
    const cases = [1000, 63, 1, 0].map((n) => {
      const x = rng.normals(n), prior = rng.normals(1)[0];
      const plain = empty([1]), acc = fromArray([prior], [1]);
      const xt = fromArray(x, [n]);
      sumAll(xt, plain);
      sumAll(xt, acc, true, 0.25);
      const s = ref.sumAll(x);
      return { n, tensors: [plain, acc], expected: [s, prior + 0.25 * s] };
    });
    const got = await readMany(cases.flatMap((c) => c.tensors));
    cases.forEach((c, i) => {
      // A single value: the floor is max(|expected|, scale of the summed terms).
      const floor = Math.max(1, Math.sqrt(c.n));
      assertClose(got[2 * i], [c.expected[0]], { rtol: 1e-5, floor, label: `sumAll n=${c.n}` });
      assertClose(got[2 * i + 1], [c.expected[1]], {
        rtol: 1e-5,
        floor,
        label: `sumAll n=${c.n}, accumulate, alpha 0.25`,
      });
    });
  } finally {
    resetTape();
    endStep();
  }
});

Deno.test("squaredNormAll: n = 1000, 4 and 0 match the reference Σ x²", async () => {
  await getGpu();
  const rng = new Random(64);
  try {
    const cases = [1000, 4, 0].map((n) => {
      const x = rng.normals(n), out = fromArray([123], [1]); // overwritten, not accumulated
      squaredNormAll(fromArray(x, [n]), out);
      return { n, out, expected: ref.sumAll(x.map((v) => v * v)) };
    });
    const got = await readMany(cases.map((c) => c.out));
    cases.forEach((c, i) => {
      assertClose(got[i], [c.expected], { rtol: 1e-5, floor: Math.max(1, c.n), label: `n=${c.n}` });
    });
    assert.throws(
      () => squaredNormAll(fromArray([1, 2, 3], [3]), empty([1])),
      /not a multiple of 4/,
    );
  } finally {
    resetTape();
    endStep();
  }
});
