/**
 * The molecule record shared by every QM9 reader (release files, XYZ files, CSV labels, the
 * reference's preprocessed `.npz` files), with the elements and property names of QM9.
 *
 * @module
 */

/** One molecule as read from any source. */
export interface Molecule {
  /** GDB-9 index (N of gdb_N / dsgdb9nsd_N). */
  id: number;
  /** Atomic numbers (H 1, C 6, N 7, O 8, F 9). */
  charges: Uint8Array;
  /** Positions in Å, n×3 row-major. */
  positions: Float64Array;
  /** Properties in the release's units (Hartree, GHz, D, bohr³, bohr², cal/mol K), keyed by the
   *  canonical names A B C mu alpha homo lumo gap r2 zpve U0 U H G Cv (empty when unlabelled). */
  properties: Record<string, number>;
}

/** The elements of QM9: symbol → atomic number. */
export const ELEMENTS: Readonly<Record<"H" | "C" | "N" | "O" | "F", number>> = Object.freeze({
  H: 1,
  C: 6,
  N: 7,
  O: 8,
  F: 9,
});

/**
 * The 15 properties of the QM9 release, in the release's order (line 2 of each
 * `dsgdb9nsd_*.xyz`): rotational constants A, B, C (GHz), dipole moment mu (D), polarisability
 * alpha (bohr³), homo, lumo, gap (Hartree), electronic spatial extent r2 (bohr²), zpve, U0, U, H,
 * G (Hartree), heat capacity Cv (cal/mol K).
 */
export const QM9_PROPERTIES = [
  "A",
  "B",
  "C",
  "mu",
  "alpha",
  "homo",
  "lumo",
  "gap",
  "r2",
  "zpve",
  "U0",
  "U",
  "H",
  "G",
  "Cv",
] as const;

/**
 * The atomic number of a QM9 element symbol.
 *
 * @param symbol the symbol as written in the file (case-sensitive: `H`, `C`, `N`, `O`, `F`)
 * @param where names the file, record and field in the error
 * @returns 1, 6, 7, 8 or 9
 * @throws Error `where: unknown element "Xx" (expected one of H, C, N, O, F)`
 * @example
 * ```ts
 * import { elementNumber } from "./molecule.ts";
 * console.log(elementNumber("N", "x.xyz:3")); // 7
 * ```
 */
export function elementNumber(symbol: string, where: string): number {
  switch (symbol) {
    case "H":
      return 1;
    case "C":
      return 6;
    case "N":
      return 7;
    case "O":
      return 8;
    case "F":
      return 9;
  }
  throw new Error(`${where}: unknown element "${symbol}" (expected one of H, C, N, O, F)`);
}
