/**
 * Kernel choices per kind of adapter. The same WGSL runs on a CPU adapter (Mesa's lavapipe or
 * llvmpipe, SwiftShader) and on a GPU, but what is fast differs by orders of magnitude:
 *
 * - On lavapipe a storage read whose address differs between invocations is emulated one
 *   invocation at a time, and a read from a *uniform* array is 12× cheaper, so `matmul` binds
 *   weights (and windows of A) as uniform arrays and gives each invocation a large block of C
 *   (see kernels/matmul.ts).
 * - On an NVIDIA H100 through Vulkan the same uniform-array kernels ran 30–80× *slower* than the
 *   storage kernel (dynamically indexed uniform arrays serialise in the constant cache): a
 *   2000×131×64 product took 13.2 ms with A and B uniform and 0.16 ms from storage
 *   (bench/README.md, "On a GPU"). A GPU also wants many small invocations rather than a few big
 *   ones: 4×4 blocks of C per invocation (at 16×16, dW = Xᵀ·dZ of 2000×64×64 ran 17× slower).
 *
 * `kernelProfile()` picks the profile from the adapter: the one measured fastest on it by
 * `deno run -A cli.ts tune` (autotune.ts) when the tuning cache has an entry for it
 * (tuning_cache.ts); else `cpu` for a fallback adapter or one whose name says it is a software
 * rasteriser, `gpu` otherwise. The environment variable `EGNN_KERNEL_PROFILE=cpu|gpu` overrides
 * both, `EGNN_MATMUL_BLOCK=4|8|16` the storage kernel's block, `EGNN_MATMUL_SPLITK=0|1` its
 * split-K and `EGNN_MATMUL_WORKGROUP=8|64` its workgroup size, where the process may read
 * them (`--allow-env`; without that permission nothing is asked and the adapter decides; the
 * cache is likewise read only where `--allow-read` covers it).
 *
 * @module
 */

import { type AdapterDescription, gpuSync } from "./device.ts";
import { readTunedProfile, tuningCachePath, tuningKey } from "./tuning_cache.ts";

/** The kernel choices for one kind of adapter. */
export interface KernelProfile {
  /** `cpu` (software adapter) or `gpu`. */
  readonly name: "cpu" | "gpu";
  /** Whether `matmul` may bind B (and windows of A) as uniform arrays. */
  readonly matmulUniform: boolean;
  /** Largest block (rows and columns of C, a multiple of 4) per invocation of the storage kernel. */
  readonly matmulBlock: number;
  /**
   * Whether an EGCL pass without gradients (evaluation, inference) runs as one whole-layer
   * dispatch per layer (kernels/egcl_layer.ts) instead of ~15 per-op dispatches.
   */
  readonly wholeLayerForward: boolean;
  /**
   * Whether the storage kernel splits a long contraction with few output blocks (dW = Xᵀ·dZ over
   * the edges) into slices computed side by side and summed in a second pass (kernels/matmul.ts
   * `splitFor`). On the H100 such products ran 0.15–0.7 ms each, latency-bound: 256 invocations
   * of a 64×64 dW, each 2,000 k's long.
   */
  readonly matmulSplitK: boolean;
  /**
   * Invocations per workgroup of the storage kernel: 8 (one SIMD group of a CPU adapter, so that
   * small grids still spread over its cores) or 64 (a GPU: a workgroup of 8 fills a quarter of an
   * NVIDIA warp, and an SM holds at most 32 workgroups, so 8 caps it at 256 of its 2,048 threads).
   */
  readonly matmulWorkgroup: 8 | 64;
}

/** The profiles by name. */
export const KERNEL_PROFILES: Readonly<Record<"cpu" | "gpu", KernelProfile>> = {
  cpu: {
    name: "cpu",
    matmulUniform: true,
    matmulBlock: 16,
    wholeLayerForward: false,
    matmulSplitK: false,
    matmulWorkgroup: 8,
  },
  gpu: {
    name: "gpu",
    matmulUniform: false,
    matmulBlock: 4,
    wholeLayerForward: true,
    matmulSplitK: true,
    matmulWorkgroup: 64,
  },
};

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|warp|basic render/i;

/**
 * The profile for an adapter, with optional overrides (the environment's, as strings).
 *
 * @param info the adapter (`getGpu().info`)
 * @param overrides `EGNN_KERNEL_PROFILE` and `EGNN_MATMUL_BLOCK` values, if set
 * @param tuned the profile measured on this adapter (tuning cache), used unless
 *   `EGNN_KERNEL_PROFILE` is set
 * @returns the profile
 * @example A software adapter gets the CPU profile; an override picks the other
 * ```ts
 * import { profileFor } from "./tuning.ts";
 * const lavapipe = { description: "llvmpipe (LLVM 15.0.6, 256 bits)", isFallbackAdapter: true };
 * console.log(profileFor(lavapipe).name); // cpu
 * console.log(profileFor(lavapipe, { profile: "gpu", block: "8" }).matmulBlock); // 8
 * ```
 */
export function profileFor(
  info: Pick<AdapterDescription, "description" | "isFallbackAdapter">,
  overrides: { profile?: string; block?: string; splitK?: string; workgroup?: string } = {},
  tuned: KernelProfile | null = null,
): KernelProfile {
  const software = info.isFallbackAdapter || SOFTWARE.test(info.description);
  let base = tuned ?? KERNEL_PROFILES[software ? "cpu" : "gpu"];
  if (overrides.profile !== undefined && overrides.profile !== "") {
    if (overrides.profile !== "cpu" && overrides.profile !== "gpu") {
      throw new Error(`EGNN_KERNEL_PROFILE: expected cpu or gpu, got ${overrides.profile}`);
    }
    base = KERNEL_PROFILES[overrides.profile];
  }
  if (overrides.splitK !== undefined && overrides.splitK !== "") {
    if (overrides.splitK !== "0" && overrides.splitK !== "1") {
      throw new Error(`EGNN_MATMUL_SPLITK: expected 0 or 1, got ${overrides.splitK}`);
    }
    base = { ...base, matmulSplitK: overrides.splitK === "1" };
  }
  if (overrides.workgroup !== undefined && overrides.workgroup !== "") {
    if (overrides.workgroup !== "8" && overrides.workgroup !== "64") {
      throw new Error(`EGNN_MATMUL_WORKGROUP: expected 8 or 64, got ${overrides.workgroup}`);
    }
    base = { ...base, matmulWorkgroup: overrides.workgroup === "64" ? 64 : 8 };
  }
  if (overrides.block === undefined || overrides.block === "") return base;
  const block = Number(overrides.block);
  if (!(block === 4 || block === 8 || block === 16)) {
    throw new Error(`EGNN_MATMUL_BLOCK: expected 4, 8 or 16, got ${overrides.block}`);
  }
  return { ...base, matmulBlock: block };
}

/** An environment variable's value where the process may read it without asking, else undefined. */
function envIfGranted(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Whether the process may read `path` without asking. */
function readGranted(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}

let cached: { device: GPUDevice; profile: KernelProfile; source: string } | null = null;
let forced: KernelProfile | null = null;

function decide(): { device: GPUDevice; profile: KernelProfile; source: string } {
  const gpu = gpuSync();
  if (cached?.device === gpu.device) return cached;
  const overrides = {
    profile: envIfGranted("EGNN_KERNEL_PROFILE"),
    block: envIfGranted("EGNN_MATMUL_BLOCK"),
    splitK: envIfGranted("EGNN_MATMUL_SPLITK"),
    workgroup: envIfGranted("EGNN_MATMUL_WORKGROUP"),
  };
  const path = tuningCachePath(envIfGranted);
  const tuned = path && readGranted(path) ? readTunedProfile(path, tuningKey(gpu.info)) : null;
  const set = (v: string | undefined) => v !== undefined && v !== "";
  const source = set(overrides.profile)
    ? "EGNN_KERNEL_PROFILE"
    : tuned
    ? `tuned (${path})`
    : "adapter rule";
  cached = {
    device: gpu.device,
    profile: profileFor(gpu.info, overrides, tuned),
    source: [
      source,
      ...(set(overrides.block) ? ["EGNN_MATMUL_BLOCK"] : []),
      ...(set(overrides.splitK) ? ["EGNN_MATMUL_SPLITK"] : []),
      ...(set(overrides.workgroup) ? ["EGNN_MATMUL_WORKGROUP"] : []),
    ].join(", "),
  };
  return cached;
}

/**
 * The kernel profile of the process's device (decided once per device).
 *
 * @returns the profile
 */
export function kernelProfile(): KernelProfile {
  return forced ?? decide().profile;
}

/**
 * Forgets the decided profile, so the next use decides again (after a tune, or a change of the
 * environment or of the tuning cache).
 */
export function forgetKernelProfile(): void {
  cached = null;
}

/**
 * The profile in force, in words, with where it came from (for run logs and bench tables).
 *
 * @returns e.g. `cpu: uniform products, storage blocks 16×16 (adapter rule)`
 */
export function describeKernelProfile(): string {
  return forced
    ? `${profileLabel(forced)} (forced)`
    : `${profileLabel(decide().profile)} (${decide().source})`;
}

/**
 * The adapter as result files record it: the driver's words and the backend, and the kernel
 * profile where it is not the adapter's rule (tuned, or set by the environment), since kernels of
 * different profiles round differently.
 *
 * @param info the adapter (`getGpu().info`)
 * @returns e.g. `llvmpipe (LLVM 15.0.6, 256 bits) (vulkan)`, or `NVIDIA H100 (vulkan); kernels
 *   gpu: storage products, blocks 8×8 (tuned (…))`
 */
export function resultAdapterLabel(
  info: Pick<AdapterDescription, "description" | "backendGuess">,
): string {
  const base = `${info.description} (${info.backendGuess})`;
  if (forced) return `${base}; kernels ${profileLabel(forced)} (forced)`;
  const d = decide();
  return d.source === "adapter rule"
    ? base
    : `${base}; kernels ${profileLabel(d.profile)} (${d.source})`;
}

/**
 * A profile in words.
 *
 * @param p the profile
 * @returns e.g. `gpu: storage products, blocks 4×4`
 * @example
 * ```ts
 * import { KERNEL_PROFILES, profileLabel } from "./tuning.ts";
 * console.log(profileLabel(KERNEL_PROFILES.cpu)); // cpu: uniform products, storage blocks 16×16
 * ```
 */
export function profileLabel(p: KernelProfile): string {
  const b = `${p.matmulBlock}×${p.matmulBlock}`;
  const whole = p.wholeLayerForward ? ", whole-layer EGCL forward" : "";
  const split = p.matmulSplitK ? ", split-K" : "";
  const wg = p.matmulWorkgroup !== 8 ? `, workgroups of ${p.matmulWorkgroup}` : "";
  return p.matmulUniform
    ? `${p.name}: uniform products, storage blocks ${b}${wg}${split}${whole}`
    : `${p.name}: storage products, blocks ${b}${wg}${split}${whole}`;
}

/**
 * Runs `fn` with another profile (tests: the GPU profile's kernels checked on a CPU adapter).
 *
 * @param profile the profile in force during `fn`
 * @param fn the work
 * @returns what `fn` returns
 */
export async function withKernelProfile<T>(
  profile: KernelProfile,
  fn: () => Promise<T>,
): Promise<T> {
  const before = forced;
  forced = profile;
  try {
    return await fn();
  } finally {
    forced = before;
  }
}
