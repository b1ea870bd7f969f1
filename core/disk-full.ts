/**
 * Recognising a full file system, whichever layer noticed it: a Node fs or socket call
 * (errno ENOSPC, EDQUOT), DuckDB ("No space left on device", "Disk quota exceeded"), SQLite
 * (SQLITE_FULL: "database or disk is full") or PostgreSQL (SQLSTATE class 53100 disk_full).
 * Each engine's classify-errors and the open paths turn such a failure into `DiskFullError`
 * (BOLT_DISK_FULL) instead of a generic SQL or internal error.
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { BoltError, DiskFullError } from './errors.js';

const ERRNOS = new Set(['ENOSPC', 'EDQUOT']);
const MESSAGE = /No space left on device|Disk quota exceeded|database or disk is full|\bENOSPC\b|\bEDQUOT\b/i;

/** True when `err` (an Error, a worker's plain error object, or a message) says the disk is full. */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof DiskFullError) return true;
  if (err instanceof BoltError) return false;
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (ERRNOS.has(code) || code === 'SQLITE_FULL' || code === '53100') return true;
  const message = typeof err === 'string' ? err : typeof e?.message === 'string' ? e.message : '';
  return MESSAGE.test(message);
}

/** The `DiskFullError` for a failure `isDiskFull` recognised; `facts` say where (path, sql…). */
export function diskFullError(err: unknown, facts: Record<string, unknown> = {}): DiskFullError {
  if (err instanceof DiskFullError) return err;
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const cause = typeof e?.message === 'string' ? e.message : String(err);
  const where = typeof facts.path === 'string' ? ` for ${facts.path}` : typeof facts.location === 'string' ? ` at ${facts.location}` : '';
  return new DiskFullError(`no space left on the file system${where}: free some space and retry (${cause})`, {
    ...facts,
    ...(typeof e?.code === 'string' ? { errno: e.code } : {}),
    engineMessage: cause,
  });
}

/** `err` as a DiskFullError when the disk is full, else `err` unchanged. */
export function orDiskFull(err: unknown, facts: Record<string, unknown> = {}): unknown {
  return isDiskFull(err) ? diskFullError(err, facts) : err;
}

/**
 * True when the file system holding `path` has (almost) no space left for its user: for
 * engine errors that do not say why a write failed (SQLite's "disk I/O error").
 */
export function noSpaceLeft(path: string): boolean {
  try {
    const s = statfsSync(dirname(path));
    return s.bavail * s.bsize < 64 * 1024;
  } catch {
    return false;
  }
}
