// Every experiment task of deno.json runs with exactly the permissions it declares: each task's
// own `deno run <flags> cli.ts …` command is run as written (at a tiny budget, results under
// results/.tasks-test/), with prompts disabled, so a missing permission — network, environment,
// subprocesses, a read or write outside the declared paths — fails the run instead of asking.
import assert from "node:assert/strict";

const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
const tasks = (JSON.parse(Deno.readTextFileSync(`${root}deno.json`)) as {
  tasks: Record<string, string>;
}).tasks;
const out = "results/.tasks-test";

/** Per task: what replaces the budget (and the output directory) of its quick config. */
const TINY: Record<string, string[]> = {
  nbody: [
    "--out",
    `${out}/nbody`,
    "--set",
    "data.train=100",
    "--set",
    "data.val=50",
    "--set",
    "data.test=50",
    "--set",
    "train.epochs=1",
    "--set",
    "train.forwardTimingReps=1",
    "--set",
    "model.hiddenNf=8",
    "--set",
    'methods=[{"name":"egnn"},{"name":"linear"}]',
  ],
  ae: [
    "--out",
    `${out}/ae`,
    "--set",
    "data.train=20",
    "--set",
    "data.val=10",
    "--set",
    "data.test=10",
    "--set",
    "train.epochs=1",
    "--set",
    "model.hiddenNf=8",
    "--set",
    "model.nLayers=1",
  ],
  qm9: [
    "--out",
    `${out}/qm9`,
    "--set",
    "data.limit=60",
    "--set",
    "train.epochs=1",
    "--set",
    "model.hiddenNf=8",
    "--set",
    "model.nLayers=1",
    "--set",
    'properties=["homo"]',
  ],
};

/** The task's command split into deno's flags and the script's arguments. */
function parseTask(name: string): { flags: string[]; args: string[] } {
  const words = tasks[name].split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"], `${name}: ${tasks[name]}`);
  const script = words.indexOf("cli.ts");
  assert.ok(script > 1, `${name}: runs cli.ts`);
  return { flags: words.slice(2, script), args: words.slice(script + 1) };
}

async function runTask(name: string, args: string[]): Promise<void> {
  const { flags } = parseTask(name);
  assert.ok(
    !flags.some((f) => /^(-A|--allow-all|--allow-net|--allow-run|--allow-env)/.test(f)),
    `${name}: ${flags}`,
  );
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "cli.ts", ...args, "--quiet"],
    cwd: root,
    env: { DENO_NO_PROMPT: "1" },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await cmd.output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.doesNotMatch(text, /NotCapable|Requires .* access|PermissionDenied/, `${name}:\n${text}`);
  assert.equal(code, 0, `${name} exited ${code}:\n${text}`);
}

Deno.test("tasks: the paper's tasks exist, each chained by `paper`, none with -A", () => {
  for (const name of ["nbody", "ae", "qm9", "report", "paper"]) assert.ok(name in tasks, name);
  for (const name of ["nbody", "ae", "qm9", "report"]) {
    assert.match(tasks.paper, new RegExp(`deno task ${name}\\b`));
    parseTask(name);
  }
});

for (const name of ["nbody", "ae", "qm9"]) {
  Deno.test({
    name: `tasks: ${name} runs with its declared permissions only`,
    ignore: name === "qm9" && !existsDir(`${root}../shared/data/qm9`),
    fn: async () => {
      await runTask(name, [...parseTask(name).args, ...TINY[name]]);
      const csv = `${root}${out}/${name}/${name}.csv`;
      assert.ok(Deno.statSync(csv).isFile, `${csv} written`);
    },
  });
}

Deno.test("tasks: report runs with its declared permissions only", async () => {
  const dir = `${root}${out}/report`;
  Deno.mkdirSync(dir, { recursive: true });
  // The ae task's table (when that test ran first) or a one-row table of our own.
  const ae = `${root}${out}/ae/ae.csv`;
  if (existsFile(ae)) Deno.copyFileSync(ae, `${dir}/ae.csv`);
  else {
    Deno.writeTextFileSync(
      `${dir}/ae.csv`,
      "encoder,label,erdos_renyi_bce,erdos_renyi_pct_error,erdos_renyi_f1,erdos_renyi_paper_bce," +
        "erdos_renyi_paper_pct_error,erdos_renyi_paper_f1,erdos_renyi_best_epoch,epochs,lr,seed," +
        "wall_s,adapter\negnn,EGNN,30.5,12.1,0.7,1.65,0.11,0.998,0,1,0.001,1,3.0,test\n",
    );
  }
  const args = parseTask("report").args.map((a) => (a === "results" ? `${out}/report` : a));
  await runTask("report", args);
  assert.ok(Deno.statSync(`${dir}/report.html`).isFile);
  assert.ok(Deno.statSync(`${dir}/report.md`).isFile);
});

Deno.test("tasks: clean up", () => {
  Deno.removeSync(`${root}${out}`, { recursive: true });
});

function existsDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function existsFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
