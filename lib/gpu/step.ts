/**
 * One training step as one command submission: forward, backward and optimiser are recorded,
 * then submitted once; nothing is read back. The loss is added to a device-side meter.
 *
 * @module
 */

import { submit } from "./commands.ts";
import { endStep, type Tensor } from "./tensor.ts";
import { backward, resetTape } from "./tape.ts";
import { full } from "./kernels/elementwise.ts";
import type { LossMeter } from "./kernels/losses.ts";
import type { Adam } from "./optim.ts";

/**
 * Records forward (`lossFn`), backward and the optimiser update, then submits once.
 *
 * @param lossFn builds the forward pass and returns the scalar loss
 * @param optimizer the optimiser to step
 * @param o a meter to add the loss to, and this step's learning rate
 */
export async function trainStep(
  lossFn: () => Tensor,
  optimizer: Adam,
  o: { meter?: LossMeter; lr?: number; lossWeight?: number } = {},
): Promise<void> {
  try {
    const loss = lossFn();
    backward(loss, full(loss.shape, 1));
    optimizer.step(o.lr);
    o.meter?.add(loss, o.lossWeight ?? 1);
    await submit();
  } finally {
    resetTape();
    endStep();
  }
}
