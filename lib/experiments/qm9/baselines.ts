/**
 * Two reference points for the QM9 table, fitted on the training split in float64 on the host:
 * predicting the training mean, and a linear model on atom-type counts (y ≈ w₀ + Σ_e w_e·n_e over
 * H, C, N, O, F; least squares) — a classic strong baseline for the extensive energies.
 *
 * @module
 */

import type { Qm9Split } from "./data.ts";

const TYPES = [1, 6, 7, 8, 9];

/** Atom-type counts with a leading 1 (the intercept), one row per molecule. */
export function atomCountFeatures(split: Qm9Split): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let m = 0; m < split.count; m++) {
    const r = new Float64Array(TYPES.length + 1);
    r[0] = 1;
    for (let a = split.atomPtr[m]; a < split.atomPtr[m + 1]; a++) {
      r[1 + TYPES.indexOf(split.charges[a])]++;
    }
    rows.push(r);
  }
  return rows;
}

/**
 * Least squares by the normal equations with a tiny ridge (1e-9·trace) so that an element
 * absent from the training set (its count column all zero) gets weight 0 instead of a singular
 * system.
 *
 * @param rows design matrix rows
 * @param y targets
 * @returns the weights
 */
export function leastSquares(rows: Float64Array[], y: ArrayLike<number>): Float64Array {
  const p = rows[0].length;
  const a = Array.from({ length: p }, () => new Float64Array(p + 1));
  rows.forEach((r, i) => {
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < p; k++) a[j][k] += r[j] * r[k];
      a[j][p] += r[j] * y[i];
    }
  });
  let trace = 0;
  for (let j = 0; j < p; j++) trace += a[j][j];
  for (let j = 0; j < p; j++) a[j][j] += 1e-9 * trace + 1e-12;
  // Gauss–Jordan with partial pivoting.
  for (let c = 0; c < p; c++) {
    let piv = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) piv = r;
    [a[c], a[piv]] = [a[piv], a[c]];
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let k = c; k <= p; k++) a[r][k] -= f * a[c][k];
    }
  }
  return Float64Array.from(a.map((row, j) => row[p] / a[j][j]));
}

/** Test MAE of the two baselines for each property (in the targets' units). */
export interface BaselineResult {
  meanMae: number[];
  atomCountMae: number[];
}

/**
 * Fits both baselines on `train` and evaluates them on `test`.
 *
 * @param train the training split
 * @param test the evaluation split
 * @param k properties (columns of the targets)
 */
export function fitBaselines(train: Qm9Split, test: Qm9Split, k: number): BaselineResult {
  const xTrain = atomCountFeatures(train), xTest = atomCountFeatures(test);
  const meanMae: number[] = [], atomCountMae: number[] = [];
  for (let j = 0; j < k; j++) {
    const y = Array.from({ length: train.count }, (_, i) => train.targets[i * k + j]);
    const mean = y.reduce((s, v) => s + v, 0) / y.length;
    const w = leastSquares(xTrain, y);
    let eMean = 0, eLin = 0;
    for (let i = 0; i < test.count; i++) {
      const t = test.targets[i * k + j];
      let pred = 0;
      for (let c = 0; c < w.length; c++) pred += w[c] * xTest[i][c];
      eMean += Math.abs(t - mean);
      eLin += Math.abs(t - pred);
    }
    meanMae.push(eMean / test.count);
    atomCountMae.push(eLin / test.count);
  }
  return { meanMae, atomCountMae };
}
