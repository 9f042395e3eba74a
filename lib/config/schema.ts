/**
 * Plain-JSON configs validated on load: a schema declares every field with its type, default,
 * unit and documentation; validation fills defaults and rejects bad input before any work, with
 * an error naming the file, the field and the expected form — and, for an unknown field, the
 * nearest valid name.
 *
 * @module
 */

/** One field of a config section. */
export type Field =
  | {
    type: "number";
    default: number;
    doc: string;
    unit?: string;
    min?: number;
    max?: number;
    integer?: boolean;
    exclusiveMin?: boolean;
  }
  | { type: "string"; default: string; doc: string; enum?: readonly string[] }
  | { type: "nullableString"; default: string | null; doc: string }
  | {
    type: "nullableNumber";
    default: number | null;
    doc: string;
    unit?: string;
    min?: number;
    exclusiveMin?: boolean;
    integer?: boolean;
  }
  | { type: "boolean"; default: boolean; doc: string }
  | {
    type: "numberList";
    default: number[];
    doc: string;
    unit?: string;
    min?: number;
    exclusiveMin?: boolean;
    max?: number;
    integer?: boolean;
  }
  | { type: "stringList"; default: string[]; doc: string; enum?: readonly string[] }
  | { type: "section"; fields: Schema; doc: string }
  | { type: "list"; of: Schema; default: Record<string, unknown>[]; doc: string };

/** A config section: field name → field. */
export type Schema = Record<string, Field>;

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return d[a.length][b.length];
}

/** Other names a field answers to, beyond its snake_case form (the reference's flag names). */
const ALIASES: Record<string, string[]> = {
  lr: ["learning_rate", "learningRate"],
  evalEvery: ["test_interval"],
  hiddenNf: ["nf"],
};

/** The names `field` also answers to: its snake_case spelling and its listed aliases. */
function aliasesOf(field: string): string[] {
  const snake = field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return [...(snake !== field ? [snake] : []), ...(ALIASES[field] ?? [])];
}

/** The field of `schema` that `name` is an alias of, if any. */
function canonicalName(name: string, schema: Schema): string | null {
  for (const k of Object.keys(schema)) if (aliasesOf(k).includes(name)) return k;
  return null;
}

/**
 * A suggestion for an unknown field: the nearest name or alias in this section, else in a
 * section below it — e.g. `train.learning_rate, i.e. train.lr` for `lerning_rate`.
 */
function suggest(
  name: string,
  schema: Schema,
  at: (k: string) => string,
  root: Schema,
): string | null {
  const inSection = (sch: Schema, path: (k: string) => string): string | null => {
    const names = Object.keys(sch).flatMap((k) => [k, ...aliasesOf(k)]);
    const near = nearest(name, names);
    if (near === null) return null;
    const canonical = near in sch ? near : canonicalName(near, sch)!;
    return canonical === near ? path(near) : `${path(near)}, i.e. ${path(canonical)}`;
  };
  // This section, then the sections below it, then every section of the config.
  const below = (sch: Schema, path: (k: string) => string): string | null => {
    for (const [k, f] of Object.entries(sch)) {
      const found = f.type === "section"
        ? inSection(f.fields, (n) => `${path(k)}.${n}`) ??
          below(f.fields, (n) => `${path(k)}.${n}`)
        : f.type === "list"
        ? inSection(f.of, (n) => `${path(k)}[].${n}`)
        : null;
      if (found) return found;
    }
    return null;
  };
  return inSection(schema, at) ?? below(schema, at) ??
    (root !== schema ? inSection(root, (k) => k) ?? below(root, (k) => k) : null);
}

/**
 * The valid name nearest to `name`, if any is close.
 *
 * @param name what was given
 * @param valid the valid names
 */
export function nearest(name: string, valid: string[]): string | null {
  let best: string | null = null, bestD = Infinity;
  for (const v of valid) {
    const d = distance(name.toLowerCase(), v.toLowerCase());
    if (d < bestD) [best, bestD] = [v, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

function describe(f: Field): string {
  switch (f.type) {
    case "number":
      return `${f.integer ? "an integer" : "a number"}${
        f.min !== undefined ? ` ${f.exclusiveMin ? ">" : "≥"} ${f.min}` : ""
      }${f.max !== undefined ? ` and ≤ ${f.max}` : ""}`;
    case "string":
      return f.enum ? `one of ${f.enum.map((e) => `"${e}"`).join(", ")}` : "a string";
    case "nullableString":
      return "a string or null";
    case "nullableNumber":
      return `null or ${f.integer ? "an integer" : "a number"}${
        f.min !== undefined ? ` ${f.exclusiveMin ? ">" : "≥"} ${f.min}` : ""
      }`;
    case "boolean":
      return "true or false";
    case "numberList":
      return `a list of ${f.integer ? "integers" : "numbers"}${
        f.min !== undefined ? ` ${f.exclusiveMin ? ">" : "≥"} ${f.min}` : ""
      }${f.max !== undefined ? ` and ≤ ${f.max}` : ""}`;
    case "stringList":
      return f.enum ? `a list of ${f.enum.map((e) => `"${e}"`).join(", ")}` : "a list of strings";
    case "section":
      return "an object";
    case "list":
      return "a list of objects";
  }
}

function checkNumber(
  v: unknown,
  f: Extract<Field, { type: "number" | "numberList" | "nullableNumber" }>,
): boolean {
  if (typeof v !== "number" || !Number.isFinite(v)) return false;
  if (f.integer && !Number.isInteger(v)) return false;
  if (f.min !== undefined) {
    if ("exclusiveMin" in f && f.exclusiveMin ? v <= f.min : v < f.min) return false;
  }
  if ("max" in f && f.max !== undefined && v > f.max) return false;
  return true;
}

/**
 * Validates `value` against `schema`, filling defaults. Throws an Error naming `where`, the
 * field's path and the expected form.
 *
 * @param value the parsed JSON (an object)
 * @param schema the section's schema
 * @param where the file name, for errors
 * @param path the section's path (for nested sections)
 * @param root the whole config's schema (suggestions search it too; default `schema`)
 * @returns the value with every field present
 */
export function validate(
  value: unknown,
  schema: Schema,
  where: string,
  path = "",
  root?: Schema,
): Record<string, unknown> {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${where}: ${path || "the config"} must be an object`);
  }
  const given = { ...(value as Record<string, unknown>) };
  for (const k of Object.keys(given)) {
    if (k === "$comment" || k.startsWith("//")) continue;
    if (!(k in schema)) {
      const canonical = canonicalName(k, schema);
      if (canonical !== null && !(canonical in given)) {
        given[canonical] = given[k]; // an alias: learning_rate → lr, batch_size → batchSize
        delete given[k];
        continue;
      }
      const near = suggest(k, schema, at, root ?? schema);
      throw new Error(
        `${where}: unknown field ${at(k)}${near ? ` (did you mean ${near}?)` : ""}; ` +
          `valid fields${path ? ` of ${path}` : ""}: ${Object.keys(schema).join(", ")}`,
      );
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(schema)) {
    const v = given[k];
    const bad = (): never => {
      throw new Error(`${where}: ${at(k)} is ${JSON.stringify(v)}, expected ${describe(f)}`);
    };
    if (f.type === "section") {
      out[k] = validate(v ?? {}, f.fields, where, at(k), root ?? schema);
      continue;
    }
    if (v === undefined) {
      out[k] = f.type === "list"
        ? f.default.map((d, i) => validate(d, f.of, where, `${at(k)}[${i}]`, root ?? schema))
        : structuredClone(f.default);
      continue;
    }
    switch (f.type) {
      case "number":
        if (!checkNumber(v, f)) bad();
        break;
      case "string":
        if (typeof v !== "string" || (f.enum && !f.enum.includes(v))) {
          if (typeof v === "string" && f.enum) {
            const near = nearest(v, [...f.enum]);
            throw new Error(
              `${where}: ${at(k)} is "${v}", expected ${describe(f)}${
                near ? ` (did you mean "${near}"?)` : ""
              }`,
            );
          }
          bad();
        }
        break;
      case "nullableString":
        if (v !== null && typeof v !== "string") bad();
        break;
      case "nullableNumber":
        if (v !== null && !checkNumber(v, f)) bad();
        break;
      case "boolean":
        if (typeof v !== "boolean") bad();
        break;
      case "numberList":
        if (!Array.isArray(v) || !v.every((x) => checkNumber(x, f))) bad();
        break;
      case "stringList":
        if (
          !Array.isArray(v) ||
          !v.every((x) => typeof x === "string" && (!f.enum || f.enum.includes(x)))
        ) {
          bad();
        }
        break;
      case "list":
        if (!Array.isArray(v)) bad();
        out[k] = (v as unknown[]).map((item, i) =>
          validate(item, f.of, where, `${at(k)}[${i}]`, root ?? schema)
        );
        continue;
    }
    out[k] = v;
  }
  return out;
}

/**
 * Sets a field by dotted path from a command-line override (`train.epochs=50`), parsing the
 * value as JSON where it parses, else as a string.
 *
 * @param config the raw (unvalidated) config object
 * @param assignment `path=value`
 */
export function applyOverride(config: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf("=");
  if (eq <= 0) throw new Error(`--set ${assignment}: expected path=value, e.g. train.epochs=50`);
  const path = assignment.slice(0, eq).split(".");
  const text = assignment.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  let obj = config;
  for (const key of path.slice(0, -1)) {
    if (typeof obj[key] !== "object" || obj[key] === null) obj[key] = {};
    obj = obj[key] as Record<string, unknown>;
  }
  obj[path[path.length - 1]] = value;
}

/**
 * Documentation of every field: path, expected form, default, unit.
 *
 * @param schema the schema
 * @param prefix the path prefix
 */
export function documentSchema(schema: Schema, prefix = ""): string[] {
  const lines: string[] = [];
  for (const [k, f] of Object.entries(schema)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (f.type === "section") {
      lines.push(...documentSchema(f.fields, p));
      continue;
    }
    if (f.type === "list") {
      lines.push(`${p}  (${describe(f)}) ${f.doc}`);
      lines.push(...documentSchema(f.of, `${p}[]`));
      continue;
    }
    const unit = "unit" in f && f.unit ? ` [${f.unit}]` : "";
    lines.push(`${p} = ${JSON.stringify(f.default)}${unit}  (${describe(f)}) ${f.doc}`);
  }
  return lines;
}
