// Training the graph autoencoders here follows PyTorch step for step: from the weights of our
// PyTorch implementation of the reference's models (bench/torch/ae_models.py; fixtures made by
// bench/torch/make_ae_fixtures.py), 12 Adam steps (lr 1e-3, one graph per step, the summed BCE on
// logits, the per-forward noise taken from the fixture) give the same loss at every step and the
// same final weights, for every encoder — forward, backward, Adam and the trainer's step together.
import assert from "node:assert/strict";
import {
  Adam,
  type AutoencoderKind,
  bceWithLogitsLoss,
  fromArray,
  fullyConnected,
  getGpu,
  GraphAutoencoder,
  LossMeter,
  uploadGraph,
} from "../../mod.ts";
import { trainStep } from "../../lib/gpu/step.ts";
import { importTorchNpz } from "../../lib/io/checkpoint.ts";
import { readNpz } from "../../lib/io/npz.ts";
import { assertWeightsMatch } from "./torch_weights.ts";

const fixtures = new URL("../fixtures/", import.meta.url).pathname;

for (const encoder of ["egnn", "rf", "gnn", "noise_gnn"] as AutoencoderKind[]) {
  Deno.test(`torch autoencoder training: ${encoder}, 12 Adam steps match PyTorch's losses and weights`, async () => {
    await getGpu();
    const model = new GraphAutoencoder({ encoder, hiddenNf: 16, nLayers: 2, embeddingNf: 4 });
    await importTorchNpz(`${fixtures}torch_ae_${encoder}_weights0.npz`, model.params);
    const steps = await readNpz(await Deno.readFile(`${fixtures}torch_ae_${encoder}_steps.npz`));
    const S = steps.get("steps")!.data[0];
    const opt = new Adam(model.params, { lr: 1e-3, weightDecay: 1e-16 });
    const meter = new LossMeter();
    for (let s = 0; s < S; s++) {
      const n = steps.get(`n${s}`)!.data[0];
      const graph = uploadGraph(fullyConnected([n]));
      const noise = steps.get(`noise${s}`)!;
      await trainStep(
        () => {
          const adjacency = fromArray(Float32Array.from(steps.get(`adjacency${s}`)!.data), [
            n * (n - 1),
            1,
          ]);
          const x0 = fromArray(Float32Array.from(noise.data), noise.shape);
          return bceWithLogitsLoss(model.forward(graph, adjacency, x0), adjacency, "sum");
        },
        opt,
        { meter },
      );
      const loss = await meter.readMean();
      const ref = steps.get(`loss${s}`)!.data[0];
      assert.ok(Math.abs(loss - ref) <= 1e-4 * Math.abs(ref), `step ${s}: loss ${loss} vs ${ref}`);
      graph.dispose();
    }
    // The GNN decoder sees only z_i − z_j: the biases that shift every z alike (the last GCL's
    // φh output bias, fc_emb's) have a zero gradient in exact arithmetic, so Adam moves them by
    // ±lr per step on the sign of float round-off — here and in PyTorch alike. Not compared.
    const shiftOnly = encoder === "gnn" || encoder === "noise_gnn"
      ? ["gcl_1.node_mlp.2.bias", "fc_emb.bias"]
      : [];
    await assertWeightsMatch(
      model.params,
      `${fixtures}torch_ae_${encoder}_weights${S}.npz`,
      shiftOnly,
    );
    opt.dispose();
    meter.dispose();
    model.params.dispose();
  });
}
