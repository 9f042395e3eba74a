// Every shipped config in configs/ loads and validates against its experiment's schema.
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/load.ts";
import {
  checkNBodyConfig,
  type NBodyConfig,
  nbodySchema,
} from "../../lib/experiments/nbody/config.ts";
import { checkQm9Config, type Qm9Config, qm9Schema } from "../../lib/experiments/qm9/config.ts";

const dir = decodeURIComponent(new URL("../../configs/", import.meta.url).pathname);

Deno.test("configs: every file in configs/ validates against its experiment's schema", () => {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"));
  assert.ok(names.includes("nbody.json") && names.includes("qm9.json"), `${names}`);
  for (const name of names) {
    const path = `${dir}${name}`;
    const { experiment, config } = loadConfig(path, { nbody: nbodySchema, qm9: qm9Schema });
    if (experiment === "nbody") checkNBodyConfig(config as unknown as NBodyConfig, path);
    else checkQm9Config(config as unknown as Qm9Config, path);
  }
});
