/**
 * Prints what the GPU-timestamp profiler gathered (`setProfiling` / `profileReport` in
 * lib/gpu/commands.ts) as a table, slowest first: calls and ms per step, share of the total, and
 * the kernel variant's name with its constants (or, `byName`, the kernel's name alone, variants
 * summed). Rows under 0.5 % of the total are left out.
 *
 * @module
 */

/** One kernel's totals from `profileReport()`. */
export interface ProfileRow {
  kernel: string;
  count: number;
  ms: number;
}

/**
 * Prints `report` divided by `steps` (the profiled steps).
 *
 * @param report `profileReport()`
 * @param steps how many steps the report covers
 * @param o `byName`: sum the variants of each kernel
 */
export function printProfile(report: ProfileRow[], steps: number, o: { byName?: boolean } = {}) {
  let rows = report;
  if (o.byName) {
    const byName = new Map<string, ProfileRow>();
    for (const r of report) {
      const kernel = r.kernel.replace(/\{.*$/, "");
      const s = byName.get(kernel) ?? { kernel, count: 0, ms: 0 };
      byName.set(kernel, { kernel, count: s.count + r.count, ms: s.ms + r.ms });
    }
    rows = [...byName.values()].sort((a, b) => b.ms - a.ms);
  }
  const total = rows.reduce((s, r) => s + r.ms, 0);
  console.log(
    `${"calls".padStart(6)} ${"ms".padStart(8)} ${"%".padStart(6)}  ` +
      (o.byName ? "kernel" : "kernel {constants}"),
  );
  for (const r of rows) {
    if (r.ms / total < 0.005) continue;
    console.log(
      `${(r.count / steps).toFixed(0).padStart(6)} ${(r.ms / steps).toFixed(2).padStart(8)} ` +
        `${(100 * r.ms / total).toFixed(1).padStart(6)}  ${r.kernel}`,
    );
  }
  console.log(`${"".padStart(6)} ${(total / steps).toFixed(2).padStart(8)}         total`);
}
