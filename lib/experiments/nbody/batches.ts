/**
 * Batches of N-body systems: the host assembles a batch's inputs (positions, velocities, ‖v‖,
 * [x, v], edge attributes [q_i q_j, ‖x⁰_i − x⁰_j‖²], targets) as main_nbody.py does and uploads
 * them with the step's commands; the fully connected graph of a batch size is uploaded once.
 *
 * @module
 */

import { fromArray } from "../../gpu/tensor.ts";
import { fullyConnected, type GraphBatch } from "../../egnn/graph.ts";
import { type DeviceGraph, uploadGraph } from "../../egnn/device_graph.ts";
import type { NBodyBatchTensors } from "./methods.ts";

/** One split of an N-body dataset: per simulation, the input and target frames. */
export interface NBodySplitData {
  count: number;
  nBodies: number;
  dim: number;
  /** count·nBodies·dim positions at the input frame (simulation-major, then body, then axis). */
  x0: ArrayLike<number>;
  /** Velocities at the input frame, same layout. */
  v0: ArrayLike<number>;
  /** count·nBodies charges. */
  charges: ArrayLike<number>;
  /** Positions at the target frame. */
  xT: ArrayLike<number>;
}

/** The device graphs of fully connected systems, one per batch size, built once. */
export class BatchGraphs {
  private readonly cache = new Map<number, { host: GraphBatch; device: DeviceGraph }>();
  constructor(readonly nBodies: number) {}

  /** The graph of `systems` systems. */
  get(systems: number): { host: GraphBatch; device: DeviceGraph } {
    let g = this.cache.get(systems);
    if (!g) {
      const host = fullyConnected(new Array(systems).fill(this.nBodies));
      g = { host, device: uploadGraph(host) };
      this.cache.set(systems, g);
    }
    return g;
  }

  /** Frees the device graphs. */
  dispose(): void {
    for (const g of this.cache.values()) g.device.dispose();
    this.cache.clear();
  }
}

/**
 * Assembles and uploads the batch of the given simulations (temporaries of the current step).
 *
 * @param split the split's data
 * @param sims simulation indices in batch order
 * @param graphs the graph cache
 */
export function uploadBatch(
  split: NBodySplitData,
  sims: ArrayLike<number>,
  graphs: BatchGraphs,
): NBodyBatchTensors {
  const n = split.nBodies, d = split.dim, B = sims.length, N = B * n;
  const { host, device } = graphs.get(B);
  const x = new Float32Array(N * d), v = new Float32Array(N * d), t = new Float32Array(N * d);
  const vNorm = new Float32Array(N), q = new Float32Array(N), nodes = new Float32Array(N * 2 * d);
  for (let b = 0; b < B; b++) {
    const s = sims[b];
    for (let i = 0; i < n; i++) {
      const node = b * n + i, src = (s * n + i) * d;
      let v2 = 0;
      for (let k = 0; k < d; k++) {
        x[node * d + k] = split.x0[src + k];
        v[node * d + k] = split.v0[src + k];
        t[node * d + k] = split.xT[src + k];
        nodes[node * 2 * d + k] = split.x0[src + k];
        nodes[node * 2 * d + d + k] = split.v0[src + k];
        v2 += split.v0[src + k] ** 2;
      }
      vNorm[node] = Math.sqrt(v2);
      q[node] = split.charges[s * n + i];
    }
  }
  const E = host.numEdges;
  const edgeAttr = new Float32Array(2 * E), qq = new Float32Array(E);
  for (let e = 0; e < E; e++) {
    const i = host.receivers[e], j = host.senders[e];
    let d2 = 0;
    for (let k = 0; k < d; k++) d2 += (x[i * d + k] - x[j * d + k]) ** 2;
    qq[e] = q[i] * q[j];
    edgeAttr[2 * e] = qq[e];
    edgeAttr[2 * e + 1] = d2;
  }
  return {
    x: fromArray(x, [N, d]),
    v: fromArray(v, [N, d]),
    vNorm: fromArray(vNorm, [N, 1]),
    nodes: fromArray(nodes, [N, 2 * d]),
    edgeAttr: fromArray(edgeAttr, [E, 2]),
    chargeProduct: fromArray(qq, [E, 1]),
    charges: fromArray(q, [N, 1]),
    target: fromArray(t, [N, d]),
    graph: device,
  };
}
