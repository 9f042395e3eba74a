// mod.ts is importable from a URL: the test serves the repository over HTTP on 127.0.0.1, imports
// `http://127.0.0.1:<port>/mod.ts` (no npm dependency on the library path, no import map), builds
// an EGNN and runs one forward pass on the GPU adapter.
import assert from "node:assert/strict";

const root = decodeURIComponent(new URL("../", import.meta.url).pathname);

Deno.test("mod.ts imported over http:// builds an EGNN and runs a forward pass", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (path.includes("..") || !path.endsWith(".ts")) return new Response("no", { status: 404 });
    try {
      const body = await Deno.readFile(root + path.slice(1));
      return new Response(body, { headers: { "content-type": "application/typescript" } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/mod.ts`;
    const egnn = await import(url) as typeof import("../mod.ts");
    await egnn.getGpu();
    const model = new egnn.EGNN({ inNodeNf: 2, hiddenNf: 8, outNodeNf: 2, nLayers: 2 });
    const g = egnn.uploadGraph(egnn.fullyConnected([3, 2]));
    const h = egnn.fromArray(new Float32Array(10).fill(0.5), [5, 2]);
    const x = egnn.fromArray([0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 0, 1, 0, 2, 2], [5, 3]);
    const out = model.forward(h, x, g, null);
    const [hOut, xOut] = await egnn.readMany([out.h, out.x]);
    assert.equal(hOut.length, 10);
    assert.equal(xOut.length, 15);
    assert.ok([...hOut, ...xOut].every(Number.isFinite));
    egnn.resetTape();
    egnn.endStep();
    g.dispose();
  } finally {
    await server.shutdown();
  }
});
