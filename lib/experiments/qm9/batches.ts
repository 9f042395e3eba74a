/**
 * A batch of QM9 molecules on the device, without padding: the molecules' atoms one after the
 * other, every molecule a fully connected graph (i ≠ j, the reference's edge mask), targets
 * normalised by the training mean and mean absolute deviation.
 *
 * @module
 */

import { fullyConnected } from "../../egnn/graph.ts";
import { type DeviceGraph, uploadGraph } from "../../egnn/device_graph.ts";
import { fromArray, type Tensor } from "../../gpu/tensor.ts";
import type { Qm9Split } from "./data.ts";

/** A batch on the device. */
export interface Qm9Batch {
  /** atoms × 15 features. */
  h0: Tensor;
  /** atoms × 3 positions. */
  x: Tensor;
  /** The molecules' graphs (kept until `dispose`). */
  graph: DeviceGraph;
  /** molecules × properties normalised targets. */
  target: Tensor;
  /** Molecules. */
  count: number;
  /** Frees the graph (the tensors are step temporaries). */
  dispose(): void;
}

/**
 * Uploads molecules `mols` of a split.
 *
 * @param split the split
 * @param mols molecule indices into the split
 * @param mean training mean per property
 * @param mad training mean absolute deviation per property
 */
export function uploadQm9Batch(
  split: Qm9Split,
  mols: ArrayLike<number>,
  mean: Float64Array,
  mad: Float64Array,
): Qm9Batch {
  const k = mean.length;
  const sizes = new Array<number>(mols.length);
  let atoms = 0;
  for (let b = 0; b < mols.length; b++) {
    const m = mols[b];
    sizes[b] = split.atomPtr[m + 1] - split.atomPtr[m];
    atoms += sizes[b];
  }
  const h0 = new Float32Array(atoms * 15), x = new Float32Array(atoms * 3);
  const target = new Float32Array(mols.length * k);
  let a = 0;
  for (let b = 0; b < mols.length; b++) {
    const m = mols[b], a0 = split.atomPtr[m], a1 = split.atomPtr[m + 1];
    h0.set(split.features.subarray(a0 * 15, a1 * 15), a * 15);
    x.set(split.positions.subarray(a0 * 3, a1 * 3), a * 3);
    a += a1 - a0;
    for (let j = 0; j < k; j++) target[b * k + j] = (split.targets[m * k + j] - mean[j]) / mad[j];
  }
  const graph = uploadGraph(fullyConnected(sizes));
  return {
    h0: fromArray(h0, [atoms, 15]),
    x: fromArray(x, [atoms, 3]),
    graph,
    target: fromArray(target, [mols.length, k]),
    count: mols.length,
    dispose: () => graph.dispose(),
  };
}
