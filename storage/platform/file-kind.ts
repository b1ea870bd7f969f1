/**
 * Tells a DuckDB file from a SQLite file by its header, read with a plain read BEFORE any
 * engine opens it. Never call this on a file that this process has open in DuckDB: closing
 * the descriptor would drop DuckDB's POSIX lock (architecture.md, fact 3).
 */
import { closeSync, constants, openSync, readSync, statSync } from 'node:fs';

/** What a path holds, as far as its first bytes tell. */
export type FileKind =
  | { kind: 'duckdb'; storageVersion: number; createdBy?: string; size: number }
  | { kind: 'sqlite'; pageSize: number; size: number; pages: number | null }
  | { kind: 'empty' }
  | { kind: 'missing' }
  | { kind: 'directory' }
  | { kind: 'other'; size: number }
  | { kind: 'unreadable'; reason: string };

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** Reads the header of `path` and says which engine's file it is. */
export function detectFileKind(path: string): FileKind {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) return { kind: 'directory' };
    // A FIFO, socket or device is no database: opening one to read could block forever, and
    // its size (0) would make it look like an empty file an engine may create a database in.
    if (!st.isFile()) return { kind: 'other', size: st.size };
    size = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'unreadable', reason: (err as Error).message };
  }
  if (size === 0) return { kind: 'empty' };
  const head = Buffer.alloc(100);
  let n: number;
  try {
    // Not blocking: a FIFO put at the path since the stat above would hold open() and read() forever.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    return { kind: 'unreadable', reason: (err as Error).message };
  }
  if (n >= 16 && head.subarray(0, 16).equals(SQLITE_MAGIC)) {
    const raw = head.readUInt16BE(16);
    // The database size in pages, valid when written by a SQLite that keeps it (3.7.0 and
    // later): its "version-valid-for" number equals the change counter.
    const pages = n >= 96 && head.readUInt32BE(92) === head.readUInt32BE(24) && head.readUInt32BE(28) > 0 ? head.readUInt32BE(28) : null;
    return { kind: 'sqlite', pageSize: raw === 1 ? 65536 : raw, size, pages };
  }
  // DuckDB main header: 8-byte checksum, magic "DUCK", uint64 storage version, then (1.x)
  // the library version that wrote it as a NUL-padded string at offset 52.
  if (n >= 20 && head.toString('latin1', 8, 12) === 'DUCK') {
    const storageVersion = Number(head.readBigUInt64LE(12));
    const createdBy = head.toString('latin1', 52, 84).replace(/\0.*$/s, '') || undefined;
    return { kind: 'duckdb', storageVersion, createdBy, size };
  }
  return { kind: 'other', size };
}
