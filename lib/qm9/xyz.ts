/**
 * Streaming reader for multi-molecule XYZ files, as QM9 is shared:
 *
 * - ASE extended XYZ (`qm9_subset_3000.extxyz`): comment line
 *   `Properties=species:S:1:pos:R:3 pbc="F F F" gdb_id=N`; the `Properties` column layout is
 *   honoured (`species:S:1` or `Z:I:1`, and `pos:R:3`, anywhere among other columns);
 * - plain XYZ (`geometries/qm9_geom_*.xyz`, or release files concatenated): comment `gdb N …`,
 *   atom lines `element x y z [more columns]`.
 *
 * Each record is an atom-count line, a comment line and that many atom lines; blank lines between
 * records are skipped. The molecule id comes from the comment (`gdb_id=N`, or `gdb N` at its
 * start), else it is the 1-based record number. Numbers may use the Mathematica exponent form
 * `1.2*^-6` of the QM9 release.
 *
 * @module
 */

import { pathName, readLineBatches, splitFields } from "./lines.ts";
import { elementNumber, type Molecule } from "./molecule.ts";
import { parseReleaseNumber } from "./release.ts";

/** Largest atom count accepted on a count line (guards against allocating for garbage). */
const MAX_ATOMS = 1_000_000;

/** A non-negative decimal integer written with digits only, or NaN. */
function parseIndex(s: string): number {
  if (s.length === 0 || s.length > 15) return NaN;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return NaN;
  }
  return Number(s);
}

interface Columns {
  /** Column of the element. */
  species: number;
  /** True when the element column holds atomic numbers (`Z:I:1`), not symbols. */
  atomicNumbers: boolean;
  /** Column of x (y, z follow). */
  pos: number;
  /** Fields an atom line must have at least. */
  width: number;
}

const PLAIN: Columns = { species: 0, atomicNumbers: false, pos: 1, width: 4 };

/** Incremental parser: lines in, molecules out. */
class XyzParser {
  #file: string;
  /** Records started so far (the current one's 1-based number). */
  #record = 0;
  #id = 0;
  #idFromComment = false;
  /** 0: expecting a count line; 1: the comment; 2: atom lines. */
  #state = 0;
  #n = 0;
  #k = 0;
  #charges = new Uint8Array(0);
  #positions = new Float64Array(0);
  #columns = PLAIN;
  #spec = "";
  #startLine = 0;

  constructor(file: string) {
    this.#file = file;
  }

  #where(line: number, field: string): string {
    const id = this.#idFromComment ? ` (gdb ${this.#id})` : "";
    return `${this.#file}:${line}: record ${this.#record}${id}, ${field}`;
  }

  push(line: string, number: number, out: Molecule[]): void {
    if (this.#state === 2) {
      this.#atom(line, number);
      if (++this.#k === this.#n) {
        out.push({
          id: this.#id,
          charges: this.#charges,
          positions: this.#positions,
          properties: {},
        });
        this.#state = 0;
      }
    } else if (this.#state === 0) {
      const f = splitFields(line);
      if (f.length === 0) return;
      this.#record++;
      this.#idFromComment = false;
      this.#startLine = number;
      const n = f.length === 1 ? parseIndex(f[0]) : NaN;
      if (!(n >= 1 && n <= MAX_ATOMS)) {
        throw new Error(
          `${this.#where(number, "atom count")}: expected a positive integer alone on the line ` +
            `that starts a record, got "${clip(line)}"`,
        );
      }
      this.#n = n;
      this.#k = 0;
      this.#charges = new Uint8Array(n);
      this.#positions = new Float64Array(3 * n);
      this.#state = 1;
    } else {
      this.#comment(line, number);
      this.#state = 2;
    }
  }

  #comment(line: string, number: number): void {
    this.#id = this.#record;
    let p = line.indexOf("gdb_id=");
    if (p >= 0 && (p === 0 || line.charCodeAt(p - 1) === 32 || line.charCodeAt(p - 1) === 9)) {
      p += 7;
      let e = p;
      while (e < line.length && line.charCodeAt(e) !== 32 && line.charCodeAt(e) !== 9) e++;
      const id = parseIndex(line.slice(p, e));
      if (!(id >= 1)) {
        throw new Error(
          `${this.#where(number, "gdb_id")}: expected a positive integer, got "${
            line.slice(p, e)
          }"`,
        );
      }
      this.#id = id;
      this.#idFromComment = true;
    } else if (line.startsWith("gdb")) {
      const f = splitFields(line);
      if (f[0] === "gdb" && f.length > 1) {
        const id = parseIndex(f[1]);
        if (!(id >= 1)) {
          throw new Error(
            `${this.#where(number, "gdb id")}: expected a positive integer after "gdb", ` +
              `got "${f[1]}"`,
          );
        }
        this.#id = id;
        this.#idFromComment = true;
      }
    }
    let q = line.indexOf("Properties=");
    if (q < 0) q = line.indexOf("properties=");
    if (q < 0) {
      this.#columns = PLAIN;
      return;
    }
    q += 11;
    let e = q;
    while (e < line.length && line.charCodeAt(e) !== 32 && line.charCodeAt(e) !== 9) e++;
    const spec = line.slice(q, e);
    if (spec !== this.#spec) {
      this.#columns = parseColumns(spec, this.#where(number, "Properties"));
      this.#spec = spec;
    }
  }

  #atom(line: string, number: number): void {
    const f = splitFields(line);
    const c = this.#columns, k = this.#k;
    if (f.length < c.width) {
      const next = f.length === 1 && parseIndex(f[0]) >= 1
        ? " (the next record's count line?)"
        : f.length === 0
        ? " (blank line)"
        : "";
      throw new Error(
        `${
          this.#where(number, `atom ${k + 1}`)
        }: truncated record: expected ${this.#n} atom lines ` +
          `from line ${this.#startLine + 2}, found ${k}; line ${number} is "${clip(line)}"${next}`,
      );
    }
    const s = f[c.species];
    if (c.atomicNumbers) {
      const z = parseIndex(s);
      if (z !== 1 && z !== 6 && z !== 7 && z !== 8 && z !== 9) {
        throw new Error(
          `${this.#where(number, `atom ${k + 1} Z`)}: unknown atomic number "${s}" ` +
            `(expected one of 1, 6, 7, 8, 9)`,
        );
      }
      this.#charges[k] = z;
    } else this.#charges[k] = elementNumber(s, this.#where(number, `atom ${k + 1} element`));
    for (let d = 0; d < 3; d++) {
      const t = f[c.pos + d];
      const v = parseReleaseNumber(t);
      if (!Number.isFinite(v)) {
        throw new Error(
          `${this.#where(number, `atom ${k + 1} ${"xyz"[d]}`)}: expected a number, got "${t}"`,
        );
      }
      this.#positions[3 * k + d] = v;
    }
  }

  /** Checks that the input did not stop inside a record. */
  end(lastLine: number): void {
    if (this.#state === 0) return;
    throw new Error(
      `${this.#where(lastLine, this.#state === 1 ? "comment" : `atom ${this.#k + 1}`)}: ` +
        `truncated record at end of file: expected a comment line and ${this.#n} atom lines ` +
        `after line ${this.#startLine}, found ${this.#state === 1 ? "no comment" : this.#k}`,
    );
  }
}

function clip(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

/** Column layout from an extended-XYZ `Properties=name:type:count:…` value. */
function parseColumns(spec: string, where: string): Columns {
  const parts = spec.split(":");
  let col = 0, species = -1, pos = -1, atomicNumbers = false;
  const bad = () =>
    new Error(
      `${where}: expected name:type:count triples with species:S:1 (or Z:I:1) and pos:R:3, ` +
        `got "${spec}"`,
    );
  if (parts.length % 3 !== 0) throw bad();
  for (let i = 0; i < parts.length; i += 3) {
    const name = parts[i], type = parts[i + 1], count = parseIndex(parts[i + 2]);
    if (!(count >= 1)) throw bad();
    if (name === "species" && type === "S" && count === 1) species = col;
    else if (name === "Z" && type === "I" && count === 1 && species < 0) {
      species = col;
      atomicNumbers = true;
    } else if (name === "pos" && type === "R" && count === 3) pos = col;
    col += count;
  }
  if (species < 0 || pos < 0) throw bad();
  return { species, atomicNumbers, pos, width: col };
}

/**
 * Reads the molecules of a multi-molecule XYZ file, streaming: one decoded chunk of the file is
 * in memory at a time.
 *
 * @param path the file
 * @returns an async generator of molecules in file order (`properties` empty)
 * @throws Error (after yielding the records before the malformed one) naming the file, line, record number (and id) and field, for a truncated record
 *   (fewer atom lines than the count, or no count line), a non-numeric coordinate or an unknown
 *   element
 * @example
 * ```ts ignore
 * import { readXyzMolecules } from "./xyz.ts";
 * for await (const m of readXyzMolecules("qm9_subset_3000.extxyz")) console.log(m.id, m.charges);
 * ```
 */
export async function* readXyzMolecules(path: string | URL): AsyncGenerator<Molecule> {
  const parser = new XyzParser(pathName(path));
  let last = 0;
  const out: Molecule[] = [];
  for await (const { lines, first } of readLineBatches(path)) {
    let error: unknown;
    try {
      for (let k = 0; k < lines.length; k++) parser.push(lines[k], first + k, out);
    } catch (e) {
      error = e;
    }
    last = first + lines.length - 1;
    // The records before a malformed one still come out, in order, before the error.
    for (let i = 0; i < out.length; i++) yield out[i];
    out.length = 0;
    if (error !== undefined) throw error;
  }
  parser.end(last);
}

/**
 * Parses multi-molecule XYZ text held in memory (same formats and errors as
 * {@linkcode readXyzMolecules}).
 *
 * @param text the file's contents
 * @param file names the file in errors
 * @returns the molecules in order
 * @example
 * ```ts
 * import { parseXyz } from "./xyz.ts";
 * const [m] = parseXyz("2\ngdb 7\nH 0 0 0\nH 0 0 0.74\n", "h2.xyz");
 * console.log(m.id, m.charges, m.positions[5]); // 7 Uint8Array(2) [ 1, 1 ] 0.74
 * ```
 */
export function parseXyz(text: string, file: string): Molecule[] {
  const parser = new XyzParser(file);
  const out: Molecule[] = [];
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  for (let k = 0; k < lines.length; k++) {
    const s = lines[k];
    parser.push(s.endsWith("\r") ? s.slice(0, -1) : s, k + 1, out);
  }
  parser.end(lines.length);
  return out;
}
