/**
 * The reference's QM9 target preprocessing (qm9/data: `ProcessedDataset`, `subtract_thermo`,
 * unit conversion) and the paper's Table 3: which properties are predicted, in which units, and
 * what the paper reports.
 *
 * - U0, U, H, G, ZPVE and Cv have the sum of their atoms' reference values subtracted
 *   (atomisation quantities; ZPVE's atom reference is 0, Cv's 2.981 cal/mol K per atom);
 * - energies in Hartree (U0, U, H, G, homo, lumo, gap) are converted to eV (× 27.2114), ZPVE
 *   to meV (× 27211.4); mu (D), alpha (bohr³), r2 (bohr²) and Cv (cal/mol K) keep their units.
 *
 * @module
 */

import type { Molecule } from "./molecule.ts";

/** The 12 properties of Table 3, in the paper's column order. */
export const TABLE3_PROPERTIES = [
  "alpha",
  "gap",
  "homo",
  "lumo",
  "mu",
  "Cv",
  "G",
  "H",
  "r2",
  "U",
  "U0",
  "zpve",
] as const;

/** A property of Table 3. */
export type Qm9Property = typeof TABLE3_PROPERTIES[number];

/** Hartree → eV, the reference's factor. */
export const HARTREE_TO_EV = 27.2114;

/**
 * QM9's atom reference values (atomref of the release), per atomic number: ZPVE, U0, U (298 K),
 * H (298 K), G (298 K) in Hartree, Cv in cal/mol K.
 */
export const ATOM_REFERENCES: Readonly<
  Record<number, { zpve: number; U0: number; U: number; H: number; G: number; Cv: number }>
> = Object.freeze({
  1: { zpve: 0, U0: -0.500273, U: -0.498857, H: -0.497912, G: -0.510927, Cv: 2.981 },
  6: { zpve: 0, U0: -37.846772, U: -37.845355, H: -37.844411, G: -37.861317, Cv: 2.981 },
  7: { zpve: 0, U0: -54.583861, U: -54.582445, H: -54.581501, G: -54.598897, Cv: 2.981 },
  8: { zpve: 0, U0: -75.064579, U: -75.063163, H: -75.062219, G: -75.079532, Cv: 2.981 },
  9: { zpve: 0, U0: -99.718730, U: -99.717314, H: -99.716370, G: -99.733544, Cv: 2.981 },
});

/** How one property is turned into a training target, and what the paper reports for it. */
export interface PropertyInfo {
  /** Whether the atoms' reference values are subtracted (`subtract_thermo`). */
  atomReference: boolean;
  /** Factor from the release's unit to the target's unit. */
  factor: number;
  /** The target's unit (the unit of the MAE we report). */
  unit: string;
  /** The paper's EGNN MAE (Table 3), in the target's unit. */
  paperMae: number;
  /** The paper's value as printed, with its unit (e.g. `48 meV`). */
  paperPrinted: string;
  /** The reference README's learning rate for this property. */
  lr: number;
}

/** Per-property preprocessing and Table 3 values. */
export const PROPERTY_INFO: Readonly<Record<Qm9Property, PropertyInfo>> = Object.freeze({
  alpha: {
    atomReference: false,
    factor: 1,
    unit: "bohr^3",
    paperMae: 0.071,
    paperPrinted: "0.071 bohr^3",
    lr: 5e-4,
  },
  gap: {
    atomReference: false,
    factor: HARTREE_TO_EV,
    unit: "eV",
    paperMae: 0.048,
    paperPrinted: "48 meV",
    lr: 1e-3,
  },
  homo: {
    atomReference: false,
    factor: HARTREE_TO_EV,
    unit: "eV",
    paperMae: 0.029,
    paperPrinted: "29 meV",
    lr: 1e-3,
  },
  lumo: {
    atomReference: false,
    factor: HARTREE_TO_EV,
    unit: "eV",
    paperMae: 0.025,
    paperPrinted: "25 meV",
    lr: 1e-3,
  },
  mu: {
    atomReference: false,
    factor: 1,
    unit: "D",
    paperMae: 0.029,
    paperPrinted: "0.029 D",
    lr: 5e-4,
  },
  Cv: {
    atomReference: true,
    factor: 1,
    unit: "cal/mol K",
    paperMae: 0.031,
    paperPrinted: "0.031 cal/mol K",
    lr: 5e-4,
  },
  G: {
    atomReference: true,
    factor: HARTREE_TO_EV,
    unit: "eV",
    paperMae: 0.012,
    paperPrinted: "12 meV",
    lr: 5e-4,
  },
  H: {
    atomReference: true,
    factor: HARTREE_TO_EV,
    unit: "eV",
    paperMae: 0.012,
    paperPrinted: "12 meV",
    lr: 5e-4,
  },
  r2: {
    atomReference: false,
    factor: 1,
    unit: "bohr^2",
    paperMae: 0.106,
    paperPrinted: "0.106 bohr^2",
    lr: 5e-4,
  },
  U: {
    atomReference: true,
    factor: HARTREE_TO_EV,
    unit: "eV",
    paperMae: 0.012,
    paperPrinted: "12 meV",
    lr: 5e-4,
  },
  U0: {
    atomReference: true,
    factor: HARTREE_TO_EV,
    unit: "eV",
    paperMae: 0.011,
    paperPrinted: "11 meV",
    lr: 5e-4,
  },
  zpve: {
    atomReference: true,
    factor: 1000 * HARTREE_TO_EV,
    unit: "meV",
    paperMae: 1.55,
    paperPrinted: "1.55 meV",
    lr: 5e-4,
  },
});

/**
 * A molecule's target for a property, in the target's unit (atom references subtracted where
 * the reference subtracts them).
 *
 * @param mol the molecule (properties in the release's units)
 * @param property the property
 * @param where names the source in errors
 * @returns the target value
 * @example Methane's (gdb_1) atomisation energy U0 in eV
 * ```ts
 * import { targetValue } from "./targets.ts";
 * const methane = {
 *   id: 1,
 *   charges: new Uint8Array([6, 1, 1, 1, 1]),
 *   positions: new Float64Array(15),
 *   properties: { U0: -40.47893 },
 * };
 * console.log(targetValue(methane, "U0").toFixed(4)); // -17.1722
 * ```
 */
export function targetValue(mol: Molecule, property: Qm9Property, where = "QM9"): number {
  const raw = mol.properties[property];
  if (raw === undefined || !Number.isFinite(raw)) {
    throw new Error(
      `${where}: molecule gdb_${mol.id} has no finite value of "${property}" (has: ${
        Object.keys(mol.properties).join(", ") || "no labels"
      })`,
    );
  }
  const info = PROPERTY_INFO[property];
  let value = raw;
  if (info.atomReference) {
    const key = property as "zpve" | "U0" | "U" | "H" | "G" | "Cv";
    for (const z of mol.charges) {
      const ref = ATOM_REFERENCES[z];
      if (!ref) throw new Error(`${where}: molecule gdb_${mol.id} has atomic number ${z}`);
      value -= ref[key];
    }
  }
  return value * info.factor;
}

/**
 * The reference's node features (`preprocess_input`, charge power 2, charge scale 9): for each
 * atom one-hot(H, C, N, O, F) ⊗ [(Z/9)⁰, (Z/9)¹, (Z/9)²], 15 values, index 3·species + power.
 *
 * @param charges atomic numbers of the atoms
 * @param out where to write (charges.length × 15), default a new array
 * @param chargePower the highest power (default 2)
 * @returns the features, row-major
 * @example A carbon atom
 * ```ts
 * import { nodeFeatures } from "./targets.ts";
 * const f = nodeFeatures(new Uint8Array([6]));
 * console.log([...f.slice(3, 6)].map((v) => v.toFixed(4))); // ["1.0000", "0.6667", "0.4444"]
 * ```
 */
export function nodeFeatures(
  charges: ArrayLike<number>,
  out?: Float32Array,
  chargePower = 2,
): Float32Array {
  const width = 5 * (chargePower + 1);
  const f = out ?? new Float32Array(charges.length * width);
  for (let a = 0; a < charges.length; a++) {
    const z = charges[a];
    const species = SPECIES_INDEX[z];
    if (species === undefined) {
      throw new Error(`nodeFeatures: atomic number ${z} is not H, C, N, O, F`);
    }
    let p = 1;
    for (let k = 0; k <= chargePower; k++) {
      f[a * width + species * (chargePower + 1) + k] = p;
      p *= z / 9;
    }
  }
  return f;
}

const SPECIES_INDEX: Record<number, number> = { 1: 0, 6: 1, 7: 2, 8: 3, 9: 4 };
