/**
 * Progress on stderr for long steps (dataset generation, epochs, evaluation): a bar with rate,
 * ETA and the last loss on a terminal; plain lines (at most one every few seconds, and at the
 * end) when stderr is not a terminal; nothing with `quiet`.
 *
 * @module
 */

/**
 * The progress line: units done of the total, the pace, the ETA and a status. The pace counts
 * only the units done since this process began (`startAt` of them were done before: a resumed
 * run), and reads as units per second, or as the time per unit when a unit takes over a second.
 *
 * @example A run resumed at epoch 50 of 100 that has done 2 more in 400 s
 * ```ts
 * import { progressText } from "./progress.ts";
 * console.log(progressText("egnn", 52, 100, 50, 400)); // egnn 52/100 3m20s each ETA 2h40m
 * ```
 */
export function progressText(
  label: string,
  done: number,
  total: number,
  startAt: number,
  elapsedS: number,
  status = "",
): string {
  const rate = (done - startAt) / Math.max(elapsedS, 1e-9);
  const eta = done > startAt ? (total - done) / rate : NaN;
  const pace = !(rate > 0)
    ? ""
    : rate >= 1
    ? `${rate.toFixed(2)}/s `
    : `${fmtTime(1 / rate)} each `;
  return `${label} ${done}/${total} ${pace}ETA ${fmtTime(eta)}` + (status ? ` ${status}` : "");
}

/** Progress of one long step. */
export class Progress {
  private start = performance.now();
  private lastPlain = 0;
  private readonly tty: boolean;
  private readonly enc = new TextEncoder();

  /**
   * @param label what is progressing (e.g. `egnn epochs`)
   * @param total units of work
   * @param quiet print nothing
   * @param startAt units done before this process began (a resumed run), for the pace and ETA
   */
  constructor(
    readonly label: string,
    readonly total: number,
    readonly quiet = false,
    private startAt = 0,
  ) {
    let tty = false;
    try {
      tty = Deno.stderr.isTerminal();
    } catch {
      tty = false;
    }
    this.tty = tty;
  }

  /**
   * Restarts the clock with `done` units already finished (a run resumed from a checkpoint).
   *
   * @param done units finished before now
   */
  resumeFrom(done: number): void {
    this.startAt = done;
    this.start = performance.now();
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
    const text = progressText(
      this.label,
      done,
      this.total,
      this.startAt,
      (now - this.start) / 1000,
      status,
    );
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
