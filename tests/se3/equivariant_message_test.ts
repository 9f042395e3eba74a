// equivariantMessage against its float64 reference (tests/reference/se3_message.ts): forward,
// gradients with respect to the radial weights, the basis and the features, and finite
// differences (tests/kernels/check_op.ts), for every (lo, li) block of types ≤ 2; then chained
// after sphericalBasis with two blocks sharing one basis tensor (the gradient to x_i − x_j).
import { add, getGpu, type RowIndex, rowIndex } from "../../mod.ts";
import { equivariantMessage } from "../../lib/gpu/kernels/equivariant_message.ts";
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
