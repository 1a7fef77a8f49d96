// Structured logging for every part: one JSON event per line on stderr when stderr is not a
// terminal, pretty lines when it is. stdout stays free for command output (`--json`).
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** @default 'info' (or `ABLATE_LOG_LEVEL` when set) */
export const DEFAULT_LOG_LEVEL: LevelWithSilent =
  (process.env['ABLATE_LOG_LEVEL'] as LevelWithSilent | undefined) ?? 'info';

let root: Logger | undefined;

/** Creates the process-wide logger; later calls change its level. */
export function configureLogger(level: LevelWithSilent = DEFAULT_LOG_LEVEL, opts: { pretty?: boolean } = {}): Logger {
  const usePretty = opts.pretty ?? (process.stderr.isTTY === true && process.env['ABLATE_LOG_FORMAT'] !== 'json');
  if (root) {
    root.level = level;
    return root;
  }
  root = usePretty
    ? pino({ level }, pretty({ destination: 2, sync: true, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }))
    : pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 2, sync: true }));
  return root;
}

/** The process-wide logger, or a child carrying `bindings` (job, ablation, seed, attempt …). */
export function logger(bindings?: Record<string, unknown>): Logger {
  const base = root ?? configureLogger();
  return bindings ? base.child(bindings) : base;
}
