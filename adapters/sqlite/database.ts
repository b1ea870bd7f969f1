/**
 * `Database` over a SQLite file: connections in the calling thread that never wait inside
 * SQLite (inline-connection.ts), WAL, one writer at a time per handle (write-lock.ts) and
 * SQLite's own lock between handles, threads and processes, group commit for autocommit
 * writes, request-id exactly-once through `bolt_requests`; sessions, transactions and
 * statistics from `adapters/shared`.
 */
import { checkReadOnlyOpen, removeWalLeftovers } from './wal-leftovers.js';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { firstRow, type ExecResult, type LockInfo, type OpenOptions, type Row, type StatementOptions, type ValueMode } from '../../core/database.js';
import { orDiskFull } from '../../core/disk-full.js';
import { BadInputError } from '../../core/errors.js';
import { signalProblem } from '../../core/abortable.js';
import { assertNotBesideSource, createNewFile } from '../../storage/platform/own-file.js';
import { SQLITE_PARAM_RULES, checkParams } from '../../core/parameters.js';
import { DirectDatabase } from '../shared/direct-database.js';
import { REQUESTS_TABLE } from '../../core/request-log.js';
import type { SqliteConnectSettings } from './connect.js';
import { lockFiles, lockHolders } from './lock-holders.js';
import { OUTSIDE_TRANSACTION, SqlitePinned, type SqliteShared } from './pinned.js';
import { SharedCommit } from './shared-commit.js';
import { ConnectionPool } from '../shared/connection-pool.js';
import { DEFAULT_TX_RETRIES } from '../shared/transaction.js';
import { BLOCKING_WAIT_MS, InlineConnection, nextTurn, openConnection, writersFirst } from './inline-connection.js';
import { classifyFailure } from './classify-errors.js';
import type { VerifyOutcome } from './requests.js';
import { WriteBatcher } from './write-batcher.js';
import { WriteLock } from './write-lock.js';
import { Checkpointer, checkCheckpointMode, checkpointsInBackground, type CheckpointMode } from './checkpointer.js';

/** Settings of an open SQLite database (resolved defaults). */
/** SQLite-specific options on top of the common ones. */
export interface SqliteOptions extends OpenOptions {
  /**
   * Ignored, kept so existing options still type-check: connections never wait inside SQLite
   * longer than 10 ms at a time (busy_timeout); Bolt waits for the lock itself, mostly without
   * blocking, up to `writeLockTimeoutMs`.
   * @deprecated
   */
  busyTimeoutMs?: number;
  /** How long a writer waits for the writer lock, Bolt's and SQLite's (default `lockTimeoutMs`, 30 s). */
  writeLockTimeoutMs?: number;
  /** Page cache per connection, KiB (default 16 MiB). */
  cacheSizeKiB?: number;
  /** Extra or overriding pragmas applied at every connection, e.g. `{ synchronous: 'FULL' }`. */
  pragmas?: Record<string, string | number>;
  /** Default re-runs of a transaction closure on a transient failure (default 5). */
  retries?: number;
  /** Connections held longer than this are reported as leaks (default 60 s; 0 disables). */
  leakReportMs?: number;
  /**
   * Who checkpoints the WAL: `background` (default) a thread of the handle's own while no other
   * connection writes, so that commits do not wait for a checkpoint's copying and fsyncs
   * (checkpointer.ts; handles in a main thread only), else SQLite's automatic checkpoint inside
   * the commit that fills the WAL; `inline` always the latter. A `wal_autocheckpoint` in
   * `pragmas` means `inline`.
   */
  checkpoints?: CheckpointMode;
}

export interface SqliteResolved {
  settings: SqliteConnectSettings;
  maxConnections: number;
  connectionTimeoutMs: number;
  writeLockTimeoutMs: number;
  retries: number;
  /** Sessions held longer than this are reported as leaks (log warning; `stats().leaks`). */
  leakReportMs: number;
  /** How values come back (SQLite's values are the same in both modes; checked for the API's sake). */
  values: ValueMode;
  /** The WAL is checkpointed by a thread of the handle's own (checkpointer.ts). */
  backgroundCheckpoints: boolean;
  /** A read-only handle that found no `-wal` and `-shm`: it removes them once closed (wal-leftovers.ts). */
  removeWalAtClose: boolean;
}

/** What `SqliteDatabase.verify()` reports. */
export interface SqliteVerifyResult extends VerifyOutcome {
  ok: boolean;
  ms: number;
}

export class SqliteDatabase extends DirectDatabase<SqlitePinned> {
  /**
   * Builds and starts a database on the absolute path `abs` (openSqlite checks the file first);
   * closed again when starting fails.
   */
  static async create(abs: string, opts: SqliteOptions = {}): Promise<SqliteDatabase> {
    const max = opts.maxConnections ?? 8;
    if (!(max >= 1)) throw new BadInputError('maxConnections must be at least 1', { maxConnections: max });
    const checkpoints = checkCheckpointMode(opts.checkpoints);
    const writeLockTimeoutMs = opts.writeLockTimeoutMs ?? opts.lockTimeoutMs ?? 30_000;
    const settings: SqliteConnectSettings = {
      path: abs,
      readOnly: opts.readOnly === true,
      cacheSizeKiB: opts.cacheSizeKiB ?? 16 * 1024,
      pragmas: opts.pragmas ?? {},
      lockWaitMs: Math.max(0, Math.min(BLOCKING_WAIT_MS, writeLockTimeoutMs)),
    };
    const removeWalAtClose = settings.readOnly && checkReadOnlyOpen(abs);
    const background = checkpointsInBackground(settings, checkpoints);
    const db = new SqliteDatabase({
      settings,
      backgroundCheckpoints: background,
      maxConnections: max,
      connectionTimeoutMs: opts.connectionTimeoutMs ?? 10_000,
      writeLockTimeoutMs,
      retries: opts.retries ?? DEFAULT_TX_RETRIES,
      leakReportMs: opts.leakReportMs ?? 60_000,
      values: opts.values ?? 'exact',
      removeWalAtClose,
    });
    try {
      await db.start(); // bolt_requests is created on first use of a request id, not here
    } catch (err) {
      await db.close();
      throw orDiskFull(err, { path: abs });
    }
    return db;
  }

  private readonly pool: ConnectionPool<InlineConnection>;
  /** Runs autocommit reads of known read-only SQL (`readNow`). */
  private reader: InlineConnection | undefined;
  private readonly shared: SqliteShared;
  private readonly checkpointer: Checkpointer | undefined;

  constructor(private readonly cfg: SqliteResolved) {
    super({
      engine: 'sqlite',
      location: cfg.settings.path,
      label: 'SQLite database',
      readOnly: cfg.settings.readOnly,
      retries: cfg.retries,
      leakReportMs: cfg.leakReportMs,
      // SQLite allows 32,766 parameters per statement; stay well under it.
      maxParams: 8_000,
      paramRules: SQLITE_PARAM_RULES,
      values: cfg.values,
    });
    const writeLock = new WriteLock(cfg.settings.path);
    this.checkpointer = cfg.backgroundCheckpoints
      ? new Checkpointer(cfg.settings, writeLock, cfg.writeLockTimeoutMs, () => this.shared.batcher.openConnection)
      : undefined;
    const onCommit = this.checkpointer?.committed;
    this.pool = new ConnectionPool<InlineConnection>({
      size: cfg.maxConnections,
      acquireTimeoutMs: cfg.connectionTimeoutMs,
      create: async () => {
        try {
          return await openConnection(cfg.settings, Date.now() + cfg.writeLockTimeoutMs, onCommit);
        } catch (err) {
          throw classifyFailure(err, { path: cfg.settings.path });
        }
      },
      destroy: (c) => void c.close(),
    });
    this.shared = {
      path: cfg.settings.path,
      writeLock,
      writeLockTimeoutMs: cfg.writeLockTimeoutMs,
      kinds: new Map(),
      countQuery: () => void this.acct.queries++,
      batcher: new WriteBatcher(cfg.settings, writeLock, cfg.writeLockTimeoutMs, onCommit),
      requestLogReady: false,
      sharedCommit: new SharedCommit(writeLock),
    };
  }

  /** Opens the first connection (applying WAL and the pragmas) so a bad file fails now. */
  async start(): Promise<void> {
    (await this.pool.acquire('open')).release();
    this.checkpointer?.opened();
  }

  query<T extends Row = Row>(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<T[]> {
    const problem = signalProblem(opts.signal);
    if (problem) return Promise.reject(problem);
    if (SqliteDatabase.onceFor(opts)) return this.runOnce(sql, params, opts).then((r) => r.rows as T[]);
    const kind = this.shared.kinds.get(sql);
    // A read-only statement never goes to the write batcher: its connection refuses writes.
    if (kind === true && opts.requestId === undefined && opts.readOnly !== true && this.knownWrite(sql))
      return this.batched(sql, params, true, opts.signal).then((r) => (r.rows ?? []) as T[]);
    if (kind === false && !opts.signal?.aborted) {
      // A known read: at once on the reader connection (no async frames on this hot path).
      const turn = writersFirst() ?? nextTurn();
      if (turn) return turn.then(() => this.readOrQuery<T>(sql, params, opts));
      return this.readOrQuery<T>(sql, params, opts);
    }
    return this.pooledQuery<T>(sql, params, opts);
  }

  /** {@link query} for the first row: a known read stops at it (`get()`), skipping a step of SQLite and the array. */
  override queryOne<T extends Row = Row>(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<T | undefined> {
    if (this.shared.kinds.get(sql) !== false || opts.signal !== undefined || SqliteDatabase.onceFor(opts)) return super.queryOne<T>(sql, params, opts);
    const turn = writersFirst() ?? nextTurn();
    if (turn) return turn.then(() => this.readOneOrQuery<T>(sql, params, opts));
    return this.readOneOrQuery<T>(sql, params, opts);
  }

  private readOneOrQuery<T extends Row>(sql: string, params: readonly unknown[], opts: StatementOptions): Promise<T | undefined> {
    let row: Row | null | undefined;
    try {
      row = this.readAtOnce(sql, params, true);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (row === undefined) return this.pooledQuery<T>(sql, params, opts).then(firstRow);
    return Promise.resolve((row ?? undefined) as T | undefined);
  }

  /** A known read now ({@link readNow}), or on a pooled connection when SQLite is busy. */
  private readOrQuery<T extends Row>(sql: string, params: readonly unknown[], opts: StatementOptions): Promise<T[]> {
    let rows: Row[] | undefined;
    try {
      rows = this.readNow(sql, params);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return rows ? Promise.resolve(rows as T[]) : this.pooledQuery<T>(sql, params, opts);
  }

  private pooledQuery<T extends Row>(sql: string, params: readonly unknown[], opts: StatementOptions): Promise<T[]> {
    return this.withPinned(
      'query',
      (c) => c.query(sql, params, { inTransaction: false, signal: opts.signal, values: opts.values, readOnly: opts.readOnly }),
      opts.signal,
    ) as Promise<T[]>;
  }

  override async execute(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<ExecResult> {
    const problem = signalProblem(opts.signal);
    if (problem) throw problem;
    if (opts.requestId === undefined && opts.readOnly !== true && this.knownWrite(sql))
      return { rowsChanged: (await this.batched(sql, params, false, opts.signal)).changes };
    return super.execute(sql, params, opts);
  }

  /**
   * `PRAGMA integrity_check` and `foreign_key_check`, with exact row counts, on one connection
   * (a read: others keep writing). `ok` is false when either finds a problem.
   */
  async verify(): Promise<SqliteVerifyResult> {
    const started = Date.now();
    const v = await this.withPinned('verify', async (c) => c.now(() => c.connection.verify()));
    const ok = v.integrity.length === 1 && v.integrity[0] === 'ok' && v.foreignKeyViolations.length === 0;
    return { ok, ...v, ms: Date.now() - started };
  }

  /**
   * A consistent copy in `dest` (a new file) through SQLite's online backup API, while others
   * keep writing; the copy is then opened read-only, checked and counted.
   */
  async backup(dest: string): Promise<{ dest: string; tables: Array<{ name: string; rows: number }>; ms: number; integrity: string[] }> {
    const started = Date.now();
    const target = resolve(dest);
    assertNotBesideSource(target, this.location, ['-wal', '-shm', '-journal']);
    // Claimed with O_CREAT | O_EXCL, so SQLite never writes through a link planted there.
    createNewFile(target, 'the backup destination');
    try {
      await this.withPinned('backup', (c) => c.waited(c.connection.backup(target)));
    } catch (err) {
      rmSync(target, { force: true });
      throw err;
    }
    // Read-write, though it only reads: the last connection to close a WAL file checkpoints it and
    // removes its -wal and -shm, which a read-only one cannot (they stayed beside the copy).
    const copy = await SqliteDatabase.create(target, { maxConnections: 1 });
    try {
      const v = await copy.verify();
      return { dest: target, tables: v.tables.filter((t) => t.name !== REQUESTS_TABLE), ms: Date.now() - started, integrity: v.integrity };
    } finally {
      await copy.close();
    }
  }

  lockInfo(): LockInfo {
    const writer = this.shared.writeLock.heldBy();
    return {
      path: this.location,
      engine: 'sqlite',
      role: 'direct',
      // Between processes and threads, SQLite's own lock (inline-connection.ts).
      writerLockKind: 'sqlite',
      writer: writer && { pid: process.pid, ...writer },
      holders: lockHolders(lockFiles(this.location)),
    };
  }

  protected async pin(name: string, forOneOperation: boolean, signal?: AbortSignal): Promise<SqlitePinned> {
    const started = performance.now();
    const pooled = await this.pool.acquire(name, undefined, signal);
    this.acct.waits.add(performance.now() - started);
    const unhold = this.acct.hold(name);
    const lease = {
      conn: pooled.conn,
      release: (broken?: boolean) => {
        unhold();
        pooled.release(broken);
      },
    };
    return new SqlitePinned(lease, this.shared, this.cfg.settings.readOnly, name, forOneOperation);
  }

  /**
   * A write transaction of the handle runs on the writer connection of group commit: writers
   * take turns under the handle's write lock anyway, and one connection keeps its page cache
   * valid from one transaction to the next (a pooled one would find it stale after every other
   * connection's commit: 15 % of a small transaction's time, measured).
   */
  protected override pinWriter(name: string, signal?: AbortSignal): Promise<SqlitePinned> | SqlitePinned {
    if (this.cfg.settings.readOnly) return super.pinWriter(name, signal);
    const conn = this.shared.batcher.openConnection;
    if (conn) return new SqlitePinned({ conn, release: this.acct.hold(name) }, this.shared, false, name, true);
    return this.shared.batcher.connection().then(
      (c) => new SqlitePinned({ conn: c, release: this.acct.hold(name) }, this.shared, false, name, true),
      (err: unknown) => Promise.reject(classifyFailure(err, { path: this.location })),
    );
  }

  protected pruneRequestsSql(): string {
    return `DELETE FROM ${REQUESTS_TABLE} WHERE (auto AND recorded_at < datetime('now', '-10 minutes')) OR recorded_at < datetime('now', '-24 hours')`;
  }

  protected isBroken(_err: unknown, conn: SqlitePinned): boolean {
    return conn.isDead;
  }

  protected poolCounts(): { size: number; inUse: number; idle: number; waiting: number } {
    const p = this.pool.stats();
    return { size: this.pool.opened, inUse: this.acct.holderList().length, idle: p.idle, waiting: p.waiting };
  }

  protected extraStats(): Record<string, unknown> {
    return {
      writer: this.shared.writeLock.heldBy(),
      writerConnection: this.shared.batcher.hasConnection,
      groupCommit: { batches: this.shared.batcher.batches, writes: this.shared.batcher.writes },
      writersWaiting: this.shared.writeLock.waiting,
      sharedCommits: { leftOpen: this.shared.sharedCommit.leftOpen },
      checkpoints: this.checkpointer?.stats() ?? 'inline',
    };
  }

  protected async closeConnections(): Promise<void> {
    // Sessions are closed by now; a connection still lent out is closed under its holder.
    this.pool.close();
    this.pool.destroyLeased();
    // Its connection closes first: the handle's last one to close then checkpoints and removes the WAL.
    await this.checkpointer?.close();
    await Promise.all([this.shared.batcher.close(), this.reader?.close()]);
    if (this.cfg.removeWalAtClose) removeWalLeftovers(this.cfg.settings.path);
  }

  /**
   * A SQL text already seen to only read, run at once on the handle's reader connection: no
   * pool, no queue (statements in one thread run one at a time anyway). Undefined when SQLite
   * is busy (a rollback-journal writer, WAL recovery): the caller then takes the path that
   * waits.
   */
  private readNow(sql: string, params: readonly unknown[]): Row[] | undefined {
    return this.readAtOnce(sql, params, false);
  }

  /** Reads now on the reader connection, every row or (`one`) the first; undefined when it could not (the caller waits). */
  private readAtOnce(sql: string, params: readonly unknown[], one: false): Row[] | undefined;
  private readAtOnce(sql: string, params: readonly unknown[], one: true): Row | null | undefined;
  private readAtOnce(sql: string, params: readonly unknown[], one: boolean): Row[] | Row | null | undefined {
    this.assertOpen();
    checkParams(params, SQLITE_PARAM_RULES);
    this.reader ??= new InlineConnection(this.cfg.settings);
    if (this.reader.isDead) {
      // It could not open: the path that waits reports why (and a later read tries again).
      this.reader = undefined;
      return undefined;
    }
    try {
      const out = one ? this.reader.readOneNow(sql, params) : this.reader.readNow(sql, params); // runs now: no copy needed
      if (out !== undefined) this.acct.queries++;
      return out;
    } catch (err) {
      const e = classifyFailure(err, { path: this.location, sql });
      this.acct.queries++;
      this.acct.countError(e);
      throw e;
    }
  }

  /** A SQL text already seen to write, on a writable handle: it can go straight to group commit. */
  private knownWrite(sql: string): boolean {
    return !this.cfg.settings.readOnly && this.shared.kinds.get(sql) === true && !OUTSIDE_TRANSACTION.test(sql);
  }

  private async batched(sql: string, params: readonly unknown[], rows: boolean, signal?: AbortSignal): Promise<{ rows?: Row[]; changes: number }> {
    this.assertOpen();
    this.acct.queries++;
    try {
      checkParams(params, SQLITE_PARAM_RULES);
      const r = await this.shared.batcher.write(sql, [...(params ?? [])], rows, signal);
      return r;
    } catch (err) {
      this.acct.countError(err);
      throw err;
    }
  }
}
