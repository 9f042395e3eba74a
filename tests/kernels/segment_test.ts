// gatherRows (backward: scatter-add by source row) and segmentSum / segmentMean over row
// pointers (backward: gather by segment), against tests/reference/segment.ts. Cases include
// source rows never gathered (zero gradient), empty segments (zero output), a graph of one node
// and no edges, and a message-passing graph where a node's features are gathered twice.
import assert from "node:assert/strict";
import {
  add,
  appendSegmentSum,
  concat,
  gatherRows,
  getGpu,
  type RowIndex,
  rowIndex,
  segmentMean,
  type Segments,
  segments,
  segmentSum,
} from "../../mod.ts";
import {
  gatherRowsBackward,
  gatherRowsForward,
  segmentSumBackward,
  segmentSumForward,
} from "../reference/segment.ts";
import { concatBackward, concatForward } from "../reference/columns.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "./check_op.ts";

function disposeIndex(i: RowIndex) {
  i.index.dispose();
  i.inversePtr.dispose();
  i.inversePerm.dispose();
}

function disposeSegments(s: Segments) {
  s.ptr.dispose();
  s.ids.dispose();
  s.invCount.dispose();
}

/** Row pointers of segments with these element counts. */
function pointers(counts: number[]): number[] {
  const ptr = [0];
  for (const c of counts) ptr.push(ptr[ptr.length - 1] + c);
  return ptr;
}

function rowsOf(grad: Float64Array, rows: number[], w: number): number[] {
  return rows.flatMap((r) => Array.from(grad.subarray(r * w, (r + 1) * w)));
}

async function checkGather(rows: number, w: number, index: number[], seed: number) {
  await getGpu();
  const idx = rowIndex(index, rows);
  const unused = Array.from({ length: rows }, (_, r) => r).filter((r) => !index.includes(r));
  assert.ok(unused.length > 0, "the case must leave some source rows ungathered");
  try {
    const r = await checkOp({
      name: `gatherRows ${rows}×${w} → ${index.length} rows`,
      seed,
      inputs: [{ name: "x", data: new Random(seed).normals(rows * w), shape: [rows, w] }],
      gpu: ([x]) => gatherRows(x, idx),
      forward: ([x]) => gatherRowsForward(x, index, w),
      backward: (_, dout) => [gatherRowsBackward(dout, index, rows, w)],
    });
    assert.deepEqual(rowsOf(r.grads[0]!, unused, w), new Array(unused.length * w).fill(0));
  } finally {
    disposeIndex(idx);
  }
}

Deno.test("gatherRows: forward and gradient (scatter-add) match the reference; unused rows get 0", () =>
  checkGather(9, 5, [0, 2, 2, 8, 1, 5, 5, 5, 0, 4, 6, 2, 8, 8, 1, 0, 6, 4, 5, 2, 1, 1, 0], 21));

Deno.test("gatherRows: 70×3 → 131 random rows (repeats, unused rows) match the reference", () => {
  const rng = new Random(22);
  return checkGather(70, 3, rng.ints(131, 0, 70), 22);
});

Deno.test("gatherRows (vec4): 70×8 → 131 random rows match the reference", () => {
  const rng = new Random(23);
  return checkGather(70, 8, rng.ints(131, 0, 70), 23);
});

async function checkSegments(counts: number[], w: number, mean: boolean, seed: number) {
  await getGpu();
  const ptr = pointers(counts);
  const seg = segments(ptr);
  const op = mean ? "segmentMean" : "segmentSum";
  try {
    const r = await checkOp({
      name: `${op} ${ptr[counts.length]}×${w} → ${counts.length} segments`,
      seed,
      inputs: [{
        name: "x",
        data: new Random(seed).normals(ptr[counts.length] * w),
        shape: [ptr[counts.length], w],
      }],
      gpu: ([x]) => (mean ? segmentMean : segmentSum)(x, seg),
      forward: ([x]) => segmentSumForward(x, ptr, w, mean),
      backward: (_, dout) => [segmentSumBackward(dout, ptr, w, mean)],
    });
    const empty = counts.flatMap((c, s) => (c === 0 ? [s] : []));
    assert.deepEqual(rowsOf(r.out, empty, w), new Array(empty.length * w).fill(0));
  } finally {
    disposeSegments(seg);
  }
}

const COUNTS = [0, 3, 1, 0, 0, 7, 12, 0]; // empty segments first, inside and last

Deno.test("segmentSum: forward and gradient match the reference; empty segments give 0", () =>
  checkSegments(COUNTS, 5, false, 23));

Deno.test("segmentMean: forward and gradient match the reference; empty segments give 0", () =>
  checkSegments(COUNTS, 5, true, 24));

Deno.test("segmentSum: 67 segments of 0–4 rows, one column, match the reference", () =>
  checkSegments(new Random(25).ints(67, 0, 5), 1, false, 25));

Deno.test("segmentMean: 67 segments of 0–4 rows, three columns, match the reference", () =>
  checkSegments(new Random(26).ints(67, 0, 5), 3, true, 26));

for (const mean of [false, true]) {
  const op = mean ? "segmentMean" : "segmentSum";
  Deno.test(`${op}: a graph of one node and no edges gives zeros; h + ${op}(gather(h)) → dh = seed`, async () => {
    await getGpu();
    const idx = rowIndex([], 1);
    const seg = segments([0, 0]);
    try {
      await checkOp({
        name: `one node, ${op}`,
        inputs: [{ name: "h", data: new Random(27).normals(4), shape: [1, 4] }],
        gpu: ([h]) => add((mean ? segmentMean : segmentSum)(gatherRows(h, idx), seg), h),
        forward: ([h]) => Float64Array.from(h),
        backward: (_, dout) => [Float64Array.from(dout)],
      });
    } finally {
      disposeIndex(idx);
      disposeSegments(seg);
    }
  });
}

Deno.test("segmentSum: one node, no edges, alone: output and gradient are exact zeros", async () => {
  await getGpu();
  const idx = rowIndex([], 1);
  const seg = segments([0, 0]);
  try {
    const r = await checkOp({
      name: "one node, segmentSum(gatherRows(h))",
      inputs: [{ name: "h", data: new Random(29).normals(3), shape: [1, 3] }],
      gpu: ([h]) => segmentSum(gatherRows(h, idx), seg),
      forward: () => new Float64Array(3),
      backward: () => [new Float64Array(3)],
    });
    // The gradient buffer comes from the pool: zeros here mean the kernel wrote them.
    assert.deepEqual(Array.from(r.grads[0]!), [0, 0, 0]);
  } finally {
    disposeIndex(idx);
    disposeSegments(seg);
  }
});

// x feeds both the aggregation and, directly, the concat (EGNN's [h, Σ m] pattern): the concat's
// backward writes dx first, the segment op's backward (a gather by segment) adds to it.
for (const mean of [false, true]) {
  const op = mean ? "segmentMean" : "segmentSum";
  Deno.test(`${op}: x used twice, concat([gather(${op}(x), segment of row), x]), accumulates dx`, async () => {
    await getGpu();
    const counts = [4, 0, 1, 6, 0, 2], w = 3, rng = new Random(mean ? 30 : 31);
    const ptr = pointers(counts);
    const e = ptr[counts.length];
    const segmentOf = counts.flatMap((c, s) => new Array(c).fill(s));
    const seg = segments(ptr), back = rowIndex(segmentOf, counts.length);
    try {
      await checkOp({
        name: `concat([gather(${op}(x)), x])`,
        seed: 30,
        inputs: [{ name: "x", data: rng.normals(e * w), shape: [e, w] }],
        gpu: ([x]) => concat([gatherRows((mean ? segmentMean : segmentSum)(x, seg), back), x]),
        forward: ([x]) =>
          concatForward(
            [
              gatherRowsForward(segmentSumForward(x, ptr, w, mean), segmentOf, w),
              x,
            ],
            [w, w],
            e,
          ),
        backward: (_, dout) => {
          const [dAgg, dx] = concatBackward(dout, [w, w], e);
          const dSeg = gatherRowsBackward(dAgg, segmentOf, counts.length, w);
          const viaSeg = segmentSumBackward(dSeg, ptr, w, mean);
          return [dx.map((v, i) => v + viaSeg[i])];
        },
      });
    } finally {
      disposeSegments(seg);
      disposeIndex(back);
    }
  });
}

// One message-passing round: m_ij = [h_i, h_j] over receiver-sorted edges, then the mean per
// receiver. h is gathered twice, so its gradient accumulates over both gathers.
Deno.test("segment ops: segmentMean(concat(gather(h, recv), gather(h, send))) accumulates dh", async () => {
  await getGpu();
  const nodes = 7, w = 4, rng = new Random(28);
  const inDegree = [3, 0, 5, 2, 0, 8, 1]; // nodes 1 and 4 receive nothing
  const recv = inDegree.flatMap((d, i) => new Array(d).fill(i));
  const send = recv.map(() => [0, 2, 3, 5][rng.int(0, 4)]); // nodes 1, 4, 6 never send
  const ptr = pointers(inDegree);
  const recvIdx = rowIndex(recv, nodes), sendIdx = rowIndex(send, nodes);
  const seg = segments(ptr);
  const e = recv.length;
  const forward = (h: Float64Array) => {
    const m = concatForward(
      [gatherRowsForward(h, recv, w), gatherRowsForward(h, send, w)],
      [w, w],
      e,
    );
    return segmentSumForward(m, ptr, 2 * w, true);
  };
  try {
    await checkOp({
      name: "message passing",
      seed: 28,
      inputs: [{ name: "h", data: rng.normals(nodes * w), shape: [nodes, w] }],
      gpu: ([h]) => segmentMean(concat([gatherRows(h, recvIdx), gatherRows(h, sendIdx)]), seg),
      forward: ([h]) => forward(h),
      backward: (_, dout) => {
        const [dRecv, dSend] = concatBackward(
          segmentSumBackward(dout, ptr, 2 * w, true),
          [w, w],
          e,
        );
        const a = gatherRowsBackward(dRecv, recv, nodes, w);
        const b = gatherRowsBackward(dSend, send, nodes, w);
        return [a.map((v, i) => v + b[i])];
      },
    });
  } finally {
    disposeIndex(recvIdx);
    disposeIndex(sendIdx);
    disposeSegments(seg);
  }
});

Deno.test("segmentSum (vec4): 67 segments of 0–4 rows, eight columns, match the reference", () =>
  checkSegments(new Random(27).ints(67, 0, 5), 8, false, 27));

Deno.test("segmentMean (vec4): 67 segments of 0–4 rows, four columns, match the reference", () =>
  checkSegments(new Random(28).ints(67, 0, 5), 4, true, 28));

/** appendSegmentSum(h, m, seg) against concat([h, segmentSum(m)]) in float64, forward and FD. */
async function checkAppend(f: number, w: number, seed: number) {
  await getGpu();
  const ptr = pointers(COUNTS), rows = ptr[COUNTS.length], n = COUNTS.length;
  const seg = segments(ptr);
  const rng = new Random(seed);
  try {
    await checkOp({
      name: `appendSegmentSum h ${n}×${f}, m ${rows}×${w}`,
      seed,
      inputs: [
        { name: "h", data: rng.normals(n * f), shape: [n, f] },
        { name: "m", data: rng.normals(rows * w), shape: [rows, w] },
      ],
      gpu: ([h, m]) => appendSegmentSum(h, m, seg),
      forward: ([h, m]) => concatForward([h, segmentSumForward(m, ptr, w, false)], [f, w], n),
      backward: (_, dout) => {
        const [dh, dmi] = concatBackward(dout, [f, w], n);
        return [dh, segmentSumBackward(dmi, ptr, w, false)];
      },
    });
  } finally {
    disposeSegments(seg);
  }
}

Deno.test("appendSegmentSum: [h | Σ m] and its gradients match the reference (scalar: h 3, m 5 wide)", () =>
  checkAppend(3, 5, 31));

Deno.test("appendSegmentSum (vec4): [h | Σ m] and its gradients match the reference (h 4, m 8 wide)", () =>
  checkAppend(4, 8, 32));
