/**
 * Graphs of the autoencoder experiment on the device: every graph as its fully connected
 * directed edge list (all i ≠ j, i-major) with the adjacency as the edge attribute a_ij — which
 * is also the decoder's target. The index structures depend only on the node counts, so they are
 * built once per count pattern and kept; the adjacency of a training step is uploaded with it.
 *
 * @module
 */

import { fullyConnected } from "../../egnn/graph.ts";
import { type DeviceGraph, uploadGraph } from "../../egnn/device_graph.ts";
import { fromArray, type Tensor } from "../../gpu/tensor.ts";
import type { AdjacencyGraph } from "../../sim/graphs.ts";
import { offDiagonalTargets } from "./metrics.ts";

/** Graphs on the device: their structure and adjacency (E×1, the edges' order). */
export interface AeBatch {
  graph: DeviceGraph;
  adjacency: Tensor;
  /** Number of graphs. */
  count: number;
}

/** The adjacencies of `graphs`, concatenated in the fully connected edge order. */
export function adjacencyColumn(graphs: readonly AdjacencyGraph[]): Float32Array {
  const parts = graphs.map(offDiagonalTargets);
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let offset = 0;
  for (const p of parts) out.set(p, offset), offset += p.length;
  return out;
}

/** Device graph structures by node-count pattern, kept until `dispose()`. */
export class AeGraphCache {
  private readonly graphs = new Map<string, DeviceGraph>();

  /** The device structure of fully connected graphs of these sizes. */
  structure(sizes: readonly number[]): DeviceGraph {
    const key = sizes.join(",");
    let g = this.graphs.get(key);
    if (!g) {
      g = uploadGraph(fullyConnected(sizes));
      this.graphs.set(key, g);
    }
    return g;
  }

  /**
   * A batch of graphs whose adjacency is a temporary of the current step (training).
   *
   * @param graphs the graphs
   */
  batch(graphs: readonly AdjacencyGraph[]): AeBatch {
    const adj = adjacencyColumn(graphs);
    return {
      graph: this.structure(graphs.map((g) => g.n)),
      adjacency: fromArray(adj, [adj.length, 1]),
      count: graphs.length,
    };
  }

  /**
   * A split in fixed batches of at most `size` graphs, kept on the device (evaluation).
   *
   * @param graphs the split
   * @param size graphs per batch
   */
  keptBatches(graphs: readonly AdjacencyGraph[], size: number): AeBatch[] {
    const out: AeBatch[] = [];
    for (let s = 0; s < graphs.length; s += size) {
      const b = this.batch(graphs.slice(s, s + size));
      b.adjacency.keep();
      out.push(b);
    }
    return out;
  }

  /** Frees every kept structure. */
  dispose(): void {
    for (const g of this.graphs.values()) g.dispose();
    this.graphs.clear();
  }
}
