/**
 * Logging through pino: JSON to stderr (default) or to a file, never to stdout, so a
 * command's human or `--json` output stays clean. Level from `BOLT_LOG_LEVEL` (default
 * `warn`), file from `BOLT_LOG_FILE`; the CLI's `--log-level` sets the former.
 */
import { pino, type Logger } from 'pino';
import { logEnv } from './config.js';

export type { Logger };

let root: Logger | undefined;

function make(): Logger {
  const { level, file } = logEnv();
  const dest = file ? pino.destination({ dest: file, sync: true, mkdir: true }) : pino.destination({ fd: 2, sync: true });
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ['password', '*.password', 'connectionString', '*.connectionString', 'url', '*.url'], censor: '[redacted]' },
    },
    dest,
  );
}

/** The process-wide root logger (created on first use). */
export function logger(): Logger {
  root ??= make();
  return root;
}

/** A child logger for one component, e.g. `log('host')`. */
export function log(component: string, bindings: Record<string, unknown> = {}): Logger {
  return logger().child({ component, ...bindings });
}

/** Changes the level of the root logger (and so of every child made from it). */
export function setLogLevel(level: string): void {
  process.env.BOLT_LOG_LEVEL = level;
  logger().level = level;
}
