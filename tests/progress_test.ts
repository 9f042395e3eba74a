// The progress line's pace and ETA, including a run resumed from a checkpoint (the pace counts
// only the units done since the process began).
import assert from "node:assert/strict";
import { progressText } from "../lib/cli/progress.ts";

Deno.test("progress: pace and ETA count only this process's units; slow units read as time each", () => {
  // Resumed at epoch 50 of 100, 2 epochs in 400 s: 200 s each, 48 left.
  assert.equal(progressText("egnn", 52, 100, 50, 400), "egnn 52/100 3m20s each ETA 2h40m");
  // Not resumed: 500 of 1,000 steps in 10 s.
  assert.equal(
    progressText("steps", 500, 1000, 0, 10, "loss 0.5"),
    "steps 500/1000 50.00/s ETA 10s loss 0.5",
  );
  // Nothing done yet in this process: no pace, no ETA.
  assert.equal(progressText("egnn", 50, 100, 50, 30), "egnn 50/100 ETA ?");
});
