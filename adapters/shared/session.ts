/**
 * `Session` over a pinned connection, shared by the direct adapters: explicit begin/commit/
 * rollback, transaction closures with retries, read-only sessions, an idle timeout that closes
 * the session and a maximum transaction time that rolls an open transaction back.
 */
import {
  checkValueMode,
  type ExecResult,
  type Row,
  type Session,
  type SessionOptions,
  type StatementOptions,
  type Transaction,
  type TransactionOptions,
} from '../../core/database.js';
import { firstRow } from '../../core/database.js';
import { BadInputError, SessionClosedError, SessionTimeoutError, TxTimeoutError, type BoltError } from '../../core/errors.js';
import type { PinnedConnection } from './pinned.js';
import { executeOnce, runTransaction } from './transaction.js';
import { ifStartable } from '../../core/abortable.js';

export interface PinnedSessionOptions extends Required<Pick<SessionOptions, 'name' | 'readOnly' | 'idleTimeoutMs' | 'maxTransactionMs' | 'values'>> {
  /** Default retries of `transaction()`. */
  retries: number;
  /** Engine isolation level for transactions (PostgreSQL). */
  isolation?: string;
  /** Called once when the session ends (for the pool's bookkeeping). */
  onClose: () => void;
}

/** A session holding one connection until `close()`. */
export class PinnedSession implements Session {
  readonly name: string;
  readonly readOnly: boolean;
  private inTx = false;
  private closed: BoltError | undefined;
  private txExpired: BoltError | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private txTimer: NodeJS.Timeout | undefined;
  private busy = 0;

  constructor(
    private readonly conn: PinnedConnection,
    private readonly opts: PinnedSessionOptions,
  ) {
    this.name = opts.name;
    this.readOnly = opts.readOnly;
    this.touch();
  }

  async queryOne<T extends Row = Row>(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<T | undefined> {
    const conn = this.conn;
    if (!conn.queryOne) return this.query<T>(sql, params, opts).then(firstRow);
    const values = checkValueMode(opts.values) ?? this.opts.values;
    return ifStartable(opts.signal, conn.stopsAbortedStatements, () =>
      this.use(
        () =>
          conn.queryOne!(sql, params, { inTransaction: this.inTx, signal: opts.signal, values, readOnly: opts.readOnly === true }) as Promise<T | undefined>,
      ),
    );
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<T[]> {
    const values = checkValueMode(opts.values) ?? this.opts.values;
    return ifStartable(opts.signal, this.conn.stopsAbortedStatements, () =>
      this.use(() => this.conn.query(sql, params, { inTransaction: this.inTx, signal: opts.signal, values, readOnly: opts.readOnly === true }) as Promise<T[]>),
    );
  }

  async execute(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<ExecResult> {
    return ifStartable(opts.signal, this.conn.stopsAbortedStatements, () => this.use(() => this.executeNow(sql, params, opts)));
  }

  /**
   * `execute` in this session's turn: a request id outside a transaction is applied once, in one
   * of its own. A read-only statement writes nothing, so its request id is not recorded.
   */
  private async executeNow(sql: string, params: readonly unknown[], opts: StatementOptions): Promise<ExecResult> {
    const requestId = opts.readOnly === true ? undefined : opts.requestId;
    if (requestId === undefined || this.inTx) {
      if (requestId !== undefined) {
        const prior = await this.conn.lookupRequest(requestId);
        if (prior !== undefined) return { rowsChanged: prior, deduplicated: true };
        const r = await this.conn.execute(sql, params, { inTransaction: true, signal: opts.signal });
        await this.conn.recordRequest(requestId, r.rowsChanged);
        return r;
      }
      return this.conn.execute(sql, params, { inTransaction: this.inTx, signal: opts.signal, readOnly: opts.readOnly === true });
    }
    return executeOnce(this.conn, sql, params, requestId, this.opts.retries, opts.signal);
  }

  async begin(): Promise<void> {
    await this.use(async () => {
      if (this.inTx) throw new BadInputError(`Session "${this.name}" already has a transaction open; commit or roll it back first`);
      await this.conn.begin({ readOnly: this.readOnly, isolation: this.opts.isolation });
      this.startTx(true);
    });
  }

  async commit(): Promise<void> {
    await this.use(async () => {
      if (!this.inTx) throw new BadInputError(`Session "${this.name}" has no transaction open to commit`);
      this.endTx();
      await this.conn.commit();
    });
  }

  async rollback(): Promise<void> {
    if (this.txExpired && !this.inTx) {
      this.txExpired = undefined;
      return;
    }
    await this.use(async () => {
      this.endTx();
      await this.conn.rollback();
    });
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    return this.use(async () => {
      if (this.inTx) throw new BadInputError(`Session "${this.name}" already has a transaction open; transactions do not nest`);
      this.startTx(false);
      try {
        const out = await runTransaction(this.conn, fn, {
          retries: opts.retries ?? this.opts.retries,
          readOnly: this.readOnly,
          isolation: this.opts.isolation,
          requestId: opts.requestId,
          signal: opts.signal,
          values: this.opts.values,
        });
        return (out.applied ? out.value : undefined) as T;
      } finally {
        this.endTx();
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = new SessionClosedError(`Session "${this.name}" is closed`, { session: this.name });
    const wasInTx = this.inTx;
    this.clearTimers();
    let broken = false;
    if (wasInTx) {
      await this.conn.rollback().catch(() => void (broken = true));
    }
    if (this.readOnly) await this.conn.setReadOnly(false).catch(() => void (broken = true));
    this.conn.release(broken);
    this.opts.onClose();
  }

  /** Runs one operation after the checks every statement needs; keeps the idle timer fresh. */
  private async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw this.closed;
    // After an expired transaction every statement fails until the caller acknowledges with rollback().
    if (this.txExpired) throw this.txExpired;
    this.busy++;
    this.clearIdle();
    try {
      return await fn();
    } finally {
      this.busy--;
      this.touch();
    }
  }

  /** Marks a transaction open; an explicit one (begin()) is rolled back after maxTransactionMs. */
  private startTx(explicit: boolean): void {
    this.inTx = true;
    this.txExpired = undefined;
    const ms = this.opts.maxTransactionMs;
    if (explicit && ms > 0 && Number.isFinite(ms)) {
      this.txTimer = setTimeout(() => void this.expireTx(ms), ms);
      this.txTimer.unref();
    }
  }

  private endTx(): void {
    this.inTx = false;
    if (this.txTimer) clearTimeout(this.txTimer);
    this.txTimer = undefined;
  }

  private async expireTx(ms: number): Promise<void> {
    if (!this.inTx || this.closed) return;
    this.endTx();
    this.txExpired = new TxTimeoutError(
      `Session "${this.name}" kept a transaction open longer than ${ms} ms; it was rolled back. Keep transactions short or raise maxTransactionMs`,
      { session: this.name, maxTransactionMs: ms },
    );
    await this.conn.rollback().catch(() => undefined);
  }

  private touch(): void {
    this.clearIdle();
    const ms = this.opts.idleTimeoutMs;
    if (this.closed || this.busy > 0 || !(ms > 0) || !Number.isFinite(ms)) return;
    this.idleTimer = setTimeout(() => {
      void this.close().then(() => {
        this.closed = new SessionTimeoutError(`Session "${this.name}" was closed after ${ms} ms without a statement`, {
          session: this.name,
          idleTimeoutMs: ms,
        });
      });
    }, ms);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private clearTimers(): void {
    this.clearIdle();
    this.endTx();
  }
}
