/**
 * A model's parameters in one flat device buffer (each at a 256-byte aligned offset), with their
 * gradients in a second buffer of the same layout — so the optimiser is one dispatch, and a
 * checkpoint is one read. The buffers have UNIFORM usage too (see pool.ts), so a weight that fits
 * the adapter's uniform binding limit is read by matmul as a uniform array.
 *
 * @module
 */

import { gpuSync } from "./device.ts";
import { destroyAfterSubmit, readSlices, recordWrite } from "./commands.ts";
import { Tensor } from "./tensor.ts";
import { STORAGE_BUFFER_USAGE } from "./pool.ts";

const ALIGN_FLOATS = 64; // 256 bytes

interface Entry {
  name: string;
  shape: number[];
  offsetFloats: number;
  tensor: Tensor;
  init: Float32Array;
}

/**
 * Named parameters sharing one buffer. Add them all, then `build()` uploads.
 *
 * @example Two parameters, built and read back
 * ```ts
 * import { getGpu, ParameterSet } from "../../mod.ts";
 * await getGpu();
 * const ps = new ParameterSet();
 * ps.add("w", [2, 2], new Float32Array([1, 2, 3, 4]));
 * ps.add("b", [2], new Float32Array([5, 6]));
 * ps.build();
 * console.log((await ps.toHost()).get("b")); // Float32Array [5, 6]
 * ```
 */
export class ParameterSet {
  private readonly entries: Entry[] = [];
  private readonly byName = new Map<string, Entry>();
  private readonly store: { buffer: GPUBuffer | null } = { buffer: null };
  private readonly gradStore: { buffer: GPUBuffer | null } = { buffer: null };
  /** Total floats including alignment padding (the optimiser's range). */
  paddedSize = 0;

  /**
   * Declares a parameter with its initial values.
   *
   * @param name unique, e.g. `gcl_0.edge_mlp.0.weight`
   * @param shape dimensions
   * @param init initial values (length = product of shape)
   * @returns the parameter tensor (usable after `build()`)
   */
  add(name: string, shape: number[], init: Float32Array): Tensor {
    if (this.store.buffer) throw new Error(`ParameterSet: add(${name}) after build()`);
    if (this.byName.has(name)) throw new Error(`ParameterSet: duplicate parameter ${name}`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (init.length !== size) {
      throw new Error(`ParameterSet: ${name} has ${init.length} initial values for [${shape}]`);
    }
    const offsetFloats = this.paddedSize;
    this.paddedSize += Math.ceil(Math.max(1, size) / ALIGN_FLOATS) * ALIGN_FLOATS;
    const tensor = new Tensor(this.store, shape, "f32", offsetFloats * 4);
    tensor.name = name;
    tensor.requiresGrad = true;
    tensor.grad = new Tensor(this.gradStore, shape, "f32", offsetFloats * 4);
    tensor.grad.name = name + ".grad";
    const e = { name, shape, offsetFloats, tensor, init };
    this.entries.push(e);
    this.byName.set(name, e);
    return tensor;
  }

  /** Allocates the buffers and records the upload of the initial values. */
  build(): this {
    const { device } = gpuSync();
    const bytes = Math.max(256, this.paddedSize * 4);
    this.store.buffer = device.createBuffer({ size: bytes, usage: STORAGE_BUFFER_USAGE });
    this.gradStore.buffer = device.createBuffer({ size: bytes, usage: STORAGE_BUFFER_USAGE });
    for (const e of this.entries) recordWrite(e.tensor, e.init);
    return this;
  }

  /** The parameter tensors in declaration order. */
  get tensors(): Tensor[] {
    return this.entries.map((e) => e.tensor);
  }

  /** Names in declaration order. */
  get names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /** Number of scalar parameters (without padding). */
  get count(): number {
    return this.entries.reduce((a, e) => a + e.init.length, 0);
  }

  /** The parameter called `name`, or an error listing the names. */
  get(name: string): Tensor {
    const e = this.byName.get(name);
    if (!e) throw new Error(`ParameterSet: no parameter ${name} (have ${this.names.join(", ")})`);
    return e.tensor;
  }

  /** The whole parameter buffer as one tensor (for the optimiser). */
  get flat(): Tensor {
    return new Tensor(this.store, [this.paddedSize]);
  }

  /** The whole gradient buffer as one tensor. */
  get flatGrad(): Tensor {
    return new Tensor(this.gradStore, [this.paddedSize]);
  }

  /** Overwrites parameters by name (e.g. from a checkpoint); unknown names are errors. */
  load(values: Map<string, Float32Array>): void {
    for (const [name, v] of values) {
      const e = this.byName.get(name);
      if (!e) throw new Error(`ParameterSet.load: unknown parameter ${name}`);
      if (v.length !== e.init.length) {
        throw new Error(`ParameterSet.load: ${name} has ${v.length} values, expected [${e.shape}]`);
      }
      recordWrite(e.tensor, v);
    }
  }

  /** Frees the parameter and gradient buffers; the tensors must not be used afterwards. */
  dispose(): void {
    // Pending commands (of a step that was interrupted) may still use them.
    if (this.store.buffer) destroyAfterSubmit(this.store.buffer);
    if (this.gradStore.buffer) destroyAfterSubmit(this.gradStore.buffer);
    this.store.buffer = null;
    this.gradStore.buffer = null;
  }

  /** Reads every parameter back (one synchronisation). */
  toHost(): Promise<Map<string, Float32Array>> {
    return this.read(this.store);
  }

  /** Reads every gradient back (one synchronisation); parameters without a gradient this step read as zero. */
  async gradsToHost(): Promise<Map<string, Float32Array>> {
    // A parameter no gradient reached this step holds a stale buffer: report it as zero, as the
    // optimiser treats it.
    const fresh = new Map(this.entries.map((e) => [e.name, e.tensor.gradFresh]));
    const grads = await this.read(this.gradStore);
    for (const [name, g] of grads) if (!fresh.get(name)) g.fill(0);
    return grads;
  }

  /** Reads one of the two buffers back and splits it by parameter (one synchronisation). */
  private async read(store: { buffer: GPUBuffer | null }): Promise<Map<string, Float32Array>> {
    if (!store.buffer) throw new Error("ParameterSet: build() first");
    const [all] = await readSlices([{
      buffer: store.buffer,
      offset: 0,
      bytes: this.paddedSize * 4,
    }]);
    const f = new Float32Array(all);
    return new Map(
      this.entries.map((e) => [e.name, f.slice(e.offsetFloats, e.offsetFloats + e.init.length)]),
    );
  }
}
