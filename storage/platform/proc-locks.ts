/**
 * Who holds locks on a file, read from `/proc/locks` and matched by device and inode.
 * fs-ext's `getlk` cannot tell the holder's PID (architecture.md, fact 4); the kernel's table can.
 * Reading `/proc/locks` opens nothing but `/proc/locks` itself, so it is safe to call from a
 * process that holds a DuckDB file (stat-ing a path opens no descriptor).
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
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
  /**
   * How the pid was learned: from the kernel's lock record (`/proc/locks`, or an fdinfo "lock:"
   * line), from which process holds the OFD lock's descriptor (fdinfo), or unknown.
   */
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

/**
 * `/proc/locks` as read once. The kernel hands the table over one page (4 KiB or more, some 60
 * lines) per read(2) and lets go of its lock between reads; a lock released meanwhile shifts
 * the rest of the table, so a table read in several reads can miss entries that were there
 * all along (measured: a WRITE lock held throughout went missing in 6 of 2,000 reads while
 * another process took and dropped 200 locks in a loop). The same shift can hide the rest of
 * the table entirely: a first read of one full page, then enough locks released that the next
 * read starts past the end and returns nothing. So `consistent` (a true snapshot) holds only
 * for a table that came in one read too short to have been cut at a page's end.
 */
export interface ProcLocks {
  entries: ProcLockEntry[];
  consistent: boolean;
}

/**
 * The longest single read that is surely the whole table. The kernel cuts a read short of the
 * page only when the next line would not fit, and a line is at most about 130 bytes, so a cut
 * read of a page of at least 4 KiB is longer than this.
 */
const SURELY_WHOLE_BYTES = 3 * 1024;

/** Reads `/proc/locks` (no entries, consistent, where it does not exist). `file` is for tests. */
export function readProcLocks(file = '/proc/locks'): ProcLocks {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { entries: [], consistent: true };
  }
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
    }
    const consistent = chunks.length === 0 || (chunks.length === 1 && chunks[0].length <= SURELY_WHOLE_BYTES);
    return { entries: parseProcLocks(Buffer.concat(chunks).toString('utf8')), consistent };
  } catch {
    return { entries: [], consistent: false };
  } finally {
    closeSync(fd);
  }
}

/** A process with the file open, and the locks it holds through those descriptors. */
interface Opener {
  pid: number;
  /** From `/proc/<pid>/fdinfo/<fd>` "lock:" lines: each read whole under the file's own lock. */
  locks: ProcLockEntry[];
}

/**
 * The processes that have `path` open, found through `/proc/<pid>/fd` (a link whose name
 * matches, confirmed by stat-ing the link: same device and inode as `path`), with the locks
 * each holds through those descriptors. Processes we may not inspect are skipped, so the
 * list can be incomplete. Opens nothing but files under /proc.
 */
export function openersOf(path: string, id: { major: number; minor: number; inode: bigint } | undefined = fileId(path)): Opener[] {
  if (!id) return [];
  const name = basename(path);
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  const out: Opener[] = [];
  for (const p of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue;
    }
    let opener: Opener | undefined;
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${p}/fd/${fd}`);
        if (!target.startsWith('/') || basename(target) !== name) continue; // pipes, sockets, other files
        const st = statSync(`/proc/${p}/fd/${fd}`, { bigint: true });
        const dev = splitDev(st.dev);
        if (st.ino !== id.inode || dev.major !== id.major || dev.minor !== id.minor) continue;
        opener ??= { pid: Number(p), locks: [] };
        const info = readFileSync(`/proc/${p}/fdinfo/${fd}`, 'utf8');
        const lines = info
          .split('\n')
          .filter((l) => l.startsWith('lock:'))
          .map((l) => l.slice('lock:'.length));
        opener.locks.push(...parseProcLocks(lines.join('\n')));
      } catch {
        // the fd closed or the process exited meanwhile
      }
    }
    if (opener) out.push(opener);
  }
  return out;
}

/**
 * Every process that holds (or waits for) a lock on `path`, with its command line, class,
 * type and liveness. Entries of one process with the same class, type and blocked state
 * are merged (their byte ranges listed). OFD locks, which the kernel reports with pid -1,
 * are attributed to the processes that hold them through their descriptors, else reported
 * with pid unknown. When `/proc/locks` was not read as one snapshot, the locks held through
 * each opener's descriptors are added, so a holder is never missed; waiters show only in
 * `/proc/locks`.
 */
export function lockHolders(path: string, table: ProcLocks = readProcLocks()): LockHolder[] {
  const id = fileId(path);
  if (!id) return [];
  let openers: Opener[] | undefined;
  const opened = (): Opener[] => (openers ??= openersOf(path, id));
  type Found = { entry: ProcLockEntry; pid: number | undefined; pidSource: LockHolder['pidSource'] };
  const found: Found[] = [];
  for (const e of table.entries) {
    if (e.inode !== id.inode || e.major !== id.major || e.minor !== id.minor) continue;
    if (e.pid > 0) {
      found.push({ entry: e, pid: e.pid, pidSource: 'proc-locks' });
      continue;
    }
    const owners = opened().filter((o) => o.locks.some((l) => l.class === 'OFD'));
    if (owners.length === 0) found.push({ entry: e, pid: undefined, pidSource: 'unknown' });
    for (const o of owners) found.push({ entry: e, pid: o.pid, pidSource: 'fdinfo' });
  }
  if (!table.consistent) {
    for (const o of opened()) {
      for (const l of o.locks) found.push(l.pid > 0 ? { entry: l, pid: l.pid, pidSource: 'proc-locks' } : { entry: l, pid: o.pid, pidSource: 'fdinfo' });
    }
  }

  const byKey = new Map<string, LockHolder>();
  for (const { entry: e, pid, pidSource } of found) {
    const key = `${pid ?? '?'}|${e.class}|${e.type}|${e.blocked}`;
    const have = byKey.get(key);
    if (have) {
      if (!have.ranges.some(([s, end]) => s === e.start && end === e.end)) have.ranges.push([e.start, e.end]);
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
  return [...byKey.values()];
}
