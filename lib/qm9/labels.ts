/**
 * QM9 labels from CSV files, keyed by molecule id, read line by line.
 *
 * The default layout is MoleculeNet's (`qm9_subset_3000.csv`, deepchem's `qm9.csv`): an unnamed
 * index column, `mol_id` = `gdb_N`, then A B C mu alpha homo lumo gap r2 zpve u0 u298 h298 g298
 * cv and the atomisation energies u0_atom u298_atom h298_atom g298_atom (kcal/mol). The
 * lower-case energy columns are renamed to the canonical names (u0 → U0, u298 → U, h298 → H,
 * g298 → G, cv → Cv); other numeric columns keep their names.
 *
 * @module
 */

import { pathName, readLines } from "./lines.ts";
import { type Molecule, QM9_PROPERTIES } from "./molecule.ts";

/** MoleculeNet column → canonical QM9 property name (columns not listed keep their name). */
export const MOLECULENET_COLUMNS: Readonly<Record<string, string>> = Object.freeze({
  u0: "U0",
  u298: "U",
  h298: "H",
  g298: "G",
  cv: "Cv",
});

/** Columns that must hold numbers on every row under the default layout. */
const LABEL_COLUMNS: ReadonlySet<string> = new Set([
  ...QM9_PROPERTIES,
  ...Object.keys(MOLECULENET_COLUMNS),
]);

/** How to read a label file. */
export interface LabelsCsvOptions {
  /** Column holding the molecule id, as `gdb_N` or a plain integer (default `mol_id`). */
  idColumn?: string;
  /**
   * Canonical name → CSV column, for custom label files. When given, exactly these columns are
   * read (each must exist). When absent, the MoleculeNet layout applies: the known label columns
   * must be numeric; other columns are kept if their first row holds a number (so `smiles` and
   * the unnamed index column are skipped).
   */
  columns?: Record<string, string>;
  /** Names (after renaming) that must be present, e.g. `["gap"]`. */
  required?: string[];
}

/** Labels by GDB-9 index. */
export type Labels = Map<number, Record<string, number>>;

/** Splits one CSV line (RFC 4180 quoting, no line breaks inside fields). */
function splitCsvLine(line: string, where: string): string[] {
  if (line.indexOf('"') < 0) return line.split(",");
  const out: string[] = [];
  let field = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (line[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(field);
      field = "";
    } else field += ch;
  }
  if (quoted) {
    throw new Error(
      `${where}: unterminated quoted field (line breaks in fields are not supported)`,
    );
  }
  out.push(field);
  return out;
}

/** `gdb_N`, `dsgdb9nsd_N` or `N` → N, else NaN. */
function parseMolId(s: string): number {
  const t = s.trim();
  const digits = t.startsWith("gdb_") ? t.slice(4) : t.startsWith("dsgdb9nsd_") ? t.slice(10) : t;
  return /^\d+$/.test(digits) && Number(digits) >= 1 ? Number(digits) : NaN;
}

function parseValue(s: string): number {
  const t = s.trim();
  return t.length === 0 ? NaN : Number(t);
}

/**
 * Reads a CSV label file into labels keyed by molecule id.
 *
 * @param path the CSV file
 * @param options id column, column map and required names
 * @returns labels by GDB-9 index, each keyed by canonical name (and kept extra columns)
 * @throws Error `file: no column "gap" (columns: …)` for a missing required or mapped column;
 *   `file:line: mol gdb_N, column "x": expected a number, got "…"` for a non-numeric value; also
 *   for a bad or repeated id and a row with the wrong number of fields
 * @example
 * ```ts ignore
 * import { readLabelsCsv } from "./labels.ts";
 * const labels = await readLabelsCsv("qm9_subset_3000.csv", { required: ["gap"] });
 * console.log(labels.get(1)?.gap); // 0.5048
 * ```
 */
export async function readLabelsCsv(
  path: string | URL,
  options: LabelsCsvOptions = {},
): Promise<Labels> {
  const file = pathName(path);
  const idColumn = options.idColumn ?? "mol_id";
  const labels: Labels = new Map();
  let header: string[] | undefined;
  let idIndex = -1;
  /** CSV column index → output name; `strict` columns must be numeric on every row. */
  let read: { index: number; name: string; column: string; strict: boolean }[] = [];
  let decided = false;
  for await (const { text, number } of readLines(path)) {
    if (text.trim() === "") continue;
    const where = `${file}:${number}`;
    const fields = splitCsvLine(text, where);
    if (header === undefined) {
      header = fields.map((f) => f.trim());
      idIndex = header.indexOf(idColumn);
      const columnList = header.map((c) => c === "" ? '""' : c).join(", ");
      if (idIndex < 0) throw new Error(`${file}: no column "${idColumn}" (columns: ${columnList})`);
      if (options.columns) {
        for (const [name, column] of Object.entries(options.columns)) {
          const index = header.indexOf(column);
          if (index < 0) {
            throw new Error(
              `${file}: no column "${column}" for label "${name}" (columns: ${columnList})`,
            );
          }
          read.push({ index, name, column, strict: true });
        }
        decided = true;
      } else {
        header.forEach((column, index) => {
          if (index === idIndex || column === "") return;
          read.push({
            index,
            name: MOLECULENET_COLUMNS[column] ?? column,
            column,
            strict: LABEL_COLUMNS.has(column) || column.endsWith("_atom"),
          });
        });
      }
      for (const name of options.required ?? []) {
        const r = read.find((r) => r.name === name);
        if (r === undefined) {
          throw new Error(`${file}: no column "${name}" (columns: ${columnList})`);
        }
        r.strict = true;
      }
      continue;
    }
    if (fields.length !== header.length) {
      throw new Error(
        `${where}: ${fields.length} fields, the header has ${header.length} ("${
          text.slice(0, 60)
        }")`,
      );
    }
    const idText = fields[idIndex];
    const id = parseMolId(idText);
    if (!(id >= 1)) {
      throw new Error(
        `${where}: column "${idColumn}": expected gdb_N or a positive integer, got "${idText}"`,
      );
    }
    if (labels.has(id)) throw new Error(`${where}: mol ${idText.trim()}: repeated id ${id}`);
    if (!decided) {
      // Extra columns (not known labels) are kept when their first row holds a number.
      read = read.filter((r) => r.strict || Number.isFinite(parseValue(fields[r.index])));
      for (const r of read) r.strict = true;
      decided = true;
    }
    const row: Record<string, number> = {};
    for (const r of read) {
      const v = parseValue(fields[r.index]);
      if (!Number.isFinite(v)) {
        throw new Error(
          `${where}: mol ${idText.trim()}, column "${r.column}": expected a number, ` +
            `got "${fields[r.index]}"`,
        );
      }
      row[r.name] = v;
    }
    labels.set(id, row);
  }
  if (header === undefined) throw new Error(`${file}: empty (no header line)`);
  return labels;
}

/** What {@linkcode attachLabels} does with a molecule that has no labels. */
export type MissingLabels = "error" | "skip" | "keep";

/**
 * Sets each molecule's `properties` from labels keyed by id (merged over any it has).
 *
 * @param molecules the molecules, e.g. from `readXyzMolecules`
 * @param labels labels by id, e.g. from {@linkcode readLabelsCsv}
 * @param options `missing`: throw (default), skip the molecule, or keep it unlabelled;
 *   `where` names the label file in errors
 * @returns an async generator of the labelled molecules
 * @throws Error `where: no labels for molecule id N`
 */
export async function* attachLabels(
  molecules: AsyncIterable<Molecule> | Iterable<Molecule>,
  labels: Labels,
  options: { missing?: MissingLabels; where?: string } = {},
): AsyncGenerator<Molecule> {
  const missing = options.missing ?? "error";
  for await (const m of molecules) {
    const l = labels.get(m.id);
    if (l === undefined) {
      if (missing === "error") {
        throw new Error(`${options.where ?? "labels"}: no labels for molecule id ${m.id}`);
      }
      if (missing === "skip") continue;
      yield m;
    } else yield { ...m, properties: { ...m.properties, ...l } };
  }
}
