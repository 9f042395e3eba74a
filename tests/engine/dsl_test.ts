// The WGSL DSL: what it emits, what it caches, and that no other file writes bindings by hand.
import assert from "node:assert/strict";
import {
  defineKernel,
  endStep,
  fromArray,
  getGpu,
  read,
  recordDispatch,
  submit,
} from "../../mod.ts";

const axpy = defineKernel({
  name: "dsl_test_axpy",
  workgroupSize: 32,
  constants: { SQUASH: "bool", WIDTH: "u32" },
  uniforms: { n: "u32", alpha: "f32" },
  bindings: {
    x: { type: "f32", access: "read" },
    y: { type: "f32", access: "read_write" },
  },
  body: (c) => `
  if (index >= params.n) { return; }
  let v = params.alpha * x[index] + y[index];
  y[index] = ${c.SQUASH ? "silu(v)" : "v"};`,
});

Deno.test("dsl: emits bindings, the uniform struct, constants and only the helpers used", () => {
  const plain = axpy.variant({ SQUASH: false, WIDTH: 3 }).code;
  assert.match(plain, /struct Params \{ n: u32, alpha: f32, \}/);
  // params is read-only storage: lavapipe would inline a uniform buffer and recompile per dispatch
  assert.match(plain, /@group\(0\) @binding\(0\) var<storage, read> params: Params;/);
  assert.match(plain, /@group\(0\) @binding\(1\) var<storage, read> x: array<f32>;/);
  assert.match(plain, /@group\(0\) @binding\(2\) var<storage, read_write> y: array<f32>;/);
  assert.match(plain, /const WIDTH: u32 = 3u;/);
  assert.match(plain, /const SQUASH: bool = false;/);
  assert.doesNotMatch(plain, /fn silu|fn sigmoid/);
  const squashed = axpy.variant({ SQUASH: true, WIDTH: 3 }).code;
  // silu is used, and it needs sigmoid: both emitted, nothing else.
  assert.match(squashed, /fn silu/);
  assert.match(squashed, /fn sigmoid/);
  assert.doesNotMatch(squashed, /fn softplus|fn safeSqrt|fn siluGrad/);
});

Deno.test("dsl: variants are cached by name and constants", () => {
  const a = axpy.variant({ SQUASH: true, WIDTH: 3 });
  assert.equal(axpy.variant({ SQUASH: true, WIDTH: 3 }), a);
  assert.notEqual(axpy.variant({ SQUASH: true, WIDTH: 4 }), a);
  assert.throws(() => axpy.variant({ SQUASH: true }), /constant WIDTH not given/);
  assert.throws(() => axpy.variant({ SQUASH: 1, WIDTH: 3 }), /constant SQUASH must be a boolean/);
});

Deno.test("dsl: each dispatch of a submission sees its own uniforms", async () => {
  await getGpu();
  const x = fromArray([1, 2, 3, 4, 5], [5]);
  const y = fromArray([0, 0, 0, 0, 0], [5]);
  const v = axpy.variant({ SQUASH: false, WIDTH: 1 });
  recordDispatch(v, [x, y], 5, { n: 5, alpha: 1 });
  recordDispatch(v, [x, y], 3, { n: 3, alpha: 10 });
  recordDispatch(v, [x, y], 1, { n: 1, alpha: 100 });
  assert.deepEqual([...await read(y)], [111, 22, 33, 4, 5]);
  endStep();
});

Deno.test("dsl: uniforms recorded while a submission compiles stay apart from its own", async () => {
  await getGpu();
  const x = fromArray([1, 2, 3, 4], [4]);
  const y = fromArray([0, 0, 0, 0], [4]);
  // A variant never compiled before: the first submit awaits its compilation, and the second
  // step's dispatches (more than the staging's first 64 slots) are recorded meanwhile.
  const v = axpy.variant({ SQUASH: false, WIDTH: 7 });
  recordDispatch(v, [x, y], 4, { n: 4, alpha: 1 });
  const first = submit();
  for (let i = 0; i < 100; i++) recordDispatch(v, [x, y], 2, { n: 2, alpha: 1000 });
  await first;
  assert.deepEqual([...await read(y)], [100001, 200002, 3, 4]);
  endStep();
});

Deno.test("dsl: no file but lib/gpu/dsl.ts writes @group/@binding by hand", async () => {
  const offenders: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (path.endsWith(".ts") && !path.endsWith("lib/gpu/dsl.ts")) {
        if (/@(group|binding)\(/.test(await Deno.readTextFile(path))) offenders.push(path);
      }
    }
  };
  await walk(new URL("../../lib", import.meta.url).pathname);
  assert.deepEqual(offenders, []);
});
