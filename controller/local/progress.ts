// Live progress for `ablate run` (and `ablate watch`): one bar per run on a terminal, redrawn in
// place; structured log lines (one per run at most every few seconds) when stderr is not a TTY.
import type { Logger } from '../../common/mod.js';

export interface RunProgress {
  key: string; // "<ablation>/<seed>"
  phase: string; // pending | head-warmup | train | eval | done | failed | retrying
  step: number;
  totalSteps: number;
  loss?: number;
  attempt: number;
  etaSeconds?: number;
  message?: string;
}

/** Minimum time between two log lines for the same run when not on a terminal, in milliseconds. @default 5000 */
export const DEFAULT_LOG_INTERVAL_MS = 5000;
/** Redraw interval on a terminal, in milliseconds. @default 250 */
export const DEFAULT_REDRAW_MS = 250;
const BAR_WIDTH = 24;

export class ProgressView {
  private readonly runs = new Map<string, RunProgress>();
  private readonly lastLogged = new Map<string, number>();
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty: boolean = process.stderr.isTTY === true,
  ) {
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), DEFAULT_REDRAW_MS);
      this.timer.unref();
    }
  }

  update(p: RunProgress): void {
    const prev = this.runs.get(p.key);
    this.runs.set(p.key, { ...prev, ...p });
    if (this.tty) return;
    const now = Date.now();
    const phaseChanged = prev?.phase !== p.phase;
    if (phaseChanged || now - (this.lastLogged.get(p.key) ?? 0) >= DEFAULT_LOG_INTERVAL_MS) {
      this.lastLogged.set(p.key, now);
      const [ablation, seed] = p.key.split('/');
      this.log.info(
        { event: 'progress', ablation, seed: Number(seed), attempt: p.attempt, phase: p.phase, step: p.step, totalSteps: p.totalSteps, loss: p.loss, etaSeconds: p.etaSeconds },
        p.message ?? `${p.key} ${p.phase} ${p.step}/${p.totalSteps}`,
      );
    }
  }

  /** Writes a line above the bars (terminal) or logs it. */
  note(message: string, fields: Record<string, unknown> = {}): void {
    if (!this.tty) {
      this.log.info(fields, message);
      return;
    }
    this.clear();
    this.stream.write(`${message}\n`);
    this.draw();
  }

  private clear(): void {
    if (this.drawnLines > 0) this.stream.write(`\x1b[${this.drawnLines}A\x1b[0J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    if (this.closed || !this.tty) return;
    this.clear();
    const width = Math.max(...[...this.runs.keys()].map((k) => k.length), 8);
    const lines = [...this.runs.values()].map((r) => formatBar(r, width));
    if (lines.length > 0) this.stream.write(`${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  /** Draws the final state once and stops redrawing. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    if (this.tty) this.draw();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }
}

export function formatBar(r: RunProgress, keyWidth: number): string {
  const frac = r.totalSteps > 0 ? Math.min(1, r.step / r.totalSteps) : r.phase === 'done' ? 1 : 0;
  const filled = Math.round(frac * BAR_WIDTH);
  const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
  const loss = r.loss === undefined || !Number.isFinite(r.loss) ? '' : ` loss ${r.loss.toFixed(4)}`;
  const eta = r.etaSeconds === undefined || r.phase === 'done' ? '' : ` eta ${formatDuration(r.etaSeconds)}`;
  const attempt = r.attempt > 1 ? ` (attempt ${r.attempt})` : '';
  const msg = r.message ? ` ${r.message}` : '';
  return `${r.key.padEnd(keyWidth)} ${bar} ${r.phase.padEnd(11)} ${String(r.step).padStart(5)}/${r.totalSteps}${loss}${eta}${attempt}${msg}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
