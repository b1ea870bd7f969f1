/**
 * `openSqlite(path, opts)`: a `Database` over a SQLite file (created when missing unless
 * read-only). See `database.ts` for how it keeps SQLite off the main thread and serialises writers.
 */
import { resolve } from 'node:path';
import type { Database, OpenOptions } from '../../core/database.js';
import { BadInputError, NotADatabaseError, NotFoundError } from '../../core/errors.js';
import { orDiskFull } from '../../core/disk-full.js';
import { detectFileKind } from '../../storage/file-kind.js';
import { SqliteDatabase } from './database.js';

/** SQLite-specific options on top of the common ones. */
export interface SqliteOptions extends OpenOptions {
  /** SQLite's own wait on a lock held by another connection before SQLITE_BUSY (default 5 s). */
  busyTimeoutMs?: number;
  /** How long a writer waits for the writer lock, Bolt's and SQLite's (default `lockTimeoutMs`, 30 s). */
  writeLockTimeoutMs?: number;
  /** Page cache per connection, KiB (default 16 MiB). */
  cacheSizeKiB?: number;
  /** Extra or overriding pragmas applied at every connection, e.g. `{ synchronous: 'FULL' }`. */
  pragmas?: Record<string, string | number>;
  /** Default re-runs of a transaction closure on a transient failure (default 5). */
  retries?: number;
  /** Connections held longer than this are reported as leaks (default 60 s; 0 disables). */
  leakReportMs?: number;
}

/** Opens (or creates) the SQLite database at `path`. */
export async function openSqlite(path: string, opts: SqliteOptions = {}): Promise<Database> {
  const abs = resolve(path);
  const kind = detectFileKind(abs);
  if (kind.kind === 'duckdb' || kind.kind === 'other' || kind.kind === 'directory') {
    throw new NotADatabaseError(`${abs} is not a SQLite database (it looks like ${kind.kind === 'other' ? 'something else' : `a ${kind.kind}`})`, { path: abs, kind: kind.kind });
  }
  if (kind.kind === 'unreadable') throw new NotFoundError(`Cannot read ${abs}: ${kind.reason}`, { path: abs });
  if (opts.readOnly && (kind.kind === 'missing' || kind.kind === 'empty')) {
    throw new NotFoundError(`${abs} does not exist (or is empty), and a read-only open cannot create it`, { path: abs });
  }
  const max = opts.maxConnections ?? 8;
  if (!(max >= 1)) throw new BadInputError('maxConnections must be at least 1', { maxConnections: max });
  const db = new SqliteDatabase({
    settings: {
      path: abs,
      readOnly: opts.readOnly === true,
      busyTimeoutMs: opts.busyTimeoutMs ?? 5_000,
      cacheSizeKiB: opts.cacheSizeKiB ?? 16 * 1024,
      pragmas: opts.pragmas ?? {},
    },
    maxConnections: max,
    connectionTimeoutMs: opts.connectionTimeoutMs ?? 10_000,
    writeLockTimeoutMs: opts.writeLockTimeoutMs ?? opts.lockTimeoutMs ?? 30_000,
    retries: opts.retries ?? 5,
    leakReportMs: opts.leakReportMs ?? 60_000,
  });
  try {
    await db.start(); // bolt_requests is created on first use of a request id, not here
  } catch (err) {
    await db.close();
    throw orDiskFull(err, { path: abs });
  }
  return db;
}
