/**
 * The rules for binding a tensor's range as a uniform array (see dsl.ts: `access: "uniform"`),
 * checked by `recordDispatch` and asked by kernels that choose between a uniform and a storage
 * binding at call time (matmul).
 *
 * @module
 */

import { type DeviceLimits, gpuSync } from "./device.ts";
import { bufferFacts } from "./pool.ts";

/** A byte range of a buffer (the shape of `BufferSlice` in commands.ts). */
interface Slice {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly bytes: number;
}

/**
 * Why `s` cannot be bound as a uniform array of `bytes` (its declared length × 16), or null: it
 * must come from a buffer with UNIFORM usage, start at a multiple of the adapter's uniform
 * offset alignment (256), lie inside its buffer and fit `maxUniformBufferBindingSize` (64 KiB).
 */
export function uniformSliceProblem(
  s: Slice,
  bytes: number,
  limits: Pick<DeviceLimits, "maxUniformBufferBindingSize" | "minUniformBufferOffsetAlignment">,
): string | null {
  const limit = limits.maxUniformBufferBindingSize;
  const align = limits.minUniformBufferOffsetAlignment;
  if (bytes > limit) {
    return `is ${bytes} bytes, over the adapter's maxUniformBufferBindingSize of ${limit}`;
  }
  if (s.offset % align) {
    return `starts at byte ${s.offset}, not a multiple of the uniform offset alignment ${align}`;
  }
  const { size, usage } = bufferFacts(s.buffer);
  if (!(usage & GPUBufferUsage.UNIFORM)) {
    return "comes from a buffer without UNIFORM usage";
  }
  if (s.offset + bytes > size) {
    const at = `at byte ${s.offset}`;
    return `declares ${bytes} bytes ${at}, past the end of its buffer (${size} bytes)`;
  }
  return null;
}

/** A tensor that cannot be bound as a kernel's uniform array (size, alignment or usage). */
export class UniformBindingError extends Error {
  /** Wraps the message; `name` is `UniformBindingError`. */
  constructor(message: string) {
    super(message);
    this.name = "UniformBindingError";
  }
}

/** Whether `s` can be bound as a uniform array of `bytes` bytes (see `UniformBindingError`). */
export function fitsUniformBinding(s: Slice, bytes: number): boolean {
  return uniformSliceProblem(s, bytes, gpuSync().limits) === null;
}
