/**
 * Checkpoints: a model's named parameters as a JSON header plus one little-endian f32 blob,
 * written atomically; and import of weights trained with the reference code, from a PyTorch
 * state dict saved as `.npz` under its own names (2-D `weight`s are transposed: PyTorch stores
 * out×in, we store in×out).
 *
 * File layout: the 8 bytes `EGNNCKPT`, a u32 (LE) header length, the UTF-8 JSON header
 * `{format, version, meta, tensors: [{name, shape, offset}]}` padded with spaces to a multiple of
 * 4 bytes, then the f32 data (offsets in floats from the blob's start).
 *
 * @module
 */

import type { ParameterSet } from "../gpu/parameters.ts";
import { writeFileAtomic } from "./atomic.ts";
import { readNpz } from "./npz.ts";

const MAGIC = "EGNNCKPT";

/** A checkpoint's contents. */
export interface Checkpoint {
  /** Free-form metadata (seed, epoch, config, adapter…). */
  meta: Record<string, unknown>;
  /** Named tensors (parameters, and optionally optimiser state under other names). */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/**
 * Encodes a checkpoint.
 *
 * @param ckpt metadata and tensors
 * @returns the file's bytes
 */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  let offset = 0;
  const entries = [...ckpt.tensors].map(([name, t]) => {
    const e = { name, shape: t.shape, offset };
    offset += t.data.length;
    return e;
  });
  let header = JSON.stringify({
    format: "egnn-webgpu-checkpoint",
    version: 1,
    meta: ckpt.meta,
    tensors: entries,
  });
  const enc = new TextEncoder();
  let hb = enc.encode(header);
  header += " ".repeat((4 - ((12 + hb.length) % 4)) % 4);
  hb = enc.encode(header);
  const out = new Uint8Array(12 + hb.length + offset * 4);
  out.set(enc.encode(MAGIC));
  new DataView(out.buffer).setUint32(8, hb.length, true);
  out.set(hb, 12);
  const blob = new Float32Array(out.buffer, 12 + hb.length, offset);
  let p = 0;
  for (const t of ckpt.tensors.values()) {
    blob.set(t.data, p);
    p += t.data.length;
  }
  return out;
}

/**
 * Decodes a checkpoint, checking every field.
 *
 * @param bytes the file's bytes
 * @param where names the file in errors
 */
export function decodeCheckpoint(bytes: Uint8Array, where = "checkpoint"): Checkpoint {
  const dec = new TextDecoder();
  if (bytes.length < 12 || dec.decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new Error(`${where}: not an egnn-webgpu checkpoint (expected the magic ${MAGIC})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(8, true);
  let header: {
    meta?: Record<string, unknown>;
    tensors?: { name: string; shape: number[]; offset: number }[];
  };
  try {
    header = JSON.parse(dec.decode(bytes.subarray(12, 12 + len)));
  } catch (e) {
    throw new Error(`${where}: header is not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(header.tensors)) throw new Error(`${where}: header has no tensors array`);
  const blobStart = 12 + len;
  const floats = (bytes.length - blobStart) / 4;
  const aligned = new Uint8Array(bytes.subarray(blobStart)); // copy: alignment of the view
  const blob = new Float32Array(aligned.buffer, 0, Math.floor(floats));
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of header.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(t.offset) || t.offset < 0 || t.offset + size > blob.length) {
      throw new Error(`${where}: tensor ${t.name} [${t.shape}] lies outside the data blob`);
    }
    tensors.set(t.name, { shape: t.shape, data: blob.slice(t.offset, t.offset + size) });
  }
  return { meta: header.meta ?? {}, tensors };
}

/**
 * Saves a parameter set (plus optional extra tensors such as optimiser state) atomically.
 *
 * @param path the file
 * @param params the parameters
 * @param meta metadata to store (seed, epoch, …)
 * @param extra more named tensors
 */
export async function saveCheckpoint(
  path: string,
  params: ParameterSet,
  meta: Record<string, unknown> = {},
  extra: Map<string, { shape: number[]; data: Float32Array }> = new Map(),
): Promise<void> {
  const values = await params.toHost();
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of params.tensors) {
    tensors.set(t.name, { shape: [...t.shape], data: values.get(t.name)! });
  }
  for (const [k, v] of extra) tensors.set(k, v);
  await writeFileAtomic(path, encodeCheckpoint({ meta, tensors }));
}

/**
 * Loads a checkpoint into a parameter set: every parameter must be present with its shape.
 *
 * @param path the file
 * @param params the parameters to overwrite
 * @returns the checkpoint (for its metadata and extra tensors)
 */
export async function loadCheckpoint(path: string, params: ParameterSet): Promise<Checkpoint> {
  const ckpt = decodeCheckpoint(await Deno.readFile(path), path);
  const values = new Map<string, Float32Array>();
  for (const p of params.tensors) {
    const t = ckpt.tensors.get(p.name);
    if (!t) throw new Error(`${path}: parameter ${p.name} is missing`);
    if (t.shape.join() !== p.shape.join()) {
      throw new Error(
        `${path}: parameter ${p.name} is [${t.shape}], the model expects [${p.shape}]`,
      );
    }
    values.set(p.name, t.data);
  }
  params.load(values);
  return ckpt;
}

/**
 * Imports a PyTorch state dict saved as `.npz` (`np.savez(f, **{k: v.numpy() for k, v in
 * sd.items()})`) into a parameter set with the reference's names. 2-D weights are transposed.
 * Every parameter must be present with its shape; names in the file that the model lacks are
 * an error too (they mean the layouts differ).
 *
 * @param path the `.npz` file
 * @param params the parameters to overwrite
 */
export async function importTorchNpz(path: string, params: ParameterSet): Promise<void> {
  const arrays = await readNpz(await Deno.readFile(path), path);
  const values = new Map<string, Float32Array>();
  for (const p of params.tensors) {
    const a = arrays.get(p.name);
    if (!a) throw new Error(`${path}: the state dict has no ${p.name}`);
    let data = Float32Array.from(a.data);
    let shape = a.shape;
    if (shape.length === 2 && p.shape.length === 2) {
      const [out, inp] = shape;
      const t = new Float32Array(data.length);
      for (let o = 0; o < out; o++) {
        for (let i = 0; i < inp; i++) t[i * out + o] = data[o * inp + i];
      }
      data = t;
      shape = [inp, out];
    }
    if (shape.join() !== p.shape.join()) {
      throw new Error(
        `${path}: ${p.name} is [${a.shape}] in PyTorch's layout; the model expects [${p.shape}] (in×out)`,
      );
    }
    values.set(p.name, data);
  }
  const unknown = [...arrays.keys()].filter((k) => !values.has(k));
  if (unknown.length > 0) {
    throw new Error(`${path}: the state dict has names this model lacks: ${unknown.join(", ")}`);
  }
  params.load(values);
}
