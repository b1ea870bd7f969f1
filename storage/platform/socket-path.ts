/**
 * Where a host listens: `<base>/bolt-<uid>/bolt-<hash of db realpath>-<pid>.sock`, in a
 * directory private to the host's user (mode 0700, owned by it, not a symbolic link), so no
 * other user can pre-create or replace the socket names. `<base>` is the temp directory, or
 * /tmp when that would make the path longer than a Unix socket allows (107 bytes).
 *
 * The predictable `bolt-<uid>` directory can be pre-created by another user (the temp directory
 * is world-writable); then it is not used and the host makes an unpredictable one instead
 * (`bolt-<uid>-XXXXXX`, mkdtemp), removed when its server closes. Clients never derive the
 * path: they read it from the sidecar and check who serves it (storage/host/trust.ts).
 */
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { log } from '../../core/logger.js';

/** The longest usable sun_path on Linux (108 bytes including the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Socket file names: `bolt-<hash>-<pid>.sock`. */
export const SOCKET_NAME = /^bolt-[0-9a-f]+-\d+\.sock$/;
/** Socket directory names: `bolt-<uid>`, or `bolt-<uid>-XXXXXX` when made by mkdtemp. */
export const SOCKET_DIR_NAME = /^bolt-\d+(-[A-Za-z0-9]{6})?$/;

function uid(): number {
  return process.geteuid?.() ?? 0;
}

function socketName(realPath: string, pid: number): string {
  const hash = createHash('sha256').update(realPath).digest('hex').slice(0, 16);
  return `bolt-${hash}-${pid}.sock`;
}

/** The base directory for socket directories: the temp directory unless paths get too long. */
function socketBase(name: string): string {
  // mkdtemp's suffix makes the longest directory name: size for it.
  const longest = join(tmpdir(), `bolt-${uid()}-XXXXXX`, name);
  return Buffer.byteLength(longest) <= MAX_SOCKET_PATH_BYTES ? tmpdir() : '/tmp';
}

/**
 * The predictable socket path of the host of `realPath` in process `pid` (what a host uses
 * when its private directory is usable; tests and tools use it to find or plant one).
 */
export function hostSocketPath(realPath: string, pid = process.pid, user = uid()): string {
  const name = socketName(realPath, pid);
  return join(socketBase(name), `bolt-${user}`, name);
}

/** True when `dir` is a real directory (not a link) owned by this user with no access for others. */
function isPrivateDir(dir: string): boolean {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st || !st.isDirectory() || st.uid !== uid()) return false;
  if ((st.mode & 0o077) !== 0) {
    // Ours but loose (an old umask): tighten it. Only its owner could have made it so.
    chmodSync(dir, 0o700);
    return (lstatSync(dir).mode & 0o077) === 0;
  }
  return true;
}

/** A socket path for the host of `realPath` in this process, and how to clean up after it. */
export interface HostSocketPlace {
  path: string;
  /** Removes the directory when it was made for this socket alone (mkdtemp); else nothing. */
  release(): void;
}

/**
 * Makes sure a private socket directory exists and returns the socket path in it: the
 * predictable `bolt-<uid>` when it is ours and private, else a fresh mkdtemp directory.
 */
export function prepareHostSocket(realPath: string): HostSocketPlace {
  const name = socketName(realPath, process.pid);
  const base = socketBase(name);
  const shared = join(base, `bolt-${uid()}`);
  try {
    mkdirSync(shared, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (isPrivateDir(shared)) return { path: join(shared, name), release: () => undefined };
  const own = mkdtempSync(join(base, `bolt-${uid()}-`));
  log('host-server').warn(
    { predictable: shared, used: own },
    'the socket directory is not private to this user (someone else made it, or it is a link): using a fresh one',
  );
  return {
    path: join(own, name),
    release: () => {
      try {
        rmdirSync(own);
      } catch {
        /* not empty or gone */
      }
    },
  };
}

/**
 * True for a path where a Bolt host puts its socket: `bolt-<hash>-<pid>.sock` in a
 * `bolt-<uid>[-XXXXXX]` directory of the temp directory or /tmp.
 */
export function isHostSocketPath(path: string): boolean {
  const dir = dirname(path);
  const base = dirname(dir);
  return SOCKET_NAME.test(basename(path)) && SOCKET_DIR_NAME.test(basename(dir)) && (base === tmpdir() || base === '/tmp');
}
