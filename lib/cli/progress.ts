/**
 * Progress on stderr for long steps (dataset generation, epochs, evaluation): a bar with rate,
 * ETA and the last loss on a terminal; plain lines (at most one every few seconds, and at the
 * end) when stderr is not a terminal; nothing with `quiet`.
 *
 * @module
 */

/** Progress of one long step. */
export class Progress {
  private readonly start = performance.now();
  private lastPlain = 0;
  private readonly tty: boolean;
  private readonly enc = new TextEncoder();

  /**
   * @param label what is progressing (e.g. `egnn epochs`)
   * @param total units of work
   * @param quiet print nothing
   */
  constructor(readonly label: string, readonly total: number, readonly quiet = false) {
    let tty = false;
    try {
      tty = Deno.stderr.isTerminal();
    } catch {
      tty = false;
    }
    this.tty = tty;
  }

  /**
   * Reports `done` units finished, with an optional status (e.g. `loss 0.0123`).
   *
   * @param done units finished
   * @param status a short status text
   */
  update(done: number, status = ""): void {
    if (this.quiet) return;
    const now = performance.now();
    const elapsed = (now - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = done > 0 ? (this.total - done) / rate : NaN;
    const text = `${this.label} ${done}/${this.total} ${rate.toFixed(2)}/s ETA ${fmtTime(eta)}` +
      (status ? ` ${status}` : "");
    if (this.tty) {
      const width = 20, filled = Math.round((width * done) / Math.max(1, this.total));
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      Deno.stderr.writeSync(this.enc.encode(`\r\x1b[2K${bar} ${text}`));
      if (done >= this.total) Deno.stderr.writeSync(this.enc.encode("\n"));
    } else if (done >= this.total || now - this.lastPlain > 5000 || this.lastPlain === 0) {
      this.lastPlain = now;
      console.error(text);
    }
  }

  /** Prints a line of its own (plain, above the bar). */
  log(line: string): void {
    if (this.quiet) return;
    if (this.tty) Deno.stderr.writeSync(this.enc.encode(`\r\x1b[2K`));
    console.error(line);
  }
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, "0")}m`;
}
