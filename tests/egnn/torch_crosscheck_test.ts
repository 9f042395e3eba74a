// Weights exported from PyTorch models of the reference's layout (bench/torch/make_fixtures.py)
// reproduce those models' outputs here: a numeric cross-check of whole models against PyTorch.
import assert from "node:assert/strict";
import {
  EGNNVel,
  endStep,
  fromArray,
  fullyConnected,
  getGpu,
  GNN,
  noGrad,
  QM9Model,
  RadialField,
  read,
  uploadGraph,
} from "../../mod.ts";
import { importTorchNpz } from "../../lib/io/checkpoint.ts";
import { readNpz } from "../../lib/io/npz.ts";

const fixtures = new URL("../fixtures/", import.meta.url).pathname;

async function loadIo(name: string) {
  const io = await readNpz(await Deno.readFile(`${fixtures}torch_${name}_io.npz`));
  const B = io.get("batch")!.data[0], N = io.get("n_nodes")!.data[0];
  const loc = io.get("loc")!.data, vel = io.get("vel")!.data, q = io.get("charges")!.data;
  const batch = fullyConnected(new Array(B).fill(N));
  const E = batch.numEdges;
  const qq = new Float32Array(E), ea = new Float32Array(2 * E), velNorm = new Float32Array(B * N);
  for (let e = 0; e < E; e++) {
    const i = batch.receivers[e], j = batch.senders[e];
    qq[e] = q[i] * q[j];
    let d2 = 0;
    for (let k = 0; k < 3; k++) d2 += (loc[i * 3 + k] - loc[j * 3 + k]) ** 2;
    ea[2 * e] = qq[e];
    ea[2 * e + 1] = d2;
  }
  for (let i = 0; i < B * N; i++) {
    velNorm[i] = Math.hypot(vel[3 * i], vel[3 * i + 1], vel[3 * i + 2]);
  }
  const nodes = new Float32Array(B * N * 6);
  for (let i = 0; i < B * N; i++) {
    for (let k = 0; k < 3; k++) {
      nodes[6 * i + k] = loc[3 * i + k];
      nodes[6 * i + 3 + k] = vel[3 * i + k];
    }
  }
  return { B, N, batch, loc, vel, qq, ea, velNorm, nodes, expected: io.get("out")!.data };
}

function assertClose(got: Float32Array, expected: Float64Array, tol: number, what: string) {
  assert.equal(got.length, expected.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    worst = Math.max(worst, Math.abs(got[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  }
  console.log(`${what}: worst |ours − torch| / max(1, |torch|) = ${worst.toExponential(2)}`);
  assert.ok(worst <= tol, `${what}: ${worst} > ${tol}`);
}

Deno.test("torch cross-check: EGNN_vel with PyTorch-exported weights reproduces its positions", async () => {
  await getGpu();
  const io = await loadIo("egnn");
  const model = new EGNNVel({ hiddenNf: 16 });
  await importTorchNpz(`${fixtures}torch_egnn_weights.npz`, model.params);
  const g = uploadGraph(io.batch);
  const M = io.B * io.N;
  const out = noGrad(() =>
    model.forward(
      fromArray(io.velNorm, [M, 1]),
      fromArray(io.loc, [M, 3]),
      fromArray(io.vel, [M, 3]),
      g,
      fromArray(io.ea, [io.batch.numEdges, 2]),
    )
  );
  assertClose(await read(out), io.expected, 1e-5, "EGNN_vel");
  g.dispose();
  endStep();
});

Deno.test("torch cross-check: GNN with PyTorch-exported weights reproduces its positions", async () => {
  await getGpu();
  const io = await loadIo("gnn");
  const model = new GNN({ hiddenNf: 16 });
  await importTorchNpz(`${fixtures}torch_gnn_weights.npz`, model.params);
  const g = uploadGraph(io.batch);
  const M = io.B * io.N;
  const out = noGrad(() =>
    model.forward(fromArray(io.nodes, [M, 6]), g, fromArray(io.qq, [io.batch.numEdges, 1]))
  );
  assertClose(await read(out), io.expected, 1e-5, "GNN");
  g.dispose();
  endStep();
});

Deno.test("torch cross-check: Radial Field with PyTorch-exported weights reproduces its positions", async () => {
  await getGpu();
  const io = await loadIo("rf");
  const model = new RadialField({ hiddenNf: 16 });
  await importTorchNpz(`${fixtures}torch_rf_weights.npz`, model.params);
  const g = uploadGraph(io.batch);
  const M = io.B * io.N;
  const out = noGrad(() =>
    model.forward(
      fromArray(io.loc, [M, 3]),
      fromArray(io.velNorm, [M, 1]),
      fromArray(io.vel, [M, 3]),
      g,
      fromArray(io.ea, [io.batch.numEdges, 2]),
    )
  );
  assertClose(await read(out), io.expected, 1e-5, "RF_vel");
  g.dispose();
  endStep();
});

Deno.test("torch cross-check: the QM9 model, unpadded here, reproduces the reference's padded form", async () => {
  await getGpu();
  const io = await readNpz(await Deno.readFile(`${fixtures}torch_qm9_io.npz`));
  const z = io.get("charges")!.data, pos = io.get("positions")!.data;
  const sizes = [...io.get("sizes")!.data];
  const species = [1, 6, 7, 8, 9];
  const h0 = new Float32Array(z.length * 15);
  for (let a = 0; a < z.length; a++) {
    for (let p = 0; p < 3; p++) h0[a * 15 + 3 * species.indexOf(z[a]) + p] = (z[a] / 9) ** p;
  }
  const model = new QM9Model({ hiddenNf: 16, nLayers: 3 });
  assert.equal(new QM9Model().params.count, 745_224);
  await importTorchNpz(`${fixtures}torch_qm9_weights.npz`, model.params);
  const g = uploadGraph(fullyConnected(sizes));
  const out = noGrad(() =>
    model.forward(fromArray(h0, [z.length, 15]), fromArray(pos, [z.length, 3]), g)
  );
  assertClose(await read(out), io.get("out")!.data, 1e-5, "QM9 EGNN");
  g.dispose();
  endStep();
});

Deno.test("torch import: a state dict of another layout is refused with the names", async () => {
  await getGpu();
  const model = new EGNNVel({ hiddenNf: 16, nLayers: 3 });
  await assert.rejects(
    importTorchNpz(`${fixtures}torch_egnn_weights.npz`, model.params),
    /the state dict has names this model lacks: gcl_3\./,
  );
  const wrongWidth = new EGNNVel({ hiddenNf: 8 });
  await assert.rejects(
    importTorchNpz(`${fixtures}torch_egnn_weights.npz`, wrongWidth.params),
    /embedding.weight is \[16,1\] in PyTorch's layout; the model expects \[1,8\]/,
  );
});
