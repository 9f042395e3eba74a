/**
 * GPU tensors: a pooled buffer plus a shape.
 *
 * Tensors made by ops are temporaries of the current step: `endStep()` gives their buffers back
 * to the pool (a tensor used after that is an error, not garbage). `keep()` makes a tensor the
 * caller's, to be freed with `dispose()`. Parameters and datasets are kept.
 *
 * @module
 */

import { bufferFacts, bufferPool } from "./pool.ts";
import { type BufferSlice, readSlices, recordWrite } from "./commands.ts";

/** Element type of a tensor. */
export type DType = "f32" | "u32" | "i32";

let nextId = 1;
const temporaries = new Set<Tensor>();

/** A GPU array: a pooled buffer (or a range of one), a shape and an element type. */
export class Tensor implements BufferSlice {
  /** Unique per tensor, for debugging and caches. */
  readonly id: number = nextId++;
  /** Gradient of the loss with respect to this tensor, after `backward`. */
  grad: Tensor | null = null;
  /** Whether the tape records ops on this tensor for backward. */
  requiresGrad = false;
  /** Set by the tape: the gradient buffer holds this step's value (else it must be cleared). */
  gradFresh = false;
  /** A name for errors and checkpoints (parameters carry theirs). */
  name = "";
  /** Shared by a tensor and its reshaped views. */
  private store: { buffer: GPUBuffer | null };

  /**
   * Wraps an owned buffer (a temporary until `keep()`) or views another tensor's store.
   *
   * @param buffer a pooled buffer this tensor owns, or the store of another tensor it views
   * @param shape dimensions
   * @param dtype element type
   * @param offset byte offset into the buffer (a multiple of 256)
   */
  constructor(
    buffer: GPUBuffer | { buffer: GPUBuffer | null },
    readonly shape: readonly number[],
    readonly dtype: DType = "f32",
    readonly offset = 0,
  ) {
    if (offset % 256 !== 0) throw new Error(`tensor offset ${offset} is not a multiple of 256`);
    if ("buffer" in buffer && !(buffer instanceof GPUBuffer)) {
      this.store = buffer; // a view: its owner decides its lifetime
    } else {
      this.store = { buffer: buffer as GPUBuffer };
      temporaries.add(this);
    }
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Bytes of data (the buffer may be larger: pool size class). */
  get bytes(): number {
    return this.size * 4;
  }

  /** The buffer; an error when the tensor was released at the end of its step. */
  get buffer(): GPUBuffer {
    const buffer = this.store.buffer;
    if (!buffer) {
      throw new Error(
        `tensor ${this.name || "#" + this.id} [${this.shape}] was used after it was released ` +
          `(temporaries live until endStep(); call keep() to hold one longer)`,
      );
    }
    return buffer;
  }

  /** Whether `endStep()` will release this tensor. */
  get temporary(): boolean {
    return temporaries.has(this);
  }

  /** Whether the buffer was released. */
  get released(): boolean {
    return this.store.buffer === null;
  }

  /** Makes this tensor the caller's: `endStep()` no longer releases it. */
  keep(): this {
    temporaries.delete(this);
    return this;
  }

  /** Gives the buffer back to the pool (and the gradient's, if any). */
  dispose(): void {
    if (this.store.buffer) bufferPool.release(this.store.buffer);
    this.store.buffer = null;
    temporaries.delete(this);
    if (this.grad && this.grad !== this) this.grad.dispose();
    this.grad = null;
  }

  /**
   * Whether rows `[first, …)` of this matrix start at a bindable offset (a multiple of 256
   * bytes), so {@linkcode Tensor.rows} can view them.
   */
  rowsAligned(first: number): boolean {
    const cols = this.shape[this.shape.length - 1];
    return this.shape.length === 2 && (this.offset + first * cols * 4) % 256 === 0;
  }

  /**
   * Rows `[first, end)` of this matrix as a view sharing its buffer (and lifetime); their start
   * must be bindable ({@linkcode Tensor.rowsAligned}). Not differentiable by itself (see
   * `rowBlock`).
   */
  rows(first: number, end: number): Tensor {
    if (this.shape.length !== 2 || !(0 <= first && first < end && end <= this.shape[0])) {
      throw new Error(`rows: [${first}, ${end}) of [${this.shape}]`);
    }
    if (!this.rowsAligned(first)) {
      throw new Error(
        `rows: row ${first} of [${this.shape}] does not start at a multiple of 256 bytes`,
      );
    }
    const cols = this.shape[1];
    const view = new Tensor(
      this.store,
      [end - first, cols],
      this.dtype,
      this.offset + first * cols * 4,
    );
    view.name = this.name;
    return view;
  }

  /**
   * This matrix and the rows that follow it in its buffer, `total` rows in all, as one view
   * sharing its buffer (e.g. a weight's gradient and its bias's right after it: [dW; db]).
   */
  spanRows(total: number): Tensor {
    const cols = this.shape[this.shape.length - 1];
    if (this.shape.length !== 2 || total < this.shape[0]) {
      throw new Error(`spanRows: ${total} rows from [${this.shape}]`);
    }
    if (this.offset + total * cols * 4 > bufferFacts(this.buffer).size) {
      throw new Error(`spanRows: ${total} rows of ${cols} pass the end of the buffer`);
    }
    const view = new Tensor(this.store, [total, cols], this.dtype, this.offset);
    view.name = this.name;
    return view;
  }

  /**
   * A view sharing this tensor's buffer (and lifetime) with another shape of the same size.
   * Not differentiable: the view carries no gradient path back to this tensor.
   */
  reshape(shape: readonly number[]): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== this.size) {
      throw new Error(`reshape: [${this.shape}] has ${this.size} elements, not ${n} ([${shape}])`);
    }
    const view = new Tensor(this.store, shape, this.dtype, this.offset);
    view.name = this.name;
    return view;
  }
}

function checkShape(shape: readonly number[], where: string) {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${where}: shape [${shape}] must hold non-negative integers`);
    }
  }
}

/**
 * An uninitialised temporary tensor from the pool.
 *
 * @param shape the dimensions
 * @param dtype element type (default f32)
 * @returns the tensor (released by `endStep()` unless kept)
 */
export function empty(shape: readonly number[], dtype: DType = "f32"): Tensor {
  checkShape(shape, "empty");
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    bufferPool.acquire(n * 4, undefined, `empty: a tensor [${shape}]`),
    shape,
    dtype,
  );
}

/**
 * A tensor holding host data, uploaded in order with the recorded commands.
 *
 * @param data values (f32 unless `dtype` says otherwise)
 * @param shape dimensions; their product must equal `data.length`
 * @param dtype element type
 * @returns a temporary tensor (call `keep()` to hold it across steps)
 * @example Upload a 2×2 matrix and read it back
 * ```ts
 * import { fromArray, read, getGpu } from "../../mod.ts";
 * await getGpu();
 * const t = fromArray([1, 2, 3, 4], [2, 2]);
 * console.log(await read(t)); // Float32Array [1, 2, 3, 4]
 * ```
 */
export function fromArray(
  data: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType = "f32",
): Tensor {
  checkShape(shape, "fromArray");
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) {
    throw new Error(`fromArray: ${data.length} values do not fill shape [${shape}] (${n})`);
  }
  const t = empty(shape, dtype);
  writeTensor(t, data);
  return t;
}

/** Overwrites a tensor's contents from host data (ordered with the recorded commands). */
export function writeTensor(t: Tensor, data: ArrayLike<number>): void {
  if (data.length !== t.size) {
    throw new Error(`writeTensor: ${data.length} values for a tensor of ${t.size} [${t.shape}]`);
  }
  const typed = t.dtype === "f32"
    ? Float32Array.from(data)
    : t.dtype === "u32"
    ? Uint32Array.from(data)
    : Int32Array.from(data);
  recordWrite(t, typed);
}

/**
 * Reads tensors back to the host: submits what is pending, then one GPU→CPU synchronisation.
 *
 * @param tensors the tensors to read
 * @returns their values, f32 tensors as Float32Array, u32 as Uint32Array, i32 as Int32Array
 */
export async function readMany(
  tensors: Tensor[],
): Promise<(Float32Array | Uint32Array | Int32Array)[]> {
  const raw = await readSlices(tensors);
  return raw.map((b, i) =>
    tensors[i].dtype === "f32"
      ? new Float32Array(b)
      : tensors[i].dtype === "u32"
      ? new Uint32Array(b)
      : new Int32Array(b)
  );
}

/**
 * Reads one f32 tensor back to the host (one GPU→CPU synchronisation).
 *
 * @param t the tensor
 * @returns its values
 */
export async function read(t: Tensor): Promise<Float32Array> {
  if (t.dtype !== "f32") throw new Error(`read: tensor is ${t.dtype}; use readMany`);
  return (await readMany([t]))[0] as Float32Array;
}

/** Releases every temporary tensor made since the last call (the end of a training step). */
export function endStep(): void {
  for (const t of temporaries) {
    if (!t.released) t.dispose();
  }
  temporaries.clear();
}

/** Number of live temporaries (for tests: a step should leave none behind). */
export function liveTemporaries(): number {
  return temporaries.size;
}

let placeholder: Tensor | null = null;

/**
 * A kept 4-value tensor to bind where a kernel declares a binding it does not use this time
 * (WebGPU forbids binding the output buffer again as an input).
 */
export function unusedBinding(): Tensor {
  if (!placeholder || placeholder.released) placeholder = empty([4]).keep();
  return placeholder;
}
