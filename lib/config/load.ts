/**
 * Loading a config: find the file (a bare name also finds `configs/<name>`), parse the JSON
 * (errors name the file and the position), apply `--set path=value` overrides, pick the
 * experiment's schema by its `experiment` field and validate — all before any work.
 *
 * @module
 */

import { applyOverride, type Schema, validate } from "./schema.ts";

/**
 * Resolves a config path: as given if it exists, else under `configs/` (with `.json` added if
 * missing).
 *
 * @param path what the user typed
 * @param configsDir the directory of bundled configs
 */
export function resolveConfigPath(path: string, configsDir: string): string {
  const candidates = [path, `${configsDir}/${path}`, `${configsDir}/${path}.json`, `${path}.json`];
  for (const c of candidates) {
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch {
      // try the next
    }
  }
  let known: string[] = [];
  try {
    known = [...Deno.readDirSync(configsDir)].map((e) => e.name).filter((n) => n.endsWith(".json"));
  } catch {
    known = [];
  }
  throw new Error(
    `config ${path} not found (also looked in ${configsDir}/)` +
      (known.length ? `; bundled configs: ${known.sort().join(", ")}` : ""),
  );
}

/**
 * Reads, overrides and validates a config.
 *
 * @param path the config file
 * @param schemas the schema of each experiment, by the `experiment` field's value
 * @param overrides `path=value` assignments applied before validation
 * @returns the experiment's name and the validated config
 */
export function loadConfig(
  path: string,
  schemas: Record<string, Schema>,
  overrides: string[] = [],
): { experiment: string; config: Record<string, unknown> } {
  let raw: unknown;
  const text = Deno.readTextFileSync(path);
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`${path}: expected a JSON object with an "experiment" field`);
  }
  const obj = raw as Record<string, unknown>;
  for (const o of overrides) applyOverride(obj, o);
  const experiment = obj.experiment;
  if (typeof experiment !== "string" || !(experiment in schemas)) {
    throw new Error(
      `${path}: experiment is ${JSON.stringify(experiment)}, expected one of ` +
        Object.keys(schemas).map((k) => `"${k}"`).join(", "),
    );
  }
  return { experiment, config: validate(obj, schemas[experiment], path) };
}
