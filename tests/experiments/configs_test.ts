// Every shipped config in configs/ loads and validates against its experiment's schema.
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/load.ts";
import {
  checkNBodyConfig,
  type NBodyConfig,
  nbodySchema,
} from "../../lib/experiments/nbody/config.ts";
import { checkQm9Config, type Qm9Config, qm9Schema } from "../../lib/experiments/qm9/config.ts";
import { type AeConfig, aeSchema, checkAeConfig } from "../../lib/experiments/ae/config.ts";

const schemas = { nbody: nbodySchema, qm9: qm9Schema, ae: aeSchema };

const dir = decodeURIComponent(new URL("../../configs/", import.meta.url).pathname);

Deno.test("configs: every file in configs/ validates against its experiment's schema", () => {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"));
  for (const n of ["nbody.json", "qm9.json", "ae.json"]) assert.ok(names.includes(n), `${names}`);
  for (const name of names) {
    const path = `${dir}${name}`;
    const { experiment, config } = loadConfig(path, schemas);
    if (experiment === "nbody") checkNBodyConfig(config as unknown as NBodyConfig, path);
    else if (experiment === "ae") checkAeConfig(config as unknown as AeConfig, path);
    else checkQm9Config(config as unknown as Qm9Config, path);
  }
});

Deno.test("configs: a misspelt field names the file and the field and suggests the name meant", () => {
  const tmp = Deno.makeTempDirSync();
  const write = (name: string, cfg: unknown) => {
    const path = `${tmp}/${name}`;
    Deno.writeTextFileSync(path, JSON.stringify(cfg));
    return path;
  };
  for (const experiment of ["nbody", "qm9", "ae"]) {
    const path = write(`${experiment}.json`, { experiment, lerning_rate: 1e-3 });
    assert.throws(
      () => loadConfig(path, schemas),
      (e: Error) => {
        assert.ok(e.message.startsWith(`${path}: unknown field lerning_rate`), e.message);
        assert.match(e.message, /did you mean train\.learning_rate, i\.e\. train\.lr\?/);
        return true;
      },
    );
  }
  for (const experiment of ["nbody", "qm9", "ae"]) {
    for (const section of ["train", "model"]) {
      const path = write("t.json", { experiment, [section]: { lerning_rate: 1e-3 } });
      assert.throws(
        () => loadConfig(path, schemas),
        new RegExp(
          `t\\.json: unknown field ${section}\\.lerning_rate \\(did you mean ` +
            `train\\.learning_rate, i\\.e\\. train\\.lr\\?\\)`,
        ),
      );
    }
  }
  // The reference's spellings are accepted as aliases.
  const aliased = write("a.json", {
    experiment: "qm9",
    train: { learning_rate: 2e-4, batch_size: 16, weight_decay: 0, test_interval: 3 },
    model: { nf: 32, n_layers: 2 },
  });
  const { config } = loadConfig(aliased, schemas) as unknown as { config: Qm9Config };
  assert.deepEqual(
    [config.train.lr, config.train.batchSize, config.train.weightDecay, config.train.evalEvery],
    [2e-4, 16, 0, 3],
  );
  assert.deepEqual([config.model.hiddenNf, config.model.nLayers], [32, 2]);
  // Both a field and its alias: the alias is not silently dropped.
  const both = write("b.json", { experiment: "ae", train: { lr: 1e-3, learning_rate: 1e-4 } });
  assert.throws(() => loadConfig(both, schemas), /unknown field train\.learning_rate/);
  Deno.removeSync(tmp, { recursive: true });
});
