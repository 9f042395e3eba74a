// Fused and unfused kernels give the same model: the N-body EGNN_vel and the QM9 model in several
// forms, each switch on or off — φe's first layer split and fused (`edgeLinear`) or concatenated;
// the vec4 forms of the map, gather and segment kernels; gradients fused through activations; the
// split weight's row blocks as views or copies; the node stage fused (eq. 5's sum into φh's input,
// the residual into φh's product); an add's input sharing its output's gradient or copying it; a
// layer's [dW; db] as one product or two; the coordinate path in two fused passes or as separate
// ops. Forward outputs and every parameter gradient agree to
// float rounding (and the float64 reference tests check the default forms).
import assert from "node:assert/strict";
import {
  backward,
  EGNNVel,
  endStep,
  fromArray,
  full,
  fullyConnected,
  getGpu,
  type ParameterSet,
  QM9Model,
  read,
  resetTape,
  type Tensor,
  uploadGraph,
} from "../../mod.ts";
import { kernelSwitches } from "../../lib/gpu/kernels/elementwise.ts";
import { tapeSwitches } from "../../lib/gpu/tape.ts";
import { linearSwitches } from "../../lib/gpu/kernels/linear.ts";
import { type EGCL, egclSwitches } from "../../lib/egnn/egcl.ts";
import { KERNEL_PROFILES, withKernelProfile } from "../../lib/gpu/tuning.ts";
import { Random } from "../reference/random.ts";

/**
 * φe's first layer split, vec4 kernels, gradients fused through activations, and the split
 * weight's blocks as views (tape.ts).
 */
type Form = {
  split: boolean;
  vec4: boolean;
  actGrad: boolean;
  rowViews: boolean;
  /** The node stage fused: Σ m_ij into φh's input, the residual in φh's product. */
  node: boolean;
  /** An add's input takes its output's gradient (no copy). */
  share: boolean;
  /** A layer's [dW; db] as one product where db follows dW in the parameter buffer. */
  joint: boolean;
  /** x_i − x_j with its norm, and eqs. 4 and 7, each in one pass (egcl_coords.ts). */
  coords: boolean;
};
const FORMS: Form[] = [
  {
    split: false,
    vec4: false,
    actGrad: false,
    rowViews: false,
    node: false,
    share: false,
    joint: false,
    coords: false,
  },
  {
    split: true,
    vec4: true,
    actGrad: true,
    rowViews: true,
    node: true,
    share: true,
    joint: true,
    coords: true,
  },
  {
    split: false,
    vec4: true,
    actGrad: false,
    rowViews: true,
    node: true,
    share: false,
    joint: true,
    coords: true,
  },
  {
    split: true,
    vec4: false,
    actGrad: false,
    rowViews: false,
    node: true,
    share: true,
    joint: false,
    coords: false,
  },
  {
    split: true,
    vec4: true,
    actGrad: true,
    rowViews: false,
    node: false,
    share: true,
    joint: true,
    coords: true,
  },
  {
    split: false,
    vec4: false,
    actGrad: true,
    rowViews: true,
    node: false,
    share: false,
    joint: false,
    coords: false,
  },
];

async function run(
  layers: EGCL[],
  params: ParameterSet,
  forward: () => Tensor,
  form: Form,
): Promise<{ out: Float32Array; grads: Map<string, Float32Array> }> {
  for (const l of layers) (l.options as { splitEdgeInput: boolean }).splitEdgeInput = form.split;
  kernelSwitches.vec4 = form.vec4;
  tapeSwitches.fuseActivationGrad = form.actGrad;
  tapeSwitches.rowViews = form.rowViews;
  egclSwitches.fuseNodeStage = form.node;
  tapeSwitches.shareGrads = form.share;
  linearSwitches.jointBiasGrad = form.joint;
  egclSwitches.fuseCoordinates = form.coords;
  try {
    const y = forward();
    backward(y, full(y.shape, 1));
    const out = await read(y) as Float32Array;
    const grads = await params.gradsToHost();
    return { out, grads };
  } finally {
    kernelSwitches.vec4 = true;
    tapeSwitches.fuseActivationGrad = true;
    tapeSwitches.rowViews = true;
    egclSwitches.fuseNodeStage = true;
    tapeSwitches.shareGrads = true;
    linearSwitches.jointBiasGrad = true;
    egclSwitches.fuseCoordinates = true;
    resetTape();
    endStep();
  }
}

function assertSame(
  a: { out: Float32Array; grads: Map<string, Float32Array> },
  b: { out: Float32Array; grads: Map<string, Float32Array> },
  what: string,
) {
  const close = (x: Float32Array, y: Float32Array, name: string) => {
    let scale = 0;
    for (const v of x) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < x.length; i++) {
      assert.ok(
        Math.abs(x[i] - y[i]) <= 1e-5 * Math.max(1, scale),
        `${what}: ${name}[${i}] ${x[i]} vs ${y[i]}`,
      );
    }
  };
  close(a.out, b.out, "output");
  for (const [name, g] of a.grads) close(g, b.grads.get(name)!, `d${name}`);
}

/** An EGNN_vel (H 16) on fully connected systems of these sizes, with seeded inputs. */
async function nbodyCase(seed: number, sizes: number[], nLayers: number, modelSeed: number) {
  await getGpu();
  const rng = new Random(seed);
  const n = sizes.reduce((a, b) => a + b, 0);
  const model = new EGNNVel({ hiddenNf: 16, nLayers, seed: modelSeed });
  const g = uploadGraph(fullyConnected(sizes));
  const h = fromArray(rng.uniforms(n, 0, 2), [n, 1]).keep();
  const x = fromArray(rng.normals(n * 3), [n, 3]).keep();
  const v = fromArray(rng.normals(n * 3), [n, 3]).keep();
  const ea = fromArray(rng.normals(g.numEdges * 2), [g.numEdges, 2]).keep();
  return {
    model,
    forward: () => model.forward(h, x, v, g, ea),
    dispose: () => {
      for (const t of [h, x, v, ea]) t.dispose();
      g.dispose();
    },
  };
}

Deno.test("fusion: EGNN_vel (H 16, edge attributes) is the same model fused and unfused", async () => {
  const c = await nbodyCase(41, [5, 3, 5, 1], 3, 4);
  try {
    const results = [];
    for (const form of FORMS) {
      results.push(await run(c.model.layers, c.model.params, c.forward, form));
    }
    for (let i = 1; i < FORMS.length; i++) {
      assertSame(results[0], results[i], JSON.stringify(FORMS[i]));
    }
  } finally {
    c.dispose();
  }
});

Deno.test("fusion: the QM9 model (H 16, 2 layers, attention) is the same model fused and unfused", async () => {
  await getGpu();
  const rng = new Random(42);
  const sizes = [4, 9, 2, 6];
  const n = 21;
  const model = new QM9Model({ hiddenNf: 16, nLayers: 2, outNf: 2, seed: 5 });
  const g = uploadGraph(fullyConnected(sizes));
  const h0 = fromArray(rng.uniforms(n * 15, 0, 1), [n, 15]).keep();
  const x = fromArray(rng.normals(n * 3, 1.5), [n, 3]).keep();
  try {
    const results = [];
    for (const form of FORMS) {
      results.push(await run(model.layers, model.params, () => model.forward(h0, x, g), form));
    }
    for (let i = 1; i < FORMS.length; i++) {
      assertSame(results[0], results[i], JSON.stringify(FORMS[i]));
    }
  } finally {
    h0.dispose();
    x.dispose();
    g.dispose();
  }
});

Deno.test("fusion: on the GPU profile, EGNN_vel's weight gradients are the same with split-K and without (600 edges)", async () => {
  // 30 systems of 5: 600 edges, so the weight gradients' k ≥ 512
  const c = await nbodyCase(43, Array.from({ length: 30 }, () => 5), 2, 6);
  try {
    const results = [];
    for (const matmulSplitK of [true, false]) {
      const profile = { ...KERNEL_PROFILES.gpu, matmulSplitK };
      results.push(
        await withKernelProfile(
          profile,
          () => run(c.model.layers, c.model.params, c.forward, FORMS[1]),
        ),
      );
    }
    assertSame(results[0], results[1], "split-K against one pass");
  } finally {
    c.dispose();
  }
});
