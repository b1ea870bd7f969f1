/**
 * Where CLI commands find the database: `--db <file>` or the default `.bolt/analytics.db`
 * (its directory is created for the default only).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const DEFAULT_DB = '.bolt/analytics.db';

/** The database path to use; creates `.bolt/` when the default is used. */
export function cliDbPath(given: string | undefined): string {
  if (given) return given;
  const p = resolve(DEFAULT_DB);
  mkdirSync(dirname(p), { recursive: true });
  return p;
}

/** Parses a `--lock-timeout` style option (ms). */
export function parseMs(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a number of milliseconds: ${v}`);
  return n;
}
