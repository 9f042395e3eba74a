// The buffer pool hands out the lowest-numbered free buffer of a size class first, whatever the
// order buffers came back in, so that a repeated step gets the same buffers (and bind groups).
import assert from "node:assert/strict";
import { getGpu } from "../../mod.ts";
import { BufferPool, sizeClass } from "../../lib/gpu/pool.ts";

Deno.test("pool: size classes and lowest-created-first reuse", async () => {
  await getGpu();
  assert.equal(sizeClass(1), 256);
  assert.equal(sizeClass(257), 512);
  assert.equal(sizeClass(70000), 81920); // quarter steps of 65536 above 64 KiB
  const pool = new BufferPool();
  const [a, b, c] = [pool.acquire(1000), pool.acquire(1000), pool.acquire(1000)];
  assert.equal(pool.stats.created, 3);
  for (const order of [[a, b, c], [c, b, a], [b, c, a]]) {
    for (const x of order) pool.release(x);
    const got = [pool.acquire(1000), pool.acquire(1000), pool.acquire(1000)];
    // By identity (deepEqual sees no own properties on a GPUBuffer).
    assert.deepEqual(got.map((x) => [a, b, c].indexOf(x)), [0, 1, 2], "lowest-created first");
  }
  assert.equal(pool.stats.created, 3, "nothing new created");
  const other = pool.acquire(5000); // another size class: a new buffer
  assert.equal(other.size, 5120);
  assert.equal(pool.stats.created, 4);
  for (const x of [a, b, c, other]) pool.release(x);
  pool.trim();
  assert.equal(pool.stats.bytes, 0);
});
