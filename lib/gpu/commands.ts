/**
 * The command recorder: ops record dispatches, copies, clears and uploads here; `submit()`
 * encodes everything pending into one command encoder and one queue submission, and `read()`
 * is the only GPU→CPU synchronisation.
 *
 * A training step records forward, backward and the optimiser and then submits once: nothing is
 * read back inside a step. Uniform values of all dispatches of a submission share one buffer
 * (256-byte aligned slots) written once; bind groups are cached by their buffers.
 *
 * @module
 */

import { gpuSync, takeUncapturedError } from "./device.ts";
import type { KernelVariant } from "./dsl.ts";
import { bufferFacts, bufferPool } from "./pool.ts";
import { UniformBindingError, uniformSliceProblem } from "./uniform_binding.ts";

/** A byte range of a buffer: what a tensor binds. */
export interface BufferSlice {
  /** The buffer holding the range. */
  readonly buffer: GPUBuffer;
  /** Byte offset (a multiple of 256 when bound). */
  readonly offset: number;
  /** Bytes of data. */
  readonly bytes: number;
}

interface DispatchCommand {
  kind: "dispatch";
  variant: KernelVariant;
  /** Its uniform struct's slot in the submission's staging (`uniformStage`), or -1: none. */
  uniformSlot: number;
  slices: BufferSlice[];
  groups: [number, number];
}
interface CopyCommand {
  kind: "copy";
  src: GPUBuffer;
  srcOffset: number;
  dst: GPUBuffer;
  dstOffset: number;
  size: number;
}
interface ClearCommand {
  kind: "clear";
  buffer: GPUBuffer;
  offset: number;
  size: number;
}
type Command = DispatchCommand | CopyCommand | ClearCommand;

/** Counters for benchmarks and tests. */
export interface CommandStats {
  /** Compute dispatches submitted. */
  dispatches: number;
  /** Queue submissions. */
  submits: number;
  /** GPU→CPU synchronisations (reads). */
  syncs: number;
  /** Bind groups created (misses of the bind group cache). */
  bindGroupsCreated: number;
}

/** Counters since the process started (reset with `resetStats`). */
export const stats: CommandStats = { dispatches: 0, submits: 0, syncs: 0, bindGroupsCreated: 0 };

/** Sets all counters to zero. */
export function resetStats(): void {
  stats.dispatches =
    stats.submits =
    stats.syncs =
    stats.bindGroupsCreated =
      0;
}

let pending: Command[] = [];
let profile: Map<string, { count: number; ms: number }> | null = null;

/**
 * Turns per-kernel profiling on or off. While on, `submit()` gives every dispatch a compute pass
 * of its own whose start and end the GPU stamps (the `timestamp-query` feature: lavapipe and
 * NVIDIA's Vulkan driver have it), and reads the stamps back after the submission: the times are
 * the GPU's own, with no read or submission in them. Copies and clears are counted, not timed.
 * On an adapter without timestamps each dispatch is submitted alone and waited for, so every
 * time carries a read's latency (~11 ms in Deno). Slow either way: for finding hot kernels, never
 * for timing a whole step.
 */
export function setProfiling(on: boolean): void {
  profile = on ? new Map() : null;
}

/** Per-kernel totals gathered while profiling, slowest first. */
export function profileReport(): { kernel: string; count: number; ms: number }[] {
  return [...(profile ?? new Map()).entries()].map(([kernel, v]) => ({ kernel, ...v }))
    .sort((a, b) => b.ms - a.ms);
}
let stagingInFlight: GPUBuffer[] = [];
let uniformArena: GPUBuffer | null = null;
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;
const bindGroups = new Map<string, GPUBindGroup>();
const MAX_CACHED_BIND_GROUPS = 20000;
const UNIFORM_SLOT = 256;

function bufferId(b: GPUBuffer): number {
  let id = bufferIds.get(b);
  if (id === undefined) bufferIds.set(b, id = nextBufferId++);
  return id;
}

/**
 * Records one dispatch of a kernel variant over `threads` invocations.
 *
 * @param variant the kernel variant (compiled at submit if new)
 * @param slices one buffer range (a tensor) per declared binding, in order
 * @param threads total invocations (folded into a 2-D grid above 65,535 workgroups)
 * @param uniforms the run-time values of the kernel's uniform struct
 */
export function recordDispatch(
  variant: KernelVariant,
  slices: BufferSlice[],
  threads: number,
  uniforms: Record<string, number> = {},
): void {
  const { info, limits } = gpuSync();
  const spec = variant.spec;
  if (slices.length !== variant.bindingNames.length) {
    throw new Error(
      `kernel ${spec.name}: ${slices.length} tensors given for ` +
        `${variant.bindingNames.length} bindings (${variant.bindingNames.join(", ")})`,
    );
  }
  const uniformBytes = variant.uniformArrayBytes;
  const storageCount = variant.storageBindingCount;
  if (storageCount > info.maxStorageBuffersPerShaderStage) {
    throw new Error(
      `kernel ${spec.name}: ${storageCount} storage bindings exceed the ` +
        `adapter's limit of ${info.maxStorageBuffersPerShaderStage}`,
    );
  }
  const uniformCount = variant.uniformBindingCount + (variant.hasUniforms ? 1 : 0);
  if (uniformCount > limits.maxUniformBuffersPerShaderStage) {
    throw new Error(
      `kernel ${spec.name}: ${uniformCount} uniform bindings exceed the ` +
        `adapter's limit of ${limits.maxUniformBuffersPerShaderStage}`,
    );
  }
  const copies: BufferSlice[] = new Array(slices.length);
  for (let i = 0; i < slices.length; i++) {
    const b = slices[i], u = uniformBytes[i];
    const problem = u === null ? null : uniformSliceProblem(b, u, limits);
    if (problem) {
      const name = variant.bindingNames[i];
      throw new UniformBindingError(`kernel ${spec.name}: uniform binding ${name} ${problem}`);
    }
    if (u === null && b.bytes > info.maxStorageBufferBindingSize) {
      throw new Error(
        `kernel ${spec.name}: binding ${variant.bindingNames[i]} is ${b.bytes} bytes, over the ` +
          `adapter's storage binding limit of ${info.maxStorageBufferBindingSize}`,
      );
    }
    copies[i] = { buffer: b.buffer, offset: b.offset, bytes: b.bytes };
  }
  if (threads <= 0) return;
  const groupsTotal = Math.ceil(threads / spec.workgroupSize);
  const maxDim = limits.maxComputeWorkgroupsPerDimension;
  let gx = groupsTotal, gy = 1;
  if (gx > maxDim) {
    gy = Math.ceil(gx / maxDim);
    gx = Math.ceil(groupsTotal / gy);
    if (gy > maxDim) {
      throw new Error(`kernel ${spec.name}: ${threads} invocations exceed the dispatch limit`);
    }
  }
  pending.push({
    kind: "dispatch",
    variant,
    uniformSlot: variant.hasUniforms ? stageUniforms(variant, uniforms) : -1,
    slices: copies,
    groups: [gx, gy],
  });
}

/**
 * The uniform structs of the pending dispatches, one 256-byte slot each in recording order:
 * packed here as they are recorded and written to the uniform arena by one `writeBuffer` at
 * submit (packing cost ~3 µs a dispatch as a buffer of its own, a few hundred per step).
 */
let uniformStage: DataView<ArrayBuffer> = new DataView(new ArrayBuffer(64 * UNIFORM_SLOT));
let uniformSlots = 0;
/** A stage handed back after its submission's `writeBuffer`, for the next one. */
let spareStage: DataView<ArrayBuffer> | null = null;

function stageUniforms(variant: KernelVariant, values: Record<string, number>): number {
  if ((uniformSlots + 1) * UNIFORM_SLOT > uniformStage.byteLength) {
    const grown = new Uint8Array(2 * uniformStage.byteLength);
    grown.set(new Uint8Array(uniformStage.buffer, 0, uniformSlots * UNIFORM_SLOT));
    uniformStage = new DataView(grown.buffer);
  }
  variant.packUniformsInto(values, uniformStage, uniformSlots * UNIFORM_SLOT);
  return uniformSlots++;
}

/** Records a copy of `src.bytes` bytes from one slice to another. */
export function recordCopy(src: BufferSlice, dst: BufferSlice): void {
  if (src.bytes > dst.bytes) {
    throw new Error(`copy: ${src.bytes} bytes do not fit a destination of ${dst.bytes}`);
  }
  const size = Math.ceil(src.bytes / 4) * 4;
  if (size > 0) {
    pending.push({
      kind: "copy",
      src: src.buffer,
      srcOffset: src.offset,
      dst: dst.buffer,
      dstOffset: dst.offset,
      size,
    });
  }
}

/** Records zero-filling a slice. */
export function recordClear(slice: BufferSlice): void {
  const size = Math.ceil(slice.bytes / 4) * 4;
  if (size > 0) pending.push({ kind: "clear", buffer: slice.buffer, offset: slice.offset, size });
}

/** Records an upload of host data into a slice, ordered with the other recorded commands. */
export function recordWrite(dst: BufferSlice, data: Float32Array | Uint32Array | Int32Array): void {
  if (data.byteLength === 0) return;
  const { device } = gpuSync();
  const bytes = Math.ceil(data.byteLength / 4) * 4;
  const staging = bufferPool.acquire(bytes, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  device.queue.writeBuffer(staging, 0, data.buffer as ArrayBuffer, data.byteOffset, bytes);
  stagingInFlight.push(staging);
  recordCopy({ buffer: staging, offset: 0, bytes: data.byteLength }, dst);
}

/** Number of commands recorded and not yet submitted. */
export function pendingCount(): number {
  return pending.length;
}

let retired: GPUBuffer[] = [];

/**
 * Destroys a buffer once the commands recorded so far no longer need it: at once when nothing
 * is pending, else right after the next submission (which may use it) has been handed to the
 * queue. Owners of long-lived buffers (parameters) free them with this, so disposing a model
 * after an interrupted step cannot invalidate the commands still waiting.
 *
 * @param buffer the buffer to destroy
 */
export function destroyAfterSubmit(buffer: GPUBuffer): void {
  if (pending.length === 0) buffer.destroy();
  else retired.push(buffer);
}

function destroyRetired(): void {
  for (const b of retired) b.destroy();
  retired = [];
}

/** Bytes bound for a storage slice: the rest of its buffer, a multiple of 16. */
function storageBindingBytes(s: BufferSlice): number {
  return Math.floor((bufferFacts(s.buffer).size - s.offset) / 16) * 16;
}

function bindGroupFor(
  device: GPUDevice,
  cmd: DispatchCommand,
  arena: GPUBuffer | null,
  offset: number,
): GPUBindGroup {
  const v = cmd.variant;
  let key = `${v.id}`;
  const uniforms = cmd.uniformSlot >= 0;
  if (uniforms) key += `|u${bufferId(arena!)}@${offset}`;
  // A storage binding spans the rest of its buffer (below), so its key is buffer and offset
  // alone: a step on another graph size finds the bind groups of the last one (a pool buffer
  // serves every tensor of its size class). Uniform arrays keep their declared size.
  cmd.slices.forEach((s, i) => {
    key += `|${bufferId(s.buffer)}@${s.offset}`;
    if (v.uniformArrayBytes[i] != null) key += `+${s.bytes}`;
  });
  let bg = bindGroups.get(key);
  if (!bg) {
    const entries: GPUBindGroupEntry[] = [];
    let binding = 0;
    if (uniforms) {
      entries.push({
        binding: binding++,
        resource: { buffer: arena!, offset, size: v.uniformBytes },
      });
    }
    cmd.slices.forEach((s, i) => {
      // Storage: from the slice's offset to the end of its buffer (kernels bound their loops by
      // uniforms; matmul's clamped reads past a partial block are never stored). Uniform
      // arrays: exactly their declared bytes (checked at record time).
      const size = v.uniformArrayBytes[i] ?? storageBindingBytes(s);
      entries.push({ binding: binding++, resource: { buffer: s.buffer, offset: s.offset, size } });
    });
    bg = device.createBindGroup({ label: v.spec.name, layout: v.layout!, entries });
    stats.bindGroupsCreated++;
    if (bindGroups.size >= MAX_CACHED_BIND_GROUPS) bindGroups.clear();
    bindGroups.set(key, bg);
  }
  return bg;
}

/** Records one dispatch into an open pass (its uniforms at its slot of the arena). */
function encodeDispatch(device: GPUDevice, pass: GPUComputePassEncoder, c: DispatchCommand): void {
  pass.setPipeline(c.variant.pipeline!);
  pass.setBindGroup(0, bindGroupFor(device, c, uniformArena, c.uniformSlot * UNIFORM_SLOT));
  pass.dispatchWorkgroups(c.groups[0], c.groups[1]);
  stats.dispatches++;
}

/** Records a copy or a clear. */
function encodeTransfer(encoder: GPUCommandEncoder, c: Exclude<Command, DispatchCommand>): void {
  if (c.kind === "copy") encoder.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.size);
  else encoder.clearBuffer(c.buffer, c.offset, c.size);
}

/**
 * Encodes every pending command into one command encoder and submits it once.
 * New kernel variants are compiled first (a body that does not compile is reported by name).
 * Does not wait for the GPU to finish.
 */
export async function submit(): Promise<void> {
  if (pending.length === 0) return;
  const commands = pending;
  pending = [];
  const staging = stagingInFlight;
  stagingInFlight = [];
  // This submission's uniforms; recording may go on (into a fresh stage) while it compiles.
  const stage = uniformStage, slots = uniformSlots;
  uniformStage = spareStage ?? new DataView(new ArrayBuffer(stage.byteLength));
  spareStage = null;
  uniformSlots = 0;
  const { device } = gpuSync();
  try {
    for (const c of commands) {
      if (c.kind === "dispatch" && !c.variant.pipeline) await c.variant.ready();
    }
  } catch (e) {
    for (const b of staging) bufferPool.release(b);
    throw e;
  }
  // One uniform arena for the whole submission.
  const arenaBytes = slots * UNIFORM_SLOT;
  if (arenaBytes > 0 && (!uniformArena || uniformArena.size < arenaBytes)) {
    uniformArena?.destroy();
    uniformArena = device.createBuffer({
      size: Math.max(arenaBytes, 64 * UNIFORM_SLOT),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
  }
  if (arenaBytes > 0) device.queue.writeBuffer(uniformArena!, 0, stage.buffer, 0, arenaBytes);
  spareStage = stage; // writeBuffer has copied it
  if (profile) {
    await submitProfiled(device, commands);
    for (const b of staging) bufferPool.release(b);
    destroyRetired();
    return;
  }
  device.pushErrorScope("validation");
  const encoder = device.createCommandEncoder();
  let pass: GPUComputePassEncoder | null = null;
  for (const c of commands) {
    if (c.kind === "dispatch") {
      if (!pass) pass = encoder.beginComputePass();
      encodeDispatch(device, pass, c);
    } else {
      if (pass) {
        pass.end();
        pass = null;
      }
      encodeTransfer(encoder, c);
    }
  }
  pass?.end();
  device.queue.submit([encoder.finish()]);
  stats.submits++;
  for (const b of staging) bufferPool.release(b);
  destroyRetired();
  const err = await device.popErrorScope();
  const uncaptured = takeUncapturedError();
  if (err || uncaptured) {
    const names = [
      ...new Set(commands.map((c) => c.kind === "dispatch" ? c.variant.spec.name : c.kind)),
    ];
    throw new Error(
      `WebGPU rejected a submission of ${commands.length} commands (${names.join(", ")}): ` +
        (err?.message ?? uncaptured),
    );
  }
}

async function submitProfiled(device: GPUDevice, commands: Command[]): Promise<void> {
  if (device.features.has("timestamp-query")) return await submitTimestamped(device, commands);
  for (const c of commands) {
    const encoder = device.createCommandEncoder();
    if (c.kind === "dispatch") {
      const pass = encoder.beginComputePass();
      encodeDispatch(device, pass, c);
      pass.end();
    } else encodeTransfer(encoder, c);
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    addProfile(c.kind === "dispatch" ? c.variant.key : c.kind, performance.now() - t0);
  }
  stats.submits++;
}

function addProfile(name: string, ms: number): void {
  const entry = profile!.get(name) ?? { count: 0, ms: 0 };
  entry.count++;
  entry.ms += ms;
  profile!.set(name, entry);
}

/** Dispatches per timestamped submission (two stamps each; a query set holds at most 4,096). */
const STAMPED_DISPATCHES = 2048;

/** The profiled submission with GPU timestamps around every dispatch (see `setProfiling`). */
async function submitTimestamped(device: GPUDevice, commands: Command[]): Promise<void> {
  for (let first = 0; first < commands.length;) {
    const encoder = device.createCommandEncoder();
    const querySet = device.createQuerySet({ type: "timestamp", count: 2 * STAMPED_DISPATCHES });
    const names: string[] = [];
    let i = first;
    for (; i < commands.length && names.length < STAMPED_DISPATCHES; i++) {
      const c = commands[i];
      if (c.kind === "dispatch") {
        const k = names.length;
        const pass = encoder.beginComputePass({
          timestampWrites: {
            querySet,
            beginningOfPassWriteIndex: 2 * k,
            endOfPassWriteIndex: 2 * k + 1,
          },
        });
        encodeDispatch(device, pass, c);
        pass.end();
        names.push(c.variant.key);
      } else {
        encodeTransfer(encoder, c);
        addProfile(c.kind, 0);
      }
    }
    first = i;
    const bytes = Math.max(8, 16 * names.length);
    const resolved = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const readback = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    if (names.length > 0) {
      encoder.resolveQuerySet(querySet, 0, 2 * names.length, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, readback, 0, bytes);
    }
    device.queue.submit([encoder.finish()]);
    if (names.length > 0) {
      await readback.mapAsync(GPUMapMode.READ);
      const stamps = new BigUint64Array(readback.getMappedRange().slice(0));
      readback.unmap();
      names.forEach((name, k) => {
        const ns = Number(stamps[2 * k + 1] - stamps[2 * k]);
        addProfile(name, Math.max(0, ns) / 1e6);
      });
    }
    querySet.destroy();
    resolved.destroy();
    readback.destroy();
  }
  stats.submits++;
}

/**
 * Submits what is pending and reads buffers back: the one GPU→CPU synchronisation.
 *
 * @param sources buffer slices (tensors)
 * @returns one ArrayBuffer per source, in order
 */
export async function readSlices(sources: BufferSlice[]): Promise<ArrayBuffer[]> {
  const { device } = gpuSync();
  const total = sources.reduce((a, s) => a + Math.ceil(s.bytes / 4) * 4, 0);
  const readback = device.createBuffer({
    size: Math.max(4, total),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  await submit();
  const encoder = device.createCommandEncoder();
  let offset = 0;
  for (const s of sources) {
    const n = Math.ceil(s.bytes / 4) * 4;
    if (n > 0) encoder.copyBufferToBuffer(s.buffer, s.offset, readback, offset, n);
    offset += n;
  }
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  stats.syncs++;
  const all = readback.getMappedRange().slice(0);
  readback.unmap();
  readback.destroy();
  const out: ArrayBuffer[] = [];
  offset = 0;
  for (const s of sources) {
    out.push(all.slice(offset, offset + s.bytes));
    offset += Math.ceil(s.bytes / 4) * 4;
  }
  return out;
}
