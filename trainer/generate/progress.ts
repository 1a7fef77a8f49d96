// Progress of a generation run: a bar redrawn in place on a terminal, structured log lines
// otherwise (a log file or CI output must not fill with carriage returns).
import type { Logger } from '../../common/mod.js';

export interface ProgressStats {
  accepted: number;
  rejected: number;
  wanted: number;
  /** Tokens spent by this invocation (all attempts, including retried ones). */
  tokens: number;
}

/** Shortest pause between two redraws of the bar. */
const REDRAW_MS = 100;
/** Log lines per run when not on a terminal (one every tenth of the way). */
const LOG_STEPS = 10;

export class ProgressReporter {
  private readonly stream: NodeJS.WriteStream | undefined;
  private readonly log: Logger;
  private lastDraw = 0;
  private lastStep = -1;

  /** `stream` is drawn on only when it is a TTY; otherwise progress goes to `log`. */
  constructor(log: Logger, stream: NodeJS.WriteStream | undefined = process.stderr) {
    this.log = log;
    this.stream = stream?.isTTY ? stream : undefined;
  }

  update(s: ProgressStats, force = false): void {
    if (this.stream) {
      const now = Date.now();
      if (!force && now - this.lastDraw < REDRAW_MS) return;
      this.lastDraw = now;
      const width = 30;
      const filled = Math.min(width, Math.round((s.accepted / Math.max(1, s.wanted)) * width));
      const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
      this.stream.write(`\r[${bar}] ${s.accepted}/${s.wanted} accepted, ${s.rejected} rejected, ${s.tokens.toLocaleString('en-US')} tokens`);
      return;
    }
    const step = Math.floor((s.accepted / Math.max(1, s.wanted)) * LOG_STEPS);
    if (!force && step === this.lastStep) return;
    this.lastStep = step;
    this.log.info({ accepted: s.accepted, rejected: s.rejected, wanted: s.wanted, tokens: s.tokens }, 'generation progress');
  }

  /** Draws the final state and ends the bar's line. */
  finish(s: ProgressStats): void {
    this.update(s, true);
    this.stream?.write('\n');
  }
}
