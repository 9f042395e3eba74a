/**
 * Atomic file writes: write a temporary file beside the target, then rename it over the target,
 * so an interrupted run never leaves a half-written result or checkpoint.
 *
 * @module
 */

/**
 * Writes bytes or text to `path` atomically.
 *
 * @param path the destination
 * @param data the contents
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${Date.now()}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
