/**
 * The report's inputs: every CSV of a results directory, recognised by its header (not its name)
 * as one of the experiments' tables or learning curves; other CSVs are ignored.
 *
 * @module
 */

import { parseCsv } from "../io/csv.ts";
import { NBODY_COLUMNS, NBODY_CURVE_COLUMNS } from "../experiments/nbody/run.ts";
import { SWEEP_COLUMNS } from "../experiments/nbody/sweep.ts";
import { QM9_COLUMNS } from "../experiments/qm9/run.ts";
import { CHECK_COLUMNS, TRANSFORMS } from "../experiments/check.ts";
import { AE_CURVE_COLUMNS, AE_SWEEP_COLUMNS, aeTableColumns } from "../experiments/ae/run.ts";

/** A results table. */
export type TableKind = "nbody" | "sweep" | "qm9" | "ae" | "ae_overfit" | "check";
/** A learning curve. */
export type CurveKind = "nbody_curve" | "ae_curve" | "qm9_curve";
/** What a CSV holds. */
export type CsvKind = TableKind | CurveKind;

/** Per-dataset columns of the graph-autoencoder table (`<dataset>_<suffix>`). */
export const AE_DATASET_SUFFIXES = [
  "bce",
  "pct_error",
  "f1",
  "paper_bce",
  "paper_pct_error",
  "paper_f1",
  "best_epoch",
] as const;
/**
 * Columns added after results had been written: a CSV without them is still recognised (and
 * reads them as absent).
 */
const LATER_COLUMNS = new Set(["train_max_step_bce", "clip_grad_norm"]);
const required = (columns: readonly string[]) => columns.filter((c) => !LATER_COLUMNS.has(c));
/** Columns of the graph-autoencoder table besides the per-dataset ones. */
const AE_COLUMNS = required(aeTableColumns([]));
/** Columns of an autoencoder learning curve that every version wrote. */
const AE_CURVE_REQUIRED = required(AE_CURVE_COLUMNS);

/** One CSV of the results directory that the report uses. */
export interface ResultFile {
  /** The file name, e.g. `nbody.csv`. */
  file: string;
  /** The name without `.csv`. */
  stem: string;
  kind: CsvKind;
  columns: string[];
  rows: Record<string, string>[];
}

/** What a results directory holds. */
export interface ResultsScan {
  files: ResultFile[];
  /** CSVs of no known kind. */
  ignored: string[];
  /** CSVs that could not be read, with the reason. */
  unreadable: string[];
}

const hasAll = (cols: Set<string>, want: readonly string[]) => want.every((c) => cols.has(c));

/** The datasets of a graph-autoencoder table: each prefix with all per-dataset columns. */
export function aeDatasets(columns: string[]): string[] {
  const cols = new Set(columns);
  const suffix = "_paper_pct_error";
  return columns
    .filter((c) => c.endsWith(suffix))
    .map((c) => c.slice(0, -suffix.length))
    .filter((d) => d !== "" && hasAll(cols, AE_DATASET_SUFFIXES.map((s) => `${d}_${s}`)));
}

/** The properties of a QM9 learning curve (`val_mae_<p>` with a matching `test_mae_<p>`). */
export function qm9CurveProperties(columns: string[]): string[] {
  const cols = new Set(columns);
  return columns
    .filter((c) => c.startsWith("val_mae_") && cols.has(`test_mae_${c.slice(8)}`))
    .map((c) => c.slice(8));
}

/**
 * Recognises a CSV by its header.
 *
 * @param columns the header
 * @returns the kind, or null for a CSV the report does not know
 */
export function classify(columns: string[]): CsvKind | null {
  const cols = new Set(columns);
  if (hasAll(cols, CHECK_COLUMNS.slice(0, 2 + TRANSFORMS.length))) return "check";
  if (hasAll(cols, NBODY_COLUMNS)) return "nbody";
  if (hasAll(cols, SWEEP_COLUMNS)) return "sweep";
  if (hasAll(cols, QM9_COLUMNS)) return "qm9";
  if (hasAll(cols, required(AE_SWEEP_COLUMNS))) return "ae_overfit";
  if (hasAll(cols, AE_COLUMNS) && aeDatasets(columns).length > 0) return "ae";
  if (hasAll(cols, NBODY_CURVE_COLUMNS)) return "nbody_curve";
  if (hasAll(cols, AE_CURVE_REQUIRED)) return "ae_curve";
  if (hasAll(cols, ["epoch", "train_l1"]) && qm9CurveProperties(columns).length > 0) {
    return "qm9_curve";
  }
  return null;
}

/**
 * Reads every CSV of a directory (sorted by name) and recognises it.
 *
 * @param dir the results directory
 */
export async function scanResults(dir: string): Promise<ResultsScan> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".csv")) names.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${dir}: no such results directory (run an experiment first)`);
    }
    throw e;
  }
  names.sort();
  const scan: ResultsScan = { files: [], ignored: [], unreadable: [] };
  for (const file of names) {
    let parsed: { columns: string[]; rows: Record<string, string>[] };
    try {
      parsed = parseCsv(await Deno.readTextFile(`${dir}/${file}`), file);
    } catch (e) {
      scan.unreadable.push(`${file}: ${(e as Error).message}`);
      continue;
    }
    const kind = classify(parsed.columns);
    if (kind === null) scan.ignored.push(file);
    else scan.files.push({ file, stem: file.slice(0, -4), kind, ...parsed });
  }
  return scan;
}

/**
 * A CSV field as a number: null when empty (or "null"), NaN when not a number.
 *
 * @param s the field
 */
export function num(s: string | undefined): number | null {
  if (s === undefined) return null;
  const t = s.trim();
  if (t === "" || t === "null" || t === "undefined") return null;
  return Number(t);
}
