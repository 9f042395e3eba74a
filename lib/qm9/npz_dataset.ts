/**
 * The reference implementation's preprocessed QM9 splits (Cormorant preprocessing:
 * `qm9/temp/qm9/{train,valid,test}.npz`): per molecule, padded to the largest molecule (29 atoms),
 * `num_atoms`, `charges` (0 = padding), `positions` (Å), `index` (GDB-9 index) and one key per
 * property (A B C mu alpha homo lumo gap r2 zpve U0 U H G Cv, optionally omega1), plus the
 * atom-reference sums `*_thermo`.
 *
 * @module
 */

import type { NpyArray } from "../io/npy.ts";
import { readNpz } from "../io/npz.ts";
import { pathName } from "./lines.ts";
import { type Molecule, QM9_PROPERTIES } from "./molecule.ts";

/** One preprocessed split. */
export interface ReferenceNpz {
  /** The molecules in file order, padding removed; properties from the keys present. */
  molecules: Molecule[];
  /**
   * The atom-reference sums by key (`U0_thermo`, `zpve_thermo`, …), one value per molecule in
   * the order of `molecules` (empty when the file has none).
   */
  thermo: Record<string, Float64Array>;
}

/** Per-molecule keys read as properties besides the 15 canonical ones. */
const EXTRA_PROPERTIES = ["omega1"];

/**
 * Reads one of the reference's preprocessed `.npz` splits.
 *
 * @param path the `.npz` file
 * @returns molecules (padding stripped, id from `index`) and the `*_thermo` arrays
 * @throws Error naming the file (and the key, and the molecule where it applies) for a corrupt or
 *   truncated archive, a missing `num_atoms`/`charges`/`positions`/`index`, shapes that disagree,
 *   or charges that do not match `num_atoms`
 * @example
 * ```ts ignore
 * import { readReferenceNpz } from "./npz_dataset.ts";
 * const { molecules } = await readReferenceNpz("qm9/temp/qm9/valid.npz");
 * console.log(molecules.length, molecules[0].properties.gap); // 17748 …
 * ```
 */
export async function readReferenceNpz(path: string | URL): Promise<ReferenceNpz> {
  const file = pathName(path);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`);
  }
  let arrays: Map<string, NpyArray>;
  try {
    arrays = await readNpz(bytes, file);
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(
      msg.startsWith(file) ? msg : `${file}: corrupt or truncated npz archive (${msg})`,
    );
  }
  const keys = [...arrays.keys()].join(", ");
  const get = (key: string, rank: number): NpyArray => {
    const a = arrays.get(key);
    if (a === undefined) throw new Error(`${file}: no key "${key}" (keys: ${keys})`);
    if (a.shape.length !== rank) {
      throw new Error(`${file}: key "${key}": shape (${a.shape}), expected ${rank} dimensions`);
    }
    return a;
  };
  const numAtoms = get("num_atoms", 1), charges = get("charges", 2);
  const positions = get("positions", 3), index = get("index", 1);
  const count = numAtoms.shape[0], pad = charges.shape[1];
  const expect = (key: string, a: NpyArray, shape: number[]) => {
    if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `${file}: key "${key}": shape (${a.shape}), expected (${shape}) ` +
          `(num_atoms has ${count} molecules, charges ${pad} atom slots)`,
      );
    }
  };
  expect("charges", charges, [count, pad]);
  expect("positions", positions, [count, pad, 3]);
  expect("index", index, [count]);
  const props: [string, Float64Array][] = [];
  const thermo: Record<string, Float64Array> = {};
  for (const [key, a] of arrays) {
    const canonical = (QM9_PROPERTIES as readonly string[]).includes(key) ||
      EXTRA_PROPERTIES.includes(key);
    if (!canonical && !key.endsWith("_thermo")) continue;
    expect(key, a, [count]);
    if (canonical) props.push([key, a.data]);
    else thermo[key] = a.data;
  }
  const molecules: Molecule[] = new Array(count);
  for (let b = 0; b < count; b++) {
    const id = index.data[b], n = numAtoms.data[b];
    const mol = `molecule ${b} (index ${id})`;
    if (!Number.isInteger(id) || id < 0) {
      throw new Error(`${file}: key "index", ${mol}: expected a non-negative integer`);
    }
    if (!Number.isInteger(n) || n < 1 || n > pad) {
      throw new Error(
        `${file}: key "num_atoms", ${mol}: ${n}, expected an integer in 1 … ${pad}`,
      );
    }
    const z = new Uint8Array(n);
    for (let a = 0; a < pad; a++) {
      const c = charges.data[b * pad + a];
      const ok = a < n ? c === 1 || c === 6 || c === 7 || c === 8 || c === 9 : c === 0;
      if (!ok) {
        throw new Error(
          `${file}: key "charges", ${mol}, atom ${a}: ${c}, expected ` +
            (a < n ? "1, 6, 7, 8 or 9" : `0 (padding beyond num_atoms = ${n})`),
        );
      }
      if (a < n) z[a] = c;
    }
    const properties: Record<string, number> = {};
    for (const [key, data] of props) properties[key] = data[b];
    molecules[b] = {
      id,
      charges: z,
      positions: positions.data.slice(b * pad * 3, (b * pad + n) * 3),
      properties,
    };
  }
  return { molecules, thermo };
}
