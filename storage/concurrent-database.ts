/**
 * `ConcurrentDatabase`: the one `Database` implementation users open. For DuckDB it makes one
 * file safe for many threads and processes: the first opener hosts the file, everyone else is
 * a client over a Unix socket, and when the host goes away a client takes over. SQLite and
 * PostgreSQL are dispatched to their adapters.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type {
  Database,
  DatabaseStats,
  ExecResult,
  LockInfo,
  OpenOptions,
  Row,
  Session,
  SessionOptions,
  StatementOptions,
  Transaction,
  TransactionOptions,
} from '../core/database.js';
import { BadInputError, BoltError, ClosedError, OutcomeUnknownError, hasCode } from '../core/errors.js';
import { log } from '../core/logger.js';
import { orDiskFull } from '../core/disk-full.js';
import { detectFileKind } from './file-kind.js';
import type { Backend, BackupResult, VerifyResult } from './backend.js';
import { electHost } from './host-election.js';
import { Host, type HostStatementOptions, type StatementOutcome } from './host.js';
import { allHosts } from './host-registry.js';
import { sidecarPath } from './locks/sidecar.js';
import { AUTO_REQUEST_PREFIX } from './request-log.js';
import { runTransaction } from './transaction-runner.js';
import { checkRequestId } from '../core/request-id.js';
import { openPostgres } from '../adapters/postgres/open.js';
import { openSqlite } from '../adapters/sqlite/open.js';
import { assertNewBackupPath } from '../adapters/duckdb/backup.js';

/** True for errors that mean "the host is gone, find the new one". */
export function isHostLost(err: unknown): err is BoltError {
  return (
    (hasCode(err, 'BOLT_HOST_UNRESPONSIVE', 'BOLT_SESSION_LOST') && err.details.lost === true) ||
    (hasCode(err, 'BOLT_CLOSED') && err.details.hostClosing === true)
  );
}

/** Absolute path with the directory's symlinks resolved (the file itself may not exist yet). */
export function resolveDbPath(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return join(realpathSync(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

let exitHooks = false;
function installExitHooks(): void {
  if (exitHooks) return;
  exitHooks = true;
  // Graceful handover when the host process runs out of work: finish, CHECKPOINT, release.
  process.once('beforeExit', () => {
    for (const h of allHosts()) void h.close('the process ran out of work (beforeExit)');
  });
  // Last resort on process.exit(): close DuckDB synchronously (the kernel frees the locks anyway).
  process.once('exit', () => {
    for (const h of allHosts()) h.closeNow();
  });
}

const FAILOVER_DEADLINE_MS = 30_000;

/** A handle on one database. Many handles (threads, processes) may share one DuckDB file. */
export class ConcurrentDatabase implements Database {
  readonly engine = 'duckdb' as const;
  private closed = false;
  private reelecting?: Promise<Backend>;
  /** `bolt_requests` is known to exist (transactions with a request id make it first). */
  private readonly requestLog = { ready: false };

  private constructor(
    readonly location: string,
    private readonly opts: OpenOptions,
    private backend: Backend,
  ) {
    this.attach(backend);
  }

  /**
   * Opens a database. `postgres://` URLs go to PostgreSQL, SQLite files (told by their header)
   * to SQLite, everything else — including a new file — is DuckDB.
   */
  static async open(path: string, opts: OpenOptions = {}): Promise<Database> {
    if (typeof path !== 'string' || !path) throw new BadInputError('a database path or URL is required');
    const engine = opts.engine ?? detectEngine(path);
    if (engine === 'postgres') return openPostgres(path, opts);
    if (engine === 'sqlite') return openSqlite(path, opts);
    if (engine !== 'duckdb') throw new BadInputError(`unknown engine ${String(engine)}`);
    validateOptions(opts);
    const real = resolveDbPath(path);
    installExitHooks();
    const backend = await elect(real, opts);
    return new ConcurrentDatabase(real, opts, backend);
  }

  private attach(b: Backend): void {
    if (b instanceof Host) b.attachHandle();
  }

  private detach(b: Backend): Promise<void> | void {
    if (b instanceof Host) {
      return b.detachHandle();
    } else if ('destroy' in b) {
      (b as { destroy(): void }).destroy();
    }
  }

  /** The role of this handle right now. */
  get role(): 'host' | 'client' {
    return this.backend.role;
  }

  private async current(): Promise<Backend> {
    if (this.closed) throw new ClosedError(`the database handle for ${this.location} is closed`, { path: this.location });
    if (!this.backend.isClosed) return this.backend;
    return this.failover(this.backend);
  }

  /** Finds the new host after `dead` went away (one election per handle at a time). */
  private failover(dead: Backend): Promise<Backend> {
    // A closed handle never elects: the backend it would attach would outlive it.
    if (this.closed) return Promise.reject(new ClosedError(`the database handle for ${this.location} is closed`, { path: this.location }));
    if (this.backend !== dead && !this.backend.isClosed) return Promise.resolve(this.backend);
    this.reelecting ??= (async () => {
      const started = Date.now();
      if (this.backend === dead) void this.detach(dead);
      const b = await elect(this.location, this.opts);
      this.attach(b);
      this.backend = b;
      log('failover').info({ path: this.location, role: b.role, ms: Date.now() - started }, 'reached the new host');
      return b;
    })().finally(() => {
      this.reelecting = undefined;
    });
    return this.reelecting;
  }

  /**
   * Runs `fn` against the current backend; when the host is lost, fails over and re-sends if
   * `retryable` (reads, writes with a request id), else BOLT_OUTCOME_UNKNOWN. A request that may
   * write and was in flight when this handle closed is BOLT_OUTCOME_UNKNOWN too.
   */
  private async withFailover<T>(what: string, retryable: boolean, fn: (b: Backend, resent: boolean) => Promise<T>, mayWrite = true): Promise<T> {
    let resent = false;
    const deadline = Date.now() + Math.max(FAILOVER_DEADLINE_MS, (this.opts.lockTimeoutMs ?? 30_000) + 5_000);
    for (;;) {
      const b = await this.current();
      try {
        return await fn(b, resent);
      } catch (err) {
        if (!isHostLost(err)) throw err;
        const sent = err.details.sent !== false;
        if (this.closed) {
          // This handle was closed while the request was in flight (closing drops its host
          // connection): no failover, and a request that may have written was maybe applied.
          if (sent && mayWrite) {
            throw new OutcomeUnknownError(`${what}: the database handle was closed while the request was in flight; whether it was applied is unknown`, {
              path: this.location,
            });
          }
          throw new ClosedError(`the database handle for ${this.location} was closed while the request was in flight`, { path: this.location });
        }
        if (sent && !retryable) {
          throw new OutcomeUnknownError(
            `${what}: the host was lost while the write was in flight and it carried no request id, so whether it was applied is unknown`,
            { path: this.location },
            { cause: err },
          );
        }
        resent ||= sent;
        try {
          if (Date.now() > deadline) throw err;
          await this.failover(b);
        } catch (e) {
          if (sent && resent) {
            throw new OutcomeUnknownError(`${what}: the host was lost and no new host could be reached to re-send it (${(e as Error).message})`, {
              path: this.location,
            });
          }
          throw e;
        }
      }
    }
  }

  /** Adds an automatic request id for client writes, so a re-send is applied exactly once. */
  private autoId(opts: StatementOptions | undefined): { id?: string; auto: boolean } {
    checkRequestId(opts?.requestId);
    if (opts?.requestId !== undefined) return { id: opts.requestId, auto: false };
    return { id: `${AUTO_REQUEST_PREFIX}${randomUUID()}`, auto: true };
  }

  private statementOptions(b: Backend, ids: { id?: string; auto: boolean }, resent: boolean): HostStatementOptions {
    const o = this.idOptions(b, ids, resent);
    // A read-only handle may share a read-write host: the host refuses its writes by statement type.
    return this.opts.readOnly ? { ...o, readOnly: true } : o;
  }

  private idOptions(b: Backend, ids: { id?: string; auto: boolean }, resent: boolean): HostStatementOptions {
    if (ids.auto && this.opts.exactlyOnce === false) {
      return b.role === 'host' && !resent ? {} : { requestId: ids.id, autoId: true, unlogged: true, resent };
    }
    // In the host itself an automatic id is only needed when re-sending (this handle was a
    // client whose host died mid-request and has just become the host).
    if (b.role === 'host' && !resent) return ids.auto ? {} : { requestId: ids.id };
    return { requestId: ids.id, autoId: ids.auto, resent };
  }

  async query<T extends Row = Row>(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<T[]> {
    const ids = this.autoId(opts);
    return this.withFailover('query', true, (b, resent) => b.query(sql, params, this.statementOptions(b, ids, resent)) as Promise<T[]>);
  }

  async execute(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<ExecResult> {
    const ids = this.autoId(opts);
    return this.withFailover('execute', true, (b, resent) => b.execute(sql, params, this.statementOptions(b, ids, resent)));
  }

  /** Runs a statement of either kind and returns its rows, rows changed, and whether it only read. */
  async run(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<StatementOutcome> {
    const ids = this.autoId(opts);
    return this.withFailover('run', true, (b, resent) => b.run(sql, params, this.statementOptions(b, ids, resent)));
  }

  async insertMany(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], opts?: StatementOptions): Promise<ExecResult> {
    const ids = this.autoId(opts);
    return this.withFailover('insertMany', true, (b, resent) => b.insertMany(table, columns, rows, this.statementOptions(b, ids, resent)));
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T | undefined> {
    checkRequestId(opts.requestId);
    let requestId = opts.requestId;
    let fresh = false;
    for (let resent = false; ; resent = true) {
      const b = await this.current();
      // A read-only handle's transaction cannot write, so it has nothing to record.
      if (requestId === undefined && b.role === 'client' && this.opts.exactlyOnce !== false && !this.opts.readOnly) {
        requestId = `${AUTO_REQUEST_PREFIX}${randomUUID()}`;
        fresh = true;
      }
      let s: Session | undefined;
      try {
        s = await b.openSession({ name: 'transaction', readOnly: this.opts.readOnly }, this.opts.connectionTimeoutMs);
        return await runTransaction(s, fn, { ...opts, requestId }, fresh && !resent, this.requestLog);
      } catch (err) {
        if (!isHostLost(err)) throw err;
        if (this.closed && !this.opts.readOnly) {
          throw new OutcomeUnknownError('transaction: the database handle was closed during the transaction, so whether it committed is unknown', {
            path: this.location,
          });
        }
        // A lost session took its transaction with it (rolled back): running it again is safe.
        if (requestId === undefined && !hasCode(err, 'BOLT_SESSION_LOST')) {
          throw new OutcomeUnknownError('transaction: the host was lost during the transaction and it had no request id, so whether it committed is unknown', {
            path: this.location,
          });
        }
        await this.failover(b);
      } finally {
        await s?.close().catch(() => undefined);
      }
    }
  }

  async session(opts: SessionOptions = {}): Promise<Session> {
    const b = await this.current();
    return b.openSession(this.opts.readOnly ? { ...opts, readOnly: true } : opts, this.opts.connectionTimeoutMs);
  }

  stats(): DatabaseStats {
    return this.backend.stats();
  }

  lockInfo(): LockInfo {
    return { path: this.location, engine: 'duckdb', role: this.backend.role, host: this.backend.identity(), sidecar: sidecarPath(this.location) };
  }

  /** The live host's `info` (pid, socket, uptime, clients, sessions, pool, tables). */
  async hostInfo(): Promise<Record<string, unknown>> {
    return this.withFailover('info', true, (b) => b.info(), false);
  }

  /** Consistent copy of the database into `dest`, taken by the host while others write. */
  async backup(dest: string): Promise<BackupResult> {
    const abs = resolve(dest);
    // The host refuses an existing destination itself (adapters/duckdb/backup.ts); checking
    // here too spares a round trip.
    assertNewBackupPath(abs);
    return this.withFailover('backup', false, (b) => b.backup(abs));
  }

  /** Scans every table in full through the host. */
  async verify(): Promise<VerifyResult> {
    return this.withFailover('verify', true, (b) => b.verify(), false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reelecting?.catch(() => undefined);
    await this.detach(this.backend);
  }
}

/**
 * `electHost` with a full disk named as such: creating the sidecar, the socket or DuckDB's
 * files on a full file system fails with ENOSPC somewhere along the way.
 */
async function elect(path: string, opts: OpenOptions): Promise<Backend> {
  try {
    return await electHost(path, opts);
  } catch (err) {
    throw orDiskFull(err, { path });
  }
}

function detectEngine(path: string): 'duckdb' | 'sqlite' | 'postgres' {
  if (/^postgres(ql)?:\/\//i.test(path)) return 'postgres';
  // A sidecar exists only for DuckDB files; otherwise tell by the header. The header is read
  // only when no sidecar exists, i.e. no Bolt host has this file open (architecture.md, fact 3).
  const abs = resolve(path);
  if (existsSync(sidecarPath(abs))) return 'duckdb';
  const kind = detectFileKind(abs);
  return kind.kind === 'sqlite' ? 'sqlite' : 'duckdb';
}

function validateOptions(o: OpenOptions): void {
  const pos = (v: unknown, name: string) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      throw new BadInputError(`${name} must be a non-negative number`, { [name]: v });
  };
  pos(o.lockTimeoutMs, 'lockTimeoutMs');
  pos(o.connectionTimeoutMs, 'connectionTimeoutMs');
  pos(o.idleReleaseMs, 'idleReleaseMs');
  if (o.maxConnections !== undefined && (!Number.isInteger(o.maxConnections) || o.maxConnections < 1)) {
    throw new BadInputError('maxConnections must be a positive integer', { maxConnections: o.maxConnections });
  }
}
