/**
 * Classifies who holds a database file, from the outside: reads the sidecar, checks its
 * flock, pings the Bolt host over its socket, and reads `/proc/locks` for everyone else.
 * Opens no descriptor on the database file itself (safe to call from any process).
 *
 * A live healthy holder is never called stale: "stale" is only ever said of a sidecar
 * nobody flocks whose recorded process is dead or recycled, and "hung" only of a Bolt host
 * that holds the sidecar flock, is alive, and does not answer a ping in time.
 */
import { lstatSync } from 'node:fs';
import { isFlocked } from '../platform/flock.js';
import { lockHolders, readProcLocks, type LockHolder, type ProcLocks } from '../platform/proc-locks.js';
import { isAlive } from '../platform/process-identity.js';
import { parseSidecar, readSidecarText, sidecarPath, type SidecarInfo } from '../platform/sidecar.js';
import { oneShotRequest, type PingResult } from './wire/one-shot-request.js';
import { BoltError } from '../../core/errors.js';

/**
 * - `free`: nobody holds the file (a sidecar of a live process that released it may remain);
 * - `bolt-host`: a Bolt host holds the sidecar flock and answers ping (or answers that it is at
 *   its connection limit, BOLT_HOST_BUSY: it answered, so it is not hung);
 * - `bolt-host-hung`: a live process holds the sidecar flock but does not answer in time (and is
 *   not merely waiting for a foreign holder of the database: that is `foreign`);
 * - `stale-sidecar`: a sidecar nobody flocks, left by a dead or recycled PID (and no one else holds the file);
 * - `foreign`: a process that is not a Bolt host holds locks on the file or its companions.
 */
export type DbLockState = 'free' | 'bolt-host' | 'bolt-host-hung' | 'stale-sidecar' | 'foreign';

/** Which database engine the companions (WAL, journal) follow. */
export type ProbeEngine = 'duckdb' | 'sqlite' | 'unknown';

/** A lock holder of one of the database's files, tagged with its role. */
export interface FileLockHolder extends LockHolder {
  /** Which file: the database itself, or a companion (`.wal`, `-wal`, `-shm`, `-journal`). */
  file: string;
  /** `bolt-host` when it is the process holding the sidecar flock; `foreign` otherwise. */
  role: 'bolt-host' | 'foreign';
}

/** What the sidecar says and whether its word still holds. */
export interface SidecarState {
  path: string;
  /** Something (anything: a link, a FIFO…) is at the sidecar's path. */
  present: boolean;
  /** What is there is a regular file: the only kind Bolt makes and locks; the rest below is false/empty otherwise. */
  regular: boolean;
  /** Some open file description holds a flock on it (the Bolt host, if healthy). */
  flocked: boolean;
  /** Parsed content; undefined when missing, empty or not sidecar JSON. */
  info: SidecarInfo | undefined;
  /** The recorded pid is alive AND has the recorded start time. */
  recordedAlive: boolean;
  /** Not flocked, and the recorded process is dead or recycled (or the content is unreadable). */
  stale: boolean;
  /** Present and empty: what a host leaves when it closes (or one that died before writing it). */
  empty: boolean;
  /** Holders of the sidecar's flock, from /proc/locks. */
  holders: LockHolder[];
}

/** The result of {@link probeDatabase}. */
export interface DbProbe {
  path: string;
  engine: ProbeEngine;
  state: DbLockState;
  /** One sentence saying why the state is what it is. */
  reason: string;
  sidecar: SidecarState;
  /** The Bolt host's pid and start time (the sidecar flock holder), when there is one. */
  host: { pid: number; startTime: number | undefined; command: string | undefined; socket: string | undefined } | undefined;
  /** The host's answer to ping, when it answered. */
  ping: PingResult | undefined;
  /** Why ping failed, when it was tried and failed. */
  pingError: { code: string; message: string } | undefined;
  /** Lock holders and waiters of the database file and its companions. */
  holders: FileLockHolder[];
  /** Alive, non-waiting holders that are not the Bolt host. */
  foreign: FileLockHolder[];
}

/** Options of {@link probeDatabase}. */
export interface ProbeOptions {
  /** Engine of the file, to know its companions (default: unknown → the file only). */
  engine?: ProbeEngine;
  /** How long the host may take to answer ping, in ms (default 2000). */
  pingTimeoutMs?: number;
}

/** The companion files of a database whose locks matter, as suffixes. */
export function companionSuffixes(engine: ProbeEngine): string[] {
  if (engine === 'duckdb') return ['', '.wal'];
  if (engine === 'sqlite') return ['', '-wal', '-shm', '-journal'];
  return [''];
}

/** Reads the sidecar of `dbPath` and judges it (no ping). */
export function readSidecarState(dbPath: string, table: ProcLocks = readProcLocks()): SidecarState {
  const path = sidecarPath(dbPath);
  const st = lstatSync(path, { throwIfNoEntry: false });
  const present = st !== undefined;
  // Bolt's sidecar is a regular file, never followed through a link (flock.ts): anything else
  // at its path is no host's lock, is not read (a FIFO would block), and is never called stale.
  const regular = st?.isFile() === true;
  const flocked = regular && isFlocked(path);
  const text = regular ? readSidecarText(path) : undefined;
  const info = parseSidecar(text);
  const recordedAlive = info !== undefined && isAlive({ pid: info.pid, startTime: info.processStartTime });
  const holders = regular ? lockHolders(path, table).filter((h) => h.class === 'FLOCK') : [];
  const empty = info === undefined && text?.trim() === '';
  return { path, present, regular, flocked, info, recordedAlive, stale: regular && !flocked && !recordedAlive, empty, holders };
}

/**
 * Classifies the state of `dbPath` (see {@link DbLockState}). Pings the host when the
 * sidecar is flocked; an unreachable socket is retried until `pingTimeoutMs` runs out, so a
 * host still starting up (lock taken, socket not yet listening) is not called hung.
 */
export async function probeDatabase(dbPath: string, opts: ProbeOptions = {}): Promise<DbProbe> {
  const engine = opts.engine ?? 'unknown';
  const pingTimeoutMs = opts.pingTimeoutMs ?? 2000;
  let table = readProcLocks();
  let sidecar = readSidecarState(dbPath, table);

  let host: DbProbe['host'];
  let ping: PingResult | undefined;
  let pingError: DbProbe['pingError'];
  if (sidecar.flocked) {
    const deadline = Date.now() + pingTimeoutMs;
    for (;;) {
      const socket = sidecar.info?.socket;
      const remaining = Math.max(1, deadline - Date.now());
      if (socket) {
        try {
          ping = await oneShotRequest<PingResult>(socket, 'ping', {}, { timeoutMs: remaining });
          pingError = undefined;
          break;
        } catch (err) {
          pingError = err instanceof BoltError ? { code: err.code, message: err.message } : { code: 'BOLT_INTERNAL', message: String(err) };
          if (!(err instanceof BoltError) || err.code !== 'BOLT_HOST_UNREACHABLE') break;
        }
      } else {
        pingError = { code: 'BOLT_HOST_UNREACHABLE', message: `the sidecar ${sidecar.path} names no socket yet` };
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, Math.min(100, remaining)));
      table = readProcLocks();
      sidecar = readSidecarState(dbPath, table);
      if (!sidecar.flocked) break;
    }
    const lockHolder = sidecar.holders.find((h) => !h.blocked && h.pid !== undefined);
    const pid = lockHolder?.pid ?? ping?.pid ?? sidecar.info?.pid;
    if (pid !== undefined) {
      const fromSidecar = sidecar.info?.pid === pid ? sidecar.info : undefined;
      host = {
        pid,
        startTime: lockHolder?.startTime ?? fromSidecar?.processStartTime,
        command: lockHolder?.command,
        socket: fromSidecar?.socket ?? sidecar.info?.socket,
      };
    }
  }

  const holders: FileLockHolder[] = [];
  for (const suffix of companionSuffixes(engine)) {
    for (const h of lockHolders(`${dbPath}${suffix}`, table)) {
      if (h.pid === process.pid) continue;
      holders.push({ ...h, file: suffix || 'database', role: host !== undefined && h.pid === host.pid ? 'bolt-host' : 'foreign' });
    }
  }
  const foreign = holders.filter((h) => h.role === 'foreign' && !h.blocked && (h.alive || h.pid === undefined));

  const describeForeign = (f: FileLockHolder): string =>
    `pid ${f.pid ?? 'unknown'} (${f.command ?? 'unknown command'}) holds a ${f.class} ${f.type} lock on ${f.file === 'database' ? 'the database' : `its ${f.file} file`} and is not a Bolt host`;
  // A Bolt process holding the sidecar lock but not the database, while a foreign process
  // holds the database, is waiting for that process (DuckDB admits one process): it is
  // not hung, and the foreign holder is the one to report.
  const foreignWriter = foreign.find((h) => h.type === 'WRITE' && h.file === 'database');
  const hostHoldsDb = host !== undefined && holders.some((h) => h.role === 'bolt-host' && h.file === 'database' && !h.blocked);

  // A host at its connection limit answers a connection beyond it with BOLT_HOST_BUSY instead
  // of serving it: that is an answer, from a live event loop, so the host is not hung.
  const busy = pingError?.code === 'BOLT_HOST_BUSY';
  let state: DbLockState;
  let reason: string;
  if (sidecar.flocked && ping) {
    state = 'bolt-host';
    reason = `Bolt host pid ${host?.pid ?? ping.pid} holds the sidecar lock and answered ping`;
  } else if (sidecar.flocked && busy) {
    state = 'bolt-host';
    reason = `Bolt host pid ${host?.pid ?? 'unknown'} holds the sidecar lock and answered, but is at its connection limit (BOLT_HOST_BUSY)`;
  } else if (sidecar.flocked && foreignWriter && !hostHoldsDb) {
    state = 'foreign';
    reason = `${describeForeign(foreignWriter)}; Bolt process pid ${host?.pid ?? 'unknown'} holds the sidecar lock and waits for it`;
  } else if (sidecar.flocked) {
    state = 'bolt-host-hung';
    reason = host
      ? `pid ${host.pid} holds the sidecar lock but did not answer ping within ${pingTimeoutMs} ms (${pingError?.message ?? 'no socket'})`
      : `someone holds the sidecar lock but its pid cannot be found, and no host answered ping`;
  } else if (foreign.length > 0) {
    state = 'foreign';
    reason = describeForeign(foreignWriter ?? foreign[0]);
  } else if (sidecar.stale && !sidecar.empty) {
    state = 'stale-sidecar';
    reason = sidecar.info
      ? `the sidecar names pid ${sidecar.info.pid}, which ${processGoneWord(sidecar.info)}, and nobody holds its lock`
      : `the sidecar holds no valid host record and nobody holds its lock`;
  } else {
    state = 'free';
    reason =
      sidecar.present && sidecar.recordedAlive
        ? `nobody holds the file; the sidecar names pid ${sidecar.info?.pid}, alive but no longer holding the lock`
        : sidecar.empty
          ? 'nobody holds the file (its empty sidecar is what a host leaves when it closes)'
          : 'nobody holds the file';
  }
  return { path: dbPath, engine, state, reason, sidecar, host, ping, pingError, holders, foreign };
}

function processGoneWord(info: SidecarInfo): string {
  // isAlive failed: either no such process, or a process with another start time (recycled pid).
  return isAlive({ pid: info.pid, startTime: 0 }) ? 'is now a different process (recycled pid)' : 'is dead';
}
