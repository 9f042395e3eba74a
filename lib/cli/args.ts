/**
 * Command-line argument parsing, isolated here so that a switch to `@std/cli` is a one-file
 * change. Wraps `node:util`'s `parseArgs`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { nearest } from "../config/schema.ts";

/** A declared option. */
export interface OptionSpec {
  type: "string" | "boolean";
  /** May be given several times (values collected in a list). */
  multiple?: boolean;
  short?: string;
  description: string;
  default?: string | boolean;
}

/** Parsed arguments: the subcommand (first positional), its options and the other positionals. */
export interface ParsedArgs {
  command: string | null;
  options: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` against declared options; an unknown option is an error naming it.
 *
 * @param argv the arguments (e.g. `Deno.args`)
 * @param spec the options
 * @returns the subcommand, options and positionals
 */
export function parseCommandLine(argv: string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const [name, o] of Object.entries(spec)) {
    options[name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const message = (e as Error).message;
    const unknown = /Unknown option '-{1,2}([^']+)'/.exec(message)?.[1];
    if (unknown !== undefined) {
      const near = nearest(unknown, Object.keys(spec));
      throw new Error(
        `unknown option --${unknown}${near ? ` (did you mean --${near}?)` : ""}; options: ` +
          Object.keys(spec).map((o) => `--${o}`).join(", "),
      );
    }
    throw new Error(`${message} (see --help)`);
  }
  const values: Record<string, string | boolean | string[] | undefined> = {};
  for (const [name, o] of Object.entries(spec)) {
    values[name] =
      (parsed.values as Record<string, string | boolean | string[] | undefined>)[name] ??
        o.default;
  }
  const [command = null, ...positionals] = parsed.positionals;
  return { command, options: values, positionals };
}

/** The options as help text lines. */
export function formatOptions(spec: Record<string, OptionSpec>): string {
  return Object.entries(spec).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${
      o.type === "string" ? " <value>" : ""
    }`;
    return `  ${flag.padEnd(28)} ${o.description}`;
  }).join("\n");
}
