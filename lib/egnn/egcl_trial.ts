/**
 * The EGCL forward pass that `cli.ts tune` times with and without the whole-layer kernel
 * (autotune.ts `LayerTrial`): one N-body EGCL_vel layer (64 channels, edge attributes of width
 * 2) on 20 fully connected systems of 5 bodies, without gradients, seeded.
 *
 * @module
 */

import type { LayerTrial } from "../gpu/autotune.ts";
import { ParameterSet } from "../gpu/parameters.ts";
import { fromArray, type Tensor } from "../gpu/tensor.ts";
import { noGrad } from "../gpu/tape.ts";
import { Random } from "../random.ts";
import { EGCL, egclSwitches } from "./egcl.ts";
import { fullyConnected } from "./graph.ts";
import { type DeviceGraph, uploadGraph } from "./device_graph.ts";

/** A layer trial with its device buffers (free them with `dispose`). */
export interface DisposableLayerTrial extends LayerTrial {
  /** Frees the graph, inputs and parameters. */
  dispose(): void;
}

/**
 * Builds the trial (needs `getGpu()` first).
 *
 * @param systems graphs in the batch (default 20)
 * @param bodies nodes per graph (default 5)
 * @returns the trial
 */
export function wholeLayerTrial(systems = 20, bodies = 5): DisposableLayerTrial {
  const H = 64, D = 3, n = systems * bodies;
  const rng = new Random(7);
  const ps = new ParameterSet();
  const layer = new EGCL(ps, "", {
    inputNf: H,
    outputNf: H,
    hiddenNf: H,
    edgesInD: 2,
    velocity: true,
  }, rng);
  ps.build();
  const values = (count: number) => Float32Array.from({ length: count }, () => rng.normal());
  const graph: DeviceGraph = uploadGraph(fullyConnected(new Array(systems).fill(bodies)));
  const keep = (t: Tensor) => t.keep();
  const h = keep(fromArray(values(n * H), [n, H]));
  const x = keep(fromArray(values(n * D), [n, D]));
  const vel = keep(fromArray(values(n * D), [n, D]));
  const edgeAttr = keep(fromArray(values(graph.numEdges * 2), [graph.numEdges, 2]));
  return {
    label: `one EGCL_vel (H 64) on ${systems} systems of ${bodies}`,
    record(whole: boolean): Tensor[] {
      const before = egclSwitches.wholeLayer;
      egclSwitches.wholeLayer = whole;
      try {
        const out = noGrad(() => layer.forward({ h, x, vel, edgeAttr, graph }));
        return [out.h, out.x];
      } finally {
        egclSwitches.wholeLayer = before;
      }
    },
    dispose(): void {
      for (const t of [h, x, vel, edgeAttr]) t.dispose();
      graph.dispose();
      ps.dispose();
    },
  };
}
