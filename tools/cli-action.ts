/**
 * Shared plumbing for CLI commands: turns any thrown error into `error [CODE]: message` on
 * stderr and a non-zero exit (a stack only with `--debug`), and prints results as human
 * text or, with `--json`, as one JSON object on stdout.
 */
import { BoltError } from '../core/errors.js';
import { log } from '../core/logger.js';

/** Exit codes used by every command. */
export const EXIT = { ok: 0, problems: 1, error: 2 } as const;

let debug = false;
/** Set from the global `--debug` flag. */
export function setDebug(on: boolean): void {
  debug = on;
}

/** Prints an error the way every command does; returns the exit code to use. */
export function reportError(err: unknown): number {
  if (err instanceof BoltError) {
    process.stderr.write(`error [${err.code}]: ${err.message}\n`);
  } else if (err instanceof Error) {
    process.stderr.write(`error [BOLT_INTERNAL]: ${err.message}\n`);
  } else {
    process.stderr.write(`error [BOLT_INTERNAL]: ${String(err)}\n`);
  }
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  log('cli').debug({ err }, 'command failed');
  return EXIT.error;
}

/**
 * Wraps a command's action: runs it, sets `process.exitCode` from its result (a number) or
 * from a thrown error. Commands never call `process.exit` themselves, so logs flush.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === 'number' ? code : EXIT.ok;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

/** Writes `value` as pretty JSON on stdout (bigint as string). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}

/** Writes a human line on stdout. */
export function println(line = ''): void {
  process.stdout.write(`${line}\n`);
}
