/**
 * Who holds locks on a file, read from `/proc/locks` and matched by device and inode.
 * fs-ext's `getlk` cannot tell the holder's PID (DESIGN.md, fact 4); the kernel's table can.
 * Reading `/proc/locks` opens nothing but `/proc/locks` itself, so it is safe to call from a
 * process that holds a DuckDB file (stat-ing a path opens no descriptor).
 */
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { isAlive, processCommand, processStartTime } from './process-identity.js';

/** Lock classes as Bolt names them (`OFDLCK` in the kernel's table is `OFD` here). */
export type LockClass = 'POSIX' | 'FLOCK' | 'OFD';
/** READ is a shared lock, WRITE an exclusive one. */
export type LockType = 'READ' | 'WRITE';

/** One line of `/proc/locks` (LEASE/DELEG lines and UNLCK entries are skipped). */
export interface ProcLockEntry {
  /** The kernel's ordinal; a blocked waiter shares it with the lock it waits on. */
  id: number;
  class: LockClass;
  type: LockType;
  /** True for a `->` line: the process waits for this lock and does not hold it. */
  blocked: boolean;
  /** Holder PID as the kernel reports it; -1 for OFD locks (owned by a file description). */
  pid: number;
  major: number;
  minor: number;
  inode: bigint;
  /** First byte of the locked range. */
  start: bigint;
  /** Last byte of the locked range, or null for "to end of file" (EOF). */
  end: bigint | null;
}

/** A holder of (or waiter for) a lock on one file, with the facts needed to judge it. */
export interface LockHolder {
  /** PID, or undefined when the kernel does not say (OFD lock whose owner could not be found). */
  pid: number | undefined;
  /** Start time of `pid` in clock ticks since boot (with pid, identifies the process). */
  startTime: number | undefined;
  /** The holder's command line, when readable. */
  command: string | undefined;
  class: LockClass;
  type: LockType;
  /** True when the process exists (not a zombie). False also when pid is unknown. */
  alive: boolean;
  /** True when the process waits for the lock rather than holding it. */
  blocked: boolean;
  /** How the pid was learned: from /proc/locks, from /proc/<pid>/fdinfo (OFD), or unknown. */
  pidSource: 'proc-locks' | 'fdinfo' | 'unknown';
  /** Byte ranges held, as `[start, end]` with end null for EOF. */
  ranges: Array<[bigint, bigint | null]>;
}

const CLASS: Record<string, LockClass | undefined> = { POSIX: 'POSIX', FLOCK: 'FLOCK', OFDLCK: 'OFD' };

/** Parses the text of `/proc/locks`. Unknown or malformed lines are skipped. */
export function parseProcLocks(text: string): ProcLockEntry[] {
  const out: ProcLockEntry[] = [];
  for (const line of text.split('\n')) {
    const tok = line.trim().split(/\s+/);
    if (tok.length < 8) continue;
    const id = Number.parseInt(tok[0], 10);
    let i = 1;
    const blocked = tok[i] === '->';
    if (blocked) i++;
    const cls = CLASS[tok[i++]];
    i++; // ADVISORY / MANDATORY
    const type = tok[i++];
    const pid = Number.parseInt(tok[i++], 10);
    const dev = /^([0-9a-f]+):([0-9a-f]+):(\d+)$/i.exec(tok[i++] ?? '');
    const start = tok[i++];
    const end = tok[i++];
    if (!cls || (type !== 'READ' && type !== 'WRITE') || !dev || !Number.isFinite(pid) || start === undefined || end === undefined) continue;
    if (!/^\d+$/.test(start) || !(end === 'EOF' || /^\d+$/.test(end))) continue;
    out.push({
      id,
      class: cls,
      type,
      blocked,
      pid,
      major: Number.parseInt(dev[1], 16),
      minor: Number.parseInt(dev[2], 16),
      inode: BigInt(dev[3]),
      start: BigInt(start),
      end: end === 'EOF' ? null : BigInt(end),
    });
  }
  return out;
}

/** Splits a Linux `st_dev` into major and minor numbers (glibc's gnu_dev_major/minor). */
export function splitDev(dev: bigint): { major: number; minor: number } {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

/** Device and inode of a path (following symlinks), or undefined when it does not exist. */
export function fileId(path: string): { major: number; minor: number; inode: bigint } | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return { ...splitDev(st.dev), inode: st.ino };
  } catch {
    return undefined;
  }
}

/** Reads `/proc/locks` (empty list where it does not exist). */
export function readProcLocks(): ProcLockEntry[] {
  try {
    return parseProcLocks(readFileSync('/proc/locks', 'utf8'));
  } catch {
    return [];
  }
}

/** The entries of `entries` that concern the file at `path`. */
export function entriesFor(path: string, entries: ProcLockEntry[] = readProcLocks()): ProcLockEntry[] {
  const id = fileId(path);
  if (!id) return [];
  return entries.filter((e) => e.inode === id.inode && e.major === id.major && e.minor === id.minor);
}

/**
 * PIDs that have the file (dev, inode) open with an OFD lock on it, found through
 * `/proc/<pid>/fd` and `/proc/<pid>/fdinfo` ("lock:" lines). Processes we may not inspect
 * are skipped, so the list can be incomplete.
 */
export function ofdOwners(id: { major: number; minor: number; inode: bigint }): number[] {
  const owners = new Set<number>();
  const devText = `${hex2(id.major)}:${hex2(id.minor)}:${id.inode}`;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  for (const p of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${p}/fd/${fd}`);
        if (!target.startsWith('/')) continue; // pipes, sockets, anon inodes
        const info = readFileSync(`/proc/${p}/fdinfo/${fd}`, 'utf8');
        if (info.split('\n').some((l) => l.startsWith('lock:') && l.includes('OFDLCK') && l.includes(devText))) {
          owners.add(Number(p));
        }
      } catch {
        // the fd closed or the process exited meanwhile
      }
    }
  }
  return [...owners];
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/**
 * Every process that holds (or waits for) a lock on `path`, with its command line, class,
 * type and liveness. Entries of one process with the same class, type and blocked state
 * are merged (their byte ranges listed). OFD locks, which the kernel reports with pid -1,
 * are attributed through /proc/<pid>/fdinfo when possible, else reported with pid unknown.
 */
export function lockHolders(path: string, entries: ProcLockEntry[] = readProcLocks()): LockHolder[] {
  const id = fileId(path);
  if (!id) return [];
  const mine = entries.filter((e) => e.inode === id.inode && e.major === id.major && e.minor === id.minor);
  const byKey = new Map<string, LockHolder>();
  let owners: number[] | undefined;
  for (const e of mine) {
    let pids: Array<number | undefined> = [e.pid];
    let pidSource: LockHolder['pidSource'] = 'proc-locks';
    if (e.pid <= 0) {
      owners ??= ofdOwners(id);
      pids = owners.length > 0 ? owners : [undefined];
      pidSource = owners.length > 0 ? 'fdinfo' : 'unknown';
    }
    for (const pid of pids) {
      const key = `${pid ?? '?'}|${e.class}|${e.type}|${e.blocked}`;
      const have = byKey.get(key);
      if (have) {
        have.ranges.push([e.start, e.end]);
        continue;
      }
      const startTime = pid === undefined ? undefined : processStartTime(pid);
      byKey.set(key, {
        pid,
        startTime,
        command: pid === undefined ? undefined : processCommand(pid),
        class: e.class,
        type: e.type,
        alive: pid !== undefined && startTime !== undefined && isAlive({ pid, startTime }),
        blocked: e.blocked,
        pidSource,
        ranges: [[e.start, e.end]],
      });
    }
  }
  return [...byKey.values()];
}
