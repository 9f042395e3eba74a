// Checkpoints round-trip a model's parameters bit for bit, are written atomically, and refuse
// files that do not fit the model with an error naming the parameter.
import assert from "node:assert/strict";
import { EGNNVel, getGpu } from "../../mod.ts";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "../../lib/io/checkpoint.ts";

Deno.test("checkpoint: save then load restores every parameter bit for bit", async () => {
  await getGpu();
  const dir = await Deno.makeTempDir();
  const a = new EGNNVel({ hiddenNf: 8, seed: 1 });
  const b = new EGNNVel({ hiddenNf: 8, seed: 2 });
  const path = `${dir}/model.ckpt`;
  await saveCheckpoint(path, a.params, { seed: 1, epoch: 3 });
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.deepEqual(names, ["model.ckpt"], "no temporary file left behind");
  const ckpt = await loadCheckpoint(path, b.params);
  assert.deepEqual(ckpt.meta, { seed: 1, epoch: 3 });
  const va = await a.params.toHost(), vb = await b.params.toHost();
  for (const [name, v] of va) assert.deepEqual(vb.get(name), v, name);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: a file for another model names the parameter and the shapes", async () => {
  await getGpu();
  const dir = await Deno.makeTempDir();
  const small = new EGNNVel({ hiddenNf: 8 });
  await saveCheckpoint(`${dir}/small.ckpt`, small.params);
  const big = new EGNNVel({ hiddenNf: 16 });
  await assert.rejects(
    loadCheckpoint(`${dir}/small.ckpt`, big.params),
    /small.ckpt: parameter embedding.weight is \[1,8\], the model expects \[1,16\]/,
  );
  await Deno.writeTextFile(`${dir}/junk.ckpt`, "hello");
  await assert.rejects(
    loadCheckpoint(`${dir}/junk.ckpt`, big.params),
    /not an egnn-webgpu checkpoint/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: the encoding keeps extra tensors and refuses truncated data", () => {
  const tensors = new Map([
    ["w", { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ["adam.m", { shape: [1], data: Float32Array.from([0.5]) }],
  ]);
  const bytes = encodeCheckpoint({ meta: { note: "x" }, tensors });
  const back = decodeCheckpoint(bytes);
  assert.deepEqual(back.tensors, tensors);
  assert.throws(
    () => decodeCheckpoint(bytes.subarray(0, bytes.length - 4)),
    /adam.m \[1\] lies outside/,
  );
});
