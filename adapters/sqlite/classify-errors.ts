/**
 * Turns what a connection reports (`SqliteFailure`, carried by a `RunError`) into a typed `BoltError`. Busy/locked
 * errors name who holds the database (from /proc/locks) and are marked `transient` so that
 * only the callers allowed to retry (reads, writes with a request id, transaction closures) do.
 */
import {
  BadInputError,
  BoltError,
  ClosedError,
  LockTimeoutError,
  NotADatabaseError,
  NotFoundError,
  PermissionError,
  ReadOnlyError,
  SqlError,
} from '../../core/errors.js';
import { diskFullError, isDiskFull, noSpaceLeft } from '../../core/disk-full.js';
import { describeHolders, lockFiles, lockHolders } from './lock-holders.js';
import { accessProblem } from '../../storage/platform/check-directory.js';
import type { SqliteFailure } from './requests.js';
import { isBusyCode, RunError } from './run.js';

/** What the caller was doing, for messages. */
export interface ErrorContext {
  path: string;
  sql?: string;
  session?: string;
}

/** SQLITE_BUSY or SQLITE_LOCKED that a retry may cure (not one that already waited its deadline out). */
export function isRetryableBusy(err: unknown): boolean {
  if (!(err instanceof RunError)) return false;
  return isBusyCode(err.info.code) && !err.info.busyTimeout;
}

/** What a connection threw (a `RunError` carrying SQLite's facts), as a typed error; other errors pass. */
export function classifyFailure(err: unknown, ctx: ErrorContext): Error {
  if (err instanceof RunError) return classifySqliteError(err.info, ctx);
  return err instanceof Error ? err : classifySqliteError(err as SqliteFailure, ctx);
}

/** A BoltError for a connection's failure. */
export function classifySqliteError(e: SqliteFailure, ctx: ErrorContext): BoltError {
  const code = e.code ?? '';
  const base = {
    path: ctx.path,
    sqliteCode: e.code,
    ...(ctx.session ? { session: ctx.session } : {}),
    ...(typeof ctx.sql === 'string' ? { sql: ctx.sql.slice(0, 200) } : {}),
  };
  if (e.readOnly) {
    return new ReadOnlyError(
      `${ctx.session ? `Session "${ctx.session}"` : `Database ${ctx.path}`} is read-only: the statement is not a read. Use a read-write session for writes`,
      base,
    );
  }
  if (isBusyCode(code)) {
    const holders = lockHolders(lockFiles(ctx.path)).filter((h) => h.pid !== process.pid || h.class === 'FLOCK');
    const who = describeHolders(holders.filter((h) => h.type === 'WRITE')) || describeHolders(holders) || 'no holder visible in /proc/locks';
    const waited = e.busyTimeout ? ` after ${e.busyTimeout.waitedMs} ms and ${e.busyTimeout.attempts} attempts` : '';
    return new LockTimeoutError(
      `SQLite database ${ctx.path} is locked by another writer${waited}: ${who}. Wait for it to finish, or end that process if it is stuck`,
      { ...base, holders, ...(e.busyTimeout ?? {}), transient: !e.busyTimeout },
    );
  }
  // SHMSIZE: the WAL index could not grow; other I/O errors say nothing of why, so the file
  // system's free space decides.
  if (isDiskFull(e) || code === 'SQLITE_IOERR_SHMSIZE' || (code.startsWith('SQLITE_IOERR') && noSpaceLeft(ctx.path))) return diskFullError(e, base);
  if (code.startsWith('SQLITE_READONLY')) return new ReadOnlyError(`SQLite database ${ctx.path} cannot be written: ${e.message}`, base);
  if (code === 'SQLITE_NOTADB') return new NotADatabaseError(`${ctx.path} is not a SQLite database: ${e.message}`, base);
  // SQLite says "unable to open database file" whatever the cause: name it where the file system can.
  if (code.startsWith('SQLITE_CANTOPEN')) return accessProblem(ctx.path) ?? new NotFoundError(`Cannot open SQLite database ${ctx.path}: ${e.message}`, base);
  if (code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') return new PermissionError(`Not allowed on ${ctx.path}: ${e.message}`, base);
  // The handle was closed while this ran (its connections close with it).
  if (e.name === 'Closed' || /database connection is not open/.test(e.message)) return new ClosedError(`SQLite database ${ctx.path} is closed`, base);
  if (
    code === 'BOLT_MULTI_PARAMS' ||
    code === 'BOLT_BAD_INPUT' ||
    e.name === 'RangeError' ||
    e.name === 'TypeError' ||
    /too many SQL variables/.test(e.message)
  )
    return new BadInputError(`${e.message}`, base);
  return new SqlError(`SQLite: ${e.message}`, base);
}
