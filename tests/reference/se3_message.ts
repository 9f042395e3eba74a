/**
 * Float64 reference of `equivariantMessage` (lib/gpu/kernels/equivariant_message.ts):
 * m_e[co, mo] = Σ_{ci, J} R_e[co, ci, J] Σ_mi Q^J_e[mo, mi] f_{j(e)}[ci, mi], and its gradients
 * with respect to R, the basis (the whole E×width tensor: zero outside the pair's block) and f.
 *
 * @module
 */

/** Sizes of one message: channels, type dimensions, the basis block. */
export interface MessageShape {
  /** Output channels. */
  co: number;
  /** Input channels. */
  ci: number;
  /** 2·lo + 1. */
  dO: number;
  /** 2·li + 1. */
  dI: number;
  /** Number of J. */
  nJ: number;
  /** Columns of the basis tensor. */
  width: number;
  /** First column of the pair's block. */
  offset: number;
}

/** The messages, E × co·dO. */
export function messageForward(
  radial: Float64Array,
  basis: Float64Array,
  feat: Float64Array,
  senders: ArrayLike<number>,
  s: MessageShape,
): Float64Array {
  const edges = senders.length;
  const out = new Float64Array(edges * s.co * s.dO);
  for (let e = 0; e < edges; e++) {
    const j = senders[e];
    for (let co = 0; co < s.co; co++) {
      for (let ci = 0; ci < s.ci; ci++) {
        for (let J = 0; J < s.nJ; J++) {
          const r = radial[((e * s.co + co) * s.ci + ci) * s.nJ + J];
          for (let mo = 0; mo < s.dO; mo++) {
            for (let mi = 0; mi < s.dI; mi++) {
              out[(e * s.co + co) * s.dO + mo] += r *
                basis[e * s.width + s.offset + (J * s.dO + mo) * s.dI + mi] *
                feat[(j * s.ci + ci) * s.dI + mi];
            }
          }
        }
      }
    }
  }
  return out;
}

/** [dR, dBasis, dFeat] given dL/dm. */
export function messageBackward(
  radial: Float64Array,
  basis: Float64Array,
  feat: Float64Array,
  senders: ArrayLike<number>,
  dm: Float64Array,
  s: MessageShape,
): [Float64Array, Float64Array, Float64Array] {
  const dR = new Float64Array(radial.length);
  const dQ = new Float64Array(basis.length);
  const dF = new Float64Array(feat.length);
  for (let e = 0; e < senders.length; e++) {
    const j = senders[e];
    for (let co = 0; co < s.co; co++) {
      for (let ci = 0; ci < s.ci; ci++) {
        for (let J = 0; J < s.nJ; J++) {
          const ri = ((e * s.co + co) * s.ci + ci) * s.nJ + J;
          for (let mo = 0; mo < s.dO; mo++) {
            const g = dm[(e * s.co + co) * s.dO + mo];
            for (let mi = 0; mi < s.dI; mi++) {
              const qi = e * s.width + s.offset + (J * s.dO + mo) * s.dI + mi;
              const fi = (j * s.ci + ci) * s.dI + mi;
              dR[ri] += g * basis[qi] * feat[fi];
              dQ[qi] += g * radial[ri] * feat[fi];
              dF[fi] += g * radial[ri] * basis[qi];
            }
          }
        }
      }
    }
  }
  return [dR, dQ, dF];
}
