/**
 * Reads every geometry of the shared QM9 copy (`geometries/qm9_geom_*.xyz`, 128,744 molecules,
 * 2,330,532 atoms) with the streaming XYZ reader and prints molecules, atoms, seconds and the peak
 * resident set size sampled during the read.
 *
 * Run: `deno run -A bench/qm9_read.ts [dir]` (default: `$QM9_DATA` or `../shared/data/qm9/`).
 *
 * @module
 */

import { readXyzMolecules } from "../lib/qm9/xyz.ts";

const root = Deno.args[0] ?? Deno.env.get("QM9_DATA") ??
  new URL("../../shared/data/qm9/", import.meta.url).pathname;
const dir = `${root.replace(/\/+$/, "")}/geometries`;
let names: string[];
try {
  names = [...Deno.readDirSync(dir)]
    .map((e) => e.name)
    .filter((n) => n.startsWith("qm9_geom_") && n.endsWith(".xyz"))
    .sort();
} catch (e) {
  console.error(`qm9_read: cannot list ${dir} (${(e as Error).message})`);
  Deno.exit(1);
}
if (names.length === 0) {
  console.error(`qm9_read: no qm9_geom_*.xyz in ${dir}`);
  Deno.exit(1);
}

let molecules = 0, atoms = 0, peak = Deno.memoryUsage().rss;
const t0 = performance.now();
for (const name of names) {
  for await (const m of readXyzMolecules(`${dir}/${name}`)) {
    molecules++;
    atoms += m.charges.length;
    if ((molecules & 1023) === 0) peak = Math.max(peak, Deno.memoryUsage().rss);
  }
}
peak = Math.max(peak, Deno.memoryUsage().rss);
const seconds = (performance.now() - t0) / 1000;
console.log(`files      ${names.length}`);
console.log(`molecules  ${molecules}`);
console.log(`atoms      ${atoms}`);
console.log(`seconds    ${seconds.toFixed(2)}`);
console.log(`rate       ${(molecules / seconds).toFixed(0)} molecules/s`);
console.log(`peak RSS   ${(peak / 2 ** 20).toFixed(1)} MB`);
