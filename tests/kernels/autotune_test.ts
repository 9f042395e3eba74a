// The quick autotune (lib/gpu/autotune.ts) and its cache (lib/gpu/tuning_cache.ts): the cache's
// path, validation and round trip; a tuned profile in force unless the environment overrides it;
// and a small autotune on the adapter present, every candidate checked against float64 products,
// with the whole-layer EGCL forward timed against the per-op layer.
import assert from "node:assert/strict";
import { getGpu } from "../../lib/gpu/device.ts";
import {
  autotuneKernelProfile,
  formatAutotuneTable,
  tunedEntryOf,
  TUNING_CANDIDATES,
} from "../../lib/gpu/autotune.ts";
import { fromArray } from "../../lib/gpu/tensor.ts";
import { wholeLayerTrial } from "../../lib/egnn/egcl_trial.ts";
import {
  describeKernelProfile,
  forgetKernelProfile,
  KERNEL_PROFILES,
  type KernelProfile,
  kernelProfile,
  profileFor,
  resultAdapterLabel,
} from "../../lib/gpu/tuning.ts";
import {
  parseTuningCache,
  readTunedProfile,
  tuningCachePath,
  tuningKey,
  writeTunedEntry,
} from "../../lib/gpu/tuning_cache.ts";

const LAVAPIPE = { description: "llvmpipe (LLVM 15.0.6, 256 bits)", isFallbackAdapter: true };
const STORAGE8: KernelProfile = {
  name: "gpu",
  matmulUniform: false,
  matmulBlock: 8,
  wholeLayerForward: true,
  matmulSplitK: false,
  matmulWorkgroup: 8,
};
const entry = (profile: KernelProfile = STORAGE8) => ({
  profile,
  tunedAt: "2026-11-27T00:00:00Z",
  workload: "test",
  msPerRound: { a: 1 },
});

Deno.test("tuning cache: path from EGNN_TUNING_CACHE, XDG_CACHE_HOME or HOME; none turns it off", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.equal(tuningCachePath(env({ EGNN_TUNING_CACHE: "/x/p.json", HOME: "/h" })), "/x/p.json");
  assert.equal(tuningCachePath(env({ EGNN_TUNING_CACHE: "none", HOME: "/h" })), null);
  assert.equal(
    tuningCachePath(env({ XDG_CACHE_HOME: "/c", HOME: "/h" })),
    "/c/egnn-webgpu/kernel-profiles.json",
  );
  assert.equal(tuningCachePath(env({ HOME: "/h" })), "/h/.cache/egnn-webgpu/kernel-profiles.json");
  assert.equal(tuningCachePath(env({})), null);
});

Deno.test("tuning cache: bad files are rejected naming the file and the field", () => {
  assert.throws(() => parseTuningCache("{", "/c/k.json"), /\/c\/k\.json: not JSON/);
  assert.throws(
    () => parseTuningCache('{"version": 2, "entries": {}}', "k.json"),
    /k\.json: expected/,
  );
  const bad = (profile: unknown) =>
    JSON.stringify({ version: 1, entries: { "a | b": { profile } } });
  assert.throws(
    () => parseTuningCache(bad({ ...STORAGE8, matmulBlock: 12 }), "k.json"),
    /k\.json: entries\["a \| b"\]\.profile\.matmulBlock is 12, expected 4, 8 or 16/,
  );
  assert.throws(
    () => parseTuningCache(bad({ ...STORAGE8, matmulUniform: "yes" }), "k.json"),
    /profile\.matmulUniform is "yes", expected true or false/,
  );
  assert.throws(
    () => parseTuningCache(bad({ ...STORAGE8, name: "tpu" }), "k.json"),
    /profile\.name is "tpu", expected "cpu" or "gpu"/,
  );
  assert.throws(
    () => parseTuningCache(bad({ ...STORAGE8, wholeLayerForward: 1 }), "k.json"),
    /profile\.wholeLayerForward is 1, expected true or false/,
  );
  assert.throws(
    () => parseTuningCache(bad({ ...STORAGE8, matmulSplitK: "no" }), "k.json"),
    /profile\.matmulSplitK is "no", expected true or false/,
  );
  assert.throws(
    () => parseTuningCache(bad({ ...STORAGE8, matmulWorkgroup: 32 }), "k.json"),
    /profile\.matmulWorkgroup is 32, expected 8 or 64/,
  );
  assert.deepEqual(parseTuningCache(bad(STORAGE8), "k.json").entries["a | b"].profile, STORAGE8);
  // An entry from before the whole-layer kernel and split-K takes its kind's defaults.
  const { wholeLayerForward: _, matmulSplitK: __, matmulWorkgroup: ___, ...old } = {
    ...STORAGE8,
    name: "cpu" as const,
  };
  const parsed = parseTuningCache(bad(old), "k.json").entries["a | b"].profile;
  assert.equal(parsed.wholeLayerForward, KERNEL_PROFILES.cpu.wholeLayerForward);
  assert.equal(parsed.matmulSplitK, KERNEL_PROFILES.cpu.matmulSplitK);
  assert.equal(parsed.matmulWorkgroup, 8); // what it was tuned with
});

Deno.test("tuning cache: entries round-trip, other adapters' entries are kept, junk is replaced", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/sub/kernel-profiles.json`;
    assert.equal(readTunedProfile(path, "k1"), null); // no file yet
    assert.equal(await writeTunedEntry(path, "k1", entry()), null);
    assert.equal(await writeTunedEntry(path, "k2", entry(KERNEL_PROFILES.cpu)), null);
    assert.deepEqual(readTunedProfile(path, "k1"), STORAGE8);
    assert.deepEqual(readTunedProfile(path, "k2"), KERNEL_PROFILES.cpu);
    assert.equal(readTunedProfile(path, "k3"), null);
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name), [
      "kernel-profiles.json",
    ]); // no temporary left behind
    await Deno.writeTextFile(path, "not json");
    const why = await writeTunedEntry(path, "k1", entry());
    assert.match(why ?? "", /not JSON/);
    assert.deepEqual(readTunedProfile(path, "k1"), STORAGE8);
    assert.equal(readTunedProfile(path, "k2"), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tuning cache: the key names adapter, backend, Deno and the tuning version", () => {
  const info = {
    description: "NVIDIA H100",
    vendor: "nvidia",
    architecture: "",
    backendGuess: "vulkan",
  };
  assert.equal(
    tuningKey(info, "2.9.6"),
    "NVIDIA H100 | nvidia |  | vulkan | deno 2.9.6 | tuning 3",
  );
  assert.notEqual(tuningKey(info, "2.9.6"), tuningKey(info, "2.9.7"));
});

Deno.test("tuning: a tuned profile replaces the adapter rule; EGNN_KERNEL_PROFILE and the block override it", () => {
  assert.deepEqual(profileFor(LAVAPIPE, {}, STORAGE8), STORAGE8);
  assert.deepEqual(profileFor(LAVAPIPE, { profile: "cpu" }, STORAGE8), KERNEL_PROFILES.cpu);
  assert.deepEqual(profileFor(LAVAPIPE, { block: "16" }, STORAGE8), {
    ...STORAGE8,
    matmulBlock: 16,
  });
  assert.deepEqual(profileFor(LAVAPIPE, {}, null), KERNEL_PROFILES.cpu);
});

Deno.test("tuning: kernelProfile() reads this adapter's entry from EGNN_TUNING_CACHE", async () => {
  const { info } = await getGpu();
  const dir = await Deno.makeTempDir();
  const before = Deno.env.get("EGNN_TUNING_CACHE");
  try {
    const path = `${dir}/kernel-profiles.json`;
    await writeTunedEntry(path, tuningKey(info), entry());
    await writeTunedEntry(path, "another adapter", entry(KERNEL_PROFILES.gpu));
    Deno.env.set("EGNN_TUNING_CACHE", path);
    forgetKernelProfile();
    assert.deepEqual(kernelProfile(), STORAGE8);
    assert.match(
      describeKernelProfile(),
      /storage products, blocks 8×8, whole-layer EGCL forward \(tuned \(.*kernel-profiles\.json\)\)/,
    );
    Deno.env.set("EGNN_TUNING_CACHE", "none");
    forgetKernelProfile();
    assert.notDeepEqual(kernelProfile(), STORAGE8);
    assert.match(describeKernelProfile(), /adapter rule|EGNN_KERNEL_PROFILE/);
    if (describeKernelProfile().endsWith("(adapter rule)")) {
      assert.equal(resultAdapterLabel(info), `${info.description} (${info.backendGuess})`);
    }
  } finally {
    if (before === undefined) Deno.env.delete("EGNN_TUNING_CACHE");
    else Deno.env.set("EGNN_TUNING_CACHE", before);
    forgetKernelProfile();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("autotune: every candidate computes the products right; the fastest correct one wins", async () => {
  const lines: string[] = [];
  const r = await autotuneKernelProfile({
    shapes: [[45, 12, 20]],
    rounds: 3,
    calls: 2,
    onProgress: (l) => lines.push(l),
  });
  assert.equal(r.timings.length, TUNING_CANDIDATES.length);
  for (const t of r.timings) {
    assert.ok(t.correct && t.maxError < 1e-5, `${t.label}: error ${t.maxError}`);
    assert.ok(Number.isFinite(t.msPerRound) && t.msPerRound > 0, t.label);
  }
  const fastest = Math.min(...r.timings.map((t) => t.msPerRound));
  assert.equal(r.timings.find((t) => t.profile === r.best)?.msPerRound, fastest);
  assert.ok(lines.some((l) => l.includes("round 3/3")));
  // A tolerance nothing can meet leaves no correct candidate: an error, not a silent pick.
  await assert.rejects(
    autotuneKernelProfile({ shapes: [[8, 4, 4]], rounds: 1, calls: 1, tolerance: -1 }),
    /no candidate computed the products within -1/,
  );
});

Deno.test("autotune: the whole-layer EGCL forward is timed against the per-op layer, checked, and chosen only if faster", async () => {
  await getGpu();
  const trial = wholeLayerTrial(2, 3);
  try {
    const r = await autotuneKernelProfile({
      shapes: [[8, 4, 4]],
      rounds: 2,
      calls: 1,
      layerTrial: trial,
    });
    assert.ok(r.layer, "the layer was timed");
    assert.ok(r.layer.correct && r.layer.maxError < 1e-5, `whole-layer error ${r.layer.maxError}`);
    assert.ok(r.layer.perOpMs > 0 && r.layer.wholeMs > 0);
    assert.equal(r.best.wholeLayerForward, r.layer.wholeMs < r.layer.perOpMs);
    const table = formatAutotuneTable(r);
    assert.match(table, /per-op layers/);
    assert.match(table, /one whole-layer dispatch per layer/);
    assert.ok("EGCL forward, whole layer" in tunedEntryOf(r).msPerRound);
  } finally {
    trial.dispose();
  }
  // A whole-layer pass that disagrees with the per-op one is never chosen.
  const wrong = {
    label: "disagreeing",
    record: (whole: boolean) => [fromArray([whole ? 5 : 1], [1])],
  };
  const r = await autotuneKernelProfile({
    shapes: [[8, 4, 4]],
    rounds: 1,
    calls: 1,
    layerTrial: wrong,
  });
  assert.equal(r.layer?.correct, false);
  assert.equal(r.best.wholeLayerForward, false);
  assert.match(formatAutotuneTable(r), /WRONG/);
});
