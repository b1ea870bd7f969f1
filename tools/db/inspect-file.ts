/**
 * Gathers everything `bolt db info` reports about one database file: engine (by header),
 * sizes, lock holders, the Bolt host (asked over its socket), and tables with row counts
 * (from the host, or by opening the file read-only when nobody holds it).
 */
import { existsSync, statSync } from 'node:fs';
import { localPath } from '../db-path.js';
import { detectFileKind } from '../../storage/platform/file-kind.js';
import { probeDatabase, type DbLockState, type FileLockHolder } from '../../storage/host/host-probe.js';
import { unprovenHostReason } from '../../storage/host/bolt-host-check.js';
import { oneShotRequest, type HostInfo } from '../../storage/host/wire/one-shot-request.js';
import { BadInputError, BoltError, NotADatabaseError, NotFoundError, PermissionError } from '../../core/errors.js';
import { describeDuckDbFile, describeSqliteFile } from './open-read-only.js';
import type { TableInfo } from '../../core/database.js';

/** A companion file and its size. */
export interface CompanionFile {
  path: string;
  size: number;
}

/** The `--json` output of `bolt db info` (documented in README.md). */
export interface DbInfoReport {
  path: string;
  engine: 'duckdb' | 'sqlite';
  storageVersion: number | null;
  createdBy: string | null;
  pageSize: number | null;
  journalMode: string | null;
  size: number;
  wal: CompanionFile | null;
  shm: CompanionFile | null;
  journal: CompanionFile | null;
  state: DbLockState;
  reason: string;
  holders: Array<{
    pid: number | null;
    startTime: number | null;
    command: string | null;
    class: string;
    type: string;
    file: string;
    role: 'bolt-host' | 'foreign';
    alive: boolean;
    blocked: boolean;
  }>;
  sidecar: { path: string; flocked: boolean; pid: number | null; socket: string | null; stale: boolean } | null;
  host: {
    pid: number;
    socket: string | null;
    startedAt: string | null;
    uptimeMs: number | null;
    version: string | null;
    clients: number | null;
    sessions: number | null;
    /** The host's pool statistics as it reports them (`DatabaseStats['pool']`). */
    pool: { size?: number; inUse?: number; waiting?: number; [k: string]: unknown } | null;
    /** The host socket's connection counters as it reports them (`WireStats`). */
    wire: { connections?: number; held?: number; refused?: number; unsentBytes?: number; [k: string]: unknown } | null;
    error: string | null;
  } | null;
  tables: TableInfo[] | null;
  tablesSource: 'read-only-open' | 'host' | null;
  /** Why tables could not be read, when they could not. */
  tablesError: string | null;
  advice: string[];
}

/** Options of {@link inspectFile}. */
export interface InspectOptions {
  pingTimeoutMs?: number;
}

function companion(path: string): CompanionFile | null {
  try {
    const st = statSync(path);
    return st.isFile() ? { path, size: st.size } : null;
  } catch {
    return null;
  }
}

/** Throws the typed one-line error for a path that is not a readable database file. */
export function assertDatabaseFile(path: string): ReturnType<typeof detectFileKind> & { kind: 'duckdb' | 'sqlite' } {
  const kind = detectFileKind(path);
  switch (kind.kind) {
    case 'duckdb':
      return kind;
    case 'sqlite':
      assertWholeSqliteFile(path, kind);
      return kind;
    case 'missing':
      throw new NotFoundError(`${path}: no such file`, { path });
    case 'directory':
      throw new BadInputError(`${path} is a directory, not a database file (use 'bolt db fix <dir>' to scan a directory)`, { path });
    case 'empty':
      throw new NotADatabaseError(`${path} is empty (0 bytes): not a DuckDB or SQLite database`, { path });
    case 'other':
      throw new NotADatabaseError(`${path} is not a DuckDB or SQLite database (unrecognised header)`, { path, size: kind.size });
    case 'unreadable':
      if (/EACCES|EPERM/.test(kind.reason)) throw new PermissionError(`${path}: permission denied`, { path });
      throw new NotADatabaseError(`${path} cannot be read: ${kind.reason}`, { path });
  }
}

/**
 * BOLT_NOT_A_DATABASE for a SQLite file cut short (`head -c 50 good.sqlite`): told from its
 * header and size before SQLite opens it, which on a WAL-mode header would leave `-wal` and
 * `-shm` files beside a file it cannot read. A file is whole pages of a power-of-two size
 * (512 to 65536 bytes); without a `-wal`, it holds every page its header counts.
 */
function assertWholeSqliteFile(path: string, kind: { pageSize: number; size: number; pages: number | null }): void {
  const { pageSize, size, pages } = kind;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw new NotADatabaseError(`${path} is not a readable SQLite database: its header gives page size ${pageSize}`, { path, pageSize });
  }
  const expected = pages !== null && !existsSync(`${path}-wal`) ? pages * pageSize : pageSize;
  if (size % pageSize !== 0 || size < expected) {
    const why = size % pageSize !== 0 ? `not a whole number of its ${pageSize}-byte pages` : `its header counts ${pages} pages (${expected} bytes)`;
    throw new NotADatabaseError(`${path} is a truncated SQLite database: ${size} bytes, ${why}`, { path, size, pageSize, pages });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

function holderJson(h: FileLockHolder): DbInfoReport['holders'][number] {
  return {
    pid: h.pid ?? null,
    startTime: h.startTime ?? null,
    command: h.command ?? null,
    class: h.class,
    type: h.type,
    file: h.file,
    role: h.role,
    alive: h.alive,
    blocked: h.blocked,
  };
}

/** Builds the `bolt db info` report for `file`. Throws typed errors for non-database paths. */
export async function inspectFile(file: string, opts: InspectOptions = {}): Promise<DbInfoReport> {
  const path = localPath(file, 'bolt db info');
  // Header first, before any engine opens the file (architecture.md, fact 3).
  const kind = assertDatabaseFile(path);
  const engine = kind.kind;
  const probe = await probeDatabase(path, { engine, pingTimeoutMs: opts.pingTimeoutMs });
  const report: DbInfoReport = {
    path,
    engine,
    storageVersion: kind.kind === 'duckdb' ? kind.storageVersion : null,
    createdBy: kind.kind === 'duckdb' ? (kind.createdBy ?? null) : null,
    pageSize: kind.kind === 'sqlite' ? kind.pageSize : null,
    journalMode: null,
    size: kind.size,
    wal: companion(engine === 'duckdb' ? `${path}.wal` : `${path}-wal`),
    shm: engine === 'sqlite' ? companion(`${path}-shm`) : null,
    journal: engine === 'sqlite' ? companion(`${path}-journal`) : null,
    state: probe.state,
    reason: probe.reason,
    holders: probe.holders.map(holderJson),
    sidecar: probe.sidecar.present
      ? {
          path: probe.sidecar.path,
          flocked: probe.sidecar.flocked,
          pid: probe.sidecar.info?.pid ?? null,
          socket: probe.sidecar.info?.socket ?? null,
          // An empty one is what a host leaves when it closes: not called stale here.
          stale: probe.sidecar.stale && !probe.sidecar.empty,
        }
      : null,
    host: null,
    tables: null,
    tablesSource: null,
    tablesError: null,
    advice: [],
  };

  const describeLocally = async (): Promise<void> => {
    try {
      const d = engine === 'duckdb' ? await describeDuckDbFile(path) : describeSqliteFile(path);
      report.tables = d.tables;
      report.tablesSource = 'read-only-open';
      if (d.engine === 'sqlite') report.journalMode = d.journalMode;
    } catch (err) {
      report.tablesError = message(err);
    }
  };

  switch (probe.state) {
    case 'bolt-host': {
      const socket = probe.host?.socket ?? probe.sidecar.info?.socket ?? null;
      report.host = {
        pid: probe.host?.pid ?? probe.ping?.pid ?? 0,
        socket,
        startedAt: probe.ping?.startedAt ?? probe.sidecar.info?.startedAt ?? null,
        uptimeMs: null,
        version: probe.ping?.version ?? probe.sidecar.info?.version ?? null,
        clients: null,
        sessions: null,
        pool: null,
        wire: null,
        error: null,
      };
      if (socket) {
        try {
          const info = await oneShotRequest<HostInfo>(socket, 'info', {}, { timeoutMs: opts.pingTimeoutMs ?? 2000 });
          Object.assign(report.host, {
            pid: info.pid,
            startedAt: info.startedAt ?? report.host.startedAt,
            uptimeMs: typeof info.uptimeMs === 'number' ? info.uptimeMs : null,
            version: info.version ?? report.host.version,
            clients: typeof info.clients === 'number' ? info.clients : null,
            sessions: typeof info.sessions === 'number' ? info.sessions : null,
            pool: info.pool && typeof info.pool === 'object' ? (info.pool as Record<string, unknown>) : null,
            wire: info.wire && typeof info.wire === 'object' ? { ...info.wire } : null,
          });
          if (Array.isArray(info.tables)) {
            report.tables = info.tables.map((t) => ({ name: String(t.name), rows: Number(t.rows) }));
            report.tablesSource = 'host';
          }
        } catch (err) {
          report.host.error = err instanceof BoltError ? `[${err.code}] ${err.message}` : message(err);
          report.tablesError = `the host did not answer 'info': ${report.host.error}`;
        }
      }
      if (report.tables === null && engine === 'sqlite') await describeLocally();
      break;
    }
    case 'bolt-host-hung':
      report.host = {
        pid: probe.host?.pid ?? 0,
        socket: probe.host?.socket ?? null,
        startedAt: probe.sidecar.info?.startedAt ?? null,
        uptimeMs: null,
        version: probe.sidecar.info?.version ?? null,
        clients: null,
        sessions: null,
        pool: null,
        wire: null,
        error: probe.pingError ? `[${probe.pingError.code}] ${probe.pingError.message}` : 'no answer',
      };
      report.tablesError = 'the Bolt host holding the file does not answer';
      {
        const unproven = unprovenHostReason(probe.sidecar.info, probe.sidecar.holders);
        report.advice.push(
          unproven === undefined
            ? `The Bolt host (pid ${probe.host?.pid ?? 'unknown'}) holds the database but does not answer. ` +
                `If it stays so, run 'bolt db fix <dir> --kill-hung' to stop it (SIGTERM, then SIGKILL).`
            : `pid ${probe.host?.pid ?? 'unknown'} holds the sidecar lock ${probe.sidecar.path} and does not answer, but it is not a proven Bolt host ` +
                `(${unproven}): find out what it is; 'bolt db fix --kill-hung' will not signal it.`,
        );
      }
      break;
    case 'foreign': {
      const f = probe.foreign.find((h) => h.type === 'WRITE') ?? probe.foreign[0];
      const who = `pid ${f.pid ?? 'unknown'} (${f.command ?? 'command unknown'})`;
      const writers = probe.foreign.filter((h) => h.type === 'WRITE');
      if (engine === 'duckdb' && writers.length === 0) {
        // Only shared (read-only) holders: DuckDB lets several read-only processes in.
        await describeLocally();
      } else if (engine === 'duckdb') {
        report.tablesError = `held by ${who}: DuckDB lets only one process open the file`;
        report.advice.push(
          `${who} has the database open and is not a Bolt host, so nothing else can open it. ` +
            `Close it in that program (quit the duckdb shell, restart the notebook kernel, stop the script), ` +
            `or wait for it to finish; Bolt never signals a foreign process. Then run this again.`,
        );
      } else {
        await describeLocally();
        if (report.tables === null) {
          report.advice.push(`${who} holds a ${f.type} lock on the database; end its transaction (or quit it), then run this again.`);
        }
      }
      break;
    }
    case 'stale-sidecar':
      report.advice.push(`The sidecar ${probe.sidecar.path} was left by a process that is gone; 'bolt db fix <dir>' removes it.`);
      await describeLocally();
      break;
    case 'free':
      await describeLocally();
      break;
  }
  if (report.tables === null && report.tablesError && report.advice.length === 0) {
    report.advice.push(`Could not read the tables: ${report.tablesError}`);
  }
  if (report.wal && report.state !== 'bolt-host' && report.holders.length === 0) {
    report.advice.push(`A ${engine === 'duckdb' ? 'WAL' : '-wal file'} is left with no process holding the database; 'bolt db fix <dir>' checkpoints it.`);
  }
  return report;
}
