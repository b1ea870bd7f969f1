/**
 * The work of `bolt db fix <dir>`: finds lock trouble under a directory and repairs what
 * is provably safe to repair. Never signals a foreign process; signals a hung Bolt host only
 * when asked (`killHung`) and only once it is proven to be one (storage/host/bolt-host-check.ts),
 * re-checking its identity before each signal and the lock after. Removes only files Bolt
 * made, told by name and content (a sidecar with sidecar content, a Bolt socket nobody listens
 * on); other programs' lock files are reported, never removed. With `dryRun` it changes
 * nothing: no file is created, written, removed or opened by an engine.
 */
import { existsSync, lstatSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { localPath } from '../db-path.js';
import BetterSqlite3 from 'better-sqlite3';
import { scanDir } from './scan-dir.js';
import { probeDatabase, readSidecarState, type DbProbe } from '../../storage/host/host-probe.js';
import { lockHolders } from '../../storage/platform/proc-locks.js';
import { hasExited, isAlive, processCommand, processStartTime, processUid } from '../../storage/platform/process-identity.js';
import { userName } from '../../storage/platform/owner-and-mode.js';
import { readFileHead } from '../../storage/platform/small-file.js';
import { isBoltSocketName, readLockDir, readPidFile, removeDeadSocket, removeStaleSidecar } from '../../storage/host/stale-cleanup.js';
import { unprovenHostReason } from '../../storage/host/bolt-host-check.js';
import { hasSidecarContent, sidecarPath } from '../../storage/platform/sidecar.js';
import { socketHasListener } from '../../storage/host/wire/one-shot-request.js';
import { isHostSocketPath } from '../../storage/platform/socket-path.js';
import { integrityCheck } from '../../adapters/sqlite/describe.js';
import { BadInputError, BoltError, NotFoundError } from '../../core/errors.js';
import { log } from '../../core/logger.js';
import { backupLeftover } from './backup-leftover.js';

/**
 * - `fixed`: the problem was repaired;
 * - `would-fix`: dry run, it would be repaired;
 * - `remains`: a problem fix did not or could not repair (counts for exit code 1);
 * - `kept`: reported, not a problem Bolt may repair (a lock file of a live process, another
 *   program's lock file, a file named like Bolt's that Bolt did not write).
 */
export type FindingStatus = 'fixed' | 'would-fix' | 'remains' | 'kept';

/** One thing `db fix` found, and what it did about it. */
export interface Finding {
  path: string;
  kind:
    | 'stale-sidecar'
    | 'dead-socket'
    | 'stale-lock-file'
    | 'live-lock-file'
    | 'lock-dir'
    | 'backup-leftover'
    | 'duckdb-wal'
    | 'sqlite-leftovers'
    | 'foreign-holder'
    | 'hung-host'
    | 'not-bolt-file'
    | 'unreadable';
  status: FindingStatus;
  /** What was found. */
  found: string;
  /** What was done (or would be done, or what the user can do). */
  action: string;
  pid?: number;
  command?: string;
}

/** Options of {@link fixDir}. */
export interface FixOptions {
  dryRun?: boolean;
  killHung?: boolean;
  /** How long a Bolt host may take to answer ping (default 2000 ms). */
  pingTimeoutMs?: number;
  /** How long to wait after SIGTERM before SIGKILL (default 5000 ms). */
  killGraceMs?: number;
  onProgress?: (entries: number) => void;
}

/** The `--json` output of `bolt db fix`. */
export interface FixReport {
  dir: string;
  dryRun: boolean;
  killHung: boolean;
  scanned: { entries: number; databases: number; sidecars: number; sockets: number; lockFiles: number; lockDirs: number };
  databases: Array<{ path: string; engine: 'duckdb' | 'sqlite'; state: string; reason: string }>;
  findings: Finding[];
  /** Findings with status `remains` or `would-fix`: the exit code is 1 when this is not 0. */
  problemsRemaining: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitDead(pid: number, startTime: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive({ pid, startTime })) return true;
    await sleep(25);
  }
  return !isAlive({ pid, startTime });
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

function who(pid: number | undefined, command: string | undefined): string {
  return `pid ${pid ?? 'unknown'} (${command ?? 'command unknown'})`;
}

/** True when `path` is `dir` or inside it. */
function isUnder(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The user running fix: only its own files are repaired, only its own processes signalled. */
function me(): number {
  return process.geteuid?.() ?? 0;
}

/** `name (uid N)` of the owner of `path` when that is not the user running fix; undefined when it is, or nothing is there. */
function otherOwner(path: string): string | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st !== undefined && st.uid !== me() ? userName(st.uid) : undefined;
}

const NOT_MINE = 'left in place: db fix repairs only the files of the user running it; run it as their owner';

/** Scans `dir` and fixes what it safely can. */
export async function fixDir(dirArg: string, opts: FixOptions = {}): Promise<FixReport> {
  const dir = localPath(dirArg, 'bolt db fix');
  if (!existsSync(dir)) throw new NotFoundError(`${dir}: no such directory`, { path: dir });
  if (!statSync(dir).isDirectory()) throw new BadInputError(`${dir} is not a directory (use 'bolt db info <file>' for one file)`, { path: dir });
  const dryRun = Boolean(opts.dryRun);
  const pingTimeoutMs = opts.pingTimeoutMs ?? 2000;
  const killGraceMs = opts.killGraceMs ?? 5000;
  const logger = log('db-fix');

  const scan = scanDir(dir, opts.onProgress);
  const findings: Finding[] = [];
  const databases: FixReport['databases'] = [];
  const handledSidecars = new Set<string>();
  const handledSockets = new Set<string>();
  const add = (f: Finding): void => {
    findings.push(f);
    logger.info(f, 'finding');
  };

  for (const u of scan.unreadable) {
    add({ path: u.path, kind: 'unreadable', status: 'remains', found: `cannot be read: ${u.reason}`, action: 'skipped; check its permissions' });
  }

  /**
   * Runs the check of one thing found. An error there (a lock file of another user it may not
   * open, a file that went away) is that thing's finding, not the end of the run.
   */
  const guarded = async (path: string, check: () => Promise<void> | void): Promise<void> => {
    try {
      await check();
    } catch (err) {
      const code = err instanceof BoltError ? `[${err.code}] ` : '';
      add({ path, kind: 'unreadable', status: 'remains', found: `cannot be checked: ${code}${errText(err)}`, action: 'skipped; check its permissions' });
    }
  };

  /** Removes a stale sidecar and its dead socket (or says it would, in a dry run). */
  const fixStaleSidecar = async (probe: Pick<DbProbe, 'sidecar' | 'reason'>): Promise<void> => {
    const sc = probe.sidecar;
    handledSidecars.add(sc.path);
    if (!hasSidecarContent(sc.path)) {
      add({
        path: sc.path,
        kind: 'not-bolt-file',
        status: 'kept',
        found: 'named like a Bolt sidecar, but holds something Bolt does not write',
        action: 'left in place: not made by Bolt',
      });
      return;
    }
    const sock = sc.info?.socket;
    if (sock) handledSockets.add(sock);
    const what = `stale sidecar: ${probe.reason}`;
    const owner = otherOwner(sc.path);
    if (owner) {
      add({ path: sc.path, kind: 'stale-sidecar', status: 'kept', found: `${what}; it belongs to ${owner}`, action: NOT_MINE, pid: sc.info?.pid });
      return;
    }
    // The record is only text in a file: its socket is removed only where a Bolt socket can be.
    const sockPlaced = sock !== undefined && (isHostSocketPath(sock) || isUnder(dir, sock));
    const sockDead = sock !== undefined && existsSync(sock) && !otherOwner(sock) && !(await socketHasListener(sock));
    const sockAway = sockDead && !sockPlaced ? `; its socket ${sock} is left in place: not in a Bolt socket folder nor under ${dir}` : '';
    if (dryRun) {
      add({
        path: sc.path,
        kind: 'stale-sidecar',
        status: 'would-fix',
        found: what,
        action: `would remove it${sockDead && sockPlaced ? ` and its socket ${sock}` : sockAway}`,
        pid: sc.info?.pid,
      });
      return;
    }
    let removed: boolean;
    try {
      removed = removeStaleSidecar(sc.path, sc.info);
    } catch (err) {
      add({ path: sc.path, kind: 'stale-sidecar', status: 'remains', found: what, action: `could not remove it: ${errText(err)}`, pid: sc.info?.pid });
      return;
    }
    let action = removed ? 'removed' : 'left in place: someone took its lock or rewrote it meanwhile';
    if (removed && sock && sockDead && sockPlaced && (await removeDeadSocket(sock))) action += `; removed its socket ${sock}`;
    else if (removed) action += sockAway;
    add({ path: sc.path, kind: 'stale-sidecar', status: removed ? 'fixed' : 'kept', found: what, action, pid: sc.info?.pid });
  };

  for (const db of scan.databases) {
    await guarded(db.path, () => checkDatabase(db));
  }

  async function checkDatabase(db: { path: string; engine: 'duckdb' | 'sqlite' }): Promise<void> {
    handledSidecars.add(sidecarPath(db.path)); // even when the probe fails: one finding is enough
    let probe = await probeDatabase(db.path, { engine: db.engine, pingTimeoutMs });
    if (probe.sidecar.present && !probe.sidecar.regular) {
      add({
        path: probe.sidecar.path,
        kind: 'not-bolt-file',
        status: 'kept',
        found: `named like a Bolt sidecar, but is ${whatIsAt(probe.sidecar.path)}: Bolt's sidecars are regular files, never followed through a link`,
        action: 'left in place: not made by Bolt',
      });
    }
    // A live (or starting) host's socket is its own business, even if it does not listen yet.
    if (probe.sidecar.flocked && probe.sidecar.info?.socket) handledSockets.add(probe.sidecar.info.socket);

    if (probe.state === 'bolt-host-hung') {
      const host = probe.host;
      const found = `hung Bolt host: ${probe.reason}`;
      const unproven = unprovenHostReason(probe.sidecar.info, probe.sidecar.holders);
      const hostUid = host ? processUid(host.pid) : undefined;
      if (!host || host.startTime === undefined) {
        add({ path: db.path, kind: 'hung-host', status: 'remains', found, action: 'cannot tell which process holds the lock; nothing done' });
      } else if (hostUid !== undefined && hostUid !== me()) {
        add({
          path: db.path,
          kind: 'hung-host',
          status: 'remains',
          found,
          action: `not signalled: pid ${host.pid} runs as ${userName(hostUid)}, not as this user; db fix stops only its own user's hosts: run it as that user`,
          pid: host.pid,
          command: host.command,
        });
      } else if (unproven !== undefined) {
        add({
          path: db.path,
          kind: 'hung-host',
          status: 'remains',
          found,
          action: `not signalled: not a proven Bolt host (${unproven}); find out what holds ${probe.sidecar.path}`,
          pid: host.pid,
          command: host.command,
        });
      } else if (!opts.killHung) {
        add({
          path: db.path,
          kind: 'hung-host',
          status: 'remains',
          found,
          action: `not signalled; run again with --kill-hung to stop pid ${host.pid}`,
          pid: host.pid,
          command: host.command,
        });
      } else if (dryRun) {
        add({
          path: db.path,
          kind: 'hung-host',
          status: 'would-fix',
          found,
          action: `would send SIGTERM to pid ${host.pid}, then SIGKILL after ${killGraceMs} ms`,
          pid: host.pid,
          command: host.command,
        });
      } else {
        const killed = await terminate(host.pid, host.startTime, killGraceMs);
        if (killed.dead) probe = await probeDatabase(db.path, { engine: db.engine, pingTimeoutMs });
        // Stopping the process is not the fix: the sidecar lock must be free afterwards.
        const still = killed.dead && probe.sidecar.flocked ? stillHeld(probe) : undefined;
        const action = still ? `${killed.text}, but ${still}` : killed.text;
        add({ path: db.path, kind: 'hung-host', status: killed.dead && !still ? 'fixed' : 'remains', found, action, pid: host.pid, command: host.command });
      }
    }

    if (probe.state === 'foreign') {
      for (const f of uniqueByPid(probe.foreign)) {
        const blocking = db.engine === 'duckdb' || probe.foreign.some((x) => x.pid === f.pid && x.type === 'WRITE' && x.file === 'database');
        add({
          path: db.path,
          kind: 'foreign-holder',
          status: blocking ? 'remains' : 'kept',
          found: `held by ${who(f.pid, f.command)}, not a Bolt host (${f.class} ${f.type} lock${f.file === 'database' ? '' : ` on ${f.file}`})`,
          action: blocking
            ? 'not signalled: close the database in that program, or wait for it'
            : 'not signalled: in use by another SQLite connection, which is normal',
          pid: f.pid,
          command: f.command,
        });
      }
    }

    if (probe.sidecar.stale) await fixStaleSidecar(probe);

    if (probe.state === 'free' || probe.state === 'stale-sidecar') {
      if (db.engine === 'duckdb') await fixDuckDbWal(db.path, dryRun, add);
      else fixSqliteLeftovers(db.path, dryRun, add);
    }
    databases.push({ path: db.path, engine: db.engine, state: probe.state, reason: probe.reason });
  }

  // Sidecars whose database was not found (deleted, or not recognised).
  for (const sc of scan.sidecars) {
    if (handledSidecars.has(sc)) continue;
    await guarded(sc, async () => {
      const state = readSidecarState(sc.slice(0, -'.bolt.lock'.length));
      if (state.flocked && state.info?.socket) handledSockets.add(state.info.socket);
      if (state.stale) {
        await fixStaleSidecar({
          sidecar: state,
          reason: state.info ? `pid ${state.info.pid} is gone and nobody holds the lock` : 'no valid host record and nobody holds the lock',
        });
      }
    });
  }

  for (const sock of scan.sockets) {
    if (handledSockets.has(sock) || (await socketHasListener(sock))) continue;
    const found = 'socket file nobody listens on';
    const owner = otherOwner(sock);
    if (!isBoltSocketName(sock)) {
      add({ path: sock, kind: 'dead-socket', status: 'kept', found, action: 'left in place: not a Bolt socket' });
    } else if (owner) {
      add({ path: sock, kind: 'dead-socket', status: 'kept', found: `${found}; it belongs to ${owner}`, action: NOT_MINE });
    } else if (dryRun) {
      add({ path: sock, kind: 'dead-socket', status: 'would-fix', found, action: 'would remove it' });
    } else {
      await guarded(sock, async () => {
        const removed = await removeDeadSocket(sock);
        add({
          path: sock,
          kind: 'dead-socket',
          status: removed ? 'fixed' : 'kept',
          found,
          action: removed ? 'removed' : 'left in place: someone listens on it now',
        });
      });
    }
  }

  // Other programs' lock files and directories: reported, never removed (Bolt did not make them).
  const notOurs = 'left in place: not made by Bolt; remove it by hand once nothing uses it';
  for (const lf of scan.lockFiles) {
    await guarded(lf, () => checkLockFile(lf));
  }

  function checkLockFile(lf: string): void {
    const pid = readPidFile(lf);
    if (pid === undefined) return; // yarn.lock, Cargo.lock…: not a process lock
    const holders = lockHolders(lf).filter((h) => h.alive && !h.blocked);
    if (holders.length > 0 || !hasExited(pid)) {
      const h = holders[0];
      const livePid = h?.pid ?? pid;
      add({
        path: lf,
        kind: 'live-lock-file',
        status: 'kept',
        found: `lock file of live ${who(livePid, h?.command ?? processCommand(livePid))}`,
        action: 'kept',
        pid: livePid,
      });
      return;
    }
    add({ path: lf, kind: 'stale-lock-file', status: 'kept', found: `lock file of pid ${pid}, which is dead`, action: notOurs, pid });
  }

  for (const ld of scan.lockDirs) {
    await guarded(ld, () => checkLockDir(ld));
  }

  function checkLockDir(ld: string): void {
    const { pid, plain } = readLockDir(ld);
    if (!plain) return; // a directory that merely ends in .lock
    if (pid === undefined) {
      add({ path: ld, kind: 'lock-dir', status: 'kept', found: 'lock directory naming no PID', action: notOurs });
    } else if (!hasExited(pid)) {
      add({ path: ld, kind: 'lock-dir', status: 'kept', found: `lock directory of live ${who(pid, processCommand(pid))}`, action: 'kept', pid });
    } else {
      add({ path: ld, kind: 'lock-dir', status: 'kept', found: `lock directory of pid ${pid}, which is dead`, action: notOurs, pid });
    }
  }

  for (const b of scan.backupDirs) add(backupLeftover(b, dryRun));

  return {
    dir,
    dryRun,
    killHung: Boolean(opts.killHung),
    scanned: {
      entries: scan.entries,
      databases: scan.databases.length,
      sidecars: scan.sidecars.length,
      sockets: scan.sockets.length,
      lockFiles: scan.lockFiles.length,
      lockDirs: scan.lockDirs.length,
    },
    databases,
    findings,
    problemsRemaining: findings.filter((f) => f.status === 'remains' || f.status === 'would-fix').length,
  };
}

function uniqueByPid<T extends { pid: number | undefined; type: string }>(list: T[]): T[] {
  const seen = new Map<string, T>();
  for (const h of list) {
    const k = String(h.pid);
    const have = seen.get(k);
    if (!have || (have.type === 'READ' && h.type === 'WRITE')) seen.set(k, h);
  }
  return [...seen.values()];
}

/** Who holds the sidecar lock of a database after its host was stopped, in words. */
function stillHeld(probe: DbProbe): string {
  const h = probe.sidecar.holders.find((x) => !x.blocked);
  return `the sidecar lock is still held${h ? ` by ${who(h.pid, h.command)}` : ''}`;
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL; re-checks identity before each signal. */
async function terminate(pid: number, startTime: number, graceMs: number): Promise<{ dead: boolean; text: string }> {
  if (pid === process.pid || pid === process.ppid) return { dead: false, text: `pid ${pid} is this command or its parent; not signalled` };
  if (processStartTime(pid) !== startTime) return { dead: true, text: `pid ${pid} had already exited` };
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    return { dead: false, text: `SIGTERM to pid ${pid} failed: ${errText(err)}` };
  }
  if (await waitDead(pid, startTime, graceMs)) return { dead: true, text: `sent SIGTERM to pid ${pid}; it exited` };
  if (processStartTime(pid) !== startTime) return { dead: true, text: `sent SIGTERM to pid ${pid}; it exited` };
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    return { dead: false, text: `SIGKILL to pid ${pid} failed: ${errText(err)}` };
  }
  const dead = await waitDead(pid, startTime, 5000);
  return { dead, text: dead ? `sent SIGTERM to pid ${pid}, then SIGKILL after ${graceMs} ms; it exited` : `pid ${pid} survived SIGKILL` };
}

/**
 * What is at `path` in words when it is not a regular file ('a symbolic link', 'a FIFO'…);
 * undefined when it is one, or when nothing is there.
 */
function oddKind(st: Stats | undefined): string | undefined {
  if (!st || st.isFile()) return undefined;
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'a device';
}

function whatIsAt(path: string): string {
  return oddKind(lstatSync(path, { throwIfNoEntry: false })) ?? 'a regular file';
}

/**
 * Why the engine may not be let at a database and its companions, or undefined: an engine opens
 * them as they come, so a symbolic link would be followed (DuckDB replays and then rewrites the
 * file a `.wal` link names, wherever it is) and a FIFO would block it forever. The engines make
 * only regular files there.
 */
function notForEngine(path: string, suffixes: readonly string[]): string | undefined {
  for (const suffix of ['', ...suffixes]) {
    const odd = oddKind(lstatSync(`${path}${suffix}`, { throwIfNoEntry: false }));
    if (odd) return `${suffix ? suffix : 'the database'} is ${odd}, not a file the engine wrote`;
  }
  return undefined;
}

const NOT_OPENED = 'not opened: an engine would follow it or block on it; look at it and move it away by hand';

/**
 * When a database and its companions are not all the running user's: `kept` when the database
 * is another user's (theirs to repair), `remains` when the database is this user's but a
 * companion is not (someone else's WAL or journal, which the engine would apply to this
 * database). Undefined when they are all this user's.
 */
function foreignOwner(path: string, suffixes: readonly string[]): { status: FindingStatus; text: string; action: string } | undefined {
  const dbOwner = otherOwner(path);
  if (dbOwner) return { status: 'kept', text: `the database belongs to ${dbOwner}`, action: NOT_MINE };
  for (const suffix of suffixes) {
    const owner = otherOwner(`${path}${suffix}`);
    if (owner) {
      return {
        status: 'remains',
        text: `its ${suffix} belongs to ${owner}, not to the database's owner`,
        action: 'not opened: the engine would apply it to this database when it is next opened; if you did not expect it there, move it away',
      };
    }
  }
  return undefined;
}

/**
 * Whether the -journal of SQLite file `path` may be hot (a transaction to roll back): SQLite
 * calls one hot only when it is not empty and its first byte is not zero. PERSIST mode zeroes
 * the header after each transaction and TRUNCATE mode empties the file: neither is a leftover.
 */
function journalMayBeHot(path: string): boolean {
  const journal = `${path}-journal`;
  if ((lstatSync(journal, { throwIfNoEntry: false })?.size ?? 0) === 0) return false;
  return readFileHead(journal, 1)[0] !== 0;
}

const WAL_MAGIC = [0x377f0682, 0x377f0683];
const WAL_VERSION = 3007000;
const JOURNAL_MAGIC = Buffer.from('d9d505f920a163d7', 'hex');

/**
 * Why the `-wal` or `-journal` beside SQLite file `path` is not SQLite's, or undefined. SQLite
 * takes a -wal without a valid WAL header for an empty WAL, and a -journal whose header is not
 * a journal's for a finished one, and deletes either at close: a file that merely has the name
 * (another engine's WAL, a renamed file, notes) would be lost. A -journal starting with a zero
 * byte is one SQLite leaves (PERSIST) and does not touch.
 */
function notSqlites(path: string): string | undefined {
  const wal = `${path}-wal`;
  if ((lstatSync(wal, { throwIfNoEntry: false })?.size ?? 0) > 0) {
    const h = readFileHead(wal, 32);
    const pageSize = h.length >= 12 ? h.readUInt32BE(8) : 0;
    const ok =
      h.length === 32 &&
      WAL_MAGIC.includes(h.readUInt32BE(0)) &&
      h.readUInt32BE(4) === WAL_VERSION &&
      pageSize >= 512 &&
      pageSize <= 65536 &&
      (pageSize & (pageSize - 1)) === 0;
    if (!ok) return '-wal does not start with a SQLite WAL header';
  }
  const journal = `${path}-journal`;
  if ((lstatSync(journal, { throwIfNoEntry: false })?.size ?? 0) > 0) {
    const h = readFileHead(journal, JOURNAL_MAGIC.length);
    if (h[0] !== 0 && !h.equals(JOURNAL_MAGIC)) return '-journal does not start with a SQLite journal header';
  }
  return undefined;
}

/** Replays a DuckDB WAL left with no holder: open read-write, CHECKPOINT, close. */
async function fixDuckDbWal(path: string, dryRun: boolean, add: (f: Finding) => void): Promise<void> {
  const wal = `${path}.wal`;
  const walStat = lstatSync(wal, { throwIfNoEntry: false });
  if (!walStat) return;
  const odd = notForEngine(path, ['.wal']);
  if (odd) {
    add({ path: wal, kind: 'duckdb-wal', status: 'remains', found: `a WAL with no process holding the database, but ${odd}`, action: NOT_OPENED });
    return;
  }
  const found = `WAL of ${walStat.size} bytes left with no process holding the database`;
  const foreign = foreignOwner(path, ['.wal']);
  if (foreign) {
    add({ path: wal, kind: 'duckdb-wal', status: foreign.status, found: `${found}; ${foreign.text}`, action: foreign.action });
    return;
  }
  if (dryRun) {
    add({ path: wal, kind: 'duckdb-wal', status: 'would-fix', found, action: 'would open the database, CHECKPOINT, and close it' });
    return;
  }
  try {
    // Loaded here: the DuckDB binding takes ~0.2 s to load, which commands that never open a file
    // in this process (and `bolt --help`) should not pay.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(path);
    try {
      const conn = await instance.connect();
      try {
        await conn.run('CHECKPOINT');
      } finally {
        conn.closeSync();
      }
    } finally {
      instance.closeSync();
    }
  } catch (err) {
    add({ path: wal, kind: 'duckdb-wal', status: 'remains', found, action: `replaying it failed: ${errText(err)}` });
    return;
  }
  const left = existsSync(wal) ? statSync(wal).size : 0;
  add({
    path: wal,
    kind: 'duckdb-wal',
    status: left === 0 ? 'fixed' : 'remains',
    found,
    action: left === 0 ? 'replayed: opened the database, ran CHECKPOINT, closed it' : `CHECKPOINT ran but ${left} bytes of WAL remain`,
  });
}

/** Checkpoints (TRUNCATE) and integrity-checks a SQLite database whose -wal/-shm/-journal nobody holds. */
function fixSqliteLeftovers(path: string, dryRun: boolean, add: (f: Finding) => void): void {
  const suffixes = ['-wal', '-shm', '-journal'];
  const present = suffixes.filter((s) => {
    const st = lstatSync(`${path}${s}`, { throwIfNoEntry: false });
    // A -journal that cannot be hot is what PERSIST and TRUNCATE modes keep between transactions.
    return st !== undefined && (s !== '-journal' || !st.isFile() || journalMayBeHot(path));
  });
  if (present.length === 0) return;
  const odd = notForEngine(path, suffixes);
  if (odd) {
    add({
      path,
      kind: 'sqlite-leftovers',
      status: 'remains',
      found: `${present.join(', ')} left with no process holding the database, but ${odd}`,
      action: NOT_OPENED,
    });
    return;
  }
  const found = `${present.map((s) => `${s} (${lstatSync(`${path}${s}`).size} bytes)`).join(', ')} left with no process holding the database`;
  const foreign = foreignOwner(path, suffixes);
  if (foreign) {
    add({ path, kind: 'sqlite-leftovers', status: foreign.status, found: `${found}; ${foreign.text}`, action: foreign.action });
    return;
  }
  const alien = notSqlites(path);
  if (alien) {
    add({
      path,
      kind: 'sqlite-leftovers',
      status: 'remains',
      found: `${found}, but ${alien}`,
      action: 'not opened: SQLite would take it for an empty one and delete it; look at it and move it away by hand',
    });
    return;
  }
  if (dryRun) {
    add({
      path,
      kind: 'sqlite-leftovers',
      status: 'would-fix',
      found,
      action: 'would open it, run wal_checkpoint(TRUNCATE) and integrity_check, and close it',
    });
    return;
  }
  let problems: string[];
  let mode = '';
  try {
    const db = new BetterSqlite3(path, { fileMustExist: true, timeout: 2000 });
    try {
      // Reading rolls back a hot journal; in WAL mode the checkpoint folds the WAL in.
      mode = String(db.pragma('journal_mode', { simple: true }));
      if (mode === 'wal') db.pragma('wal_checkpoint(TRUNCATE)');
      problems = integrityCheck(db).filter((m) => m !== 'ok');
    } finally {
      db.close();
    }
  } catch (err) {
    add({ path, kind: 'sqlite-leftovers', status: 'remains', found, action: `checkpoint failed: ${errText(err)}` });
    return;
  }
  const left = ['-wal', '-journal'].filter((s) =>
    s === '-journal' ? journalMayBeHot(path) : (lstatSync(`${path}${s}`, { throwIfNoEntry: false })?.size ?? 0) > 0,
  );
  const ok = problems.length === 0 && left.length === 0;
  add({
    path,
    kind: 'sqlite-leftovers',
    status: ok ? 'fixed' : 'remains',
    found,
    action: ok
      ? `${mode === 'wal' ? 'checkpointed with wal_checkpoint(TRUNCATE)' : 'opened it, which rolled back the hot journal'}; integrity_check ok`
      : problems.length > 0
        ? `integrity_check reported: ${problems.slice(0, 3).join('; ')}`
        : `checkpointed, but ${left.join(', ')} still hold data`,
  });
}
