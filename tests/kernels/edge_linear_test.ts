// edgeLinear (φe's first layer per node, one fused pass per edge) against the float64 reference
// tests/reference/edge_linear.ts, with finite differences (checks: see check_op.ts); and rowBlock.
import assert from "node:assert/strict";
import {
  concat,
  edgeLinear,
  endStep,
  fromArray,
  getGpu,
  read,
  rowBlock,
  rowIndex,
  scale,
} from "../../mod.ts";
import { tapeSwitches } from "../../lib/gpu/tape.ts";
import {
  edgeLinearBackward,
  type EdgeLinearCase,
  edgeLinearForward,
} from "../reference/edge_linear.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "./check_op.ts";

for (
  const [act, h, k, bias] of [["silu", 8, 1, true], ["none", 4, 3, false], [
    "tanh",
    12,
    2,
    true,
  ]] as const
) {
  Deno.test(`edgeLinear (${act}, H ${h}, K ${k}${bias ? ", bias" : ""}): forward and gradients match the reference`, async () => {
    await getGpu();
    const rng = new Random(40 + h + k);
    const nodes = 9, edges = 41;
    // Random receivers and senders (repeats, a node that receives nothing), not sorted.
    const receivers = rng.ints(edges, 0, nodes - 1), senders = rng.ints(edges, 0, nodes);
    const c: EdgeLinearCase = { nodes, h, k, receivers, senders, act };
    const recv = rowIndex(receivers, nodes), send = rowIndex(senders, nodes);
    try {
      await checkOp({
        name: `edgeLinear ${act} H ${h} K ${k}`,
        inputs: [
          { name: "p", data: rng.normals(nodes * h), shape: [nodes, h] },
          { name: "q", data: rng.normals(nodes * h), shape: [nodes, h] },
          { name: "rest", data: rng.normals(edges * k), shape: [edges, k] },
          { name: "w", data: rng.normals(k * h), shape: [k, h] },
          ...(bias ? [{ name: "b", data: rng.normals(h), shape: [h] }] : []),
        ],
        gpu: ([p, q, rest, w, b]) => edgeLinear(p, q, recv, send, rest, w, b ?? null, act),
        forward: ([p, q, rest, w, b]) => edgeLinearForward(c, p, q, rest, w, b ?? null),
        backward: ([p, q, rest, w, b], dy) => {
          const [dp, dq, drest, dw, db] = edgeLinearBackward(c, p, q, rest, w, b ?? null, dy);
          return bias ? [dp, dq, drest, dw, db] : [dp, dq, drest, dw];
        },
      });
    } finally {
      for (
        const t of [
          recv.index,
          recv.inversePtr,
          recv.inversePerm,
          send.index,
          send.inversePtr,
          send.inversePerm,
        ]
      ) t.dispose();
    }
  });
}

// cols 5: both blocks are copies; 64: both are views of x (every row starts at a multiple of 256
// bytes) whose gradients go straight into x's; 16: rows 1–2 are a copy, rows 4–5 a view.
for (const cols of [5, 64, 16]) {
  Deno.test(`rowBlock: two blocks of a 7×${cols} matrix; rows no block covers get a zero gradient`, async () => {
    const rng = new Random(47 + cols), rows = 7;
    await checkOp({
      name: `rowBlock rows 1–2 and 4–5 of 7×${cols}`,
      inputs: [{ name: "x", data: rng.normals(rows * cols), shape: [rows, cols] }],
      // out row r = [x[1 + r], 2·x[4 + r]]: the second block is taken after the first received
      // its gradient, so the weight's gradient is cleared once and accumulated twice.
      gpu: ([x]) => concat([rowBlock(x, 1, 3), scale(rowBlock(x, 4, 6), 2)]),
      forward: ([x]) => {
        const out = new Float64Array(2 * 2 * cols);
        for (let r = 0; r < 2; r++) {
          for (let c = 0; c < cols; c++) {
            out[r * 2 * cols + c] = x[(1 + r) * cols + c];
            out[r * 2 * cols + cols + c] = 2 * x[(4 + r) * cols + c];
          }
        }
        return out;
      },
      backward: (_, dy) => {
        const dx = new Float64Array(rows * cols);
        for (let r = 0; r < 2; r++) {
          for (let c = 0; c < cols; c++) {
            dx[(1 + r) * cols + c] = dy[r * 2 * cols + c];
            dx[(4 + r) * cols + c] = 2 * dy[r * 2 * cols + cols + c];
          }
        }
        return [dx];
      },
    });
  });
}

Deno.test("rowBlock: a view where rows start at 256 bytes, a copy elsewhere or when switched off", async () => {
  await getGpu();
  const x = fromArray(new Float32Array(7 * 64).map((_, i) => i), [7, 64]).keep();
  try {
    const v = rowBlock(x, 4, 6);
    assert.equal(v.buffer, x.buffer, "rows of a 64-wide matrix: a view");
    assert.equal(v.offset, 4 * 64 * 4);
    assert.deepEqual([...await read(v)].slice(0, 2), [256, 257]);
    const y = fromArray(new Float32Array(7 * 5), [7, 5]);
    assert.notEqual(rowBlock(y, 1, 3).buffer, y.buffer, "rows at byte 20: a copy");
    tapeSwitches.rowViews = false;
    assert.notEqual(rowBlock(x, 4, 6).buffer, x.buffer, "switched off: a copy");
  } finally {
    tapeSwitches.rowViews = true;
    x.dispose();
    endStep();
  }
});
