/**
 * A process is identified by its PID *and* its start time (field 22 of `/proc/<pid>/stat`,
 * in clock ticks since boot), so a recycled PID is never mistaken for an old holder.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** PID plus start time: stable for the life of one process. */
export interface ProcessIdentity {
  pid: number;
  /** Clock ticks since boot at which the process started (from /proc/<pid>/stat). */
  startTime: number;
}

/** Start time of `pid` in clock ticks since boot, or undefined if no such process. */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  const start = Number(rest[19]);
  return Number.isFinite(start) ? start : undefined;
}

/** One-letter state of `pid` (R, S, D, Z, T…), or undefined if no such process. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` has exited: no such process, or a zombie none of whose threads still runs.
 * The thread-group leader shows as a zombie (Z) as soon as its own thread exits, while its
 * other threads may still be exiting, and the process's files (its flocks with them) close only
 * when the last one has (measured: SIGKILLed node processes showed Z with 2-6 entries in
 * /proc/<pid>/task; `bolt db fix --kill-hung` then found the sidecar still flocked).
 */
export function hasExited(pid: number): boolean {
  const state = processState(pid);
  if (state === undefined) return true;
  if (state !== 'Z') return false;
  try {
    return readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}

/** This process's identity. */
export function selfIdentity(): ProcessIdentity {
  return { pid: process.pid, startTime: processStartTime(process.pid) ?? 0 };
}

/**
 * True when the process that had this identity is still running: the PID exists, has not
 * exited (see {@link hasExited}), and started at the same time. A recycled PID answers false.
 */
export function isAlive(id: ProcessIdentity): boolean {
  const start = processStartTime(id.pid);
  if (start === undefined || hasExited(id.pid)) return false;
  return id.startTime === 0 || start === id.startTime;
}

/** The command line of `pid` (arguments joined by spaces), or undefined. */
export function processCommand(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const cmd = raw.split('\0').filter(Boolean).join(' ');
    if (cmd) return cmd;
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The effective uid of `pid` (the `Uid:` line of /proc/<pid>/status: real, effective, saved,
 * filesystem), or undefined if no such process.
 */
export function processUid(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    return m ? Number(m[2]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size of `pid` in bytes (VmRSS), or undefined when it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
