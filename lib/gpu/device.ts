/**
 * One WebGPU device per process, acquired lazily, with the adapter described for result files.
 *
 * `requestAdapter()` answers `null` without a word when no backend works; here that becomes an
 * error that says which backend was tried and what to install. Device loss is reported at once
 * on stderr and turned into an error on the next use, never swallowed.
 *
 * @module
 */

/** What a result file records about the adapter that produced it. */
export interface AdapterDescription {
  /** The driver's own words, e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`. */
  description: string;
  /** The adapter's vendor as the driver reports it (may be empty). */
  vendor: string;
  /** The adapter's architecture as the driver reports it (may be empty). */
  architecture: string;
  /** `DENO_WEBGPU_BACKEND` as set, or `default` when unset. */
  backendRequested: string;
  /** A guess at the backend from features and limits (`vulkan`, `gl`, `metal`, `dx12`, `unknown`). */
  backendGuess: string;
  /** True for software adapters (Mesa's lavapipe/llvmpipe, WARP, SwiftShader). */
  isFallbackAdapter: boolean;
  /** The device's largest storage buffer binding, in bytes. */
  maxStorageBufferBindingSize: number;
  /** The device's limit of storage buffers per shader stage. */
  maxStorageBuffersPerShaderStage: number;
}

/**
 * The device limits that recording a dispatch checks, copied once: `device.limits` is a native
 * getter (~0.2 µs a read in Deno 2.9), and a training step records hundreds of dispatches.
 */
export interface DeviceLimits {
  /** Largest uniform binding, in bytes. */
  maxUniformBufferBindingSize: number;
  /** Alignment of a uniform binding's offset, in bytes. */
  minUniformBufferOffsetAlignment: number;
  /** Uniform buffers one shader stage may bind. */
  maxUniformBuffersPerShaderStage: number;
  /** Workgroups along one dimension of a dispatch. */
  maxComputeWorkgroupsPerDimension: number;
}

/** The device and what was learnt about its adapter. */
export interface Gpu {
  /** The device every kernel runs on. */
  device: GPUDevice;
  /** The adapter the device was requested from. */
  adapter: GPUAdapter;
  /** What a result file records about the adapter. */
  info: AdapterDescription;
  /** The device's limits that dispatches are checked against. */
  limits: DeviceLimits;
}

let acquiring: Promise<Gpu> | null = null;
let current: Gpu | null = null;
let lostMessage: string | null = null;
let uncaptured: string | null = null;

function backendRequested(): string {
  try {
    return Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default";
  } catch {
    return "default (env not readable)";
  }
}

function guessBackend(adapter: GPUAdapter, requested: string): string {
  if (requested !== "default" && !requested.startsWith("default")) return requested;
  const f = adapter.features;
  // Vulkan exposes shader-f16 and subgroups on most drivers; GL exposes neither.
  if (f.has("shader-f16") || f.has("subgroups")) {
    return Deno.build.os === "darwin" ? "metal" : Deno.build.os === "windows" ? "dx12" : "vulkan";
  }
  if (adapter.limits.maxStorageBuffersPerShaderStage <= 8) return "gl";
  return "unknown";
}

function installHint(): string {
  if (Deno.build.os === "linux") {
    return "On a CPU-only Linux install Mesa's Vulkan adapter: " +
      "`apt-get install -y --no-install-recommends mesa-vulkan-drivers libvulkan1` and set " +
      "DENO_WEBGPU_BACKEND=vulkan (or `libegl-mesa0 libgl1-mesa-dri` with DENO_WEBGPU_BACKEND=gl).";
  }
  return "Install a GPU driver with Vulkan, Metal or DirectX 12 support.";
}

async function acquire(): Promise<Gpu> {
  const requested = backendRequested();
  if (!("gpu" in navigator) || !navigator.gpu) {
    throw new Error(
      `WebGPU is not available in this runtime (navigator.gpu is missing). Run under Deno 2 or newer.`,
    );
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new Error(
      `No WebGPU adapter found (DENO_WEBGPU_BACKEND=${requested}). ${installHint()}`,
    );
  }
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    // Timestamps serve the per-kernel profiler (commands.ts `setProfiling`) where the adapter has
    // them (lavapipe and NVIDIA's Vulkan driver do).
    requiredFeatures: adapter.features.has("timestamp-query") ? ["timestamp-query"] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
    },
  });
  const ai = adapter.info;
  const info: AdapterDescription = {
    description: ai.description || ai.device || "unknown adapter",
    vendor: ai.vendor,
    architecture: ai.architecture,
    backendRequested: requested,
    backendGuess: guessBackend(adapter, requested),
    isFallbackAdapter: (ai as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
  };
  device.lost.then((lost) => {
    if (current?.device !== device) return;
    lostMessage = `WebGPU device lost (${lost.reason}): ${lost.message}`;
    console.error(lostMessage);
    current = null;
    acquiring = null;
  });
  device.addEventListener("uncapturederror", (event) => {
    uncaptured = (event as GPUUncapturedErrorEvent).error.message;
  });
  const l = device.limits;
  const deviceLimits: DeviceLimits = {
    maxUniformBufferBindingSize: l.maxUniformBufferBindingSize,
    minUniformBufferOffsetAlignment: l.minUniformBufferOffsetAlignment,
    maxUniformBuffersPerShaderStage: l.maxUniformBuffersPerShaderStage,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  };
  current = { device, adapter, info, limits: deviceLimits };
  return current;
}

/**
 * The process's WebGPU device, acquired on first call.
 *
 * @returns the device, its adapter and the adapter's description
 * @example Acquire the device and name the adapter
 * ```ts
 * import { getGpu } from "./device.ts";
 * const gpu = await getGpu();
 * console.log(gpu.info.description);
 * ```
 */
export function getGpu(): Promise<Gpu> {
  if (lostMessage) throw new Error(`${lostMessage}; restart the process to get a new device.`);
  if (current) return Promise.resolve(current);
  if (!acquiring) {
    acquiring = acquire().catch((e) => {
      acquiring = null;
      throw e;
    });
  }
  return acquiring;
}

/** The device if already acquired, else an error that says to `await getGpu()` first. */
export function gpuSync(): Gpu {
  if (lostMessage) throw new Error(`${lostMessage}; restart the process to get a new device.`);
  if (!current) throw new Error("The GPU is not acquired yet: `await getGpu()` first.");
  return current;
}

/** An error reported by the device outside any error scope since the last call, if any. */
export function takeUncapturedError(): string | null {
  const e = uncaptured;
  uncaptured = null;
  return e;
}
