// Training the N-body models here follows PyTorch step for step: from the weights of our PyTorch
// implementation of the reference's models (bench/torch/nbody_models.py; fixtures made by
// bench/torch/make_nbody_training_fixtures.py), 12 Adam steps with the reference's learning rates
// and weight decay, on batches built by the experiment's own `uploadBatch`, give the same MSE at
// every step and the same final weights — inputs, forward, backward and Adam together.
import assert from "node:assert/strict";
import { Adam, getGpu, LossMeter, mseLoss } from "../../mod.ts";
import { trainStep } from "../../lib/gpu/step.ts";
import { importTorchNpz } from "../../lib/io/checkpoint.ts";
import { readNpz } from "../../lib/io/npz.ts";
import { assertWeightsMatch } from "./torch_weights.ts";
import { BatchGraphs, uploadBatch } from "../../lib/experiments/nbody/batches.ts";
import { buildNBodyModel, REFERENCE_LR } from "../../lib/experiments/nbody/methods.ts";

const fixtures = new URL("../fixtures/", import.meta.url).pathname;

for (const method of ["egnn", "gnn", "rf"] as const) {
  Deno.test(`torch N-body training: ${method}, 12 Adam steps match PyTorch's losses and weights`, async () => {
    await getGpu();
    const model = buildNBodyModel(method, { hiddenNf: 16, nLayers: 4, dim: 3, seed: 0 });
    await importTorchNpz(`${fixtures}torch_nbody_${method}_weights0.npz`, model.params!);
    const steps = await readNpz(await Deno.readFile(`${fixtures}torch_nbody_${method}_steps.npz`));
    const S = steps.get("steps")!.data[0], B = steps.get("batch")!.data[0];
    const n = steps.get("n_nodes")!.data[0];
    const opt = new Adam(model.params!, { lr: REFERENCE_LR[method], weightDecay: 1e-12 });
    const meter = new LossMeter();
    const graphs = new BatchGraphs(n);
    const sims = Array.from({ length: B }, (_, i) => i);
    for (let s = 0; s < S; s++) {
      const split = {
        count: B,
        nBodies: n,
        dim: 3,
        x0: steps.get(`loc${s}`)!.data,
        v0: steps.get(`vel${s}`)!.data,
        charges: steps.get(`charges${s}`)!.data,
        xT: steps.get(`target${s}`)!.data,
      };
      await trainStep(
        () => {
          const b = uploadBatch(split, sims, graphs);
          return mseLoss(model.forward(b), b.target);
        },
        opt,
        { meter },
      );
      const loss = await meter.readMean();
      const ref = steps.get(`loss${s}`)!.data[0];
      assert.ok(Math.abs(loss - ref) <= 1e-4 * Math.abs(ref), `step ${s}: loss ${loss} vs ${ref}`);
    }
    await assertWeightsMatch(
      model.params!,
      `${fixtures}torch_nbody_${method}_weights${S}.npz`,
    );
    graphs.dispose();
    opt.dispose();
    meter.dispose();
    model.params!.dispose();
  });
}
