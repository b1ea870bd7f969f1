/**
 * What the direct adapters (SQLite, PostgreSQL) share above their connections: sessions,
 * transactions with retries, execute-once under a request id, insertMany in batches, pool
 * statistics with holders and leak reports, close. An adapter supplies `pin()` (lend one
 * connection as a `PinnedConnection`) and its own statement fast paths.
 */
import type {
  Database,
  DatabaseStats,
  EngineName,
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
import { insertManyBatched } from './insert-many.js';
import type { PinnedConnection, StatementOutcome } from './pinned.js';
import { PoolAccounting } from './pool-stats.js';
import { PinnedSession } from './session.js';
import { executeOnce, runTransaction } from './transaction.js';

/** Settings every direct adapter has. */
export interface DirectSettings {
  engine: EngineName;
  /** File path, or URL without credentials. */
  location: string;
  /** "SQLite database", "PostgreSQL database": for messages. */
  label: string;
  readOnly: boolean;
  /** Default re-runs of a transaction on a transient failure. */
  retries: number;
  /** Connections held longer than this are reported as leaks (0: never). */
  leakReportMs: number;
  /** Most parameters one statement may carry (insertMany batches by it). */
  maxParams: number;
  /** Engine isolation level for transactions, where the engine has several. */
  isolation?: string;
}

/** Transaction options an adapter may extend (PostgreSQL: isolation). */
export interface DirectTransactionOptions extends TransactionOptions {
  isolation?: string;
}

let sessionSeq = 0;

export abstract class DirectDatabase<P extends PinnedConnection> implements Database {
  readonly engine: EngineName;
  readonly location: string;
  protected readonly acct = new PoolAccounting();
  protected readonly sessions = new Set<PinnedSession>();
  protected closed = false;
  private readonly leakTimer: NodeJS.Timeout | undefined;
  private readonly logger;

  constructor(protected readonly direct: DirectSettings) {
    this.engine = direct.engine;
    this.location = direct.location;
    this.logger = log(direct.engine);
    const ms = direct.leakReportMs;
    if (ms > 0 && Number.isFinite(ms)) {
      this.leakTimer = setInterval(() => {
        const leaks = this.acct.leaks(ms);
        if (leaks.length) this.logger.warn({ location: this.location, leaks }, 'connections held longer than the leak threshold; close sessions you no longer use');
      }, Math.max(1_000, ms / 2));
      this.leakTimer.unref();
    }
  }

  abstract query<T extends Row = Row>(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<T[]>;
  abstract lockInfo(): LockInfo;

  /** Lends one connection to `name`; `forOneOperation` when it is not a session's. */
  protected abstract pin(name: string, forOneOperation: boolean, signal?: AbortSignal): Promise<P>;
  /** True when `err` left the connection unusable (discard it instead of pooling it). */
  protected abstract isBroken(err: unknown, conn: P): boolean;
  /** size, idle and waiting of the pool. */
  protected abstract poolCounts(): { size: number; inUse: number; idle: number; waiting: number };
  /** Engine-specific statistics. */
  protected abstract extraStats(): Record<string, unknown>;
  /** Closes every connection (sessions are closed already). */
  protected abstract closeConnections(): Promise<void>;

  /** A write under `requestId`, applied exactly once. */
  protected executeOnce(sql: string, params: readonly unknown[], requestId: string, signal?: AbortSignal): Promise<ExecResult> {
    return this.withPinned('execute', (c) => executeOnce(c, sql, params, requestId, this.direct.retries, signal), signal);
  }

  async execute(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<ExecResult> {
    if (opts.requestId !== undefined) return this.executeOnce(sql, params, opts.requestId, opts.signal);
    return this.withPinned('execute', (c) => c.execute(sql, params, { inTransaction: false, signal: opts.signal }), opts.signal);
  }

  /** Runs a statement of either kind (as `bolt query` does): rows, rows changed, read or not. */
  async run(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<StatementOutcome> {
    return this.withPinned('run', (c) => c.run(sql, params, { inTransaction: false, signal: opts.signal }), opts.signal);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, opts: DirectTransactionOptions = {}): Promise<T | undefined> {
    return this.withPinned(
      'transaction',
      async (c) => {
        const out = await runTransaction(c, fn, {
          retries: opts.retries ?? this.direct.retries,
          readOnly: this.direct.readOnly,
          isolation: opts.isolation ?? this.direct.isolation,
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
    const pinned = await this.pin(name, false);
    const readOnly = this.direct.readOnly || opts.readOnly === true;
    try {
      if (opts.readOnly && !this.direct.readOnly) await pinned.setReadOnly(true);
    } catch (err) {
      pinned.release(true);
      throw err;
    }
    const s: PinnedSession = new PinnedSession(pinned, {
      name,
      readOnly,
      idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
      maxTransactionMs: opts.maxTransactionMs ?? 30_000,
      retries: this.direct.retries,
      isolation: this.direct.isolation,
      onClose: () => void this.sessions.delete(s),
    });
    this.sessions.add(s);
    return s;
  }

  async insertMany(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], opts: StatementOptions = {}): Promise<ExecResult> {
    return insertManyBatched(this, table, columns, rows, opts, this.direct.maxParams);
  }

  stats(): DatabaseStats {
    return {
      engine: this.engine,
      role: 'direct',
      pool: { ...this.poolCounts(), waitMs: this.acct.waits.summary(), holders: this.acct.holderList() },
      queries: this.acct.queries,
      errorsByCode: { ...this.acct.errorsByCode },
      sessions: this.sessions.size,
      leaks: this.acct.leaks(this.direct.leakReportMs),
      ...this.extraStats(),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.leakTimer) clearInterval(this.leakTimer);
    const open = this.acct.holderList();
    if (open.length) this.logger.warn({ location: this.location, holders: open }, 'closing with connections still held; their open transactions are rolled back');
    await Promise.all([...this.sessions].map((s) => s.close().catch(() => undefined)));
    await this.closeConnections();
  }

  protected assertOpen(): void {
    if (this.closed) throw new ClosedError(`${this.direct.label} ${this.location} is closed`, { location: this.location });
  }

  /** Borrows a connection for one operation; counts the error if it fails. */
  protected async withPinned<T>(name: string, fn: (c: P) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      this.assertOpen();
      const c = await this.pin(name, true, signal);
      let broken = false;
      try {
        return await fn(c);
      } catch (err) {
        broken = this.isBroken(err, c);
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
