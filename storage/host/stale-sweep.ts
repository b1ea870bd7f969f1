/**
 * The runtime's periodic stale-lock sweep: in the database file's directory (not
 * recursively), Bolt sidecars `<x>.bolt.lock` of OTHER database files whose recorded host is
 * dead (or its PID recycled) and which nobody flocks are removed, together with the socket
 * file they recorded when it is a host socket (`bolt-*.sock` in a `bolt-<uid>` directory of
 * the temp directory, see socket-path.ts) nobody listens on.
 *
 * Safe by construction: only sidecar files are opened (never a database file, so no DuckDB
 * POSIX lock is dropped), no process is signalled, the caller's own database and sidecar are
 * skipped, another user's sidecars are left to that user (as `bolt db fix` does), and removal
 * goes through `removeStaleSidecar` / `removeDeadSocket`. A sidecar that cannot be checked is
 * passed over, not the end of the sweep. Cheap: one readdir plus a few stats; a directory with
 * more than `maxEntries` entries is skipped.
 */
import type { FixedLock } from '../../core/events.js';
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isAlive } from '../platform/process-identity.js';
import { readSidecar, sidecarPath } from '../platform/sidecar.js';
import { removeDeadHostSocket, removeStaleSidecar } from './stale-cleanup.js';

/** What a sweep did. */
export interface StaleSweepResult {
  fixed: FixedLock[];
  /** Set when the directory was not swept (e.g. too many entries, unreadable). */
  skipped?: string;
}

export interface StaleSweepOptions {
  /** Skip the sweep when the directory holds more entries than this (default 1000). */
  maxEntries?: number;
}

const SIDECAR_SUFFIX = '.bolt.lock';
/** An unreadable sidecar younger than this may be a host still writing it. */
const YOUNG_EMPTY_MS = 10_000;

/** Sweeps stale sidecars (and their dead sockets) next to `dbPath`, never touching `dbPath`'s own. */
export async function sweepStaleLocks(dbPath: string, opts: StaleSweepOptions = {}): Promise<StaleSweepResult> {
  const maxEntries = opts.maxEntries ?? 1000;
  const abs = resolve(dbPath);
  let dir: string;
  let names: string[];
  try {
    dir = realpathSync(dirname(abs));
    names = readdirSync(dir);
  } catch (e) {
    return { fixed: [], skipped: `cannot read the directory: ${(e as Error).message}` };
  }
  if (names.length > maxEntries) return { fixed: [], skipped: `${names.length} entries (more than ${maxEntries})` };
  const own = new Set([basename(abs), basename(sidecarPath(abs))]);
  try {
    const real = realpathSync(abs);
    own.add(basename(real)).add(basename(sidecarPath(real)));
  } catch {
    // The database file does not exist yet: its plain name is enough.
  }
  const fixed: FixedLock[] = [];
  const uid = process.getuid?.();
  for (const name of names) {
    if (!name.endsWith(SIDECAR_SUFFIX) || name.length === SIDECAR_SUFFIX.length || own.has(name)) continue;
    try {
      fixed.push(...(await sweepOne(join(dir, name), uid)));
    } catch {
      // Unreadable, or gone meanwhile: the next sweep looks again.
    }
  }
  return { fixed };
}

/** What removing the sidecar at `path` fixed, if it is stale and `uid`'s (nothing otherwise). */
async function sweepOne(path: string, uid: number | undefined): Promise<FixedLock[]> {
  const st = lstatSync(path);
  if (!st.isFile() || (uid !== undefined && st.uid !== uid)) return [];
  const info = readSidecar(path);
  if (info && isAlive({ pid: info.pid, startTime: info.processStartTime })) return [];
  // No valid record yet may be a host between creating its sidecar and writing it: leave young ones.
  if (!info && Date.now() - st.mtimeMs < YOUNG_EMPTY_MS) return [];
  // removeStaleSidecar takes the flock first: a live holder (whatever its record says) keeps it.
  if (!removeStaleSidecar(path, info)) return [];
  const fixed: FixedLock[] = [{ path, kind: 'stale-sidecar' }];
  const sock = info?.socket;
  if (sock && (await removeDeadHostSocket(sock))) fixed.push({ path: sock, kind: 'dead-socket' });
  return fixed;
}
