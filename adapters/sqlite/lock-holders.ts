/**
 * Who holds locks on a file, from `/proc/locks` (class, type, pid, dev:inode), matched by the
 * file's device and inode. Minimal on purpose; `storage/locks` may grow a fuller reader.
 */
import { readFileSync, statSync } from 'node:fs';
import { processCommand } from '../../storage/locks/process-identity.js';

export interface LockHolder {
  path: string;
  /** FLOCK (whole file) or POSIX (byte range: SQLite's own locks). */
  lockClass: string;
  type: 'READ' | 'WRITE' | string;
  pid: number;
  command?: string;
  /** Byte range of a POSIX lock. */
  range?: string;
}

function devKey(dev: number, ino: number): string {
  const major = ((dev >> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${ino}`;
}

/** Locks held (not merely waited for) on any of `paths`. Missing files are skipped. */
export function lockHolders(paths: readonly string[]): LockHolder[] {
  const keys = new Map<string, string>();
  for (const p of paths) {
    try {
      const st = statSync(p);
      keys.set(devKey(st.dev, st.ino), p);
    } catch {
      /* missing file: nobody holds it */
    }
  }
  let text: string;
  try {
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    return [];
  }
  const out: LockHolder[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] === '->') continue;
    const [, lockClass, , type, pidText, key, start, end] = f as [string, string, string, string, string, string, string, string];
    const path = keys.get(key.toLowerCase());
    if (!path) continue;
    const pid = Number(pidText);
    out.push({ path, lockClass, type, pid, command: processCommand(pid), range: lockClass === 'POSIX' ? `${start}-${end}` : undefined });
  }
  return out;
}

/** "pid 123 (sqlite3 x.db) holds a WRITE POSIX lock on x.db-shm; …" — for error messages. */
export function describeHolders(holders: readonly LockHolder[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const h of holders) {
    const k = `${h.pid}|${h.path}|${h.type}|${h.lockClass}`;
    if (seen.has(k)) continue;
    seen.add(k);
    parts.push(`pid ${h.pid}${h.command ? ` (${h.command})` : ''} holds a ${h.type} ${h.lockClass} lock on ${h.path}`);
  }
  return parts.join('; ');
}
