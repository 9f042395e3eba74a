/**
 * CSV writing and reading (RFC 4180 quoting), isolated here so that a switch to `@std/csv` is a
 * one-file change.
 *
 * @module
 */

function quote(v: unknown): string {
  const s = v === null || v === undefined
    ? ""
    : typeof v === "number" && !Number.isFinite(v)
    ? String(v)
    : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Formats rows as CSV text with a header line.
 *
 * @param columns the column names, in order
 * @param rows objects keyed by column name
 * @returns the CSV text, ending in a newline
 * @example
 * ```ts
 * import { stringifyCsv } from "./csv.ts";
 * console.log(stringifyCsv(["a", "b"], [{ a: 1, b: "x,y" }])); // a,b\n1,"x,y"\n
 * ```
 */
export function stringifyCsv(columns: string[], rows: Record<string, unknown>[]): string {
  const lines = [columns.map(quote).join(",")];
  for (const r of rows) lines.push(columns.map((c) => quote(r[c])).join(","));
  return lines.join("\n") + "\n";
}

/**
 * Parses CSV text with a header line into rows of strings.
 *
 * @param text the CSV text
 * @param where names the file in errors
 * @returns the header and the rows keyed by column name
 */
export function parseCsv(
  text: string,
  where = "csv",
): { columns: string[]; rows: Record<string, string>[] } {
  const records: string[][] = [];
  let field = "", record: string[] = [], inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += ch;
    } else if (ch === '"') inQuotes = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += ch;
  }
  if (inQuotes) throw new Error(`${where}: unterminated quoted field`);
  if (field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const nonEmpty = records.filter((r) => !(r.length === 1 && r[0] === ""));
  if (nonEmpty.length === 0) throw new Error(`${where}: no header line`);
  const [columns, ...body] = nonEmpty;
  const rows = body.map((r, i) => {
    if (r.length !== columns.length) {
      throw new Error(
        `${where}: line ${i + 2} has ${r.length} fields, the header has ${columns.length}`,
      );
    }
    return Object.fromEntries(columns.map((c, j) => [c, r[j]]));
  });
  return { columns, rows };
}
