/**
 * Where measured kernel profiles are kept: one JSON file per user, an entry per adapter.
 *
 * `deno run -A cli.ts tune` (autotune.ts) times the candidate profiles on the process's adapter
 * and writes the fastest here; `kernelProfile()` (tuning.ts) then uses it for that adapter instead
 * of the rule by adapter kind. An entry is keyed by the adapter's description, vendor,
 * architecture and backend, Deno's version (its WebGPU implementation) and
 * {@linkcode TUNING_VERSION} (bumped when the kernels compared change), so a driver or Deno
 * upgrade simply finds no entry and the rule applies until `tune` runs again.
 *
 * The file: `EGNN_TUNING_CACHE` if set (`none` turns tuned profiles off), else
 * `$XDG_CACHE_HOME/egnn-webgpu/kernel-profiles.json`, else `$HOME/.cache/egnn-webgpu/…`. It is
 * written atomically (temporary file, then rename), entries of other adapters kept.
 *
 * @module
 */

import type { AdapterDescription } from "./device.ts";
import { KERNEL_PROFILES, type KernelProfile } from "./tuning.ts";
import { writeFileAtomic } from "../io/atomic.ts";

/** Version of the tuning procedure and of the kernels it compares; part of every entry's key. */
export const TUNING_VERSION = 3;

/** Version of the file's layout. */
const FILE_VERSION = 1;

/** One adapter's measured profile. */
export interface TunedEntry {
  /** The profile that was fastest. */
  profile: KernelProfile;
  /** When it was measured (ISO 8601). */
  tunedAt: string;
  /** What was timed, in words. */
  workload: string;
  /** Median ms per round of the workload, per candidate label. */
  msPerRound: Record<string, number>;
}

/** The cache file. */
export interface TuningCacheFile {
  /** Layout version (1). */
  version: number;
  /** Entries by {@linkcode tuningKey}. */
  entries: Record<string, TunedEntry>;
}

/**
 * The key of an adapter's entry.
 *
 * @param info the adapter (`getGpu().info`)
 * @param denoVersion Deno's version (default the running one)
 * @returns e.g. `llvmpipe (LLVM 15.0.6, 256 bits) | mesa | | vulkan | deno 2.9.6 | tuning 2`
 * @example
 * ```ts
 * import { tuningKey } from "./tuning_cache.ts";
 * const info = { description: "llvmpipe", vendor: "mesa", architecture: "", backendGuess: "vulkan" };
 * console.log(tuningKey(info, "2.9.6")); // llvmpipe | mesa |  | vulkan | deno 2.9.6 | tuning 2
 * ```
 */
export function tuningKey(
  info: Pick<AdapterDescription, "description" | "vendor" | "architecture" | "backendGuess">,
  denoVersion: string = Deno.version.deno,
): string {
  return [
    info.description,
    info.vendor,
    info.architecture,
    info.backendGuess,
    `deno ${denoVersion}`,
    `tuning ${TUNING_VERSION}`,
  ].join(" | ");
}

/**
 * The cache file's path from the environment's values, or null when tuned profiles are off
 * (`EGNN_TUNING_CACHE=none`) or no home is known.
 *
 * @param env reads an environment variable (undefined when unset or not readable)
 * @returns the path
 * @example
 * ```ts
 * import { tuningCachePath } from "./tuning_cache.ts";
 * const env = (name: string) => ({ HOME: "/home/ada" } as Record<string, string>)[name];
 * console.log(tuningCachePath(env)); // /home/ada/.cache/egnn-webgpu/kernel-profiles.json
 * ```
 */
export function tuningCachePath(env: (name: string) => string | undefined): string | null {
  const given = env("EGNN_TUNING_CACHE");
  if (given !== undefined && given !== "") return given === "none" ? null : given;
  const xdg = env("XDG_CACHE_HOME");
  const base = xdg ? xdg : env("HOME") ? `${env("HOME")}/.cache` : null;
  return base ? `${base}/egnn-webgpu/kernel-profiles.json` : null;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function checkProfile(v: unknown, where: string, path: string): KernelProfile {
  const bad = (field: string, got: unknown, expected: string) =>
    new Error(
      `${path}: ${where}.${field} is ${JSON.stringify(got)}, expected ${expected} ` +
        "(delete the file or run `deno run -A cli.ts tune` again)",
    );
  if (!isRecord(v)) throw bad("profile", v, "an object");
  if (v.name !== "cpu" && v.name !== "gpu") throw bad("name", v.name, '"cpu" or "gpu"');
  if (typeof v.matmulUniform !== "boolean") {
    throw bad("matmulUniform", v.matmulUniform, "true or false");
  }
  if (v.matmulBlock !== 4 && v.matmulBlock !== 8 && v.matmulBlock !== 16) {
    throw bad("matmulBlock", v.matmulBlock, "4, 8 or 16");
  }
  // Entries tuned before the whole-layer kernel existed take their kind's default.
  const wholeLayerForward = v.wholeLayerForward ?? KERNEL_PROFILES[v.name].wholeLayerForward;
  if (typeof wholeLayerForward !== "boolean") {
    throw bad("wholeLayerForward", v.wholeLayerForward, "true or false");
  }
  const matmulSplitK = v.matmulSplitK ?? KERNEL_PROFILES[v.name].matmulSplitK;
  if (typeof matmulSplitK !== "boolean") {
    throw bad("matmulSplitK", v.matmulSplitK, "true or false");
  }
  // Entries from before the workgroup was tuned ran workgroups of 8.
  const matmulWorkgroup = v.matmulWorkgroup ?? 8;
  if (matmulWorkgroup !== 8 && matmulWorkgroup !== 64) {
    throw bad("matmulWorkgroup", v.matmulWorkgroup, "8 or 64");
  }
  return {
    name: v.name,
    matmulUniform: v.matmulUniform,
    matmulBlock: v.matmulBlock,
    wholeLayerForward,
    matmulSplitK,
    matmulWorkgroup,
  };
}

/**
 * Parses and checks a cache file's text; an error names the file, the field and the expected
 * form.
 *
 * @param text the file's contents
 * @param path the file (for messages)
 * @returns the cache
 */
export function parseTuningCache(text: string, path: string): TuningCacheFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not JSON (${(e as Error).message}); delete it or run tune again`);
  }
  if (!isRecord(v) || v.version !== FILE_VERSION || !isRecord(v.entries)) {
    throw new Error(
      `${path}: expected {"version": ${FILE_VERSION}, "entries": {…}}; delete it or run ` +
        "`deno run -A cli.ts tune` again",
    );
  }
  const entries: Record<string, TunedEntry> = {};
  for (const [key, e] of Object.entries(v.entries)) {
    const where = `entries[${JSON.stringify(key)}]`;
    if (!isRecord(e)) throw new Error(`${path}: ${where} is not an object`);
    const ms = isRecord(e.msPerRound) ? e.msPerRound : {};
    entries[key] = {
      profile: checkProfile(e.profile, `${where}.profile`, path),
      tunedAt: String(e.tunedAt ?? ""),
      workload: String(e.workload ?? ""),
      msPerRound: Object.fromEntries(
        Object.entries(ms).filter(([, x]) => typeof x === "number"),
      ) as Record<string, number>,
    };
  }
  return { version: FILE_VERSION, entries };
}

/**
 * The tuned profile of `key` in the file at `path`, or null when the file or the entry is absent.
 *
 * @param path the cache file
 * @param key the adapter's {@linkcode tuningKey}
 * @returns the profile
 */
export function readTunedProfile(path: string, key: string): KernelProfile | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return parseTuningCache(text, path).entries[key]?.profile ?? null;
}

/**
 * Writes `entry` under `key`, keeping the file's other entries; the file and its directory are
 * created as needed, atomically. A file that does not parse is replaced (it is only a cache), and
 * the reason returned.
 *
 * @param path the cache file
 * @param key the adapter's {@linkcode tuningKey}
 * @param entry the measured profile
 * @returns why an unreadable file was replaced, or null
 */
export async function writeTunedEntry(
  path: string,
  key: string,
  entry: TunedEntry,
): Promise<string | null> {
  let file: TuningCacheFile = { version: FILE_VERSION, entries: {} };
  let replaced: string | null = null;
  try {
    file = parseTuningCache(await Deno.readTextFile(path), path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      // a first entry
    } else if (e instanceof Deno.errors.PermissionDenied) throw e;
    else replaced = (e as Error).message;
  }
  file.entries[key] = entry;
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir || "/", { recursive: true });
  await writeFileAtomic(path, JSON.stringify(file, null, 2) + "\n");
  return replaced;
}
