/**
 * `Database` over a SQLite file: connection workers (better-sqlite3 never runs on the main
 * thread), WAL, one writer at a time across threads and processes, request-id exactly-once
 * through `bolt_requests`, sessions and transactions from `adapters/shared`.
 */
import type {
  Database,
  DatabaseStats,
  ExecResult,
  LockInfo,
  Row,
  Session,
  SessionOptions,
  StatementOptions,
  Transaction,
  TransactionOptions,
} from '../../core/database.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BadInputError, ClosedError } from '../../core/errors.js';
import { log } from '../../core/logger.js';
import { insertManyBatched } from '../shared/insert-many.js';
import { PoolAccounting } from '../shared/pool-stats.js';
import { PinnedSession } from '../shared/session.js';
import { executeOnce, runTransaction } from '../shared/transaction.js';
import type { SqliteConnectSettings } from './connect.js';
import { lockFiles, lockHolders } from './lock-holders.js';
import { OUTSIDE_TRANSACTION, SqlitePinned, reviveRows, type SqliteShared } from './pinned.js';
import { WorkerPool } from './pool.js';
import { openSqlite } from './open.js';
import type { VerifyOutcome } from './protocol.js';
import { WriteBatcher } from './write-batcher.js';
import { REQUESTS_TABLE } from '../shared/pinned.js';
import { WriteLock } from './write-lock.js';

const logger = log('sqlite');

/** Settings of an open SQLite database (resolved defaults). */
export interface SqliteResolved {
  settings: SqliteConnectSettings;
  maxConnections: number;
  connectionTimeoutMs: number;
  writeLockTimeoutMs: number;
  retries: number;
  /** Sessions held longer than this are reported as leaks (log warning; `stats().leaks`). */
  leakReportMs: number;
}

/** What `SqliteDatabase.verify()` reports. */
export interface SqliteVerifyResult extends VerifyOutcome {
  ok: boolean;
  ms: number;
}

let sessionSeq = 0;

export class SqliteDatabase implements Database {
  readonly engine = 'sqlite' as const;
  readonly location: string;
  private readonly acct = new PoolAccounting();
  private readonly pool: WorkerPool;
  private readonly shared: SqliteShared;
  private readonly sessions = new Set<PinnedSession>();
  private closed = false;
  private leakTimer: NodeJS.Timeout | undefined;

  constructor(private readonly cfg: SqliteResolved) {
    this.location = cfg.settings.path;
    this.pool = new WorkerPool(cfg.settings, cfg.maxConnections, cfg.connectionTimeoutMs, this.acct);
    const writeLock = new WriteLock(cfg.settings.path);
    this.shared = {
      path: cfg.settings.path,
      writeLock,
      writeLockTimeoutMs: cfg.writeLockTimeoutMs,
      kinds: new Map(),
      countQuery: () => void this.acct.queries++,
      batcher: new WriteBatcher(cfg.settings, writeLock, cfg.writeLockTimeoutMs),
    };
    if (cfg.leakReportMs > 0 && Number.isFinite(cfg.leakReportMs)) {
      this.leakTimer = setInterval(() => this.reportLeaks(), Math.max(1_000, cfg.leakReportMs / 2));
      this.leakTimer.unref();
    }
  }

  /** Opens the first connection (applying WAL and the pragmas) so a bad file fails now. */
  async start(): Promise<void> {
    await this.pool.warm();
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<T[]> {
    if (opts.requestId === undefined && this.knownWrite(sql)) return ((await this.batched(sql, params, true, opts.signal)).rows ?? []) as T[];
    return this.withPinned('query', (c) => c.query(sql, params, { inTransaction: false, signal: opts.signal }), opts.signal) as Promise<T[]>;
  }

  async execute(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<ExecResult> {
    if (opts.requestId === undefined && this.knownWrite(sql)) return { rowsChanged: (await this.batched(sql, params, false, opts.signal)).changes };
    return this.withPinned(
      'execute',
      (c) =>
        opts.requestId === undefined
          ? c.execute(sql, params, { inTransaction: false, signal: opts.signal })
          : executeOnce(c, sql, params, opts.requestId, this.cfg.retries, opts.signal),
      opts.signal,
    );
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T | undefined> {
    return this.withPinned(
      'transaction',
      async (c) => {
        const out = await runTransaction(c, fn, {
          retries: opts.retries ?? this.cfg.retries,
          readOnly: this.cfg.settings.readOnly,
          requestId: opts.requestId,
          signal: opts.signal,
        });
        return out.applied ? out.value : undefined;
      },
      opts.signal,
    );
  }

  async session(opts: SessionOptions = {}): Promise<Session> {
    this.assertOpen();
    const name = opts.name ?? `session-${++sessionSeq}`;
    const lease = await this.pool.acquire(name);
    const pinned = new SqlitePinned(lease, this.shared, this.cfg.settings.readOnly, name);
    const readOnly = this.cfg.settings.readOnly || opts.readOnly === true;
    try {
      if (opts.readOnly) await pinned.setReadOnly(true);
    } catch (err) {
      pinned.release(true);
      throw err;
    }
    const s: PinnedSession = new PinnedSession(pinned, {
      name,
      readOnly,
      idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
      maxTransactionMs: opts.maxTransactionMs ?? 30_000,
      retries: this.cfg.retries,
      onClose: () => void this.sessions.delete(s),
    });
    this.sessions.add(s);
    return s;
  }

  async insertMany(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], opts: StatementOptions = {}): Promise<ExecResult> {
    // SQLite allows 32,766 parameters per statement; stay well under it.
    return insertManyBatched(this, table, columns, rows, opts, 8_000);
  }

  /**
   * `PRAGMA integrity_check` and `foreign_key_check`, with exact row counts, on one connection
   * (a read: others keep writing). `ok` is false when either finds a problem.
   */
  async verify(): Promise<SqliteVerifyResult> {
    const started = Date.now();
    const v = await this.withPinned('verify', (c) => c.call<VerifyOutcome>({ op: 'verify' }));
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
    if (existsSync(target)) throw new BadInputError(`${target} already exists: back up to a new file`, { dest: target });
    await this.withPinned('backup', (c) => c.call({ op: 'backup', dest: target }));
    const copy = await openSqlite(target, { readOnly: true, maxConnections: 1 });
    try {
      const v = await (copy as SqliteDatabase).verify();
      return { dest: target, tables: v.tables.filter((t) => t.name !== REQUESTS_TABLE), ms: Date.now() - started, integrity: v.integrity };
    } finally {
      await copy.close();
    }
  }

  stats(): DatabaseStats {
    const holders = this.acct.holderList();
    return {
      engine: 'sqlite',
      role: 'direct',
      pool: {
        size: this.pool.size,
        inUse: holders.length,
        idle: this.pool.idleCount,
        waiting: this.pool.waiting,
        waitMs: this.acct.waits.summary(),
        holders,
      },
      queries: this.acct.queries,
      errorsByCode: { ...this.acct.errorsByCode },
      sessions: this.sessions.size,
      writer: this.shared.writeLock.heldBy(),
      writerConnection: this.shared.batcher.hasConnection,
      groupCommit: { batches: this.shared.batcher.batches, writes: this.shared.batcher.writes },
      leaks: this.acct.leaks(this.cfg.leakReportMs),
    };
  }

  lockInfo(): LockInfo {
    const writer = this.shared.writeLock.heldBy();
    return {
      path: this.location,
      engine: 'sqlite',
      role: 'direct',
      writerLock: `${this.location}.bolt.wlock`,
      writer: writer && { pid: process.pid, ...writer },
      holders: lockHolders(lockFiles(this.location)),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.leakTimer) clearInterval(this.leakTimer);
    const open = this.acct.holderList();
    if (open.length) logger.warn({ path: this.location, holders: open }, 'closing with connections still held; their open transactions are rolled back');
    await Promise.all([...this.sessions].map((s) => s.close().catch(() => undefined)));
    await Promise.all([this.shared.batcher.close(), this.pool.close()]);
    this.shared.writeLock.close();
  }

  /** Logs sessions held longer than `leakReportMs` (name and age). */
  private reportLeaks(): void {
    const leaks = this.acct.leaks(this.cfg.leakReportMs);
    if (leaks.length) logger.warn({ path: this.location, leaks }, 'connections held longer than the leak threshold; close sessions you no longer use');
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`SQLite database ${this.location} is closed`, { path: this.location });
  }

  /** A SQL text already seen to write, on a writable handle: it can go straight to group commit. */
  private knownWrite(sql: string): boolean {
    return !this.cfg.settings.readOnly && this.shared.kinds.get(sql) === true && !OUTSIDE_TRANSACTION.test(sql);
  }

  private async batched(sql: string, params: readonly unknown[], rows: boolean, signal?: AbortSignal): Promise<{ rows?: Row[]; changes: number }> {
    this.assertOpen();
    this.acct.queries++;
    try {
      const r = await this.shared.batcher.write(sql, [...params], rows, signal);
      if (r.rows) reviveRows(r.rows);
      return r;
    } catch (err) {
      this.acct.countError(err);
      throw err;
    }
  }

  /** Borrows a connection for one operation. */
  private async withPinned<T>(name: string, fn: (c: SqlitePinned) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.assertOpen();
    try {
      const lease = await this.pool.acquire(name, signal);
      const c = new SqlitePinned(lease, this.shared, this.cfg.settings.readOnly, name, true);
      let broken = false;
      try {
        return await fn(c);
      } catch (err) {
        broken = lease.conn.isDead;
        throw err;
      } finally {
        c.release(broken);
      }
    } catch (err) {
      this.acct.countError(err);
      throw err;
    }
  }
}
