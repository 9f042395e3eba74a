/**
 * The checkpoint of an interrupted training run, shared by the experiments' trainers: the
 * parameters, Adam's moments and step count, and the trainer's own state (`meta`: epoch, curve,
 * best, generator state …), written atomically; `--resume` reads it back.
 *
 * @module
 */

import type { Adam } from "../gpu/optim.ts";
import type { ParameterSet } from "../gpu/parameters.ts";
import { readMany, writeTensor } from "../gpu/tensor.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../io/checkpoint.ts";
import { writeFileAtomic } from "../io/atomic.ts";

/**
 * Writes parameters, Adam's state and `meta` to `path` (temp file + rename).
 *
 * @param path the checkpoint file
 * @param params the model's parameters (null: a method without any)
 * @param opt its optimiser (null with params)
 * @param meta the trainer's state (JSON)
 */
export async function saveTrainingCheckpoint(
  path: string,
  params: ParameterSet | null,
  opt: Adam | null,
  meta: Record<string, unknown>,
): Promise<void> {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  if (params && opt) {
    const values = await params.toHost();
    for (const p of params.tensors) {
      tensors.set(p.name, { shape: [...p.shape], data: values.get(p.name)! });
    }
    const [m, v] = await readMany([opt.state.m, opt.state.v]) as Float32Array[];
    tensors.set("adam.m", { shape: [m.length], data: m });
    tensors.set("adam.v", { shape: [v.length], data: v });
  }
  await writeFileAtomic(
    path,
    encodeCheckpoint({ meta: { ...meta, adamT: opt?.t ?? 0 }, tensors }),
  );
}

/**
 * Reads a checkpoint written by `saveTrainingCheckpoint` into the parameters and Adam, and
 * returns its `meta` — or null when there is no file. `run` names what identifies the run (lr,
 * seed, epochs …): each must equal the checkpoint's meta field of that name, or the checkpoint
 * belongs to another run and is refused, naming the fields that differ, before anything is loaded.
 *
 * @param path the checkpoint file
 * @param params the model's parameters (null: a method without any)
 * @param opt its optimiser (null with params)
 * @param run the fields that must match (compared as JSON)
 */
export async function loadTrainingCheckpoint(
  path: string,
  params: ParameterSet | null,
  opt: Adam | null,
  run: Record<string, unknown> = {},
): Promise<Record<string, unknown> | null> {
  const bytes = await Deno.readFile(path).catch(() => null);
  if (!bytes) return null;
  const ckpt = decodeCheckpoint(bytes, path);
  const meta = ckpt.meta as Record<string, unknown>;
  const differ = Object.entries(run).filter(([k, v]) =>
    JSON.stringify(meta[k]) !== JSON.stringify(v)
  );
  if (differ.length > 0) {
    // A setting absent on one side (a checkpoint older than the setting, or the setting off) is
    // "none".
    const show = (v: unknown) => JSON.stringify(v) ?? "none";
    throw new Error(
      `${path}: checkpoint of ${differ.map(([k]) => `${k} ${show(meta[k])}`).join(", ")}` +
        `; this run has ${differ.map(([k, v]) => `${k} ${show(v)}`).join(", ")} ` +
        `(remove it to start afresh)`,
    );
  }
  if (params) {
    const values = new Map<string, Float32Array>();
    for (const p of params.tensors) {
      const t = ckpt.tensors.get(p.name);
      if (!t) throw new Error(`${path}: parameter ${p.name} is missing`);
      values.set(p.name, t.data);
    }
    params.load(values);
    const m = ckpt.tensors.get("adam.m"), v = ckpt.tensors.get("adam.v");
    if (!m || !v || !opt) throw new Error(`${path}: Adam's moments are missing`);
    writeTensor(opt.state.m, m.data);
    writeTensor(opt.state.v, v.data);
    opt.t = (ckpt.meta as { adamT: number }).adamT;
  }
  return ckpt.meta as Record<string, unknown>;
}
