/**
 * The egnn-webgpu command line.
 *
 *   deno run -A cli.ts --config configs/nbody.json     train and evaluate, write results/
 *   deno run -A cli.ts --config nbody.json --resume    continue an interrupted run
 *   deno run -A cli.ts check --config nbody.json      numerical E(n)-equivariance check of the models
 *   deno run -A cli.ts adapter                         describe the WebGPU adapter (JSON)
 *   deno run -A cli.ts tune                            time the kernel profiles, keep the fastest
 *   deno run -A cli.ts --help                          commands, options, config fields
 *
 * @module
 */

import { formatOptions, type OptionSpec, parseCommandLine } from "./lib/cli/args.ts";
import { getGpu } from "./lib/gpu/device.ts";
import { autotuneKernelProfile, formatAutotuneTable, tunedEntryOf } from "./lib/gpu/autotune.ts";
import { wholeLayerTrial } from "./lib/egnn/egcl_trial.ts";
import { describeKernelProfile, profileLabel, resultAdapterLabel } from "./lib/gpu/tuning.ts";
import { tuningCachePath, writeTunedEntry } from "./lib/gpu/tuning_cache.ts";
import { loadConfig, resolveConfigPath } from "./lib/config/load.ts";
import { documentSchema, nearest, type Schema } from "./lib/config/schema.ts";
import { checkNBodyConfig, type NBodyConfig, nbodySchema } from "./lib/experiments/nbody/config.ts";
import { formatNBodyTable, runNBody } from "./lib/experiments/nbody/run.ts";
import { formatSweepTable, runNBodySweep } from "./lib/experiments/nbody/sweep.ts";
import { checkQm9Config, type Qm9Config, qm9Schema } from "./lib/experiments/qm9/config.ts";
import { formatQm9Table, runQm9 } from "./lib/experiments/qm9/run.ts";
import {
  checkAe,
  checkNBody,
  checkQm9,
  checkVerdict,
  formatCheckTable,
  writeCheckCsv,
} from "./lib/experiments/check.ts";
import { type AeConfig, aeSchema, checkAeConfig } from "./lib/experiments/ae/config.ts";
import { formatAeTable, runAe } from "./lib/experiments/ae/run.ts";

const OPTIONS: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", description: "show this help" },
  config: {
    type: "string",
    short: "c",
    description: "experiment config (JSON; a bare name looks in configs/)",
  },
  out: { type: "string", description: "results directory (overrides the config's out)" },
  data: {
    type: "string",
    description: "data directory (overrides the config's data.path, e.g. QM9's)",
  },
  seed: { type: "string", description: "seed (overrides the config's seed)" },
  set: {
    type: "string",
    multiple: true,
    description: "override a config field: --set train.epochs=50",
  },
  resume: { type: "boolean", description: "continue from the last checkpoints" },
  checkpoint: {
    type: "string",
    description: "check: test the weights of this checkpoint instead of a fresh model",
  },
  dim: { type: "string", description: "check: space dimension n (default the config's)" },
  quiet: { type: "boolean", short: "q", description: "no progress on stderr" },
  "dry-run": { type: "boolean", description: "tune: measure and print, write nothing" },
};

/** A command: what it does, how it is called, which options it takes. */
interface Command {
  summary: string;
  usage: string;
  options: string[];
  details?: string[];
}

const COMMANDS: Record<string, Command> = {
  train: {
    summary: "train and evaluate the experiment of --config (the default command)",
    usage: "deno run -A cli.ts [train] --config <file> [options]",
    options: ["config", "out", "data", "seed", "set", "resume", "quiet", "help"],
    details: [
      "Writes <out>/<name>.csv shaped like the paper's table, a learning curve per model and",
      "checkpoints (--resume continues from them to the same final numbers). The config's",
      '"experiment" field picks the experiment: nbody (Table 2, Figure 2), ae (Figure 5), qm9',
      "(Table 3); its fields are listed below with their defaults.",
    ],
  },
  check: {
    summary: "check numerically that the config's models are E(n)-equivariant (rotations, " +
      "reflections, translations, permutations)",
    usage: "deno run -A cli.ts check --config <file> [--checkpoint <file>] [--dim n]",
    options: ["config", "checkpoint", "dim", "set", "out", "help"],
    details: [
      "Prints the worst error relative to the output's spread per model and transformation, and",
      "a verdict; models that should not be equivariant (GNN, Linear) are flagged as such. Exit",
      "status 1 when an equivariant model's error exceeds 1e-4.",
    ],
  },
  report: {
    summary: "write report.md, report.html and figures/ from the CSVs of a results directory",
    usage: "deno run --allow-read=results,/usr/share/fonts --allow-write=results cli.ts report " +
      "[results-dir]",
    options: ["help"],
    details: [
      "Reads every CSV of the directory (default results/), recognised by its header: Table 2,",
      "Figure 2, Figure 5, Table 3, the equivariance check (check_<name>.csv) and the learning",
      "curves. Writes <dir>/report.md, <dir>/report.html (self-contained) and <dir>/figures/",
      "(SVG and PNG). Experiments not run yet are noted as such.",
    ],
  },
  adapter: {
    summary: "print the WebGPU adapter's description and kernel profile as JSON",
    usage: "deno run -A cli.ts adapter",
    options: ["help"],
  },
  tune: {
    summary: "time the kernel profiles on this adapter and keep the fastest for later runs",
    usage: "deno run -A cli.ts tune [--dry-run]",
    options: ["dry-run", "help"],
    details: [
      "Runs the matrix products of an N-body EGNN step (forward, dX, dW at 2000×64×64 and",
      "500×128×64) under each candidate profile (uniform products; storage blocks 4, 8, 16),",
      "checks every result against a float64 product, and writes the fastest correct one to the",
      "tuning cache: EGNN_TUNING_CACHE, else $XDG_CACHE_HOME or ~/.cache /egnn-webgpu/",
      "kernel-profiles.json, keyed by adapter, driver and Deno version. Later runs on this",
      "adapter use it (EGNN_KERNEL_PROFILE still overrides; EGNN_TUNING_CACHE=none ignores the",
      "cache). Under a minute, plus pipeline compilation on a first run.",
    ],
  },
};

const SCHEMAS: Record<string, Schema> = { nbody: nbodySchema, qm9: qm9Schema, ae: aeSchema };

const configsDir = new URL("./configs", import.meta.url).pathname;

function configFields(): string[] {
  return Object.entries(SCHEMAS).flatMap(([name, schema]) => [
    "",
    `Config fields of experiment "${name}" (field = default [unit] (form) meaning):`,
    ...documentSchema(schema).map((l) => `  ${l}`),
  ]);
}

function help(): string {
  return [
    "egnn-webgpu — E(n) Equivariant Graph Neural Networks on WebGPU",
    "",
    "Usage: deno run -A cli.ts [command] --config <file> [options]",
    "       deno run -A cli.ts <command> --help      (one command's usage and options)",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([c, d]) => `  ${c.padEnd(28)} ${d.summary}`),
    "",
    "Options:",
    formatOptions(OPTIONS),
    ...configFields(),
  ].join("\n");
}

function commandHelp(name: string): string {
  const c = COMMANDS[name];
  const options = Object.fromEntries(c.options.map((o) => [o, OPTIONS[o]]));
  return [
    `${name}: ${c.summary}`,
    "",
    `Usage: ${c.usage}`,
    ...(c.details ? ["", ...c.details] : []),
    "",
    "Options:",
    formatOptions(options),
    ...(name === "train" || name === "check" ? configFields() : []),
  ].join("\n");
}

async function train(args: ReturnType<typeof parseCommandLine>): Promise<number> {
  const given = args.options.config as string | undefined;
  if (!given) throw new Error("train needs --config <file> (e.g. --config nbody.json); see --help");
  const path = resolveConfigPath(given, configsDir);
  const overrides = [...((args.options.set as string[] | undefined) ?? [])];
  if (args.options.out) overrides.push(`out=${JSON.stringify(args.options.out)}`);
  if (args.options.seed) overrides.push(`seed=${args.options.seed}`);
  if (args.options.data) overrides.push(`data.path=${JSON.stringify(args.options.data)}`);
  const { experiment, config } = loadConfig(path, SCHEMAS, overrides);
  const quiet = !!args.options.quiet;
  const resume = !!args.options.resume;
  switch (experiment) {
    case "nbody": {
      const cfg = config as unknown as NBodyConfig;
      checkNBodyConfig(cfg, path);
      if (cfg.sweep.sizes.length > 0) {
        const rows = await runNBodySweep(cfg, { resume, quiet });
        console.log(`\nN-body sweep (Figure 2): test MSE by training-set size, seed ${cfg.seed}`);
        console.log(formatSweepTable(rows));
        console.log(`\nwritten: ${cfg.out}/${cfg.name}.csv`);
        return 0;
      }
      const rows = await runNBody(cfg, { resume, quiet });
      console.log(`\nN-body (Table 2), seed ${cfg.seed}, adapter ${rows[0]?.adapter ?? "?"}`);
      console.log(formatNBodyTable(rows));
      console.log(
        `\nwritten: ${cfg.out}/${cfg.name}.csv and ${cfg.out}/${cfg.name}_<method>_curve.csv`,
      );
      return 0;
    }
    case "qm9": {
      const cfg = config as unknown as Qm9Config;
      checkQm9Config(cfg, path);
      const rows = await runQm9(cfg, { resume, quiet });
      console.log(`\nQM9 (Table 3), seed ${cfg.seed}, adapter ${rows[0]?.adapter ?? "?"}`);
      console.log(formatQm9Table(rows));
      console.log(
        `\nwritten: ${cfg.out}/${cfg.name}.csv and ${cfg.out}/${cfg.name}_<model>_curve.csv`,
      );
      return 0;
    }
    case "ae": {
      const cfg = config as unknown as AeConfig;
      checkAeConfig(cfg, path);
      const { cells, csvPath, adapter } = await runAe(cfg, { resume, quiet });
      const what = cfg.overfit.length > 0
        ? "over-fitting sweep (Figure 5 right): F1 on the 100 training graphs"
        : "table of Figure 5 (test partition)";
      console.log(`\nGraph autoencoder, ${what}, seed ${cfg.seed}, adapter ${adapter}`);
      console.log(formatAeTable(cfg, cells));
      console.log(`\nwritten: ${csvPath} and ${cfg.out}/${cfg.name}_<dataset>_<encoder>_curve.csv`);
      return 0;
    }
  }
  return 2;
}

async function check(args: ReturnType<typeof parseCommandLine>): Promise<number> {
  const given = args.options.config as string | undefined;
  if (!given) throw new Error("check needs --config <file> (e.g. --config nbody_egnn.json)");
  const path = resolveConfigPath(given, configsDir);
  const overrides = [...((args.options.set as string[] | undefined) ?? [])];
  if (args.options.out) overrides.push(`out=${JSON.stringify(args.options.out)}`);
  const { experiment, config } = loadConfig(path, SCHEMAS, overrides);
  const checkpoint = args.options.checkpoint as string | undefined;
  const dimText = args.options.dim as string | undefined;
  const dim = dimText === undefined ? undefined : Number(dimText);
  if (dim !== undefined && !(Number.isInteger(dim) && dim >= 1)) {
    throw new Error(`--dim: expected a positive integer, got "${dimText}"`);
  }
  const rows = experiment === "qm9"
    ? await checkQm9(config as unknown as Qm9Config, { checkpoint })
    : experiment === "ae"
    ? await checkAe(config as unknown as AeConfig, { checkpoint })
    : await checkNBody(config as unknown as NBodyConfig, { checkpoint, dim });
  console.log(
    `Symmetry check of ${path}${checkpoint ? ` with ${checkpoint}` : " (fresh weights)"}: ` +
      `worst error relative to the output's spread`,
  );
  console.log(formatCheckTable(rows));
  const { info } = await getGpu();
  const cfg = config as unknown as { name: string; out: string; seed: number };
  const csv = `${cfg.out}/check_${cfg.name}.csv`;
  await writeCheckCsv(csv, rows, {
    config: path,
    checkpoint,
    seed: cfg.seed,
    adapter: resultAdapterLabel(info),
  });
  console.log(`\nwritten: ${csv}`);
  return rows.every((r) => checkVerdict(r).ok) ? 0 : 1;
}

async function tune(dryRun: boolean): Promise<number> {
  await getGpu();
  const layerTrial = wholeLayerTrial();
  const r = await autotuneKernelProfile({ onProgress: (l) => console.error(l), layerTrial })
    .finally(() => layerTrial.dispose());
  console.log(formatAutotuneTable(r));
  const path = tuningCachePath((name) => Deno.env.get(name));
  if (dryRun || !path) {
    console.log(`\nnot written (${dryRun ? "--dry-run" : "EGNN_TUNING_CACHE=none or no HOME"})`);
    return 0;
  }
  const replaced = await writeTunedEntry(path, r.key, tunedEntryOf(r));
  if (replaced) console.error(`warning: replaced an unreadable cache: ${replaced}`);
  console.log(`\nwritten: ${path}\n  ${r.key} → ${profileLabel(r.best)}`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, OPTIONS);
  if (!args.command && (args.options.help || !args.options.config)) {
    console.log(help());
    return 0;
  }
  const command = args.command ?? "train";
  if (args.options.help && command in COMMANDS) {
    console.log(commandHelp(command));
    return 0;
  }
  switch (command) {
    case "train":
      return await train(args);
    case "check":
      return await check(args);
    case "report": {
      const dir = args.positionals[0] ?? "results";
      // Imported here so that Vega and resvg (npm) load for this command only.
      const { writeReport } = await import("./lib/report/report.ts");
      const r = await writeReport(dir);
      for (const w of r.warnings) console.error(`warning: ${w}`);
      console.log(
        `written: ${r.md}, ${r.html} and ${r.figures.length} figure files in ${dir}/figures/`,
      );
      return 0;
    }
    case "adapter": {
      const { info } = await getGpu();
      console.log(JSON.stringify({ ...info, kernelProfile: describeKernelProfile() }, null, 2));
      return 0;
    }
    case "tune":
      return await tune(!!args.options["dry-run"]);
    default: {
      const near = nearest(command, Object.keys(COMMANDS));
      console.error(
        `unknown command ${command}${near ? ` (did you mean ${near}?)` : ""}; ` +
          `commands: ${Object.keys(COMMANDS).join(", ")}`,
      );
      return 2;
    }
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
