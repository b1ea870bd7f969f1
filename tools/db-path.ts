/**
 * Where CLI commands find the database: `--db <file>` or the default `.bolt/analytics.db`
 * (its directory is created for the default only).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEFAULT_DATABASE } from '../core/config.js';

/** The database path to use; creates `.bolt/` when the default is used. */
export function cliDbPath(given: string | undefined): string {
  if (given) return given;
  const p = resolve(DEFAULT_DATABASE);
  mkdirSync(dirname(p), { recursive: true });
  return p;
}
