/**
 * The egnn-webgpu command line.
 *
 *   deno run -A cli.ts adapter            describe the WebGPU adapter (JSON)
 *   deno run -A cli.ts --help             this text
 *
 * The experiment runners (N-body, graph autoencoder, QM9) plug in here as they land.
 *
 * @module
 */

import { formatOptions, type OptionSpec, parseCommandLine } from "./lib/cli/args.ts";
import { getGpu } from "./lib/gpu/device.ts";

const OPTIONS: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", description: "show this help" },
  config: { type: "string", description: "experiment config (JSON); not available yet" },
};

const COMMANDS: Record<string, string> = {
  adapter: "print the WebGPU adapter's description as JSON",
};

function help(): string {
  return [
    "egnn-webgpu — E(n) Equivariant Graph Neural Networks on WebGPU",
    "",
    "Usage: deno run -A cli.ts <command> [options]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([c, d]) => `  ${c.padEnd(28)} ${d}`),
    "",
    "Options:",
    formatOptions(OPTIONS),
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, OPTIONS);
  if (args.options.help || (!args.command && !args.options.config)) {
    console.log(help());
    return 0;
  }
  if (args.options.config) {
    console.error(
      "experiment configs are not implemented yet in this version; `cli.ts adapter` works",
    );
    return 2;
  }
  switch (args.command) {
    case "adapter": {
      const { info } = await getGpu();
      console.log(JSON.stringify(info, null, 2));
      return 0;
    }
    default:
      console.error(
        `unknown command ${args.command}; commands: ${Object.keys(COMMANDS).join(", ")}`,
      );
      return 2;
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
