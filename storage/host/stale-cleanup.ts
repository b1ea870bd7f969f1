/**
 * Removal of lock debris, done so that a live holder is never robbed and nothing but Bolt's
 * own files is touched: a sidecar is removed only while we hold its flock ourselves (so no
 * host can hold it at that moment) and only when it holds sidecar content; a socket only when
 * connecting to it is refused. Lock files of other programs are read (to report them), never
 * removed.
 */
import { lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SOCKET_NAME, isHostSocketPath } from '../platform/socket-path.js';
import { tryFlockExclusive } from '../platform/flock.js';
import { hasSidecarContent, readSidecar, type SidecarInfo } from '../platform/sidecar.js';
import { readSmallRegularFile } from '../platform/small-file.js';
import { socketHasListener } from './wire/one-shot-request.js';

/** True when the file name of `path` is one a Bolt host gives its socket (socket-path.ts). */
export function isBoltSocketName(path: string): boolean {
  return SOCKET_NAME.test(basename(path));
}

/**
 * Removes the sidecar at `path` if nobody holds its flock and it still names the same
 * process as `expected` (undefined: still empty). A file of that name holding anything but
 * sidecar content is not Bolt's and is never removed. Returns true when removed.
 * Holding the flock while unlinking means no host can hold it at that moment; a host must
 * check, after taking the flock, that the path still names the inode it locked.
 */
export function removeStaleSidecar(path: string, expected: SidecarInfo | undefined): boolean {
  try {
    if (!lstatSync(path).isFile()) return false;
  } catch {
    return false;
  }
  const held = tryFlockExclusive(path);
  if (!held) return false;
  try {
    if (!hasSidecarContent(path)) return false;
    const now = readSidecar(path);
    const same =
      expected === undefined ? now === undefined : now !== undefined && now.pid === expected.pid && now.processStartTime === expected.processStartTime;
    if (!same) return false;
    unlinkSync(path);
    return true;
  } finally {
    held.release();
  }
}

/**
 * Removes the socket of a host that is gone, named by its sidecar: only a path where Bolt puts
 * host sockets (socket-path.ts), only a socket nobody listens on. True when removed.
 */
export async function removeDeadHostSocket(path: string): Promise<boolean> {
  return isHostSocketPath(path) && (await removeDeadSocket(path));
}

/**
 * Removes the socket file at `path` when it is a socket nobody listens on. True when removed.
 * A host's own socket directory made for it alone (`bolt-<uid>-XXXXXX`, see socket-path.ts)
 * goes with it once empty; the shared `bolt-<uid>` directory stays.
 */
export async function removeDeadSocket(path: string): Promise<boolean> {
  try {
    if (!lstatSync(path).isSocket()) return false;
  } catch {
    return false;
  }
  if (await socketHasListener(path)) return false;
  unlinkSync(path);
  if (isHostSocketPath(path) && /-[A-Za-z0-9]{6}$/.test(basename(dirname(path)))) {
    try {
      rmdirSync(dirname(path));
    } catch {
      /* not empty, or gone */
    }
  }
  return true;
}

/**
 * The PID recorded in a lock file: a number alone, or JSON with a numeric `pid`. Undefined
 * when the file is not a small PID file (e.g. `yarn.lock`, `Cargo.lock`, a shopping list).
 */
export function readPidFile(path: string): number | undefined {
  const text = readSmallRegularFile(path, 4096)?.trim();
  if (text === undefined) return undefined;
  const plain = /^(\d{1,9})$/.exec(text);
  if (plain) return validPid(Number(plain[1]));
  if (text.startsWith('{')) {
    try {
      const v = JSON.parse(text) as { pid?: unknown };
      if (typeof v.pid === 'number') return validPid(v.pid);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function validPid(n: number): number | undefined {
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The PID recorded inside a lock directory (any small regular file holding one), or
 * undefined. `plain` is false when the directory holds anything but small regular files
 * (then it is not reported as a lock directory).
 */
export function readLockDir(path: string): { pid: number | undefined; plain: boolean } {
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return { pid: undefined, plain: false };
  }
  let pid: number | undefined;
  for (const name of names) {
    const p = join(path, name);
    const st = lstatSync(p);
    if (!st.isFile() || st.size > 4096) return { pid: undefined, plain: false };
    pid ??= readPidFile(p);
  }
  return { pid, plain: true };
}
