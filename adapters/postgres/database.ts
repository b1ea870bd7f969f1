/**
 * `Database` over PostgreSQL through a `pg` Pool: statements on any pooled client, sessions
 * pinning one client, transactions re-run on serialization failure and deadlock, request-id
 * exactly-once through `bolt_requests`, pool statistics with holders and leak reports.
 */
import pg from 'pg';
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
import { ClosedError } from '../../core/errors.js';
import { log } from '../../core/logger.js';
import { backoffDelay, delay } from '../../storage/retry.js';
import { insertManyBatched } from '../shared/insert-many.js';
import { PoolAccounting } from '../shared/pool-stats.js';
import { PinnedSession } from '../shared/session.js';
import { executeOnce, isTransient, runTransaction } from '../shared/transaction.js';
import { classifyPgError } from './classify-errors.js';
import { poolConfig, type PgConnectSettings } from './connect.js';
import { PgPinned, type PgIsolation, checkIsolation } from './run.js';

const logger = log('postgres');

/** Transaction options with a PostgreSQL isolation level for this transaction. */
export interface PgTransactionOptions extends TransactionOptions {
  isolation?: PgIsolation;
}

export interface PgResolved {
  settings: PgConnectSettings;
  location: string;
  isolation: PgIsolation;
  retries: number;
  leakReportMs: number;
}

/** First keyword says the statement only reads (safe to retry after a lost connection). */
const READ_HEAD = /^\s*(\(\s*)*(select|values|show|table|explain(?![^;]*\banalyze\b))\b/i;

let sessionSeq = 0;

export class PostgresDatabase implements Database {
  readonly engine = 'postgres' as const;
  readonly location: string;
  private readonly pool: pg.Pool;
  private readonly acct = new PoolAccounting();
  private readonly sessions = new Set<PinnedSession>();
  private closed = false;
  private leakTimer: NodeJS.Timeout | undefined;

  constructor(private readonly cfg: PgResolved) {
    this.location = cfg.location;
    this.pool = new pg.Pool(poolConfig(cfg.settings));
    // An idle client losing its server must not crash the process; the pool drops it.
    this.pool.on('error', (err) => logger.warn({ location: this.location, err: { message: err.message, code: (err as { code?: string }).code } }, 'idle PostgreSQL client failed'));
    if (cfg.leakReportMs > 0 && Number.isFinite(cfg.leakReportMs)) {
      this.leakTimer = setInterval(() => {
        const leaks = this.acct.leaks(cfg.leakReportMs);
        if (leaks.length) logger.warn({ location: this.location, leaks }, 'connections held longer than the leak threshold; close sessions you no longer use');
      }, Math.max(1_000, cfg.leakReportMs / 2));
      this.leakTimer.unref();
    }
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<T[]> {
    const retryable = READ_HEAD.test(sql);
    return this.withRetry(retryable, opts.signal, () => this.withPinned('query', (c) => c.query(sql, params, { inTransaction: false, signal: opts.signal }), opts.signal)) as Promise<T[]>;
  }

  async execute(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<ExecResult> {
    if (opts.requestId === undefined) {
      return this.withRetry(READ_HEAD.test(sql), opts.signal, () =>
        this.withPinned('execute', (c) => c.execute(sql, params, { inTransaction: false, signal: opts.signal }), opts.signal),
      );
    }
    const id = opts.requestId;
    return this.withRetry(true, opts.signal, () => this.withPinned('execute', (c) => executeOnce(c, sql, params, id, this.cfg.retries, opts.signal), opts.signal));
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, opts: PgTransactionOptions = {}): Promise<T | undefined> {
    return this.withPinned(
      'transaction',
      async (c) => {
        const out = await runTransaction(c, fn, {
          retries: opts.retries ?? this.cfg.retries,
          readOnly: this.cfg.settings.readOnly,
          isolation: opts.isolation ? checkIsolation(opts.isolation) : this.cfg.isolation,
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
    const pinned = await this.pin(name);
    const readOnly = this.cfg.settings.readOnly || opts.readOnly === true;
    try {
      if (opts.readOnly && !this.cfg.settings.readOnly) await pinned.setReadOnly(true);
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
      isolation: this.cfg.isolation,
      onClose: () => void this.sessions.delete(s),
    });
    this.sessions.add(s);
    return s;
  }

  async insertMany(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], opts: StatementOptions = {}): Promise<ExecResult> {
    // PostgreSQL allows 65,535 parameters per statement.
    return insertManyBatched(this, table, columns, rows, opts, 30_000);
  }

  stats(): DatabaseStats {
    const holders = this.acct.holderList();
    return {
      engine: 'postgres',
      role: 'direct',
      pool: {
        size: this.pool.totalCount,
        inUse: this.pool.totalCount - this.pool.idleCount,
        idle: this.pool.idleCount,
        waiting: this.pool.waitingCount,
        waitMs: this.acct.waits.summary(),
        holders,
      },
      queries: this.acct.queries,
      errorsByCode: { ...this.acct.errorsByCode },
      sessions: this.sessions.size,
      isolation: this.cfg.isolation,
      leaks: this.acct.leaks(this.cfg.leakReportMs),
    };
  }

  lockInfo(): LockInfo {
    return { path: this.location, engine: 'postgres', role: 'direct', schema: this.cfg.settings.schema };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.leakTimer) clearInterval(this.leakTimer);
    const open = this.acct.holderList();
    if (open.length) logger.warn({ location: this.location, holders: open }, 'closing with connections still held; their open transactions are rolled back');
    await Promise.all([...this.sessions].map((s) => s.close().catch(() => undefined)));
    await this.pool.end();
  }

  /** The pool itself, for adapters built on this one (describe, the task queue's LISTEN). */
  get rawPool(): pg.Pool {
    return this.pool;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`PostgreSQL database ${this.location} is closed`, { location: this.location });
  }

  /** Checks out one client for `name`, timing the wait. */
  private async pin(name: string): Promise<PgPinned> {
    this.assertOpen();
    const started = performance.now();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw classifyPgError(err, { location: this.location, holders: this.acct.holderList(), max: this.cfg.settings.max });
    }
    this.acct.waits.record(performance.now() - started);
    const unhold = this.acct.hold(name);
    let released = false;
    return new PgPinned(
      client,
      this.location,
      name,
      (broken) => {
        if (released) return;
        released = true;
        unhold();
        client.release(broken ? true : undefined);
      },
      this.cfg.isolation,
    );
  }

  private async withPinned<T>(name: string, fn: (c: PgPinned) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.acct.queries++;
    try {
      if (signal?.aborted) throw classifyPgError(signal.reason, { location: this.location });
      const c = await this.pin(name);
      let broken = false;
      try {
        return await fn(c);
      } catch (err) {
        broken = (err as { details?: { connectionLost?: boolean } }).details?.connectionLost === true;
        throw err;
      } finally {
        c.release(broken);
      }
    } catch (err) {
      this.acct.countError(err);
      throw err;
    }
  }

  /** Re-runs `op` on transient failures when it is safe (reads, request-id writes). */
  private async withRetry<T>(safe: boolean, signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (!safe || !isTransient(err) || attempt >= this.cfg.retries) throw err;
        await delay(backoffDelay(attempt, { baseMs: 10, capMs: 500 }), signal);
      }
    }
  }
}
