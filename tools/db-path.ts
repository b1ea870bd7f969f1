/**
 * Where CLI commands find the database: `--db <file>` or the default `.bolt/analytics.db`
 * (its directory is created for the default only).
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEFAULT_DATABASE } from '../core/config.js';
import { BadInputError } from '../core/errors.js';
import { redactUrl } from '../adapters/postgres/names.js';

/** The database path to use; creates `.bolt/` when the default is used. */
export function cliDbPath(given: string | undefined): string {
  if (given) return given;
  const p = resolve(DEFAULT_DATABASE);
  mkdirSync(dirname(p), { recursive: true });
  return p;
}

/** `scheme://…`: a server's address, not a file. */
export function isUrl(arg: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(arg);
}

/**
 * A file argument of a command that works on files only (`bolt db info`, `bolt db fix`):
 * absolute, symlinks followed (the lock file and socket are named after the real file). A URL
 * is refused without repeating its password.
 */
export function localPath(arg: string, command: string): string {
  if (isUrl(arg)) {
    throw new BadInputError(`${command} works on database files, not URLs (${redactUrl(arg)}); for PostgreSQL use bolt query --db <url>`, {
      location: redactUrl(arg),
    });
  }
  const abs = resolve(arg);
  try {
    return realpathSync(abs);
  } catch {
    return abs; // missing: the command says so
  }
}
