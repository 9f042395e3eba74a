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
 * `kernelProfile()` picks the profile from the adapter: `cpu` for a fallback adapter or one
 * whose name says it is a software rasteriser, `gpu` otherwise. The environment variable
 * `EGNN_KERNEL_PROFILE=cpu|gpu` overrides it, and `EGNN_MATMUL_BLOCK=4|8|16` the storage
 * kernel's block, where the process may read them (`--allow-env`; without that permission
 * nothing is asked and the adapter decides).
 *
 * @module
 */

import { type AdapterDescription, gpuSync } from "./device.ts";

/** The kernel choices for one kind of adapter. */
export interface KernelProfile {
  /** `cpu` (software adapter) or `gpu`. */
  readonly name: "cpu" | "gpu";
  /** Whether `matmul` may bind B (and windows of A) as uniform arrays. */
  readonly matmulUniform: boolean;
  /** Largest block (rows and columns of C, a multiple of 4) per invocation of the storage kernel. */
  readonly matmulBlock: number;
}

/** The profiles by name. */
export const KERNEL_PROFILES: Readonly<Record<"cpu" | "gpu", KernelProfile>> = {
  cpu: { name: "cpu", matmulUniform: true, matmulBlock: 16 },
  gpu: { name: "gpu", matmulUniform: false, matmulBlock: 4 },
};

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|warp|basic render/i;

/**
 * The profile for an adapter, with optional overrides (the environment's, as strings).
 *
 * @param info the adapter (`getGpu().info`)
 * @param overrides `EGNN_KERNEL_PROFILE` and `EGNN_MATMUL_BLOCK` values, if set
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
  overrides: { profile?: string; block?: string } = {},
): KernelProfile {
  const software = info.isFallbackAdapter || SOFTWARE.test(info.description);
  let name: "cpu" | "gpu" = software ? "cpu" : "gpu";
  if (overrides.profile !== undefined && overrides.profile !== "") {
    if (overrides.profile !== "cpu" && overrides.profile !== "gpu") {
      throw new Error(`EGNN_KERNEL_PROFILE: expected cpu or gpu, got ${overrides.profile}`);
    }
    name = overrides.profile;
  }
  const base = KERNEL_PROFILES[name];
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

let cached: { device: GPUDevice; profile: KernelProfile } | null = null;
let forced: KernelProfile | null = null;

/**
 * The kernel profile of the process's device (decided once per device).
 *
 * @returns the profile
 */
export function kernelProfile(): KernelProfile {
  if (forced) return forced;
  const gpu = gpuSync();
  if (cached?.device !== gpu.device) {
    cached = {
      device: gpu.device,
      profile: profileFor(gpu.info, {
        profile: envIfGranted("EGNN_KERNEL_PROFILE"),
        block: envIfGranted("EGNN_MATMUL_BLOCK"),
      }),
    };
  }
  return cached.profile;
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
