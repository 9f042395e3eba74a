/**
 * The original QM9 release's per-molecule files `dsgdb9nsd_NNNNNN.xyz` (Ramakrishnan et al.,
 * Scientific Data 1, 140022, 2014):
 *
 * ```text
 * n                                              atom count
 * gdb N  A B C mu alpha homo lumo gap r2 zpve U0 U H G Cv   (tab-separated)
 * el x y z mulliken                              n atom lines (Å, e)
 * f1 f2 …                                        harmonic frequencies (cm⁻¹)
 * smiles_gdb17 smiles_b3lyp                      SMILES
 * inchi_corina inchi_b3lyp                       InChI
 * ```
 *
 * Numbers may use the Mathematica exponent form `1.2*^-6` (= 1.2e-6).
 *
 * @module
 */

import { pathName, splitFields } from "./lines.ts";
import { elementNumber, type Molecule, QM9_PROPERTIES } from "./molecule.ts";

/** Everything one release file holds. */
export interface ReleaseRecord {
  /** Id, atoms and the 15 properties. */
  molecule: Molecule;
  /** Mulliken partial charges (e), one per atom. */
  mulliken: Float64Array;
  /** Harmonic vibrational frequencies (cm⁻¹). */
  frequencies: Float64Array;
  /** SMILES from GDB-17 and from the relaxed B3LYP geometry. */
  smiles: [gdb17: string, b3lyp: string];
  /** InChI from the Corina and from the relaxed B3LYP geometry. */
  inchi: [corina: string, b3lyp: string];
}

/**
 * Parses a number as written in the release: plain decimal/exponent notation or Mathematica's
 * `mantissa*^exponent`.
 *
 * @param token one field (no surrounding whitespace)
 * @returns its value, or NaN when it is not a number
 * @example
 * ```ts
 * import { parseReleaseNumber } from "./release.ts";
 * console.log(parseReleaseNumber("1.2345*^-6"), parseReleaseNumber("-0.25")); // 0.0000012345 -0.25
 * ```
 */
export function parseReleaseNumber(token: string): number {
  if (token.length === 0) return NaN;
  const v = Number(token);
  if (v === v) return v;
  const k = token.indexOf("*^");
  return k > 0 ? Number(token.slice(0, k) + "e" + token.slice(k + 2)) : NaN;
}

/**
 * The release's file name for a GDB-9 index.
 *
 * @param id the GDB-9 index
 * @returns `dsgdb9nsd_NNNNNN.xyz`
 */
export function releaseFileName(id: number): string {
  return `dsgdb9nsd_${String(id).padStart(6, "0")}.xyz`;
}

function integer(s: string | undefined): number {
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : NaN;
}

/**
 * Parses one release file, keeping everything it holds.
 *
 * @param text the file's contents
 * @param file names the file in errors
 * @returns molecule, Mulliken charges, frequencies, SMILES and InChI
 * @throws Error `file:line: molecule gdb N, field: expected …, got "…"` for any malformed line
 */
export function parseReleaseRecord(text: string, file: string): ReleaseRecord {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].endsWith("\r")) lines[i] = lines[i].slice(0, -1);
  }
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  let id = 0;
  const at = (line: number, field: string) =>
    `${file}:${line}: molecule ${id > 0 ? `gdb ${id}` : "?"}, ${field}`;
  const head = splitFields(lines[0] ?? "");
  const n = head.length === 1 ? integer(head[0]) : NaN;
  if (!(n >= 1)) {
    throw new Error(
      `${at(1, "atom count")}: expected a positive integer alone on line 1, got "${
        lines[0] ?? ""
      }"`,
    );
  }
  const meta = splitFields(lines[1] ?? "");
  id = meta[0] === "gdb" ? integer(meta[1]) : NaN;
  if (!(id >= 1)) {
    throw new Error(
      `${at(2, "gdb id")}: expected "gdb N" then 15 properties, got "${lines[1] ?? ""}"`,
    );
  }
  if (meta.length !== 2 + QM9_PROPERTIES.length) {
    throw new Error(
      `${at(2, "properties")}: expected 15 numbers (${QM9_PROPERTIES.join(" ")}) after ` +
        `"gdb ${id}", found ${meta.length - 2}`,
    );
  }
  const properties: Record<string, number> = {};
  for (let p = 0; p < QM9_PROPERTIES.length; p++) {
    const t = meta[2 + p], v = parseReleaseNumber(t);
    if (!Number.isFinite(v)) {
      throw new Error(`${at(2, `property ${QM9_PROPERTIES[p]}`)}: expected a number, got "${t}"`);
    }
    properties[QM9_PROPERTIES[p]] = v;
  }
  if (lines.length < n + 5) {
    throw new Error(
      `${at(lines.length, "layout")}: truncated: ${lines.length} lines, expected ${n + 5} ` +
        `(count, gdb line, ${n} atom lines, frequencies, SMILES, InChI)`,
    );
  }
  const charges = new Uint8Array(n), positions = new Float64Array(3 * n);
  const mulliken = new Float64Array(n);
  const names = ["x", "y", "z", "Mulliken charge"];
  for (let k = 0; k < n; k++) {
    const line = k + 3, f = splitFields(lines[k + 2]);
    if (f.length !== 5) {
      throw new Error(
        `${at(line, `atom ${k + 1}`)}: expected "element x y z mulliken", got "${lines[k + 2]}"`,
      );
    }
    charges[k] = elementNumber(f[0], at(line, `atom ${k + 1} element`));
    for (let d = 0; d < 4; d++) {
      const v = parseReleaseNumber(f[d + 1]);
      if (!Number.isFinite(v)) {
        throw new Error(
          `${at(line, `atom ${k + 1} ${names[d]}`)}: expected a number, got "${f[d + 1]}"`,
        );
      }
      if (d < 3) positions[3 * k + d] = v;
      else mulliken[k] = v;
    }
  }
  const freqText = splitFields(lines[n + 2]);
  const frequencies = new Float64Array(freqText.length);
  for (let i = 0; i < freqText.length; i++) {
    const v = parseReleaseNumber(freqText[i]);
    if (!Number.isFinite(v)) {
      throw new Error(
        `${at(n + 3, `frequency ${i + 1}`)}: expected a number, got "${freqText[i]}"`,
      );
    }
    frequencies[i] = v;
  }
  const pair = (line: number, what: string): [string, string] => {
    const f = splitFields(lines[line - 1]);
    if (f.length !== 2) {
      throw new Error(`${at(line, what)}: expected two ${what} strings, got "${lines[line - 1]}"`);
    }
    return [f[0], f[1]];
  };
  const smiles = pair(n + 4, "SMILES");
  const inchi = pair(n + 5, "InChI");
  if (lines.length > n + 5) {
    throw new Error(
      `${at(n + 6, "layout")}: unexpected text after the InChI line: "${lines[n + 5]}"`,
    );
  }
  return { molecule: { id, charges, positions, properties }, mulliken, frequencies, smiles, inchi };
}

/**
 * Parses one release file into a {@linkcode Molecule} (id, atoms, the 15 properties).
 *
 * @param text the file's contents
 * @param file names the file in errors
 * @returns the molecule
 * @throws Error naming the file, line, molecule and field for any malformed line
 * @example
 * ```ts
 * import { parseReleaseXyz } from "./release.ts";
 * const text = "2\ngdb 9\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\t12\t13\t14\t1.5*^-3\n" +
 *   "H\t0\t0\t0\t0\nH\t0\t0\t0.74\t0\n4400\n[H][H]\t[H][H]\nInChI=1S/H2/h1H\tInChI=1S/H2/h1H\n";
 * console.log(parseReleaseXyz(text, "x.xyz").properties.Cv); // 0.0015
 * ```
 */
export function parseReleaseXyz(text: string, file: string): Molecule {
  return parseReleaseRecord(text, file).molecule;
}

/** Release files of a directory in id order. */
async function releaseFiles(dir: string | URL): Promise<{ id: number; path: string | URL }[]> {
  const files: { id: number; path: string | URL }[] = [];
  const base = typeof dir === "string"
    ? dir.replace(/\/+$/, "")
    : new URL(dir.href.endsWith("/") ? dir.href : dir.href + "/");
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile || !e.name.startsWith("dsgdb9nsd_") || !e.name.endsWith(".xyz")) continue;
      const id = integer(e.name.slice(10, -4));
      if (!(id >= 1)) continue;
      files.push({
        id,
        path: typeof base === "string" ? `${base}/${e.name}` : new URL(e.name, base),
      });
    }
  } catch (e) {
    throw new Error(`${pathName(dir)}: cannot list the directory (${(e as Error).message})`);
  }
  return files.sort((a, b) => a.id - b.id);
}

/**
 * Reads every `dsgdb9nsd_*.xyz` of a directory in id order, one file at a time, keeping
 * everything each holds.
 *
 * @param dir the directory (the extracted release)
 * @returns an async generator of records
 * @throws Error naming the file, line, molecule and field for a malformed file, or when a
 *   file's `gdb N` differs from the index in its name
 */
export async function* readReleaseRecords(dir: string | URL): AsyncGenerator<ReleaseRecord> {
  for (const { id, path } of await releaseFiles(dir)) {
    const name = pathName(path);
    const record = parseReleaseRecord(await Deno.readTextFile(path), name);
    if (record.molecule.id !== id) {
      throw new Error(
        `${name}:2: molecule gdb ${record.molecule.id}, gdb id: expected ${id} (from the file name)`,
      );
    }
    yield record;
  }
}

/**
 * Reads every `dsgdb9nsd_*.xyz` of a directory in id order, one file at a time.
 *
 * @param dir the directory (the extracted release)
 * @returns an async generator of molecules (with their 15 properties)
 * @throws Error as {@linkcode readReleaseRecords}
 * @example
 * ```ts ignore
 * import { readReleaseDirectory } from "./release.ts";
 * for await (const m of readReleaseDirectory("dsgdb9nsd/")) console.log(m.id, m.properties.gap);
 * ```
 */
export async function* readReleaseDirectory(dir: string | URL): AsyncGenerator<Molecule> {
  for await (const record of readReleaseRecords(dir)) yield record.molecule;
}
