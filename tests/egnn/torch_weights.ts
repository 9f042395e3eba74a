// Comparing our parameters with a PyTorch state dict (.npz under PyTorch's names and layouts), for
// the step-for-step training tests.
import assert from "node:assert/strict";
import type { ParameterSet } from "../../mod.ts";
import { readNpz } from "../../lib/io/npz.ts";

/** PyTorch's out×in weights as our in×out (1×1 and vectors as they are). */
export function ourLayout(shape: number[], data: ArrayLike<number>): Float32Array {
  if (shape.length !== 2 || shape[0] === 1) return Float32Array.from(data);
  const [o, i] = shape, t = new Float32Array(data.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) t[b * o + a] = data[a * i + b];
  return t;
}

/**
 * Asserts every parameter (but `skip`) is within `rtol` × its largest magnitude of the state dict's.
 *
 * @param params our parameters
 * @param path the state dict (.npz)
 * @param skip parameter names not compared
 */
export async function assertWeightsMatch(
  params: ParameterSet,
  path: string,
  skip: string[] = [],
  rtol = 1e-4,
): Promise<void> {
  const ref = await readNpz(await Deno.readFile(path));
  const ours = await params.toHost();
  for (const p of params.tensors.filter((t) => !skip.includes(t.name))) {
    const r = ref.get(p.name);
    assert.ok(r, `${path} has no ${p.name}`);
    const want = ourLayout(r.shape, r.data), got = ours.get(p.name)!;
    let err = 0, scale = 0;
    for (let k = 0; k < want.length; k++) {
      err = Math.max(err, Math.abs(got[k] - want[k]));
      scale = Math.max(scale, Math.abs(want[k]));
    }
    assert.ok(err <= rtol * scale, `${p.name}: worst ${err} against scale ${scale}`);
  }
}
