/**
 * The sidecar `<db>.bolt.lock`: whoever holds its exclusive flock is the Bolt host of `<db>`.
 * Its content is one JSON object describing that host, rewritten in place by the host after
 * it takes the lock. The file is never deleted by a live host (deleting it would let a second
 * process lock a new inode); `bolt db fix` removes it only when no one holds it.
 */
import { ftruncateSync, writeSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { BadInputError } from '../../core/errors.js';
import type { HeldFlock } from './flock.js';
import { readSmallRegularFile } from './small-file.js';

/** What a Bolt host records about itself in the sidecar. */
export interface SidecarInfo {
  pid: number;
  /** Clock ticks since boot (from /proc/<pid>/stat): with pid, identifies the process. */
  processStartTime: number;
  /** Absolute path of the host's Unix socket. */
  socket: string;
  /** ISO time at which this host took over. */
  startedAt: string;
  /** Bolt version of the host. */
  version: string;
}

/** The sidecar path for a database path. */
export function sidecarPath(dbPath: string): string {
  return `${dbPath}${SIDECAR_SUFFIX}`;
}

/** What {@link sidecarPath} adds to a database's path. */
export const SIDECAR_SUFFIX = '.bolt.lock';

/** The longest file name, in bytes, of Linux's file systems (ext4, xfs, btrfs, tmpfs: NAME_MAX). */
export const NAME_MAX_BYTES = 255;

/**
 * BOLT_BAD_INPUT when the sidecar beside the database file `dbPath` could not be created because
 * its name would be too long (the database's name plus {@link SIDECAR_SUFFIX}): checked before
 * anything is created, instead of an ENAMETOOLONG from deep inside the open.
 */
export function checkSidecarName(dbPath: string): void {
  const name = basename(resolve(dbPath));
  const bytes = Buffer.byteLength(name + SIDECAR_SUFFIX);
  if (bytes <= NAME_MAX_BYTES) return;
  const most = NAME_MAX_BYTES - SIDECAR_SUFFIX.length;
  throw new BadInputError(
    `database file name too long (${Buffer.byteLength(name)} bytes): Bolt keeps a lock file beside it, named after it plus "${SIDECAR_SUFFIX}", ` +
      `and a file name has at most ${NAME_MAX_BYTES} bytes; use a name of at most ${most} bytes`,
    { path: resolve(dbPath), nameBytes: Buffer.byteLength(name), maxNameBytes: most },
  );
}

/** More than any host record: a bigger file at a sidecar's path is not one. */
const SIDECAR_MAX_BYTES = 64 * 1024;

/**
 * The text of the sidecar at `path`, or undefined when there is none to read: missing,
 * unreadable, bigger than a host record, or not a regular file (small-file.ts). Bolt writes its
 * sidecars only as regular files (see flock.ts), so a link or a FIFO at that path is nobody's
 * lock, and what it points at is not Bolt's to read.
 */
export function readSidecarText(path: string): string | undefined {
  return readSmallRegularFile(path, SIDECAR_MAX_BYTES);
}

/** Reads and parses a sidecar; undefined when missing, empty, not valid sidecar JSON or not a regular file. */
export function readSidecar(path: string): SidecarInfo | undefined {
  return parseSidecar(readSidecarText(path));
}

/** A sidecar's text as a host record; undefined when there is none, it is empty or not sidecar JSON. */
export function parseSidecar(text: string | undefined): SidecarInfo | undefined {
  if (text === undefined || !text.trim()) return undefined;
  try {
    const v = JSON.parse(text) as Partial<SidecarInfo>;
    if (typeof v.pid !== 'number' || typeof v.socket !== 'string') return undefined;
    return {
      pid: v.pid,
      processStartTime: typeof v.processStartTime === 'number' ? v.processStartTime : 0,
      socket: v.socket,
      startedAt: typeof v.startedAt === 'string' ? v.startedAt : '',
      version: typeof v.version === 'string' ? v.version : '',
    };
  } catch {
    return undefined;
  }
}

/**
 * True when the file at `path` holds what Bolt writes in a sidecar: nothing yet (a host between
 * creating and writing it), or a Bolt host record. Anything else is somebody else's file that
 * merely has a sidecar's name, and Bolt never removes it.
 */
export function hasSidecarContent(path: string): boolean {
  const text = readSidecarText(path);
  if (text === undefined) return false;
  return text.trim() === '' || parseSidecar(text) !== undefined;
}

/** Replaces the sidecar's content through the descriptor that holds its flock. */
export function writeSidecar(lock: HeldFlock, info: SidecarInfo): void {
  const body = Buffer.from(`${JSON.stringify(info)}\n`);
  ftruncateSync(lock.fd, 0);
  writeSync(lock.fd, body, 0, body.length, 0);
}
