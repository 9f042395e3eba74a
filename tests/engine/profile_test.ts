// The per-kernel profiler (commands.ts setProfiling): with GPU timestamps every dispatch is timed
// on its own, with results unchanged; copies and clears are counted.
import assert from "node:assert/strict";
import { endStep, fromArray, getGpu, linear, read, resetTape } from "../../mod.ts";
import { profileReport, setProfiling, submit } from "../../lib/gpu/commands.ts";

Deno.test("profiler: per-kernel counts and GPU times, results as without it", async () => {
  const gpu = await getGpu();
  const x = fromArray(Float32Array.from({ length: 40 * 8 }, (_, i) => (i % 7) - 3), [40, 8]);
  const w = fromArray(Float32Array.from({ length: 8 * 12 }, (_, i) => (i % 5) * 0.1), [8, 12]);
  const plain = await read(linear(x, w, null, "silu"));
  setProfiling(true);
  try {
    const profiled = await read(linear(x, w, null, "silu"));
    await submit();
    assert.deepEqual(profiled, plain, "the same values with the profiler on");
    const report = profileReport();
    const products = report.filter((r) => r.kernel.startsWith("matmul"));
    assert.equal(products.reduce((a, r) => a + r.count, 0), 1, "one product");
    for (const r of report) assert.ok(r.ms >= 0 && Number.isFinite(r.ms), r.kernel);
    if (gpu.device.features.has("timestamp-query")) {
      assert.ok(products[0].ms > 0 && products[0].ms < 1000, `${products[0].ms} ms`);
    }
  } finally {
    setProfiling(false);
    resetTape();
    endStep();
  }
});
