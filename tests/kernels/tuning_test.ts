// The kernel profile per adapter (lib/gpu/tuning.ts): software adapters get the CPU profile
// (uniform arrays, big blocks), GPUs the storage-only one; overrides are checked.
import assert from "node:assert/strict";
import { KERNEL_PROFILES, profileFor } from "../../lib/gpu/tuning.ts";

const NVIDIA = { description: "NVIDIA H100 80GB HBM3", isFallbackAdapter: false };
const LAVAPIPE_CPU = { description: "llvmpipe (LLVM 15.0.6, 256 bits)", isFallbackAdapter: true };

Deno.test("tuning: software adapters take the CPU profile, GPUs the GPU profile", () => {
  for (
    const description of [
      "llvmpipe (LLVM 15.0.6, 256 bits)",
      "lavapipe",
      "SwiftShader Device (Subzero)",
      "Microsoft Basic Render Driver",
    ]
  ) {
    assert.equal(profileFor({ description, isFallbackAdapter: false }).name, "cpu", description);
  }
  assert.equal(profileFor({ description: "some adapter", isFallbackAdapter: true }).name, "cpu");
  for (const description of [NVIDIA.description, "AMD Radeon RX 7900 XTX", "Apple M2"]) {
    const p = profileFor({ description, isFallbackAdapter: false });
    assert.equal(p.name, "gpu", description);
    assert.equal(p.matmulUniform, false);
  }
  assert.equal(KERNEL_PROFILES.cpu.matmulUniform, true);
});

Deno.test("tuning: overrides pick the other profile or the block, and bad values are named", () => {
  assert.equal(profileFor(NVIDIA, { profile: "cpu" }).name, "cpu");
  assert.deepEqual(profileFor(NVIDIA, { block: "16" }), {
    ...KERNEL_PROFILES.gpu,
    matmulBlock: 16,
  });
  assert.equal(profileFor(NVIDIA, { profile: "", block: "" }), KERNEL_PROFILES.gpu);
  assert.throws(
    () => profileFor(NVIDIA, { profile: "tpu" }),
    /EGNN_KERNEL_PROFILE: expected cpu or gpu, got tpu/,
  );
  assert.throws(
    () => profileFor(NVIDIA, { block: "6" }),
    /EGNN_MATMUL_BLOCK: expected 4, 8 or 16, got 6/,
  );
  assert.equal(profileFor(NVIDIA, { splitK: "0" }).matmulSplitK, false);
  assert.equal(profileFor(LAVAPIPE_CPU, { splitK: "1" }).matmulSplitK, true);
  assert.throws(
    () => profileFor(NVIDIA, { splitK: "yes" }),
    /EGNN_MATMUL_SPLITK: expected 0 or 1, got yes/,
  );
  assert.equal(profileFor(NVIDIA).matmulWorkgroup, 64);
  assert.equal(profileFor(NVIDIA, { workgroup: "8" }).matmulWorkgroup, 8);
  assert.equal(profileFor(LAVAPIPE_CPU).matmulWorkgroup, 8);
  assert.throws(
    () => profileFor(NVIDIA, { workgroup: "32" }),
    /EGNN_MATMUL_WORKGROUP: expected 8 or 64, got 32/,
  );
});
