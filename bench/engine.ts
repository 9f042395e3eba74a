/**
 * Engine benchmark: the matrix products behind `linear` (forward x·W+b→SiLU, dX = dZ·Wᵀ,
 * dW = Xᵀ·dZ) at the sizes the models use, the cost of one dispatch and of one GPU→CPU read.
 * Prints a table and writes `results/bench_engine.json`. Each product's row names the kernel
 * `matmul` picks; where that reads B (and A) from uniform arrays, a second row times the same
 * product on the storage kernel (`uniform: false`), in the same run.
 *
 * Method. Products: after a warm-up call (pipeline compiled, buffers allocated) a batch of R
 * calls is recorded and submitted at once, followed by one read of a 4-value tensor; the time of
 * the batch (submission to the read's return) divided by R is one sample, and the table gives
 * the median of the samples. Nothing is subtracted: each sample carries 1/R of a read's cost, so
 * R (at least 10⁹ flops' worth of calls) is raised after a first, uncounted batch until a batch
 * lasts ~0.3 s (the read costs ~11 ms, under 4 % of it). Dispatch: a batch of 200 tiny
 * element-wise dispatches in one submission, minus an empty submission with the same read,
 * divided by 200 (the JSON also keeps it without the subtraction). Read: `read()` of a
 * 16-value tensor with nothing pending.
 *
 * Usage: `deno task bench` (about 1.5 minutes on a 2-core CPU adapter, plus 2–7 s of pipeline
 * compilation per product and kernel on the first run), `--quick` for fewer repeats.
 *
 * @module
 */

import { getGpu } from "../lib/gpu/device.ts";
import { empty, endStep, fromArray, read, type Tensor } from "../lib/gpu/tensor.ts";
import { submit } from "../lib/gpu/commands.ts";
import { matmul, matmulKernel, type MatmulOptions } from "../lib/gpu/kernels/matmul.ts";
import { mapInto } from "../lib/gpu/kernels/elementwise.ts";

const quick = Deno.args.includes("--quick");
const SHAPES: [number, number, number][] = [ // M × K × N
  [2000, 131, 64],
  [2000, 64, 64],
  [500, 128, 64],
  [1024, 1024, 1024],
];
const PRODUCTS = ["forward x·W+b→SiLU", "dX = dZ·Wᵀ", "dW = Xᵀ·dZ"] as const;

interface ProductResult {
  m: number;
  k: number;
  n: number;
  product: string;
  kernel: string;
  medianMs: number;
  gflops: number;
  repeats: number;
  callsPerRepeat: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function randomTensor(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return fromArray(data, shape).keep();
}

/**
 * Median ms per call: batches of R calls, one submission and one read each. R is at least
 * `calls`, raised after a first (uncounted) batch so that a batch lasts `batchMs` or more.
 */
async function timeBatches(
  record: () => void,
  probe: Tensor,
  calls: number,
  repeats: number,
  batchMs: number,
): Promise<{ ms: number; calls: number }> {
  record();
  await read(probe); // warm-up: compiles the pipeline and allocates
  const batch = async (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) record();
    await submit();
    await read(probe);
    return (performance.now() - t0) / n;
  };
  calls = Math.max(calls, Math.round(batchMs / await batch(calls)));
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) samples.push(await batch(calls));
  return { ms: median(samples), calls };
}

async function benchProducts(): Promise<ProductResult[]> {
  const results: ProductResult[] = [];
  for (const [m, k, n] of SHAPES) {
    const flops = 2 * m * n * k;
    const x = randomTensor([m, k], 1), w = randomTensor([k, n], 2), b = randomTensor([n], 3);
    const dz = randomTensor([m, n], 4);
    const y = empty([m, n]).keep(), dx = empty([m, k]).keep(), dw = empty([k, n]).keep();
    const probe = randomTensor([4], 5);
    const products: [Tensor, Tensor, Tensor, MatmulOptions][] = [
      [x, w, y, { m, n, k, bias: b, activation: "silu" }],
      [dz, w, dx, { m, n: k, k: n, transB: true }],
      [x, dz, dw, { m: k, n, k: m, transA: true, fixedK: false }],
    ];
    const big = flops > 1e9;
    const repeats = big ? (quick ? 1 : 3) : (quick ? 3 : 7);
    const calls = Math.max(1, Math.round((quick ? 1e8 : 1e9) / flops));
    const batchMs = quick ? 100 : 300;
    for (let p = 0; p < PRODUCTS.length; p++) {
      const [pa, pb, pc, o] = products[p];
      const kernel = matmulKernel(pa, pb, o);
      const storage = matmulKernel(pa, pb, { ...o, uniform: false });
      for (const options of kernel === storage ? [o] : [o, { ...o, uniform: false }]) {
        const record = () => matmul(pa, pb, pc, options);
        const { ms, calls: used } = await timeBatches(record, probe, calls, repeats, batchMs);
        const r: ProductResult = {
          m,
          k,
          n,
          product: PRODUCTS[p],
          kernel: matmulKernel(pa, pb, options),
          medianMs: ms,
          gflops: flops / ms / 1e6,
          repeats,
          callsPerRepeat: used,
        };
        results.push(r);
        console.log(
          `${`${m}×${k}×${n}`.padEnd(16)} ${r.product.padEnd(20)} ${ms.toFixed(3).padStart(10)}` +
            ` ${r.gflops.toFixed(2).padStart(8)}  ${r.kernel}`,
        );
      }
    }
    for (const t of [x, w, b, dz, y, dx, dw, probe]) t.dispose();
    endStep();
  }
  return results;
}

/**
 * µs per tiny dispatch, from batches of 200 in one submission (medians): `net` subtracts an
 * empty submission with the same closing read, `gross` keeps it (1/200 of a read each).
 */
async function benchDispatch(): Promise<{ net: number; gross: number }> {
  const src = randomTensor([64], 6), dst = empty([64]).keep(), probe = randomTensor([4], 7);
  const batch = 200;
  const tiny = () => mapInto("params.alpha * av", dst, src, src, src, { alpha: 2 });
  tiny();
  await read(probe);
  const net: number[] = [], gross: number[] = [];
  for (let r = 0; r < (quick ? 5 : 15); r++) {
    let t0 = performance.now();
    await submit();
    await read(probe);
    const idle = performance.now() - t0;
    t0 = performance.now();
    for (let i = 0; i < batch; i++) tiny();
    await submit();
    await read(probe);
    const t = performance.now() - t0;
    net.push((t - idle) * 1000 / batch);
    gross.push(t * 1000 / batch);
  }
  for (const t of [src, dst, probe]) t.dispose();
  return { net: median(net), gross: median(gross) };
}

/** Median ms of `read()` of a 16-value tensor with nothing pending. */
async function benchRead(): Promise<number> {
  const t = randomTensor([16], 8);
  await read(t);
  const samples: number[] = [];
  for (let r = 0; r < (quick ? 7 : 21); r++) {
    const t0 = performance.now();
    await read(t);
    samples.push(performance.now() - t0);
  }
  t.dispose();
  return median(samples);
}

const gpu = await getGpu();
const loadBefore = Deno.loadavg();
console.log(`adapter: ${gpu.info.description} (${gpu.info.backendGuess})`);
console.log(`load average (1, 5, 15 min): ${loadBefore.map((v) => v.toFixed(2)).join(", ")}`);
console.log(
  `${"M×K×N".padEnd(16)} ${"product".padEnd(20)} ${"median ms".padStart(10)}  GFLOP/s  kernel`,
);
const products = await benchProducts();
const dispatch = await benchDispatch();
const readMs = await benchRead();
const loadAfter = Deno.loadavg();
console.log(
  `one dispatch (batch of 200, one submission): ${dispatch.net.toFixed(1)} µs ` +
    `(${dispatch.gross.toFixed(1)} µs with the batch's closing read shared out)`,
);
console.log(`one read() of 16 values: ${readMs.toFixed(2)} ms`);
console.log(`load average after: ${loadAfter.map((v) => v.toFixed(2)).join(", ")}`);

const report = {
  date: new Date().toISOString(),
  adapter: gpu.info,
  quick,
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadAfter,
  method: "median over repeats of (batch of R calls in one submission + one read) / R",
  products,
  dispatchMicroseconds: dispatch.net,
  dispatchMicrosecondsWithReadShare: dispatch.gross,
  readMilliseconds: readMs,
};
await Deno.mkdir("results", { recursive: true });
const tmp = "results/bench_engine.json.tmp";
await Deno.writeTextFile(tmp, JSON.stringify(report, null, 2) + "\n");
await Deno.rename(tmp, "results/bench_engine.json");
console.log("wrote results/bench_engine.json");
