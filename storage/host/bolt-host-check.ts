/**
 * Proof that a process is the Bolt host of a database, required before `bolt db fix
 * --kill-hung` signals it. Anything can hold a sidecar's flock (`flock(1)`, a script, another
 * program), and anything can write JSON into it; only a process that matches on every count
 * below is signalled:
 * - the sidecar holds a Bolt host record (`pid`, `processStartTime`, `socket`);
 * - every holder of the sidecar's flock is that pid, and it started at the recorded time;
 * - it is a Node.js process (every Bolt host is one);
 * - it holds, listening, the Unix socket the record names (found through `/proc/net/unix`
 *   and its own `/proc/<pid>/fd`).
 * Reads only files under /proc and the sidecar.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import type { LockHolder } from '../platform/proc-locks.js';
import { processCommand, processStartTime } from '../platform/process-identity.js';
import { listeningSocketInodes, processHasSocket } from '../platform/unix-sockets.js';
import type { SidecarInfo } from '../platform/sidecar.js';

/**
 * Why the process holding a sidecar's flock is not proven to be the Bolt host the sidecar
 * records, or undefined when it is (see the file comment for what is checked).
 */
export function unprovenHostReason(info: SidecarInfo | undefined, holders: readonly LockHolder[]): string | undefined {
  if (!info) return 'the sidecar holds no Bolt host record';
  const holding = holders.filter((h) => h.class === 'FLOCK' && !h.blocked);
  if (holding.length === 0) return 'no process could be found holding the sidecar lock';
  const other = holding.find((h) => h.pid !== info.pid);
  if (other)
    return `the sidecar lock is held by ${other.pid === undefined ? 'an unknown process' : `pid ${other.pid}`}, not by pid ${info.pid} that the sidecar records`;
  const pid = info.pid;
  const start = processStartTime(pid);
  if (start === undefined) return `pid ${pid} is gone`;
  if (start !== info.processStartTime) return `pid ${pid} started at ${start}, not at ${info.processStartTime} as the sidecar records: another process`;
  if (!isNodeProcess(pid)) return `pid ${pid} (${processCommand(pid) ?? 'command unknown'}) is not a Node.js process, so not a Bolt host`;
  if (!listensOn(pid, info.socket)) return `pid ${pid} does not hold the socket ${info.socket} that the sidecar records`;
  return undefined;
}

/** True when the executable of `pid` (or, if that cannot be read, its argv[0]) is node. */
function isNodeProcess(pid: number): boolean {
  let exe: string | undefined;
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    try {
      exe = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    } catch {
      return false;
    }
  }
  return /^node(js)?(\d+)?$/.test(basename(exe ?? '').replace(/ \(deleted\)$/, ''));
}

/** True when `pid` has, among its descriptors, a listening Unix socket bound at `path`. */
function listensOn(pid: number, path: string): boolean {
  const inodes = listeningSocketInodes(path);
  return inodes.size > 0 && processHasSocket(pid, inodes) === true;
}
