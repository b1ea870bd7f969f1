/**
 * Who holds a SQLite database's locks, for error messages and `lockInfo()`: the holders of the
 * file, its WAL and shared memory (SQLite's POSIX locks) and Bolt's writer lock (a flock), from
 * `storage/platform/proc-locks.ts`, as plain values (no bigint) that survive JSON.
 */
import { lockHolders as procLockHolders } from '../../storage/platform/proc-locks.js';

/** One holder of one file's lock. */
export interface FileHolder {
  path: string;
  pid: number | undefined;
  command: string | undefined;
  class: string;
  type: string;
  /** Waiting for the lock rather than holding it. */
  blocked: boolean;
}

/** The files whose locks matter for a database: the file, its WAL and shared memory. */
export function lockFiles(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`];
}

/** Holders (and waiters) of locks on any of `paths`. */
export function lockHolders(paths: readonly string[]): FileHolder[] {
  return paths.flatMap((path) =>
    procLockHolders(path).map((h) => ({ path, pid: h.pid, command: h.command, class: h.class, type: h.type, blocked: h.blocked })),
  );
}

/** "pid 123 (sqlite3 x.db) holds a WRITE POSIX lock on x.db-shm; …" — for error messages. */
export function describeHolders(holders: readonly FileHolder[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const h of holders) {
    if (h.blocked) continue;
    const k = `${h.pid}|${h.path}|${h.type}|${h.class}`;
    if (seen.has(k)) continue;
    seen.add(k);
    parts.push(`pid ${h.pid ?? '?'}${h.command ? ` (${h.command})` : ''} holds a ${h.type} ${h.class} lock on ${h.path}`);
  }
  return parts.join('; ');
}
