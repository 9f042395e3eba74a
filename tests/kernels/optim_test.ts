// Adam and AdamW: three `trainStep`s on a ParameterSet against tests/reference/optim.ts fed
// with float64 gradients of the same loss (params compared at rtol 1e-5, floor 1). One parameter
// is in the loss only at the first step (its stale gradient must not be reused) and one never
// is (its gradient is taken as zero).
import assert from "node:assert/strict";
import {
  Adam,
  add,
  fromArray,
  getGpu,
  linear,
  mseLoss,
  ParameterSet,
  trainStep,
} from "../../mod.ts";
import { type AdamConfig, adamState, adamStep, clipByGlobalNorm } from "../reference/optim.ts";
import { linearBackward, linearForward } from "../reference/linear.ts";
import { lossBackward } from "../reference/losses.ts";
import { assertClose } from "../reference/finite_difference.ts";
import { Random } from "../reference/random.ts";

const M = 7, K = 3, N = 2, LRS = [0.05, 0.03, 0.02];

async function checkAdam(config: AdamConfig, seed: number) {
  await getGpu();
  const rng = new Random(seed);
  const x = rng.normals(M * K), y = rng.normals(M * N), uTarget = rng.normals(5);
  const init = {
    W: rng.normals(K * N),
    b: rng.normals(N, 0.5),
    u: rng.normals(5), // in the loss at step 1 only
    frozen: rng.normals(4), // never in the loss
  };
  const ps = new ParameterSet();
  const shapes = { W: [K, N], b: [N], u: [5], frozen: [4] };
  for (const [name, v] of Object.entries(init)) {
    ps.add(name, shapes[name as keyof typeof shapes], Float32Array.from(v));
  }
  ps.build();
  const [W, b, u] = [ps.get("W"), ps.get("b"), ps.get("u")];
  const opt = new Adam(ps, { lr: LRS[0], ...config });
  const xs = fromArray(x, [M, K]).keep(), ys = fromArray(y, [M, N]).keep();
  const us = fromArray(uTarget, [5]).keep();
  try {
    for (let t = 0; t < 3; t++) {
      await trainStep(
        () => {
          const loss = mseLoss(linear(xs, W, b, "tanh"), ys);
          return t === 0 ? add(loss, mseLoss(u, us, "sum")) : loss;
        },
        opt,
        { lr: LRS[t] },
      );
    }
    const got = await ps.toHost();
    assert.equal(opt.t, 3);

    // The reference: the same loss's float64 gradients, the same three updates.
    const state = Object.fromEntries(
      Object.entries(init).map(([k, v]) => [k, adamState(v)]),
    ) as Record<keyof typeof init, ReturnType<typeof adamState>>;
    const norms: number[] = [];
    for (let t = 0; t < 3; t++) {
      const sizes = { m: M, k: K, n: N };
      const f = linearForward(x, state.W.param, state.b.param, sizes, "tanh");
      const dy = lossBackward("mse", f.y, y, "mean", 1);
      const g = linearBackward(x, state.W.param, f.z, dy, sizes, "tanh");
      const du = t === 0
        ? lossBackward("mse", state.u.param, uTarget, "sum", 1)
        : new Float64Array(5);
      const grads = { W: g.dw, b: g.db, u: du, frozen: new Float64Array(4) };
      if (config.clipGradNorm) {
        norms.push(clipByGlobalNorm(Object.values(grads), config.clipGradNorm));
      }
      for (const k of Object.keys(init) as (keyof typeof init)[]) {
        adamStep(state[k], grads[k], t + 1, LRS[t], config);
      }
    }
    for (const k of Object.keys(init) as (keyof typeof init)[]) {
      assertClose(got.get(k)!, state[k].param, { rtol: 1e-5, floor: 1, label: `parameter ${k}` });
    }
    if (config.clipGradNorm) {
      // Not vacuous: some steps' gradients were longer than the bound, and some not.
      assert.ok(norms.some((n) => n > config.clipGradNorm!), `norms ${norms}: none clipped`);
    }
    if (!config.weightDecay) {
      assert.deepEqual(got.get("frozen"), Float32Array.from(init.frozen), "no gradient, no decay");
    }
  } finally {
    xs.dispose();
    ys.dispose();
    us.dispose();
  }
}

Deno.test("Adam: 3 steps match the PyTorch-semantics reference (no weight decay)", () =>
  checkAdam({}, 71));

Deno.test("Adam: 3 steps with L2 weight decay 0.1 and β (0.8, 0.95) match the reference", () =>
  checkAdam({ weightDecay: 0.1, beta1: 0.8, beta2: 0.95 }, 72));

Deno.test("AdamW: 3 steps with decoupled weight decay 0.1 match the reference", () =>
  checkAdam({ weightDecay: 0.1, decoupled: true, eps: 1e-6 }, 73));

Deno.test("Adam: 3 steps with the gradient clipped to global norm 0.4 match the reference", () =>
  checkAdam({ clipGradNorm: 0.4, weightDecay: 0.1 }, 74));
