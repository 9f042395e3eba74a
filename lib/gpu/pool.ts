/**
 * A pool of GPU buffers by size class, so that a repeated training step allocates nothing new
 * after its first run. A free buffer is handed out lowest creation number first, so a step that
 * repeats the last one's requests gets the same buffers in the same places, and finds its bind
 * groups cached (commands.ts): on the autoencoder's one-graph steps, bind-group creation
 * otherwise cost ~12 ms of a 40 ms step.
 *
 * @module
 */

import { gpuSync } from "./device.ts";

// STORAGE | UNIFORM | COPY_SRC | COPY_DST: any tensor (a weight, say) may be bound as a uniform
// array, whose reads are ~12× cheaper than storage reads on Mesa's CPU adapter.
const STORAGE_USAGE = 0x80 | 0x40 | 0x04 | 0x08;

/** Rounds a byte count up to its size class: 256-byte steps, then quarter powers of two. */
export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 256) * 256);
  if (b <= 65536) return b;
  const p = 2 ** Math.floor(Math.log2(b));
  const quarter = p / 4;
  return Math.ceil(b / quarter) * quarter;
}

const facts = new WeakMap<GPUBuffer, { size: number; usage: number }>();

/**
 * A buffer's size and usage, read through Deno's native getters once (each read costs ~0.1 µs,
 * and kernels ask for them at every dispatch they record).
 *
 * @param buffer any GPU buffer
 * @returns its size in bytes and its usage flags
 */
export function bufferFacts(buffer: GPUBuffer): { size: number; usage: number } {
  let f = facts.get(buffer);
  if (!f) facts.set(buffer, f = { size: buffer.size, usage: buffer.usage });
  return f;
}

/** One number per usage and size class (sizes stay below 2³², usage flags below 2¹⁰). */
const classKey = (usage: number, size: number) => usage * 2 ** 32 + size;

/** Counts the pool's work, for tests and benchmarks. */
export interface PoolStats {
  /** Buffers created since the process started. */
  created: number;
  /** Bytes held by the pool's buffers (in use or free). */
  bytes: number;
}

/** Free buffers by usage and size class; `acquire` reuses one before it creates one. */
export class BufferPool {
  /**
   * Free buffers by usage and size (`classKey`), highest creation number first (pop: the
   * lowest).
   */
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly order = new WeakMap<GPUBuffer, number>();
  private created = 0;
  /** Buffers created and bytes held. */
  readonly stats: PoolStats = { created: 0, bytes: 0 };

  /**
   * A buffer of at least `bytes` (its size class), reused when a free one has the same usage.
   *
   * @param bytes the bytes needed
   * @param usage the usage flags (default: storage, copy source and destination)
   * @param what names the buffer in the error when it exceeds the storage binding limit
   * @returns a buffer of `sizeClass(bytes)` bytes
   */
  acquire(bytes: number, usage = STORAGE_USAGE, what = "a tensor"): GPUBuffer {
    const size = sizeClass(bytes);
    const key = classKey(usage, size);
    const list = this.free.get(key);
    const reused = list?.pop();
    if (reused) return reused;
    const { device, info } = gpuSync();
    if (usage === STORAGE_USAGE && size > info.maxStorageBufferBindingSize) {
      throw new Error(
        `${what} of ${bytes} bytes exceeds the adapter's storage binding limit of ` +
          `${info.maxStorageBufferBindingSize} bytes; use smaller batches`,
      );
    }
    this.stats.created++;
    this.stats.bytes += size;
    const buffer = device.createBuffer({ size, usage });
    this.order.set(buffer, this.created++);
    return buffer;
  }

  /** Puts a buffer back on the free list of its usage and size class (it is not destroyed). */
  release(buffer: GPUBuffer): void {
    const { usage, size } = bufferFacts(buffer);
    const key = classKey(usage, size);
    let list = this.free.get(key);
    if (!list) this.free.set(key, list = []);
    // Keep the list sorted by creation number, descending (lists are short: a step's tensors).
    const n = this.order.get(buffer) ?? -1;
    let i = list.length;
    while (i > 0 && (this.order.get(list[i - 1]) ?? -1) < n) i--;
    list.splice(i, 0, buffer);
  }

  /** Destroys every free buffer (memory back to the driver). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats.bytes -= b.size;
        b.destroy();
      }
    }
    this.free.clear();
  }
}

/** The process's buffer pool. */
export const bufferPool: BufferPool = new BufferPool();

/** The usage flags of tensor buffers (storage, uniform, copy source and destination). */
export const STORAGE_BUFFER_USAGE = STORAGE_USAGE;
