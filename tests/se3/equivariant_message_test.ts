// equivariantMessage against its float64 reference (tests/reference/se3_message.ts): forward,
// gradients with respect to the radial weights, the basis and the features, and finite
// differences (tests/kernels/check_op.ts), for every (lo, li) block of types ≤ 2; then chained
// after sphericalBasis with two blocks sharing one basis tensor (the gradient to x_i − x_j);
// then its two halves shared as the attention block shares them (one projection, two radial
// contractions; one features tensor, two projections), at channel counts that leave the
// kernels' groups partly empty.
import { add, getGpu, type RowIndex, rowIndex } from "../../mod.ts";
import {
  contractRadial,
  equivariantMessage,
  groupSize,
  MAX_CHANNEL_GROUP,
  MAX_CHUNK_GROUP,
  projectOnBasis,
} from "../../lib/gpu/kernels/equivariant_message.ts";
import { concat } from "../../lib/gpu/kernels/columns.ts";
import { sphericalBasis } from "../../lib/gpu/kernels/spherical_basis.ts";
import { basisLayout, basisPair } from "../../lib/egnn/se3/clebsch_gordan.ts";
import { messageBackward, messageForward, type MessageShape } from "../reference/se3_message.ts";
import { sphericalBasisBackward, sphericalBasisForward } from "../reference/se3_basis.ts";
import { Random } from "../reference/random.ts";
import { checkOp } from "../kernels/check_op.ts";

const NODES = 7;
// Senders of a small directed graph; node 6 sends nothing (its feature gradient must be 0).
const SEND = [1, 2, 0, 3, 5, 0, 4, 1, 2, 5, 3, 0, 4, 5, 1, 2, 3];

async function withSenders(fn: (s: RowIndex) => Promise<void>): Promise<void> {
  await getGpu();
  const senders = rowIndex(SEND, NODES);
  try {
    await fn(senders);
  } finally {
    for (const t of [senders.index, senders.inversePtr, senders.inversePerm]) t.dispose();
  }
}

const layout2 = basisLayout(2);
const PAIRS: [number, number][] = [[0, 0], [1, 1], [2, 1], [1, 2], [2, 2], [0, 2], [1, 0]];

for (const [lo, li] of PAIRS) {
  Deno.test(`equivariantMessage (${li} → ${lo}): forward and dR, dQ, df match float64`, () =>
    withSenders(async (senders) => {
      const pair = basisPair(layout2, lo, li);
      const s: MessageShape = {
        co: 2,
        ci: 3,
        dO: 2 * lo + 1,
        dI: 2 * li + 1,
        nJ: pair.js.length,
        width: layout2.width,
        offset: pair.offset,
      };
      const edges = SEND.length, rng = new Random(100 + 10 * lo + li);
      await checkOp({
        name: `equivariantMessage ${li}→${lo}`,
        inputs: [
          {
            name: "radial",
            data: rng.normals(edges * s.co * s.ci * s.nJ),
            shape: [edges, s.co * s.ci * s.nJ],
          },
          { name: "basis", data: rng.normals(edges * s.width), shape: [edges, s.width] },
          { name: "feat", data: rng.normals(NODES * s.ci * s.dI), shape: [NODES, s.ci * s.dI] },
        ],
        gpu: ([r, q, f]) => equivariantMessage(r, q, pair, f, senders),
        forward: ([r, q, f]) => messageForward(r, q, f, SEND, s),
        backward: ([r, q, f], dm) => messageBackward(r, q, f, SEND, dm, s),
      });
    }));
}

Deno.test("equivariantMessage: two blocks share sphericalBasis(x_i − x_j); d(x_i − x_j)", () =>
  withSenders(async (senders) => {
    const layout = basisLayout(1), edges = SEND.length, rng = new Random(131);
    const p10 = basisPair(layout, 1, 0), p11 = basisPair(layout, 1, 1);
    const shape = (li: number, nJ: number, offset: number): MessageShape => ({
      co: 2,
      ci: 2,
      dO: 3,
      dI: 2 * li + 1,
      nJ,
      width: layout.width,
      offset,
    });
    const s10 = shape(0, 1, p10.offset), s11 = shape(1, 3, p11.offset);
    await checkOp({
      name: "m(1←0) + m(1←1) on sphericalBasis",
      inputs: [
        { name: "rel", data: rng.normals(edges * 3), shape: [edges, 3] },
        { name: "radial10", data: rng.normals(edges * 4), shape: [edges, 4] },
        { name: "radial11", data: rng.normals(edges * 12), shape: [edges, 12] },
        { name: "f0", data: rng.normals(NODES * 2), shape: [NODES, 2] },
        { name: "f1", data: rng.normals(NODES * 6), shape: [NODES, 6] },
      ],
      gpu: ([rel, r10, r11, f0, f1]) => {
        const q = sphericalBasis(rel, 1);
        return add(
          equivariantMessage(r10, q, p10, f0, senders),
          equivariantMessage(r11, q, p11, f1, senders),
        );
      },
      forward: ([rel, r10, r11, f0, f1]) => {
        const q = sphericalBasisForward(rel, 1);
        const a = messageForward(r10, q, f0, SEND, s10), b = messageForward(r11, q, f1, SEND, s11);
        return a.map((v, i) => v + b[i]);
      },
      backward: ([rel, r10, r11, f0, f1], dm) => {
        const q = sphericalBasisForward(rel, 1);
        const [dr10, dqa, df0] = messageBackward(r10, q, f0, SEND, dm, s10);
        const [dr11, dqb, df1] = messageBackward(r11, q, f1, SEND, dm, s11);
        const drel = sphericalBasisBackward(rel, dqa.map((v, i) => v + dqb[i]), 1);
        return [drel, dr10, dr11, df0, df1];
      },
      gpuFdPoints: 3,
    });
  }));

Deno.test("equivariantMessage: a projection shared by two contractions, partial groups", () =>
  withSenders(async (senders) => {
    // 25 output and input channels: groups of 13 + 12 (m, dR, T, df); K = 75 (KC = 19 chunks,
    // the last one 3/4 full; dT groups of 5 + 5 + 5 + 4).
    const co = 25, ci = 25, edges = SEND.length, rng = new Random(151);
    const partial = (n: number, max: number) => n % groupSize(n, max) !== 0;
    if (!partial(co, MAX_CHANNEL_GROUP) || !partial(19, MAX_CHUNK_GROUP)) {
      throw new Error("the case no longer leaves partial groups: change its sizes");
    }
    const p11 = basisPair(layout2, 1, 1), p21 = basisPair(layout2, 2, 1);
    const shape = (lo: number, offset: number): MessageShape => ({
      co,
      ci,
      dO: 2 * lo + 1,
      dI: 3,
      nJ: 3,
      width: layout2.width,
      offset,
    });
    const s11 = shape(1, p11.offset), s21 = shape(2, p21.offset);
    const nr = edges * co * ci * 3;
    await checkOp({
      name: "[R1·P11 + R2·P11, R1·P21] on one f",
      inputs: [
        { name: "basis", data: rng.normals(edges * layout2.width), shape: [edges, layout2.width] },
        { name: "f1", data: rng.normals(NODES * ci * 3), shape: [NODES, ci * 3] },
        { name: "r1", data: rng.normals(nr), shape: [edges, co * ci * 3] },
        { name: "r2", data: rng.normals(nr), shape: [edges, co * ci * 3] },
      ],
      gpu: ([q, f1, r1, r2]) => {
        const t11 = projectOnBasis(q, p11, f1, senders), t21 = projectOnBasis(q, p21, f1, senders);
        return concat([
          add(contractRadial(r1, t11), contractRadial(r2, t11)),
          contractRadial(r1, t21),
        ]);
      },
      forward: ([q, f1, r1, r2]) => {
        const a = messageForward(r1, q, f1, SEND, s11), b = messageForward(r2, q, f1, SEND, s11);
        const c = messageForward(r1, q, f1, SEND, s21);
        return joinRows(a.map((v, i) => v + b[i]), co * 3, c, co * 5);
      },
      backward: ([q, f1, r1, r2], dm) => {
        const [dm11, dm21] = splitRows(dm, co * 3, co * 5);
        const [dra, dqa, dfa] = messageBackward(r1, q, f1, SEND, dm11, s11);
        const [drb, dqb, dfb] = messageBackward(r2, q, f1, SEND, dm11, s11);
        const [drc, dqc, dfc] = messageBackward(r1, q, f1, SEND, dm21, s21);
        return [
          dqa.map((v, i) => v + dqb[i] + dqc[i]),
          dfa.map((v, i) => v + dfb[i] + dfc[i]),
          dra.map((v, i) => v + drc[i]),
          drb,
        ];
      },
      gpuFdPoints: 3,
    });
  }));

/** Rows of a (width wa) and b (width wb) side by side. */
function joinRows(a: Float64Array, wa: number, b: Float64Array, wb: number): Float64Array {
  const rows = a.length / wa, out = new Float64Array(rows * (wa + wb));
  for (let r = 0; r < rows; r++) {
    out.set(a.subarray(r * wa, (r + 1) * wa), r * (wa + wb));
    out.set(b.subarray(r * wb, (r + 1) * wb), r * (wa + wb) + wa);
  }
  return out;
}

/** The inverse of `joinRows`. */
function splitRows(x: Float64Array, wa: number, wb: number): [Float64Array, Float64Array] {
  const rows = x.length / (wa + wb);
  const a = new Float64Array(rows * wa), b = new Float64Array(rows * wb);
  for (let r = 0; r < rows; r++) {
    a.set(x.subarray(r * (wa + wb), r * (wa + wb) + wa), r * wa);
    b.set(x.subarray(r * (wa + wb) + wa, (r + 1) * (wa + wb)), r * wb);
  }
  return [a, b];
}
