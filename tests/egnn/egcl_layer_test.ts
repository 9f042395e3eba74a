// The whole-layer EGCL kernel (lib/gpu/kernels/egcl_layer.ts: one dispatch per layer, one
// workgroup per receiving node) against the float64 reference of tests/reference/egnn.ts and
// against the per-op layer it replaces in passes without gradients. Cases cover every option the
// kernel reads: mean and sum, clamping (messages beyond ±100), residual or not, F ≠ H, attention,
// tanh with a range, both normalisations, velocities with a coordinate weight, the invariant
// layer with node attributes, 8-D coordinates, and hidden widths above the workgroup's 64
// invocations (H = 128: chunks of 8 edges, two channels per invocation). The batch has graphs of
// 5, 3, 1 and 4 nodes (20 incoming-edge rows in a graph of 5: more than one chunk of 16) and an
// explicit edge list with a node that receives no edge.
//
// Metric: the reference's (model_check.ts): |gpu − ref| ≤ 1e-4 · max(RMS(ref), |ref|); against
// the per-op layer the same bound at 2e-5 (both are float32: only summation order differs).
import assert from "node:assert/strict";
import {
  EGCL,
  type EGCLOptions,
  endStep,
  fromArray,
  noGrad,
  ParameterSet,
  Random as ModelRandom,
  readMany,
  resetTape,
  type Tensor,
} from "../../mod.ts";
import { egclSwitches } from "../../lib/egnn/egcl.ts";
import { pendingCount } from "../../lib/gpu/commands.ts";
import { egclModel, evaluate, type HostMatrix } from "../reference/egnn.ts";
import { onTestBatch, randomParameters, worstError } from "./model_check.ts";

const EDGE_ATTR = 2;

interface Case {
  name: string;
  options: EGCLOptions;
  seed: number;
  dim?: number;
  vel?: boolean;
  nodeAttr?: number;
  /** Scale of the coordinates (large: coordinate messages beyond the clamp). */
  xScale?: number;
  /** Gain of φx's last weight (the model's own init, 0.001, would hide the coordinate path). */
  coordGain?: number;
  /** Assert that the clamp changes the reference's output in this case. */
  clampActs?: boolean;
}

async function checkWholeLayer(c: Case): Promise<{ ref: number; perOp: number }> {
  return await onTestBatch(
    { seed: c.seed, dim: c.dim, edgeAttrDim: EDGE_ATTR },
    async ({ rng, batch, graph }) => {
      const dim = c.dim ?? 3;
      const ps = new ParameterSet();
      const layer = new EGCL(ps, "", c.options, new ModelRandom(c.seed));
      ps.build();
      const values = randomParameters(ps, rng, {
        names: /coord_mlp\.2\.weight$/,
        gain: c.coordGain ?? 1,
      });
      ps.load(values);
      const inputs: Record<string, HostMatrix> = {
        h: { value: rng.normals(batch.numNodes * c.options.inputNf), cols: c.options.inputNf },
        x: {
          value: Float64Array.from(batch.coords!, (v) => Math.fround(v * (c.xScale ?? 1))),
          cols: dim,
        },
        edgeAttr: { value: Float64Array.from(batch.edgeAttr!), cols: EDGE_ATTR },
      };
      if (c.vel) inputs.vel = { value: rng.normals(batch.numNodes * dim), cols: dim };
      if (c.nodeAttr) {
        inputs.nodeAttr = { value: rng.normals(batch.numNodes * c.nodeAttr), cols: c.nodeAttr };
      }
      const t: Record<string, Tensor> = {};
      for (const [k, m] of Object.entries(inputs)) {
        t[k] = fromArray(m.value, [m.value.length / m.cols, m.cols]);
      }
      const pass = (whole: boolean) => {
        egclSwitches.wholeLayer = whole;
        try {
          return noGrad(() =>
            layer.forward({
              h: t.h,
              x: t.x,
              graph,
              edgeAttr: t.edgeAttr,
              vel: t.vel ?? null,
              nodeAttr: t.nodeAttr ?? null,
            })
          );
        } finally {
          egclSwitches.wholeLayer = "auto";
        }
      };
      try {
        const before = pendingCount();
        const whole = pass(true);
        assert.equal(pendingCount() - before, 1, `${c.name}: the whole layer is one dispatch`);
        const perOp = pass(false);
        assert.ok(pendingCount() - before > 8, `${c.name}: the per-op layer is many`);
        const [wh, wx, ph, px] = await readMany([whole.h, whole.x, perOp.h, perOp.x]);
        const ref = evaluate(egclModel(batch, "", c.options), values, inputs);
        const O = c.options.outputNf;
        const refH = new Float64Array(batch.numNodes * O);
        const refX = new Float64Array(batch.numNodes * dim);
        for (let i = 0; i < batch.numNodes; i++) {
          for (let k = 0; k < O; k++) refH[i * O + k] = ref.output[i * (O + dim) + k];
          for (let d = 0; d < dim; d++) refX[i * dim + d] = ref.output[i * (O + dim) + O + d];
        }
        const eRef = Math.max(worstError(wh, refH), worstError(wx, refX));
        const ePerOp = Math.max(worstError(wh, ph), worstError(wx, px));
        assert.ok(eRef <= 1e-4, `${c.name}: whole layer against float64: worst ${eRef}`);
        assert.ok(ePerOp <= 2e-5, `${c.name}: whole layer against per-op: worst ${ePerOp}`);
        assert.ok(wh.every(Number.isFinite) && wx.every(Number.isFinite), `${c.name}: finite`);
        if (c.clampActs) {
          const free = { ...c.options, clampMessages: false };
          const unclamped = evaluate(egclModel(batch, "", free), values, inputs).output;
          assert.ok(worstError(unclamped, ref.output) > 1e-2, `${c.name}: the clamp acts`);
        }
        return { ref: eRef, perOp: ePerOp };
      } finally {
        resetTape();
        endStep();
      }
    },
  );
}

const CASES: Case[] = [
  {
    name: "defaults (mean, clamp, residual), H 16",
    options: { inputNf: 16, outputNf: 16, hiddenNf: 16, edgesInD: EDGE_ATTR },
    seed: 11,
  },
  {
    name: "F 7 → 16 without residual, sum, no edge attributes",
    options: { inputNf: 7, outputNf: 16, hiddenNf: 16, residual: false, coordsAgg: "sum" },
    seed: 12,
  },
  {
    name: "attention, tanh ×3, normalize plusOne",
    options: {
      inputNf: 16,
      outputNf: 16,
      hiddenNf: 16,
      edgesInD: EDGE_ATTR,
      attention: true,
      tanh: true,
      coordsRange: 3,
      normalize: "plusOne",
    },
    seed: 13,
  },
  {
    name: "coordinate messages clamped at ±100",
    options: { inputNf: 8, outputNf: 8, hiddenNf: 16 },
    seed: 14,
    xScale: 20,
    coordGain: 10,
    clampActs: true,
  },
  {
    name: "normalize detached",
    options: { inputNf: 8, outputNf: 8, hiddenNf: 16, normalize: "detached" },
    seed: 15,
  },
  {
    name: "velocity, coordsWeight 0.5 (E_GCL_vel), H 64",
    options: {
      inputNf: 64,
      outputNf: 64,
      hiddenNf: 64,
      edgesInD: EDGE_ATTR,
      velocity: true,
      coordsWeight: 0.5,
    },
    seed: 16,
    vel: true,
  },
  {
    name: "invariant layer with attention and node attributes (QM9's), H 128",
    options: {
      inputNf: 128,
      outputNf: 128,
      hiddenNf: 128,
      attention: true,
      updateCoords: false,
      nodesAttDim: 5,
    },
    seed: 17,
    nodeAttr: 5,
  },
  {
    name: "8-D coordinates, h0 of width 1 (the autoencoder's first layer)",
    options: { inputNf: 1, outputNf: 32, hiddenNf: 32, edgesInD: EDGE_ATTR, residual: false },
    seed: 18,
    dim: 8,
  },
];

for (const c of CASES) {
  Deno.test(`whole-layer EGCL: ${c.name}`, async () => {
    const e = await checkWholeLayer(c);
    if (Deno.env.get("EGNN_TEST_REPORT") === "1") {
      console.log(`${c.name}: ref ${e.ref.toExponential(2)}, per-op ${e.perOp.toExponential(2)}`);
    }
  });
}
