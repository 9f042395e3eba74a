/**
 * `equivariantMessage`: the message of a TFN convolution from one input type li to one output
 * type lo, on every edge e = (i, j) (the reference's `PairwiseConv` followed by `kernel @ src`):
 *
 *   m_e[co, mo] = Σ_{ci, J} R_e[co, ci, J] · Σ_mi Q^J_e[mo, mi] · f_{j(e)}[ci, mi],
 *
 * R_e the radial weights (E × CO·CI·NJ, laid out [co][ci][J]), Q_e the (lo, li) block of the
 * per-edge kernel basis (`sphericalBasis`), f the input features (N × CI·(2li+1), [ci][mi]).
 * The sender's row is read through the gather index, never materialised per edge.
 *
 * Factored in two ops, k = (ci, J) (K = CI·NJ values):
 * - `projectOnBasis`: the projection T_e[k, mo] = Σ_mi Q^J_e[mo, mi]·f_{j(e)}[ci, mi]; it
 *   depends on the basis block and the features only, so the values and the keys of an
 *   attention block share it; backward df (per node, over its outgoing edges through the
 *   sender-sorted permutation: deterministic, no atomics) and dQ, both from dT;
 * - `contractRadial`: m_e[co, mo] = Σ_k R_e[co, k]·T_e[k, mo], a CO×K by K×DO product per edge;
 *   backward dR_e = dm_e·T_eᵀ and dT_e = R_eᵀ·dm_e.
 * That is 2·CO·K·DO multiply-adds per edge for the forward and for each of dR and dT, against
 * CO·K·DO·DI for each of the unfactored loops (dR was 55k per edge at 21/21/5/5/5).
 *
 * Layout and strategy, for Mesa's CPU adapter (see matmul.ts: a storage read whose address
 * differs between invocations costs as much as hundreds of multiply-adds, a vec4 about as much
 * as a scalar): T is stored in chunks of 4 k, E × KC·DO·4 with KC = ⌈K/4⌉ ([kc][mo][4], zero
 * past K), so the contractions read it as vec4s. R's rows (K values from (e·CO + co)·K) are not
 * vec4-aligned: they are read as a stream of aligned vec4s, each chunk of 4 k shifted out of
 * two neighbours (`shifted`; the shift differs per row and invocation, a select is cheap), the
 * chunk past K masked to 0. Each invocation owns a group of output rows (COG rows of m or dR, CIG
 * channels of T or df, KCG chunks of dT), so that what the group shares (T's chunks, the
 * basis block, dm's rows) is read once per group; the forward and dT unroll the loops over their
 * group in the generated WGSL, so that carries and accumulators are registers rather than
 * private arrays indexed at run time (the forward 25 ms against 31, dT 24 against 29).
 * Measured on lavapipe, 20 five-body systems (400 edges), pairs (lo, li) = (2,2), (1,1), (2,1),
 * (1,2), (0,2) at 21 channels, forward and backward: 74 ms against 756 ms for the unfactored
 * kernels (one invocation per (e, co) or (e, co, ci), Q and f re-read from storage by each).
 * The price is compile time: five kernels per pair instead of three, each variant ~0.3–1 s
 * to compile cold (the unrolled forward at CO = 21, DO = 5 the longest); Mesa's disk cache
 * keeps them after the first run. The kernels' WGSL is in equivariant_message_wgsl.ts.
 *
 * @module
 */

import { recordClear, recordDispatch } from "../commands.ts";
import { empty, type Tensor } from "../tensor.ts";
import { gradOf, gradSlot, needsGrad, recordOp } from "../tape.ts";
import type { RowIndex } from "./segment.ts";
import type { BasisPair } from "../../egnn/se3/clebsch_gordan.ts";
import {
  contractKernel,
  contractProjGradKernel,
  contractRadialGradKernel,
  projectBasisGradKernel,
  projectFeatGradKernel,
  projectKernel,
} from "./equivariant_message_wgsl.ts";

/**
 * The group size g in [⌈max/2⌉, max] (n itself when n ≤ max) that leaves the fewest idle slots
 * in ⌈n/g⌉ groups, the larger on ties.
 */
export function groupSize(n: number, max: number): number {
  if (n <= max) return n;
  let best = max;
  for (let g = max; g >= Math.ceil(max / 2); g--) {
    if (Math.ceil(n / g) * g - n < Math.ceil(n / best) * best - n) best = g;
  }
  return best;
}

/**
 * Most channels per invocation: output channels of m and dR, input channels of T and df. All
 * of the N-body models' 16 or 21 in one group: on lavapipe (20 five-body systems, types ≤ 2)
 * the forward took 25 ms where groups of at most 8 took 32–38, dR 14 where 8 took 23; T and df
 * gained less (~15 %), groups of 4 lost 40 %.
 */
export const MAX_CHANNEL_GROUP = 24;
/**
 * Most chunks of 4 k per invocation of dT: 9 (dT in 24 ms) against 4 (29 ms; dm's values are
 * read once per group).
 */
export const MAX_CHUNK_GROUP = 9;

/** T_e[k, mo] (`projectOnBasis`): the tensor and the sizes its consumers need. */
export interface BasisProjection {
  /** E × KC·DO·4, laid out [kc][mo][4] (k = ci·NJ + J = 4·kc + lane), zero past K. */
  tensor: Tensor;
  /** Input channels CI. */
  ci: number;
  /** NJ, the number of J of the block. */
  nJ: number;
  /** 2lo + 1. */
  dO: number;
}

/**
 * The projection of the senders' features on the (lo, li) block of the kernel basis (see the
 * module): T_e[(ci, J), mo] = Σ_mi Q^J_e[mo, mi]·f_{j(e)}[ci, mi].
 *
 * @param basis E × width: the per-edge kernel basis (`sphericalBasis`)
 * @param pair the (lo, li) block of the basis (`basisPair(basisLayout(L), lo, li)`)
 * @param feat N × CI·(2li+1) input features of type li, laid out [ci][mi]
 * @param senders the gather index of j(e), with its sender-sorted inverse
 * @returns T, for `contractRadial`
 */
export function projectOnBasis(
  basis: Tensor,
  pair: BasisPair,
  feat: Tensor,
  senders: RowIndex,
): BasisProjection {
  const DO = 2 * pair.lo + 1, DI = 2 * pair.li + 1, NJ = pair.js.length;
  const [edges, width] = basis.shape;
  const nodes = feat.shape[0];
  if (basis.shape.length !== 2 || pair.offset + pair.size > width) {
    throw new Error(
      `equivariantMessage: basis is [${basis.shape}], too narrow for block (${pair.lo}, ` +
        `${pair.li}) at ${pair.offset}+${pair.size}`,
    );
  }
  if (feat.shape.length !== 2 || feat.shape[1] % DI !== 0) {
    throw new Error(`equivariantMessage: features [${feat.shape}] are not N × CI·${DI}`);
  }
  if (senders.index.size !== edges || senders.numSourceRows !== nodes) {
    throw new Error(
      `equivariantMessage: the graph has ${senders.index.size} edges and ` +
        `${senders.numSourceRows} nodes, the tensors ${edges} and ${nodes}`,
    );
  }
  const CI = feat.shape[1] / DI, K = CI * NJ, KC = Math.ceil(K / 4);
  const CIG = groupSize(CI, MAX_CHANNEL_GROUP), GROUPS = Math.ceil(CI / CIG);
  const constants = { CI, DO, DI, NJ, K, KC, WIDTH: width, OFFSET: pair.offset, CIG, GROUPS };
  const proj = empty([edges, KC * DO * 4]);
  recordDispatch(
    projectKernel.variant(constants),
    [basis, feat, senders.index, proj],
    edges * GROUPS,
    { edges },
  );
  if (needsGrad(basis, feat)) {
    recordOp("projectOnBasis", proj, () => {
      const dproj = gradOf(proj)!;
      if (basis.requiresGrad) {
        // Several blocks and layers may share one basis tensor: the first contribution clears
        // its gradient and every contribution adds (as `rowBlock` does).
        const s = gradSlot(basis);
        if (!s.accumulate) recordClear(s.grad);
        recordDispatch(
          projectBasisGradKernel.variant(constants),
          [feat, senders.index, dproj, s.grad],
          edges * NJ * DO,
          { edges },
        );
      }
      if (feat.requiresGrad) {
        const s = gradSlot(feat);
        recordDispatch(
          projectFeatGradKernel.variant({ ...constants, ACCUMULATE: s.accumulate }),
          [basis, dproj, senders.inversePtr, senders.inversePerm, s.grad],
          nodes * GROUPS,
          { nodes },
        );
      }
    });
  }
  return { tensor: proj, ci: CI, nJ: NJ, dO: DO };
}

/**
 * The messages m_e[co, mo] = Σ_k R_e[co, k]·T_e[k, mo] from the radial weights and a projection.
 *
 * @param radial E × CO·CI·NJ radial weights, laid out [co][ci][J]
 * @param proj T from `projectOnBasis` (the same edges)
 * @returns E × CO·(2lo+1) messages, laid out [co][mo]
 */
export function contractRadial(radial: Tensor, proj: BasisProjection): Tensor {
  const { ci: CI, nJ: NJ, dO: DO } = proj;
  const edges = proj.tensor.shape[0], K = CI * NJ, KC = Math.ceil(K / 4);
  if (radial.shape.length !== 2 || radial.shape[0] !== edges || radial.shape[1] % K !== 0) {
    throw new Error(
      `equivariantMessage: radial is [${radial.shape}], expected [${edges}, CO·${CI}·${NJ}]`,
    );
  }
  const CO = radial.shape[1] / K;
  const COG = groupSize(CO, MAX_CHANNEL_GROUP);
  const constants = { CO, DO, K, KC, COG, GROUPS: Math.ceil(CO / COG) };
  const out = empty([edges, CO * DO]);
  recordDispatch(
    contractKernel.variant(constants),
    [radial, proj.tensor, out],
    edges * constants.GROUPS,
    { edges },
  );
  if (needsGrad(radial, proj.tensor)) {
    recordOp("contractRadial", out, () => {
      const dout = gradOf(out)!;
      if (radial.requiresGrad) {
        const s = gradSlot(radial);
        recordDispatch(
          contractRadialGradKernel.variant({ ...constants, ACCUMULATE: s.accumulate }),
          [proj.tensor, dout, s.grad],
          edges * constants.GROUPS,
          { edges },
        );
      }
      if (proj.tensor.requiresGrad) {
        const s = gradSlot(proj.tensor);
        const KCG = groupSize(KC, MAX_CHUNK_GROUP), groups = Math.ceil(KC / KCG);
        recordDispatch(
          contractProjGradKernel.variant({
            ...constants,
            GROUPS: groups,
            KCG,
            ACCUMULATE: s.accumulate,
          }),
          [radial, dout, s.grad],
          edges * groups,
          { edges },
        );
      }
    });
  }
  return out;
}

/**
 * The per-edge messages of one (input type, output type) pair of a TFN convolution (see the
 * module): `contractRadial(radial, projectOnBasis(basis, pair, feat, senders))`.
 *
 * @param radial E × CO·CI·NJ radial weights, laid out [co][ci][J]
 * @param basis E × width: the per-edge kernel basis (`sphericalBasis`)
 * @param pair the (lo, li) block of the basis (`basisPair(basisLayout(L), lo, li)`)
 * @param feat N × CI·(2li+1) input features of type li, laid out [ci][mi]
 * @param senders the gather index of j(e), with its sender-sorted inverse
 * @returns E × CO·(2lo+1) messages, laid out [co][mo]
 */
export function equivariantMessage(
  radial: Tensor,
  basis: Tensor,
  pair: BasisPair,
  feat: Tensor,
  senders: RowIndex,
): Tensor {
  return contractRadial(radial, projectOnBasis(basis, pair, feat, senders));
}
