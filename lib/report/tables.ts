/**
 * The report's tables: number formatting (ours, the paper's, their difference and ratio) and a
 * small table model rendered both as GitHub Markdown and as HTML.
 *
 * @module
 */

/** One cell: its text, and for HTML a class (`better`, `worse`, `muted`). */
export interface Cell {
  text: string;
  cls?: "better" | "worse" | "muted";
}

/** A table: header, rows, per-column alignment (default: left for text, right for numbers). */
export interface Table {
  head: string[];
  rows: (Cell | string)[][];
  /** `r` right-aligns a column; default left. */
  align?: ("l" | "r")[];
}

/** The en dash shown for a missing value. */
export const MISSING = "–";

/**
 * A metric as text: 3 significant digits, exponent form below 1e-3 and from 1e5 on.
 *
 * @param v the value (null: missing)
 * @param digits significant digits
 */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined) return MISSING;
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(digits - 1);
  if (a >= 10 ** digits) return v.toFixed(0);
  return v.toPrecision(digits);
}

/**
 * Ours − paper, signed ("+0.00290", "−0.00100"), and whether ours is better.
 *
 * @param ours our value
 * @param paper the paper's value
 * @param higherIsBetter F1: true; errors and losses: false
 */
export function diffCell(
  ours: number | null,
  paper: number | null,
  higherIsBetter = false,
): Cell {
  if (ours === null || paper === null || !Number.isFinite(ours) || !Number.isFinite(paper)) {
    return { text: MISSING, cls: "muted" };
  }
  const d = ours - paper;
  if (d === 0) return { text: "0" };
  const text = (d > 0 ? "+" : "−") + fmt(Math.abs(d));
  return { text, cls: (d > 0) === higherIsBetter ? "better" : "worse" };
}

/**
 * Ours / paper as "1.41×".
 *
 * @param ours our value
 * @param paper the paper's value
 */
export function ratioCell(ours: number | null, paper: number | null): Cell {
  if (ours === null || paper === null || !Number.isFinite(ours) || !paper) {
    return { text: MISSING, cls: "muted" };
  }
  const r = ours / paper;
  return { text: `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}×` };
}

/**
 * A value cell (missing values muted).
 *
 * @param v the value
 * @param digits significant digits
 */
export function numCell(v: number | null, digits = 3): Cell {
  return v === null ? { text: MISSING, cls: "muted" } : { text: fmt(v, digits) };
}

const cellOf = (c: Cell | string): Cell => (typeof c === "string" ? { text: c } : c);

/**
 * Escapes text for HTML.
 *
 * @param s the text
 */
export function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/**
 * A table as GitHub-flavoured Markdown.
 *
 * @param t the table
 */
export function tableToMarkdown(t: Table): string {
  const esc = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
  const line = (cells: string[]) => `| ${cells.map(esc).join(" | ")} |`;
  const rule = t.head.map((_, i) => (t.align?.[i] === "r" ? "---:" : "---"));
  return [
    line(t.head),
    `|${rule.join("|")}|`,
    ...t.rows.map((r) => line(r.map((c) => cellOf(c).text))),
  ].join("\n");
}

/**
 * A table as HTML.
 *
 * @param t the table
 */
export function tableToHtml(t: Table): string {
  const al = (i: number) => (t.align?.[i] === "r" ? ' class="num"' : "");
  const head = t.head.map((h, i) => `<th${al(i)}>${escapeHtml(h)}</th>`).join("");
  const body = t.rows.map((r) =>
    "<tr>" +
    r.map((c, i) => {
      const cell = cellOf(c);
      const cls = [t.align?.[i] === "r" ? "num" : "", cell.cls ?? ""].filter(Boolean).join(" ");
      return `<td${cls ? ` class="${cls}"` : ""}>${escapeHtml(cell.text)}</td>`;
    }).join("") +
    "</tr>"
  ).join("\n");
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}
