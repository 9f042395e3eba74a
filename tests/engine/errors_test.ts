// Bad input gives an error that names the op and the problem, not a raw WebGPU dump.
import assert from "node:assert/strict";
import {
  defineKernel,
  empty,
  endStep,
  fromArray,
  getGpu,
  linear,
  read,
  recordDispatch,
  resetTape,
  rowIndex,
  segments,
  submit,
} from "../../mod.ts";

Deno.test("errors: shapes that do not match name the op and both shapes", async () => {
  await getGpu();
  const x = fromArray(new Float32Array(12), [3, 4]);
  const w = fromArray(new Float32Array(10), [5, 2]);
  assert.throws(() => linear(x, w, null), /linear: x is \[3,4\] but weight is \[5,2\]/);
  const w2 = fromArray(new Float32Array(8), [4, 2]);
  assert.throws(
    () => linear(x, w2, fromArray([1, 2, 3], [3])),
    /linear: bias has 3 values for 2 outputs/,
  );
  resetTape();
  endStep();
});

Deno.test("errors: an index out of range names the entry and the range", async () => {
  await getGpu();
  assert.throws(() => rowIndex([0, 4, 9], 5), /rowIndex: entry 2 is 9, out of range \[0, 5\)/);
  assert.throws(() => segments([0, 3, 2]), /segments: ptr decreases at 1/);
  endStep();
});

Deno.test("errors: a binding over the adapter's limit is refused before WebGPU sees it", async () => {
  const { info } = await getGpu();
  const tooMany = Math.floor(info.maxStorageBufferBindingSize / 4) + 1024;
  assert.throws(
    () => empty([tooMany]),
    /empty: a tensor \[\d+\] of \d+ bytes exceeds the adapter's storage binding limit/,
  );
  const k = defineKernel({
    name: "big_copy",
    workgroupSize: 64,
    bindings: { a: { type: "f32", access: "read" }, b: { type: "f32", access: "read_write" } },
    body: "b[index] = a[index];",
  });
  const small = empty([4]);
  const huge = { buffer: small.buffer, offset: 0, bytes: info.maxStorageBufferBindingSize + 4 };
  assert.throws(
    () => recordDispatch(k.variant(), [huge, small], 4),
    /kernel big_copy: binding a is \d+ bytes, over the adapter's storage binding limit/,
  );
  assert.throws(
    () => recordDispatch(k.variant(), [small], 4),
    /kernel big_copy: 1 tensors given for 2 bindings \(a, b\)/,
  );
  endStep();
});

Deno.test("errors: a kernel body that does not compile names the kernel and the line", async () => {
  await getGpu();
  const bad = defineKernel({
    name: "broken_kernel",
    workgroupSize: 64,
    uniforms: { n: "u32" },
    bindings: { x: { type: "f32", access: "read_write" } },
    body: "if (index < params.n) { x[index] = undefinedHelper(x[index]); }",
  });
  const t = empty([8]);
  recordDispatch(bad.variant(), [t], 8, { n: 8 });
  await assert.rejects(
    submit(),
    (e: Error) => {
      assert.match(e.message, /kernel broken_kernel does not compile/);
      assert.match(e.message, /undefinedHelper/);
      assert.match(e.message, /line \d+:\d+/);
      assert.doesNotMatch(e.message, /┌─/); // not the raw compiler dump
      return true;
    },
  );
  // The engine stays usable after the failure.
  const y = await read(fromArray([1, 2, 3], [3]));
  assert.deepEqual([...y], [1, 2, 3]);
  endStep();
});

Deno.test("errors: a tensor used after its step ended says so", async () => {
  await getGpu();
  const t = fromArray([1, 2], [2]);
  endStep();
  assert.throws(() => t.buffer, /was used after it was released/);
});
