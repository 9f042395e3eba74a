/**
 * The QM9 release's `uncharacterized.txt`: the 3,054 molecules whose B3LYP geometry fails the
 * consistency check (excluded from training and evaluation by the standard protocol).
 *
 * @module
 */

import { readLines, splitFields } from "./lines.ts";

/**
 * Reads the ids listed in `uncharacterized.txt`: every row whose first field is an integer
 * (header text, `#` and `=` rows are skipped). Streams the file line by line.
 *
 * @param path the file
 * @returns the GDB-9 indices (3,054 in the release's file: 58 … 133866)
 * @example
 * ```ts ignore
 * import { readUncharacterized } from "./uncharacterized.ts";
 * const excluded = await readUncharacterized("uncharacterized.txt");
 * console.log(excluded.size, excluded.has(58)); // 3054 true
 * ```
 */
export async function readUncharacterized(path: string | URL): Promise<Set<number>> {
  const ids = new Set<number>();
  for await (const { text } of readLines(path)) {
    const f = splitFields(text);
    if (f.length > 0 && /^\d+$/.test(f[0])) ids.add(Number(f[0]));
  }
  return ids;
}
