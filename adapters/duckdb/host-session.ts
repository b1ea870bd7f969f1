/**
 * A session on the host: one pooled connection pinned until `close()`. Statements are run one
 * at a time in call order. Enforces the idle timeout (session closed, open transaction rolled
 * back) and the maximum transaction time (transaction rolled back; the next statement fails
 * with BOLT_TX_TIMEOUT).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  checkValueMode,
  type ExecResult,
  type Row,
  type Session,
  type SessionOptions,
  type StatementOptions,
  type Transaction,
  type TransactionOptions,
  type ValueMode,
} from '../../core/database.js';
import { firstRow } from '../../core/database.js';
import { unlessAborted } from '../../core/abortable.js';
import { interruptedOnAbort, interruptUntilStopped } from './interrupt.js';
import { AbortedError, BadInputError, BoltError, SessionClosedError, SessionTimeoutError, TxTimeoutError, rolledBackAtCommit } from '../../core/errors.js';
import { destroyPrepared, prepareSql, runPrepared, type PreparedSql, type StatementResult } from './run.js';
import { assertAllowed, assertText, mayLeaveObjects } from './statement-checks.js';
import { classifyDuckDBError } from './classify-errors.js';
import { beginTransaction, commitTransaction, inTransaction, rollbackTransaction } from './transaction-control.js';
import type { Lease } from '../shared/connection-pool.js';
import { findRequest, recordRequest } from './request-log.js';
import { isAutoRequestId } from '../../core/request-log.js';
import { runSessionTransaction } from '../shared/session-transaction.js';
import { log } from '../../core/logger.js';
import { DUCKDB_PARAM_RULES, checkParams } from '../../core/parameters.js';
import type { WriteGate } from './write-gate.js';

let nextSessionId = 1;

export const DEFAULT_SESSION_IDLE_MS = 60_000;
export const DEFAULT_MAX_TRANSACTION_MS = 30_000;

/** Callbacks from a session to the host that owns it. */
export interface SessionHooks {
  onClosed(s: HostSession): void;
  onStatement(ok: boolean, err?: BoltError): void;
  /** Force read-only (the whole database was opened read-only). */
  readOnlyDatabase: boolean;
  /** Serialises concurrent copies of one request id on the host. */
  onceById<T extends { rowsChanged: number }>(id: string, fn: () => Promise<T>): Promise<T>;
  /** The host's write gate: passed by every transaction that may write (adapters/duckdb/write-gate.ts). */
  gate: WriteGate;
  /** Makes sure `bolt_requests` exists (undefined when it is known to). */
  requestLog(): Promise<void> | undefined;
}

export class HostSession implements Session {
  readonly id = nextSessionId++;
  readonly name: string;
  readonly readOnly: boolean;
  readonly openedAt = Date.now();
  private chain: Promise<unknown> = Promise.resolve();
  private closedWith?: BoltError;
  private txAbortedWith?: BoltError;
  private inTx = false;
  /** A statement of the open transaction failed while running: DuckDB will not commit it. */
  private txFailed = false;
  /** A statement here may have left temporary objects on the connection (see `mayLeaveObjects`). */
  private leftObjects = false;
  /** This session's open transaction counts as a writer at the host's write gate. */
  private gateHeld = false;
  private txStarted = 0;
  private idleTimer?: NodeJS.Timeout;
  private txTimer?: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly maxTxMs: number;
  /** How this session's values come back unless a statement says otherwise. */
  private readonly values: ValueMode;
  private busy = 0;

  constructor(
    private readonly lease: Lease<DuckDBConnection>,
    opts: SessionOptions,
    private readonly hooks: SessionHooks,
  ) {
    this.name = opts.name ?? `session-${this.id}`;
    this.readOnly = Boolean(opts.readOnly) || hooks.readOnlyDatabase;
    this.idleMs = opts.idleTimeoutMs ?? DEFAULT_SESSION_IDLE_MS;
    this.maxTxMs = opts.maxTransactionMs ?? DEFAULT_MAX_TRANSACTION_MS;
    this.values = checkValueMode(opts.values) ?? 'exact';
    this.armIdle();
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }
  get inTransaction(): boolean {
    return this.inTx;
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    if (this.closedWith || this.idleMs <= 0 || !Number.isFinite(this.idleMs)) return;
    this.idleTimer = setTimeout(() => {
      if (this.busy > 0) return this.armIdle();
      log('session').warn({ session: this.name, idleMs: this.idleMs }, 'session idle timeout: closing');
      void this.shutdown(
        new SessionTimeoutError(
          `session "${this.name}" was closed after ${this.idleMs} ms without a statement${this.inTx ? '; its transaction was rolled back' : ''}`,
          {
            session: this.name,
            idleTimeoutMs: this.idleMs,
          },
        ),
      );
    }, this.idleMs);
    this.idleTimer.unref();
  }

  /** Runs `fn` after everything queued before it, with the session's checks. */
  private enqueue<T>(fn: (conn: DuckDBConnection) => Promise<T>, allowAfterTxAbort = false): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closedWith) throw this.closedWith;
      if (this.txAbortedWith && !allowAfterTxAbort) throw this.txAbortedWith;
      this.busy++;
      try {
        return await fn(this.lease.conn);
      } finally {
        this.busy--;
        this.armIdle();
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /**
   * Runs `fn`, this session's statement now on `conn`; when `signal` aborts meanwhile, the
   * statement is interrupted (repeatedly until it ends: one still being prepared would miss a
   * single interrupt) and fails with BOLT_ABORTED. Inside a transaction DuckDB then refuses
   * everything but ROLLBACK, as after any failed statement.
   */
  private async stoppable<T>(signal: AbortSignal | undefined, conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
    if (!signal) return fn();
    if (signal.aborted) throw new AbortedError('the statement was not started: its caller stopped waiting', { session: this.name });
    try {
      return await interruptedOnAbort(conn, [signal], fn);
    } catch (err) {
      if (signal.aborted && !this.closedWith && !this.txAbortedWith) {
        throw new AbortedError('the statement was interrupted: its caller stopped waiting', { session: this.name }, { cause: err });
      }
      throw err;
    }
  }

  private async statement(
    sql: string,
    params: readonly unknown[] | undefined,
    conn: DuckDBConnection,
    requestId?: string,
    values: ValueMode = this.values,
    readOnly = false,
  ): Promise<StatementResult & { deduplicated?: boolean }> {
    checkParams(params, DUCKDB_PARAM_RULES);
    let p: PreparedSql;
    let executing = false;
    assertText(sql, this.readOnly || readOnly);
    try {
      p = await prepareSql(conn, sql, params?.length ?? 0, { cache: true });
    } catch (err) {
      throw this.txAbortedWith ?? this.closedWith ?? err; // interrupted while preparing
    }
    try {
      assertAllowed(p, sql, this.readOnly || readOnly);
      if (mayLeaveObjects(p, sql)) this.leftObjects = true;
      if (p.isTransactionControl) throw new BadInputError('use begin()/commit()/rollback() or transaction() instead of transaction statements', { sql });
      const run = () => {
        // Closed or timed out while this statement was being prepared or waited at the gate: an
        // interrupt sent before DuckDB starts a statement is lost, so it must not start.
        const ending = this.closedWith ?? this.txAbortedWith;
        if (ending) throw ending;
        if (requestId !== undefined && !p.isRead) return this.loggedStatement(conn, p, params, sql, requestId);
        // Outside a transaction a script of several statements is all-or-nothing.
        if (!this.inTx && !p.isRead && p.count > 1) return inTransaction(conn, () => runPrepared(p, params, sql, values));
        return runPrepared(p, params, sql, values);
      };
      // Inside a transaction the gate was passed at BEGIN; alone, a write is its own transaction.
      executing = true;
      const r = p.isRead || this.inTx ? await run() : await this.hooks.gate.writing(run);
      this.hooks.onStatement(true);
      return r;
    } catch (err) {
      // DuckDB then rolls the transaction back at COMMIT, saying nothing: commit() says it.
      if (executing && this.inTx) this.txFailed = true;
      // A statement interrupted by the transaction time limit reports that, not "Interrupted".
      const e = this.txAbortedWith ?? this.closedWith ?? err;
      this.hooks.onStatement(false, e as BoltError);
      throw e;
    } finally {
      destroyPrepared(p);
    }
  }

  /**
   * A write with a request id, applied at most once: inside the session's open transaction the
   * id is looked up and recorded in that transaction (so it counts only if the transaction
   * commits); in autocommit the lookup, the write and the record get a transaction of their own.
   */
  private async loggedStatement(
    conn: DuckDBConnection,
    p: PreparedSql,
    params: readonly unknown[] | undefined,
    sql: string,
    id: string,
  ): Promise<StatementResult & { deduplicated?: boolean }> {
    const logMade = this.hooks.requestLog();
    if (logMade) await logMade;
    const once = async (): Promise<StatementResult & { deduplicated?: boolean }> => {
      const seen = await findRequest(conn, id);
      if (seen !== undefined) return { rows: [], rowsChanged: seen, isRead: false, deduplicated: true };
      const r = await runPrepared(p, params, sql);
      await recordRequest(conn, id, r.rowsChanged, isAutoRequestId(id));
      return r;
    };
    if (this.inTx) return once();
    return this.hooks.onceById(id, async () => {
      await beginTransaction(conn);
      try {
        const r = await once();
        await (r.deduplicated ? rollbackTransaction(conn) : commitTransaction(conn));
        return r;
      } catch (err) {
        await rollbackTransaction(conn).catch(() => undefined);
        throw classifyDuckDBError(err, { sql });
      }
    });
  }

  queryOne<T extends Row = Row>(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<T | undefined> {
    return this.query<T>(sql, params, opts).then(firstRow);
  }

  query<T extends Row = Row>(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<T[]> {
    const values = checkValueMode(opts?.values) ?? this.values;
    return unlessAborted(opts?.signal, () =>
      this.enqueue(
        async (conn) =>
          (await this.stoppable(opts?.signal, conn, () => this.statement(sql, params, conn, undefined, values, opts?.readOnly === true))).rows as T[],
      ),
    );
  }

  execute(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<ExecResult> {
    if (opts?.requestId !== undefined && typeof opts.requestId !== 'string') return Promise.reject(new BadInputError('requestId must be a string'));
    return unlessAborted(opts?.signal, () =>
      this.enqueue(async (conn) => {
        const r = await this.stoppable(opts?.signal, conn, () => this.statement(sql, params, conn, opts?.requestId, undefined, opts?.readOnly === true));
        return r.deduplicated ? { rowsChanged: r.rowsChanged, deduplicated: true } : { rowsChanged: r.rowsChanged };
      }),
    );
  }

  begin(): Promise<void> {
    return this.enqueue(async (conn) => {
      if (this.inTx) throw new BadInputError(`session "${this.name}" already has an open transaction`);
      if (!this.readOnly) {
        await this.hooks.gate.enter();
        this.gateHeld = true;
      }
      try {
        await beginTransaction(conn);
      } catch (err) {
        this.endTx();
        throw err;
      }
      this.inTx = true;
      this.txStarted = Date.now();
      clearTimeout(this.txTimer);
      if (this.maxTxMs > 0 && Number.isFinite(this.maxTxMs)) {
        this.txTimer = setTimeout(() => this.abortTx(), this.maxTxMs);
        this.txTimer.unref();
      }
    });
  }

  /** The open transaction has ended (committed, rolled back, or abandoned). */
  private endTx(): void {
    this.inTx = false;
    this.txFailed = false;
    if (this.gateHeld) {
      this.gateHeld = false;
      this.hooks.gate.leave();
    }
  }

  private abortTx(): void {
    if (!this.inTx) return;
    const err = new TxTimeoutError(`the transaction of session "${this.name}" ran longer than ${this.maxTxMs} ms and was rolled back`, {
      session: this.name,
      maxTransactionMs: this.maxTxMs,
    });
    log('session').warn({ session: this.name, maxTransactionMs: this.maxTxMs }, 'transaction time limit: rolling back');
    this.txAbortedWith = err;
    // Interrupt a running statement, then roll back once the queue reaches us.
    this.interruptUntil(this.chain);
    void this.enqueue(async (conn) => {
      if (this.inTx) await rollbackTransaction(conn).catch(() => undefined);
      this.endTx();
    }, true);
  }

  commit(): Promise<void> {
    return this.enqueue(async (conn) => {
      if (!this.inTx) throw new BadInputError(`session "${this.name}" has no open transaction to commit`);
      clearTimeout(this.txTimer);
      if (this.txFailed) {
        await rollbackTransaction(conn).catch(() => undefined);
        this.endTx();
        throw rolledBackAtCommit();
      }
      try {
        await commitTransaction(conn);
      } catch (err) {
        await rollbackTransaction(conn).catch(() => undefined);
        throw classifyDuckDBError(err);
      } finally {
        this.endTx();
      }
    });
  }

  rollback(): Promise<void> {
    return this.enqueue(async (conn) => {
      clearTimeout(this.txTimer);
      const wasAborted = this.txAbortedWith;
      this.txAbortedWith = undefined;
      if (!this.inTx || wasAborted) {
        this.endTx();
        return;
      }
      this.endTx();
      await rollbackTransaction(conn).catch(() => undefined);
    }, true);
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    return runSessionTransaction(this, fn, opts) as Promise<T>;
  }

  close(): Promise<void> {
    return this.shutdown(new SessionClosedError(`session "${this.name}" is closed`, { session: this.name }));
  }

  /** Ends the session for its host's sake (the host is closing): later calls fail with `reason`. */
  abandon(reason: BoltError): Promise<void> {
    return this.shutdown(reason);
  }

  /** Rolls back, returns the connection, and makes later calls fail with `reason`. */
  private async shutdown(reason: BoltError): Promise<void> {
    if (this.closedWith) return;
    this.closedWith = reason;
    clearTimeout(this.idleTimer);
    clearTimeout(this.txTimer);
    this.interruptUntil(this.chain);
    await this.chain;
    let broken = false;
    if (this.inTx) {
      try {
        await rollbackTransaction(this.lease.conn);
      } catch {
        broken = true;
      }
      this.endTx();
    }
    // A connection that may hold this session's temporary objects is closed, not lent again.
    this.lease.release(broken || this.leftObjects);
    this.hooks.onClosed(this);
  }

  /** Interrupts the statement running now, repeatedly, until `settled` (the queue as it is now) has settled. */
  private interruptUntil(settled: Promise<unknown>): void {
    if (this.busy === 0) return;
    void settled.finally(interruptUntilStopped(this.lease.conn));
  }

  /** Age and state, for leak reports and `info`. */
  describe(): { id: number; name: string; readOnly: boolean; ageMs: number; inTransaction: boolean; txMs: number } {
    return {
      id: this.id,
      name: this.name,
      readOnly: this.readOnly,
      ageMs: Date.now() - this.openedAt,
      inTransaction: this.inTx,
      txMs: this.inTx ? Date.now() - this.txStarted : 0,
    };
  }
}
