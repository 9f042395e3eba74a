/**
 * Streaming line reader for text files: the file is decoded chunk by chunk
 * (`Deno.open` + `TextDecoderStream`), so only one chunk and the line it ends in are held at a
 * time. `\r\n` and `\n` endings; a last line without a newline is returned too. Also the
 * whitespace tokenizer the line-based QM9 formats share.
 *
 * @module
 */

/** One line of a file, without its line ending. */
export interface Line {
  /** The line's text (no `\n`, no `\r`). */
  text: string;
  /** 1-based line number. */
  number: number;
}

/** Consecutive lines of a file: `lines[k]` is line `first + k`. */
export interface LineBatch {
  /** The lines' texts, without line endings. */
  lines: string[];
  /** 1-based number of `lines[0]`. */
  first: number;
}

/**
 * The name to show for a path in error messages: the string itself, or a `file:` URL's path.
 *
 * @param path a file path or `file:` URL
 * @returns the path as text
 */
export function pathName(path: string | URL): string {
  return typeof path === "string" ? path : decodeURIComponent(path.pathname);
}

/**
 * Reads a text file as batches of lines (one batch per decoded chunk, typically 64 KiB): the
 * cheap way to scan large files, as the consumer loops over each batch synchronously.
 *
 * @param path the file
 * @returns an async generator of line batches, in file order
 * @throws Error `path: cannot open (…)` when the file cannot be opened
 */
export async function* readLineBatches(path: string | URL): AsyncGenerator<LineBatch> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw new Error(`${pathName(path)}: cannot open (${(e as Error).message})`);
  }
  const reader = file.readable.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "", next = 1, done = false;
  try {
    while (true) {
      const chunk = await reader.read();
      if (chunk.done) break;
      const parts = (rest + chunk.value).split("\n");
      rest = parts.pop() as string;
      if (parts.length === 0) continue;
      for (let i = 0; i < parts.length; i++) {
        const s = parts[i];
        if (s.length > 0 && s.charCodeAt(s.length - 1) === 13) parts[i] = s.slice(0, -1);
      }
      const first = next;
      next += parts.length;
      yield { lines: parts, first };
    }
    done = true;
    if (rest.length > 0) {
      if (rest.charCodeAt(rest.length - 1) === 13) rest = rest.slice(0, -1);
      yield { lines: [rest], first: next };
    }
  } finally {
    // Stopped early (break, error): cancelling closes the file.
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * Reads a text file line by line.
 *
 * @param path the file
 * @returns an async generator of lines with their 1-based numbers
 * @throws Error `path: cannot open (…)` when the file cannot be opened
 * @example
 * ```ts ignore
 * import { readLines } from "./lines.ts";
 * for await (const { text, number } of readLines("data.txt")) console.log(number, text);
 * ```
 */
export async function* readLines(path: string | URL): AsyncGenerator<Line> {
  for await (const { lines, first } of readLineBatches(path)) {
    for (let k = 0; k < lines.length; k++) yield { text: lines[k], number: first + k };
  }
}

/**
 * Splits a line on runs of spaces and tabs (no regular expression: this runs once per atom line).
 *
 * @param line the line
 * @returns its non-empty fields
 * @example
 * ```ts
 * import { splitFields } from "./lines.ts";
 * console.log(splitFields(" C\t-0.0127  1.0858 0.008 ")); // [ "C", "-0.0127", "1.0858", "0.008" ]
 * ```
 */
export function splitFields(line: string): string[] {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    let c = line.charCodeAt(i);
    while (c === 32 || c === 9) c = ++i < n ? line.charCodeAt(i) : -1;
    if (i >= n) break;
    const start = i;
    while (i < n && c !== 32 && c !== 9) c = ++i < n ? line.charCodeAt(i) : -1;
    out.push(line.slice(start, i));
  }
  return out;
}
