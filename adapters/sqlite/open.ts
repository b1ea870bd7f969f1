/**
 * `openSqlite(path, opts)`: a `Database` over a SQLite file (created when missing unless
 * read-only). See `database.ts` for how it keeps SQLite off the main thread and serialises writers.
 */
import { resolve } from 'node:path';
import type { Database } from '../../core/database.js';
import { NotADatabaseError, NotFoundError } from '../../core/errors.js';
import { detectFileKind } from '../../storage/platform/file-kind.js';
import { SqliteDatabase, type SqliteOptions } from './database.js';
import { checkOpenOptions } from '../shared/open-options.js';

export type { SqliteOptions } from './database.js';

/** Opens (or creates) the SQLite database at `path`. */
export async function openSqlite(path: string, opts: SqliteOptions = {}): Promise<Database> {
  checkOpenOptions(opts, { writeLockTimeoutMs: opts.writeLockTimeoutMs, cacheSizeKiB: opts.cacheSizeKiB });
  const abs = resolve(path);
  const kind = detectFileKind(abs);
  if (kind.kind === 'duckdb' || kind.kind === 'other' || kind.kind === 'directory') {
    throw new NotADatabaseError(`${abs} is not a SQLite database (it looks like ${kind.kind === 'other' ? 'something else' : `a ${kind.kind}`})`, {
      path: abs,
      kind: kind.kind,
    });
  }
  if (kind.kind === 'unreadable') throw new NotFoundError(`Cannot read ${abs}: ${kind.reason}`, { path: abs });
  if (opts.readOnly && (kind.kind === 'missing' || kind.kind === 'empty')) {
    throw new NotFoundError(`${abs} does not exist (or is empty), and a read-only open cannot create it`, { path: abs });
  }
  return SqliteDatabase.create(abs, opts);
}
