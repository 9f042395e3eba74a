// The README's config reference is the schemas' own documentation, field for field.
import assert from "node:assert/strict";
import { documentSchema, type Schema } from "../lib/config/schema.ts";
import { nbodySchema } from "../lib/experiments/nbody/config.ts";
import { aeSchema } from "../lib/experiments/ae/config.ts";
import { qm9Schema } from "../lib/experiments/qm9/config.ts";

Deno.test("README: the config reference lists every field of every schema with its default", () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  const begin = readme.indexOf("<!-- config-reference:begin -->");
  const end = readme.indexOf("<!-- config-reference:end -->");
  assert.ok(begin > 0 && end > begin, "the README has the config reference markers");
  const section = readme.slice(begin, end);
  const schemas: [string, Schema][] = [["nbody", nbodySchema], ["ae", aeSchema], [
    "qm9",
    qm9Schema,
  ]];
  for (const [name, schema] of schemas) {
    const block = "```text\n" + documentSchema(schema).join("\n") + "\n```";
    assert.ok(
      section.includes(`\`"experiment": "${name}"\``) && section.includes(block),
      `the README's reference of "${name}" is out of date: regenerate it from documentSchema`,
    );
  }
});
