/**
 * `flock(2)` through fs-ext, synchronous only: fs-ext's callback API aborts the process when
 * called from a worker thread (architecture.md, fact 4), and `flockSync` with LOCK_NB never blocks.
 * flock locks belong to the open file description, so two `open()`s in one process conflict
 * with each other as they should.
 */
import { openSync, closeSync, constants, fstatSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { BadInputError, PermissionError } from '../../core/errors.js';
import { openOwnFile } from './own-file.js';
import { ownerAndMode } from './owner-and-mode.js';

type FsExt = typeof import('fs-ext');
let loaded: FsExt | undefined;

/**
 * fs-ext, loaded on first use and only on the main thread. Measured (Node 20, fs-ext 2.1.1):
 * once the main thread has loaded the addon, loading it again in a second worker thread
 * aborts the whole process ("Check failed: node->IsInUse()" in the addon's init). So worker
 * threads must never load it, and importing this module must not load it either.
 */
export function fsExtLib(): FsExt {
  if (loaded) return loaded;
  if (!isMainThread) {
    throw new BadInputError('flock is only available on the main thread (fs-ext aborts the process when loaded in worker threads as well)');
  }
  loaded = createRequire(import.meta.url)('fs-ext') as FsExt;
  return loaded;
}

/** An open descriptor holding an exclusive flock; release it with `release()`. */
export interface HeldFlock {
  readonly fd: number;
  readonly path: string;
  release(): void;
}

/**
 * Tries to take an exclusive flock on `path` (created if missing, mode 0600) without waiting.
 * Returns the held lock, or undefined when another open file description holds it. The lock
 * file is written by its holder, so a symbolic link or anything but a regular file at `path`
 * is refused (PermissionError, see own-file.ts) rather than followed.
 */
export function tryFlockExclusive(path: string): HeldFlock | undefined {
  let fd: number;
  try {
    fd = openOwnFile(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  } catch (err) {
    throw lockFileDenied(path, err);
  }
  try {
    fsExtLib().flockSync(fd, 'exnb');
  } catch (err) {
    closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return undefined;
    throw err;
  }
  let released = false;
  return {
    fd,
    path,
    release() {
      if (released) return;
      released = true;
      try {
        fsExtLib().flockSync(fd, 'un');
      } finally {
        closeSync(fd);
      }
    },
  };
}

/**
 * True when some process holds a flock on `path` (probed by trying a shared, non-blocking
 * lock on a fresh descriptor, released at once). A missing file is not locked, and neither is
 * anything but a regular file: a Bolt lock is only ever taken on one (tryFlockExclusive refuses
 * the rest), so a symbolic link is not followed and a FIFO is not waited on (open() of a FIFO
 * blocks until a writer comes).
 * Never call this on a DuckDB database file: closing a descriptor drops that process's
 * POSIX locks (architecture.md, fact 3). Sidecar files are safe.
 */
export function isFlocked(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENXIO' || code === 'ENODEV') return false;
    throw lockFileDenied(path, err);
  }
  try {
    if (!fstatSync(fd).isFile()) return false;
    fsExtLib().flockSync(fd, 'shnb');
    fsExtLib().flockSync(fd, 'un');
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return true;
    throw err;
  } finally {
    closeSync(fd);
  }
}

/**
 * True when `held.path` still names the inode `held` has locked. `bolt db fix` removes a
 * stale sidecar while holding its flock; a process that opened the old file just before
 * and locks it just after would hold a lock on an unlinked inode while a newcomer locks a
 * fresh file at the same path. So after taking the sidecar flock, a host must check this
 * and, when false, release and try again.
 */
export function stillLinked(held: HeldFlock): boolean {
  try {
    const a = fstatSync(held.fd);
    const b = statSync(held.path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/**
 * A lock file this user may not open (another user's, mode 0600, or in a folder it cannot
 * write) as BOLT_PERMISSION naming its owner; other errors as they are.
 */
function lockFileDenied(path: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'EACCES' && code !== 'EPERM') return err;
  return new PermissionError(
    `cannot open Bolt's lock file ${path}${ownerAndMode(path)}: permission denied. Every user of a database needs to read and write its lock file: run as its owner, or give them access to it`,
    { path, errno: code },
  );
}
