/**
 * Shared plumbing for CLI commands: turns any thrown error into `error [CODE]: message` on
 * stderr and a non-zero exit (a stack only with `--debug`), and prints results as human
 * text or, with `--json`, as one JSON object on stdout. With `--json` an error is also that
 * one object, `{"error": {"code", "message"}}`, so a script reading stdout gets JSON either way.
 */
import { Command } from 'commander';
import { BoltError } from '../core/errors.js';
import { log } from '../core/logger.js';
import { printableLines } from './format.js';

/** Exit codes used by every command. */
export const EXIT = { ok: 0, problems: 1, error: 2 } as const;

let debug = false;
/** Set from the global `--debug` flag. */
export function setDebug(on: boolean): void {
  debug = on;
}

/** Whether the command has printed its JSON object (an error then adds none: one object per run). */
let jsonPrinted = false;

/**
 * Prints an error the way every command does; returns the exit code to use. `json`: the
 * command was asked for `--json`, so the error also goes to stdout as its JSON object.
 */
export function reportError(err: unknown, opts: { json?: boolean } = {}): number {
  const code = err instanceof BoltError ? err.code : 'BOLT_INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  // Human output: a path or value in the message prints escaped (--json keeps it exact).
  process.stderr.write(`error [${code}]: ${printableLines(message)}\n`);
  if (opts.json && !jsonPrinted) printJson({ error: { code, message } });
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
      process.exitCode = reportError(err, { json: asksForJson(args) });
    }
  };
}

/** Whether the command an action runs for (commander passes it last) has `--json` set. */
function asksForJson(args: readonly unknown[]): boolean {
  const cmd = args.at(-1);
  return cmd instanceof Command && cmd.opts<{ json?: unknown }>().json === true;
}

/** Writes `value` as pretty JSON on stdout (bigint as string). */
export function printJson(value: unknown): void {
  jsonPrinted = true;
  process.stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}

/** Writes a human line on stdout. */
export function println(line = ''): void {
  process.stdout.write(`${line}\n`);
}
