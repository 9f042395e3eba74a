/**
 * A GraphBatch uploaded once to the device: the gather indices of receivers (i) and senders (j)
 * with their inverse groupings for the backward, the incoming-edge segments of every node
 * (eq. 4's mean and eq. 5's sum), and the node segments of every graph (pooling).
 *
 * @module
 */

import type { GraphBatch } from "./graph.ts";
import { type RowIndex, rowIndex, type Segments, segments } from "../gpu/kernels/segment.ts";
import { fromArray, type Tensor } from "../gpu/tensor.ts";

/** The device-side index structures of a batch of graphs. */
export interface DeviceGraph {
  /** Graphs in the batch. */
  numGraphs: number;
  /** Nodes N of all graphs together. */
  numNodes: number;
  /** Directed edges E of all graphs together. */
  numEdges: number;
  /** Gather by receiver: row e is node i of edge e. */
  receivers: RowIndex;
  /** Gather by sender: row e is node j of edge e (inverse = the sender-sorted permutation). */
  senders: RowIndex;
  /** Edges grouped by receiver (CSR): Σ_j / mean_j over incoming edges. */
  incoming: Segments;
  /** Nodes grouped by graph: sum pooling. */
  nodesOfGraph: Segments;
  /** Edge attributes in sorted order, E×A, or null. */
  edgeAttr: Tensor | null;
  /** Frees every device buffer of the graph. */
  dispose(): void;
}

/**
 * Uploads a batch's index structures (kept until `dispose()`).
 *
 * @param batch the host-side batch
 * @returns the device graph
 */
export function uploadGraph(batch: GraphBatch): DeviceGraph {
  const receivers = rowIndex(batch.receivers, batch.numNodes);
  const senders = rowIndex(batch.senders, batch.numNodes);
  const incoming = segments(batch.receiverPtr);
  const nodesOfGraph = segments(batch.graphPtr);
  const edgeAttr = batch.edgeAttr && batch.edgeAttrDim > 0
    ? fromArray(batch.edgeAttr, [batch.numEdges, batch.edgeAttrDim]).keep()
    : null;
  const tensors: Tensor[] = [];
  for (const r of [receivers, senders]) tensors.push(r.index, r.inversePtr, r.inversePerm);
  for (const s of [incoming, nodesOfGraph]) tensors.push(s.ptr, s.ids, s.invCount);
  if (edgeAttr) tensors.push(edgeAttr);
  return {
    numGraphs: batch.numGraphs,
    numNodes: batch.numNodes,
    numEdges: batch.numEdges,
    receivers,
    senders,
    incoming,
    nodesOfGraph,
    edgeAttr,
    dispose: () => tensors.forEach((t) => t.dispose()),
  };
}
