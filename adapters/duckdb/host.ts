/**
 * The host of one DuckDB file: the one `DuckDBInstance`, its connection pool, sessions, the
 * request log and statistics. The host process calls it directly; every other thread or
 * process reaches it through `HostServer` over a Unix socket.
 */
import { ftruncateSync } from 'node:fs';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { EventEmitter } from 'eventemitter3';
import type { DatabaseStats, ExecResult, Row, SessionOptions, ValueMode } from '../../core/database.js';
import { AbortedError, BadInputError, BoltError, ClosedError, OutcomeUnknownError, ReadOnlyError, hasCode, SessionLostError } from '../../core/errors.js';
import { log } from '../../core/logger.js';
import { hostCloseGraceMs, poolTimeoutMs } from '../../core/config.js';
import { checkSessionOptions } from '../../core/session-options.js';
import { DUCKDB_PARAM_RULES, checkParams, checkRows } from '../../core/parameters.js';
import { BOLT_VERSION } from '../../core/version.js';
import { CHECKPOINT_THRESHOLD_BYTES, createDuckDBInstance } from './connect.js';
import { classifyDuckDBError, isFatalDuckDBError } from './classify-errors.js';
import { clearStatementCache } from './statement-cache.js';
import { connectionSettled, inTransaction, settleTransactionControl } from './transaction-control.js';
import { destroyPrepared, prepareSql, runPrepared, type PreparedSql } from './run.js';
import { assertAllowed, assertText, mayLeaveObjects } from './statement-checks.js';
import { appendRows } from './append.js';
import { copyDatabaseTo } from './backup.js';
import { describeTables, scanAllTables } from './describe.js';
import type { TableInfo } from '../../core/database.js';
import type { HostIdentity, HostOptions, HostStatementOptions, ServedHost, StatementOutcome } from '../../storage/host/backend.js';
import { GroupCommitter, runGroupedWrite } from './group-commit.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { WriteGate } from './write-gate.js';
import { loggedWrite, WRITE_CONFLICT_RETRIES } from './logged-write.js';
import { RequestSerializer } from './request-serializer.js';
import { ConnectionPool, type Lease } from '../shared/connection-pool.js';
import { HostSession } from './host-session.js';
import { IdleRelease } from './idle-release.js';
import type { HeldFlock } from '../../storage/platform/flock.js';
import { closeRequestLogAppender, createRequestLog, pruneRequests } from './request-log.js';
import { assertNotBesideSource } from '../../storage/platform/own-file.js';
import { delay } from '../../storage/platform/retry.js';
import { backoffDelay } from '../../core/backoff.js';
import { interruptedOnAbort, interruptOnce } from './interrupt.js';

export const DEFAULT_POOL_SIZE = 8;

/** One statement of `withPrepared` as it runs. */
interface StatementRun {
  /** Its connection runs other callers' writes with it (group commit): never interrupted. */
  shared: boolean;
  signal?: AbortSignal;
}

/** Throws BOLT_ABORTED when the caller stopped waiting before the statement started (an interrupt sent earlier is lost). */
function startIfWanted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError('the statement was not started: its caller stopped waiting');
}

function abortedStatement(sql: string): AbortedError {
  return new AbortedError('the statement was interrupted: its caller stopped waiting', { sql: sql.slice(0, 200) });
}

interface HostEvents {
  /** The host closed DuckDB and released the file (close, idle release). */
  closed: [];
}

export class Host extends EventEmitter<HostEvents> implements ServedHost {
  readonly role = 'host' as const;
  /** Handles of this thread sharing this host; the last one to close closes it. */
  private handles = 0;
  readonly startedAt = new Date();
  readonly pool: ConnectionPool<DuckDBConnection>;
  /**
   * One connection of its own for `info` (`bolt db info`), so what is inside the file can be
   * read when every pooled connection is busy, which is when people look.
   */
  private readonly infoPool: ConnectionPool<DuckDBConnection>;
  readonly sessions = new Set<HostSession>();
  /** Remote connections currently attached (counted by HostServer through clientConnected/clientGone). */
  private remoteClients = 0;
  private socketPath?: string;
  private queries = 0;
  private readonly errorsByCode: Record<string, number> = {};
  private readonly requests = new RequestSerializer();
  private active = 0;
  private drained?: () => void;
  /** While a closing host waits for statements in flight: ends that wait after `ms` from now, if sooner. */
  private shortenGrace?: (ms: number) => void;
  private closing?: Promise<void>;
  /** Aborted when a closing host stops waiting for its statements in flight (see `close`). */
  private readonly closeStop = new AbortController();
  /** `BOLT_HOST_CLOSE_GRACE_MS`, read when the host starts: a bad value fails the start, not a close halfway. */
  private closeGraceMs = 5_000;
  private pruneTimer?: NodeJS.Timeout;
  private readonly idle: IdleRelease;
  private readonly group = new GroupCommitter((w) => loggedWrite(w.conn, { requestId: w.requestId, autoId: w.autoId }, () => runGroupedWrite(w.conn, w)));
  private shut = false;
  /** DuckDB invalidated the database: this host closes at once (see `invalidated`). */
  private invalid = false;
  private walCheckpointer?: WalCheckpointer;
  /** Write transactions pass it; the WAL checkpointer closes it for a moment. */
  readonly writeGate = new WriteGate();
  private maintenanceConn?: DuckDBConnection;
  /** `bolt_requests` exists: checked on the write path, so set once and never awaited again. */
  private requestLogReady = false;
  private requestLogCreating?: Promise<void>;
  private readonly opts: Required<Pick<HostOptions, 'maxConnections' | 'connectionTimeoutMs'>> & HostOptions;

  private constructor(
    readonly path: string,
    private readonly lock: HeldFlock,
    private readonly instance: DuckDBInstance,
    opts: HostOptions,
  ) {
    super();
    this.opts = {
      ...opts,
      maxConnections: opts.maxConnections ?? DEFAULT_POOL_SIZE,
      connectionTimeoutMs: opts.connectionTimeoutMs ?? poolTimeoutMs(),
    };
    if (!Number.isInteger(this.opts.maxConnections) || this.opts.maxConnections < 1) {
      throw new BadInputError(`maxConnections must be a positive integer, got ${String(opts.maxConnections)}`);
    }
    this.idle = new IdleRelease(
      opts.idleReleaseMs,
      () => this.remoteClients === 0 && this.sessions.size === 0 && this.active === 0,
      (quietMs) => {
        log('host').info({ path: this.path, idleMs: quietMs }, 'idle: releasing the database file');
        void this.close('idle release');
      },
    );
    const destroy = (c: DuckDBConnection): void => {
      const close = (): void => {
        closeRequestLogAppender(c);
        clearStatementCache(c);
        closeQuietly(c);
      };
      // After its last COMMIT's result is fetched (transaction-control.ts), at once when it was.
      const settling = connectionSettled(c);
      if (settling) void settling.then(close);
      else close();
    };
    this.pool = new ConnectionPool<DuckDBConnection>({
      size: this.opts.maxConnections,
      acquireTimeoutMs: this.opts.connectionTimeoutMs,
      create: () => instance.connect(),
      destroy,
    });
    this.infoPool = new ConnectionPool<DuckDBConnection>({
      size: 1,
      acquireTimeoutMs: this.opts.connectionTimeoutMs,
      create: () => instance.connect(),
      destroy,
    });
  }

  /**
   * Opens DuckDB on `path` (a realpath) while holding the sidecar `lock`. On failure the lock
   * is left to the caller.
   */
  static async start(path: string, lock: HeldFlock, opts: HostOptions = {}): Promise<Host> {
    const started = Date.now();
    const closeGraceMs = hostCloseGraceMs();
    const instance = await createDuckDBInstance(path, lock, { lockTimeoutMs: opts.lockTimeoutMs });
    const openMs = Date.now() - started;
    const host = new Host(path, lock, instance, opts);
    host.closeGraceMs = closeGraceMs;
    try {
      // Nothing is written at start (no request log, no prune): a database only read through
      // Bolt stays byte-identical. The log is made by the first write that records an id.
      if (!opts.readOnly) {
        // A connection of its own: the pool may have a queue of waiters when the WAL needs it.
        host.maintenanceConn = await instance.connect();
        host.walCheckpointer = new WalCheckpointer(`${path}.wal`, host.maintenanceConn, host.writeGate, {
          thresholdBytes: CHECKPOINT_THRESHOLD_BYTES,
          smallBytes: 64 * 1024,
          maxAgeMs: 2_000,
          everyMs: 250,
          gateWaitMs: 300,
          backoffMs: 500,
          onFatal: (e) => host.invalidated(e),
        });
      }
    } catch (err) {
      host.closeNow();
      throw classifyDuckDBError(err, { path });
    }
    if (!opts.readOnly) {
      host.pruneTimer = setInterval(() => void host.prune(), 60_000);
      host.pruneTimer.unref();
      host.walCheckpointer!.start();
    }
    host.armIdle();
    // openMs includes replaying the WAL a killed host left (and waiting out foreign holders).
    log('host').info({ path, openMs, setupMs: Date.now() - started - openMs }, 'hosting database');
    return host;
  }

  /** The Unix socket this host serves on, once it does. */
  get socket(): string | undefined {
    return this.socketPath;
  }
  /** Remote connections attached now. */
  get clients(): number {
    return this.remoteClients;
  }

  /** Records the socket the host's server listens on (once, when it starts serving). */
  servingOn(socket: string): void {
    this.socketPath = socket;
  }

  /** A handle of this thread now uses the host. */
  attachHandle(): void {
    this.handles++;
  }

  /** A handle of this thread let go; the last one closes the host, waiting `graceMs` at most for what runs. */
  detachHandle(graceMs?: number): Promise<void> | void {
    this.handles--;
    if (this.handles <= 0) return this.close('its last handle in this thread let go', graceMs);
  }

  /** A remote client connected (HostServer). */
  clientConnected(): void {
    this.remoteClients++;
    this.touch();
  }

  /** A remote client went away (HostServer): idle release may now apply. */
  clientGone(): void {
    this.remoteClients--;
    this.touch();
    this.armIdle();
  }

  get isClosed(): boolean {
    return this.closing !== undefined;
  }
  get readOnly(): boolean {
    return Boolean(this.opts.readOnly);
  }
  get sidecarLock(): HeldFlock {
    return this.lock;
  }

  /** Creates `bolt_requests` once per host, before the first write that records a request id. */
  private ensureRequestLog(): Promise<void> {
    this.requestLogCreating ??= createRequestLog(this.instance).then(
      () => void (this.requestLogReady = true),
      (err: unknown) => {
        this.requestLogCreating = undefined;
        throw err;
      },
    );
    return this.requestLogCreating;
  }

  private async prune(): Promise<void> {
    if (this.closing || !this.requestLogReady) return;
    await this.track(async () => {
      const l = await this.pool.acquire('bolt:prune');
      try {
        await pruneRequests(l.conn);
      } finally {
        l.release();
      }
    }).catch(() => undefined);
  }

  /** Counts an operation in flight (graceful close waits for them). */
  private async track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closing) throw new ClosedError('the database host is closing', { path: this.path, hostClosing: true });
    this.active++;
    this.idle.touch();
    try {
      return await fn();
    } finally {
      this.active--;
      this.idle.touch();
      if (this.active === 0) this.drained?.();
    }
  }

  private count(err?: unknown): void {
    this.queries++;
    if (err && isFatalDuckDBError(err)) this.invalidated(err);
    if (err) {
      const code = err instanceof BoltError ? err.code : 'BOLT_INTERNAL';
      this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
    }
  }

  /**
   * Leases a connection, prepares `sql` on it and runs `fn`. When `opts.signal` aborts, the
   * statement is interrupted unless `fn` marked it `shared` (a write in a group commit).
   */
  private async withPrepared<T>(
    sql: string,
    params: readonly unknown[] | undefined,
    opts: HostStatementOptions,
    fn: (p: PreparedSql, lease: Lease<DuckDBConnection>, run: StatementRun) => Promise<T>,
  ): Promise<T> {
    const caller = opts.caller ?? 'autocommit';
    return this.track(async () => {
      const lease = await this.acquireCounted(caller, undefined, opts.signal);
      const run: StatementRun = { shared: false, signal: opts.signal };
      let p: PreparedSql | undefined;
      try {
        const r = await interruptedOnAbort(
          lease.conn,
          [opts.signal, this.closeStop.signal],
          async () => {
            const readOnly = this.opts.readOnly || opts.readOnly;
            assertText(sql, Boolean(readOnly));
            p = await prepareSql(lease.conn, sql, params?.length ?? 0, { cache: true });
            assertAllowed(p, sql, Boolean(readOnly));
            if (p.isTransactionControl) {
              throw new BadInputError('transaction statements need a pinned connection: use db.transaction() or db.session()', { sql });
            }
            return fn(p, lease, run);
          },
          // A write in a group commit carries others' writes: only a closing host stops it.
          () => !run.shared || this.group.stopped,
        );
        this.count();
        return r;
      } catch (err) {
        if (isFatalDuckDBError(err)) this.invalidated(err);
        const e =
          opts.signal?.aborted && !run.shared ? abortedStatement(sql) : this.stoppedByClosing(p) ? stoppedByClose(sql) : classifyDuckDBError(err, { sql });
        this.count(e);
        throw e;
      } finally {
        const leftObjects = mayLeaveObjects(p, sql);
        if (p) destroyPrepared(p);
        lease.release(leftObjects);
      }
    });
  }

  /**
   * Whether a statement that failed was stopped by this host closing, and so was not applied: any
   * statement a graceful close interrupted, but only a read when the host closes at once (DuckDB
   * invalidated it: also a read that failed on the invalid database before the close began; or
   * the process exits), since a write then may have been cut at its commit.
   */
  private stoppedByClosing(p: PreparedSql | undefined): boolean {
    const atOnce = this.shut || this.invalid;
    return (this.closeStop.signal.aborted || this.invalid) && (!atOnce || p?.isRead === true);
  }

  private async acquireCounted(caller: string, timeoutMs?: number, signal?: AbortSignal): Promise<Lease<DuckDBConnection>> {
    try {
      return await this.pool.acquire(caller, timeoutMs, signal);
    } catch (err) {
      this.count(err);
      throw err;
    }
  }

  /** Runs a statement in autocommit mode (writes retried on conflict) and returns its rows. */
  async query(sql: string, params?: readonly unknown[], opts: HostStatementOptions = {}): Promise<Row[]> {
    return (await this.statement(sql, params, opts)).rows;
  }

  /** Runs a statement for its effect. */
  async execute(sql: string, params?: readonly unknown[], opts: HostStatementOptions = {}): Promise<ExecResult> {
    const r = await this.statement(sql, params, opts);
    return r.deduplicated ? { rowsChanged: r.rowsChanged, deduplicated: true } : { rowsChanged: r.rowsChanged };
  }

  /** Runs a statement of any kind: its rows, rows changed, and whether it only read. */
  async run(sql: string, params?: readonly unknown[], opts: HostStatementOptions = {}): Promise<StatementOutcome> {
    return this.statement(sql, params, opts);
  }

  private async statement(sql: string, params: readonly unknown[] | undefined, opts: HostStatementOptions): Promise<StatementOutcome> {
    if (typeof sql !== 'string') throw new BadInputError('SQL must be a string');
    checkParams(params, DUCKDB_PARAM_RULES);
    return this.withPrepared(sql, params, opts, async (p, lease, run) =>
      p.isRead ? this.autocommit(p, params, sql, lease, run, opts.values) : this.writeGate.writing(() => this.write(p, params, sql, lease, run, opts)),
    );
  }

  /** A statement that may write: autocommit, group commit, or logged with its request id. */
  private async write(
    p: PreparedSql,
    params: readonly unknown[] | undefined,
    sql: string,
    lease: Lease<DuckDBConnection>,
    run: StatementRun,
    opts: HostStatementOptions,
  ): Promise<StatementOutcome> {
    if (!opts.requestId) return this.autocommit(p, params, sql, lease, run, opts.values);
    if (opts.unlogged) {
      if (opts.resent) throw outcomeUnknown(sql);
      return this.autocommit(p, params, sql, lease, run, opts.values);
    }
    if (!this.requestLogReady) await this.ensureRequestLog();
    if (opts.autoId && !opts.resent && p.count === 1 && !mayLeaveObjects(p, sql)) {
      // A fresh automatic id needs no lookup: eligible for group commit (not a CREATE, whose
      // connection is closed after it: in a batch it would run on another caller's).
      startIfWanted(run.signal);
      run.shared = true;
      return this.group.submit({ sql, params, requestId: opts.requestId, autoId: true, conn: lease.conn, prepared: p, values: opts.values });
    }
    return this.requests.run(opts.requestId, () =>
      loggedWrite(lease.conn, { requestId: opts.requestId!, autoId: opts.autoId, resent: opts.resent }, async () => {
        startIfWanted(run.signal);
        const r = await runPrepared(p, params, sql, opts.values);
        return { rows: r.rows, rowsChanged: r.rowsChanged, isRead: false };
      }),
    );
  }

  /**
   * A statement on its own (a script of several in one transaction, so that it is
   * all-or-nothing as it is through a client): a conflict means it was not applied, so retry it.
   */
  private async autocommit(
    p: PreparedSql,
    params: readonly unknown[] | undefined,
    sql: string,
    lease: Lease<DuckDBConnection>,
    run: StatementRun,
    values?: ValueMode,
  ) {
    for (let attempt = 0; ; attempt++) {
      startIfWanted(run.signal);
      try {
        return p.count > 1 && !p.isRead
          ? await inTransaction(lease.conn, () => runPrepared(p, params, sql, values))
          : await runPrepared(p, params, sql, values);
      } catch (err) {
        if (!hasCode(err, 'BOLT_TX_CONFLICT') || p.isRead || attempt >= WRITE_CONFLICT_RETRIES) throw err;
        await delay(backoffDelay(attempt, { baseMs: 2, capMs: 100 }));
      }
    }
  }

  /** Bulk path: the DuckDB appender, in one transaction (with the request id when given). */
  async insertMany(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], opts: HostStatementOptions = {}): Promise<ExecResult> {
    if (this.opts.readOnly || opts.readOnly)
      throw new ReadOnlyError(`the database ${this.opts.readOnly ? 'is' : 'handle was'} opened read-only`, { path: this.path });
    if (typeof table !== 'string' || !table) throw new BadInputError('insertMany: table name required');
    checkRows(columns, rows, DUCKDB_PARAM_RULES);
    if (rows.length === 0) return { rowsChanged: 0 };
    return this.track(async () => {
      const lease = await this.acquireCounted(opts.caller ?? 'insertMany', undefined, opts.signal);
      try {
        // Appended rows are bounded by the frame size: not interrupted, but not started once the caller stopped waiting.
        const append = async () => {
          startIfWanted(opts.signal);
          return appendRows(lease.conn, table, columns, rows);
        };
        if (opts.unlogged && opts.resent) throw outcomeUnknown(`insertMany into ${table}`);
        if (opts.requestId && !opts.unlogged && !this.requestLogReady) await this.ensureRequestLog();
        const r: ExecResult = await this.writeGate.writing(() =>
          opts.requestId && !opts.unlogged
            ? this.requests.run(opts.requestId, () => loggedWrite(lease.conn, { requestId: opts.requestId!, autoId: opts.autoId, resent: opts.resent }, append))
            : inTransaction(lease.conn, append),
        );
        this.count();
        return r.deduplicated ? { rowsChanged: r.rowsChanged, deduplicated: true } : { rowsChanged: r.rowsChanged };
      } catch (err) {
        const e = classifyDuckDBError(err, { table });
        this.count(e);
        throw e;
      } finally {
        lease.release();
      }
    });
  }

  /** Opens a session pinned to one pooled connection. */
  async openSession(opts: SessionOptions = {}, connectionTimeoutMs?: number): Promise<HostSession> {
    checkSessionOptions(opts, connectionTimeoutMs);
    return this.track(async () => {
      const lease = await this.acquireCounted(opts.name ?? 'session', connectionTimeoutMs);
      const s = new HostSession(lease, opts, {
        readOnlyDatabase: Boolean(this.opts.readOnly),
        onClosed: (x) => {
          this.sessions.delete(x);
          this.idle.touch();
        },
        onStatement: (_ok, err) => this.count(err),
        onceById: (id, fn) => this.requests.run(id, fn),
        requestLog: () => (this.requestLogReady ? undefined : this.ensureRequestLog()),
        gate: this.writeGate,
      });
      this.sessions.add(s);
      return s;
    });
  }

  identity(): HostIdentity {
    return { pid: process.pid, socket: this.socketPath, startedAt: this.startedAt.toISOString(), version: BOLT_VERSION };
  }

  /** Pool and traffic statistics. */
  stats(): DatabaseStats {
    return {
      engine: 'duckdb',
      role: 'host',
      pool: this.pool.stats(),
      queries: this.queries,
      errorsByCode: { ...this.errorsByCode },
      clients: this.remoteClients,
      groupCommit: { batches: this.group.batches, writes: this.group.batchedWrites },
      checkpoints: this.walCheckpointer?.stats(),
      sessions: [...this.sessions].map((s) => s.describe()),
    };
  }

  /** What the wire op `info` returns. */
  async info(): Promise<Record<string, unknown>> {
    const tables = await this.track(() => this.maintenance(this.infoPool, 'info', describeTables));
    return {
      pid: process.pid,
      socket: this.socketPath,
      startedAt: this.startedAt.toISOString(),
      uptimeMs: Date.now() - this.startedAt.getTime(),
      version: BOLT_VERSION,
      clients: this.remoteClients,
      sessions: this.sessions.size,
      pool: this.pool.stats(),
      tables,
    };
  }

  /**
   * Consistent copy of the database into a new DuckDB file `dest` while others keep writing:
   * `COPY FROM DATABASE` runs in one transaction (one snapshot). The copy is then re-opened
   * (attached read-only) and every table counted.
   */
  async backup(dest: string): Promise<{ dest: string; tables: TableInfo[]; ms: number }> {
    const started = Date.now();
    return this.track(async () => {
      assertNotBesideSource(dest, this.path, ['.wal', '.bolt.lock']);
      const tables = await this.maintenance(this.pool, 'backup', (c) => copyDatabaseTo(c, dest), { dest });
      return { dest, tables, ms: Date.now() - started };
    });
  }

  /** Scans every column of every table in full; returns per-table row counts. */
  async verify(): Promise<{ tables: TableInfo[]; ms: number }> {
    const started = Date.now();
    return this.track(async () => {
      return { tables: await this.maintenance(this.pool, 'verify', scanAllTables), ms: Date.now() - started };
    });
  }

  /**
   * DuckDB invalidated the database (a FATAL error: a checkpoint that found the disk full):
   * no statement can succeed on this instance any more. The host closes at once, without the
   * checkpoint a graceful close would try; the next statement of any handle elects a new host,
   * which opens the file again and replays its WAL.
   */
  invalidated(err: unknown): void {
    if (this.shut || this.invalid) return;
    this.invalid = true;
    log('host').error({ path: this.path, err: (err as Error)?.message }, 'DuckDB invalidated the database: closing this host so the file is opened again');
    // After the failing operation has released what it holds.
    queueMicrotask(() => this.closeNow());
  }

  /** Re-arms the idle-release check. */
  armIdle(): void {
    if (!this.closing) this.idle.arm();
  }

  /** Notes activity from a client (keeps idle release away). */
  touch(): void {
    this.idle.touch();
  }

  /**
   * Graceful close: refuse new work, let in-flight statements finish (interrupted after
   * `graceMs`, by default `BOLT_HOST_CLOSE_GRACE_MS`: see `drain`), close sessions (rolling
   * back), CHECKPOINT, close DuckDB, release the sidecar lock. Emits 'closed'. Called again while
   * it waits for statements, a shorter `graceMs` ends that wait sooner.
   */
  close(reason = 'closed', graceMs = this.closeGraceMs): Promise<void> {
    if (this.closing) {
      // Closing already: a shorter grace hurries the wait under way (a second Ctrl-C).
      this.shortenGrace?.(graceMs);
      return this.closing;
    }
    log('host').info({ path: this.path, reason, active: this.active, sessions: this.sessions.size }, 'closing the database');
    this.closing = (async () => {
      this.idle.stop();
      clearInterval(this.pruneTimer);
      if (this.active > 0) await this.drain(graceMs);
      await this.walCheckpointer?.stop();
      await this.abandonSessions(reason);
      try {
        const l = await this.pool.acquire('bolt:checkpoint', 5_000);
        try {
          if (!this.opts.readOnly) await l.conn.run('CHECKPOINT');
        } finally {
          l.release();
        }
      } catch (err) {
        log('host').warn({ err, path: this.path }, 'checkpoint on close failed');
      }
      await settleTransactionControl();
      this.closeNow();
    })();
    return this.closing;
  }

  /** Ends every session (rolling back its open transaction) and returns its connection. */
  private abandonSessions(reason: string): Promise<void[]> {
    return Promise.all(
      [...this.sessions].map((s) =>
        s.abandon(
          new SessionLostError(
            `session "${s.name}" was closed because its Bolt host (PID ${process.pid}) is closing (${reason})${s.inTransaction ? '; its open transaction was rolled back' : ''}: open a new session and run the work again`,
            {
              session: s.name,
              hostPid: process.pid,
              lost: true,
              hostClosing: true,
              sent: false,
            },
          ),
        ),
      ),
    );
  }

  /**
   * Runs `fn` (info, backup, verify) on a connection of `pool`, held as `bolt:<what>`; a
   * closing host interrupts it after its grace like any statement.
   */
  private async maintenance<T>(
    pool: ConnectionPool<DuckDBConnection>,
    what: string,
    fn: (conn: DuckDBConnection) => Promise<T>,
    details?: Record<string, unknown>,
  ): Promise<T> {
    const l = await pool.acquire(`bolt:${what}`);
    try {
      return await interruptedOnAbort(l.conn, [this.closeStop.signal], () => fn(l.conn));
    } catch (err) {
      throw this.closeStop.signal.aborted ? stoppedByClose(what) : classifyDuckDBError(err, details);
    } finally {
      l.release();
    }
  }

  /**
   * Waits for the statements in flight, `graceMs` at most (a later `close` may shorten it); then
   * interrupts them (a client's runaway query would otherwise keep the host, and `bolt start`'s
   * Ctrl-C, waiting for hours) and waits for them to end.
   */
  private async drain(graceMs: number): Promise<void> {
    const drained = new Promise<void>((r) => (this.drained = r));
    let timer: NodeJS.Timeout | undefined;
    let graceEnd = Date.now() + graceMs;
    /** The grace that ended the wait: the last, shorter one when a later close hurried it. */
    let grace = graceMs;
    const graceOver = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), graceMs);
      this.shortenGrace = (ms) => {
        if (Date.now() + ms >= graceEnd) return;
        graceEnd = Date.now() + ms;
        grace = ms;
        clearTimeout(timer);
        timer = setTimeout(() => r(false), ms);
      };
    });
    const inTime = await Promise.race([drained.then(() => true), graceOver]);
    clearTimeout(timer);
    this.shortenGrace = undefined;
    if (inTime) return;
    log('host').warn({ path: this.path, active: this.active, graceMs: grace }, 'statements still running when the host closes: interrupting them');
    // Writes of a group commit too: a batch that fails is rolled back, and its writes are
    // then refused rather than re-run.
    this.group.stop((w) => stoppedByClose(w.sql));
    this.closeStop.abort();
    await drained;
  }

  /** Synchronous close (process exit): connections, instance, lock. Idempotent. */
  closeNow(): void {
    if (!this.closing) this.closing = Promise.resolve();
    if (this.shut) return;
    this.shut = true;
    this.idle.stop();
    clearInterval(this.pruneTimer);
    // No batch starts and none re-runs after this: the lock is let go below.
    this.group.stop((w) => stoppedByClose(w.sql));
    // A read interrupted below fails as not applied (BOLT_CLOSED): a handle re-runs it on the next host.
    this.closeStop.abort();
    // A connection that may be running a statement is interrupted, never closed: DuckDB ends a
    // statement whose connection was closed by destroying that connection's context while it
    // holds the context's lock, and the thread running it then waits for good (a process with
    // such a thread never exits). Whoever runs the statement closes the connection after it.
    const maintenance = this.maintenanceConn;
    if (maintenance) {
      interruptOnce(maintenance);
      void (this.walCheckpointer?.stop() ?? Promise.resolve()).then(() => closeQuietly(maintenance));
    }
    for (const pool of [this.pool, this.infoPool]) {
      pool.close(); // leased connections are closed as they come back
      for (const lease of pool.leases()) interruptOnce(lease.conn);
    }
    // Sessions hold their connections between statements: they give them back as they end.
    void this.abandonSessions('closed at once');
    try {
      this.instance.closeSync();
    } catch {
      /* already closed */
    }
    try {
      // Leave an empty sidecar, not a description of a host that is gone.
      ftruncateSync(this.lock.fd, 0);
    } catch {
      /* released already */
    }
    this.lock.release();
    this.emit('closed');
  }
}

/** Work a closing host interrupted (a statement, a backup, a verify): not applied, so a handle re-runs it on the next host. */
function stoppedByClose(what: string): ClosedError {
  return new ClosedError('the database host closed while this ran: it was interrupted and not applied', {
    hostClosing: true,
    sent: false,
    sql: what.slice(0, 200),
  });
}

function outcomeUnknown(what: string): OutcomeUnknownError {
  return new OutcomeUnknownError(
    `a write was in flight when the host was lost and it was not logged (exactlyOnce: false), so whether it was applied is unknown: ${what.slice(0, 200)}`,
    { sql: what },
  );
}

/** Closes a connection that runs nothing (see `closeNow`). */
function closeQuietly(conn: DuckDBConnection): void {
  try {
    conn.closeSync();
  } catch {
    /* already closed */
  }
}
