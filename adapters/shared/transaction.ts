/**
 * Bolt's one transaction engine, used by every engine: BEGIN, run the closure, COMMIT; on a
 * transient failure (write conflict, deadlock, busy: `isTransient`) ROLLBACK and re-run the
 * whole closure with capped exponential backoff. A `requestId` makes the transaction
 * exactly-once: it is looked up first (already applied → the closure is not run) and recorded
 * in `bolt_requests` in the same transaction. It drives a `TransactionTarget`: a pinned
 * connection of SQLite or PostgreSQL, or a DuckDB session (session-transaction.ts).
 */
import { firstRow, checkValueMode, type ExecResult, type Row, type StatementOptions, type Transaction, type ValueMode } from '../../core/database.js';
import { AbortedError, ClosedError, TxConflictError, hasCode, isTransient } from '../../core/errors.js';
import { delay } from '../../storage/platform/retry.js';
import { backoffDelay } from '../../core/backoff.js';
import type { PinnedConnection, RunOptions } from './pinned.js';
import { ifStartable, signalProblem } from '../../core/abortable.js';

/** Re-runs of a transaction that keeps meeting transient failures, when the caller gives no `retries`. */
export const DEFAULT_TX_RETRIES = 5;

/** What the engine drives: BEGIN/COMMIT/ROLLBACK, statements, and the request log. */
export interface TransactionTarget extends Pick<
  PinnedConnection,
  'query' | 'queryOne' | 'execute' | 'begin' | 'commit' | 'rollback' | 'lookupRequest' | 'recordRequest' | 'stopsAbortedStatements'
> {
  /**
   * The closure's handle, for a target that applies statement request ids itself (a DuckDB
   * session); `counter.rows` must count the rows changed. Default: `TransactionHandle`.
   */
  handle?(counter: TransactionCounter): Transaction;
}

export interface RunTransactionOptions {
  retries: number;
  readOnly: boolean;
  isolation?: string;
  requestId?: string;
  /** `requestId` was generated for this call: record it without looking it up first (a scan). */
  freshRequestId?: boolean;
  signal?: AbortSignal;
  /** How the closure's query results come back unless a statement says otherwise. */
  values?: ValueMode;
}

/** For a closure returning `T`: what to record under `requestId` (see runTransaction). */
export interface RecordOption<T> {
  /**
   * The rows changed to record under `requestId` once the closure returned `value`, or false to
   * record nothing (it only read: a re-send runs it again). Default: the rows the handle counted.
   */
  record?: (value: T) => number | false;
}

/** Outcome of `runTransaction`: `applied: false` when the request id was already recorded. */
export type TransactionOutcome<T> = { applied: true; value: T; rowsChanged: number } | { applied: false; rowsChanged: number };

/** Rows changed by one run of a transaction's closure; `ended` once that run is over. */
export interface TransactionCounter {
  rows: number;
  ended?: boolean;
  /** A statement's signal fired while it ran: whether it took effect is unknown, so this run must not commit. */
  abortedInFlight?: boolean;
}

/** The error of a call on a transaction's handle after that transaction ended. */
export function transactionEnded(): ClosedError {
  return new ClosedError('this transaction has ended: use its handle only inside its callback, before the promise the callback returns settles');
}

/**
 * A Transaction handle bound to an open transaction on `conn`; counts rows changed. Once that
 * transaction ended, every call fails with BOLT_CLOSED: the connection may be running someone
 * else's transaction by then. A statement whose signal fired while it ran (it may have taken
 * effect, or may still) is noted in `counter`: the closure may catch that BOLT_ABORTED, but the
 * transaction must not commit what it cannot know.
 *
 * A class, not closures: one is made per transaction, and a statement without a signal
 * allocates nothing of its own here (small transactions run at a rate where what each
 * allocates sets how often the young generation is collected, and so the tail latency).
 */
class TransactionHandle implements Transaction {
  constructor(
    private readonly conn: TransactionTarget,
    private readonly counter: TransactionCounter,
    private readonly values: ValueMode | undefined,
  ) {}

  query<T extends Row = Row>(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<T[]> {
    if (this.counter.ended) return Promise.reject(transactionEnded());
    const run = this.runOptions(opts);
    if (opts.signal === undefined) return this.conn.query(sql, params, run) as Promise<T[]>;
    return this.noticed(opts.signal, () => this.conn.query(sql, params, run) as Promise<T[]>);
  }

  queryOne<T extends Row = Row>(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<T | undefined> {
    const conn = this.conn;
    if (!conn.queryOne) return this.query<T>(sql, params, opts).then(firstRow);
    if (this.counter.ended) return Promise.reject(transactionEnded());
    const run = this.runOptions(opts);
    if (opts.signal === undefined) return conn.queryOne(sql, params, run) as Promise<T | undefined>;
    return this.noticed(opts.signal, () => conn.queryOne!(sql, params, run) as Promise<T | undefined>);
  }

  execute(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<ExecResult> {
    if (this.counter.ended) return Promise.reject(transactionEnded());
    const conn = this.conn;
    const run = { inTransaction: true, signal: opts.signal, readOnly: opts.readOnly === true };
    const requestId = opts.requestId;
    if (requestId === undefined && opts.signal === undefined) return conn.execute(sql, params, run).then((r) => this.count(r));
    return this.noticed(opts.signal, async () => {
      if (requestId === undefined) return this.count(await conn.execute(sql, params, run));
      const prior = await conn.lookupRequest(requestId);
      if (prior !== undefined) return { rowsChanged: prior, deduplicated: true };
      const r = await conn.execute(sql, params, run);
      await conn.recordRequest(requestId, r.rowsChanged);
      return this.count(r);
    });
  }

  private count(r: ExecResult): ExecResult {
    this.counter.rows += r.rowsChanged;
    return r;
  }

  private runOptions(opts: StatementOptions): RunOptions {
    return { inTransaction: true, signal: opts.signal, values: checkValueMode(opts.values) ?? this.values, readOnly: opts.readOnly === true };
  }

  /** Starts `start` as the signal allows, noting an abort while it ran (see the class comment). */
  private noticed<R>(signal: AbortSignal | undefined, start: () => Promise<R>): Promise<R> {
    const p = ifStartable(signal, this.conn.stopsAbortedStatements, start);
    return noticeAborts(this.counter, signal, p);
  }
}

/** `p`, noting in `counter` a BOLT_ABORTED from `signal` firing while it ran. */
function noticeAborts<R>(counter: TransactionCounter, signal: AbortSignal | undefined, p: Promise<R>): Promise<R> {
  if (!signal || signal.aborted) return p;
  return p.catch((err: unknown) => {
    if (hasCode(err, 'BOLT_ABORTED')) counter.abortedInFlight = true;
    throw err;
  });
}

/** A target's own handle (`TransactionTarget.handle`), its statements' aborts noted as {@link TransactionHandle} does. */
function noticingAborts(tx: Transaction, counter: TransactionCounter): Transaction {
  return {
    query: (sql, params, o) => noticeAborts(counter, o?.signal, tx.query(sql, params, o)),
    queryOne: (sql, params, o) => noticeAborts(counter, o?.signal, tx.queryOne(sql, params, o)),
    execute: (sql, params, o) => noticeAborts(counter, o?.signal, tx.execute(sql, params, o)),
  };
}

function inFlightAbort(cause?: unknown): AbortedError {
  return new AbortedError(
    'a statement of the transaction was aborted while it ran, so its effect is unknown: the transaction was rolled back',
    {},
    cause === undefined ? undefined : { cause },
  );
}

/** Runs `fn` in a transaction on `conn`, re-running it on transient failures. */
export async function runTransaction<T>(
  conn: TransactionTarget,
  fn: (tx: Transaction) => Promise<T>,
  opts: RunTransactionOptions & RecordOption<T>,
): Promise<TransactionOutcome<T>> {
  const problem = signalProblem(opts.signal);
  if (problem) throw problem;
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new AbortedError('the transaction was aborted');
    // Every field from the start: one added later would grow the object (a transaction's allocations count).
    const counter: TransactionCounter = { rows: 0, ended: false, abortedInFlight: false };
    let begun = false;
    try {
      const beginning = conn.begin({ readOnly: opts.readOnly, isolation: opts.isolation, signal: opts.signal });
      if (beginning) await beginning;
      begun = true;
      if (opts.requestId !== undefined && !opts.freshRequestId) {
        const prior = await conn.lookupRequest(opts.requestId);
        if (prior !== undefined) {
          await conn.rollback();
          return { applied: false, rowsChanged: prior };
        }
      }
      let value: T;
      try {
        value = await fn(conn.handle ? noticingAborts(conn.handle(counter), counter) : new TransactionHandle(conn, counter, opts.values));
      } finally {
        counter.ended = true;
      }
      if (counter.abortedInFlight) throw inFlightAbort();
      if (opts.signal?.aborted) throw new AbortedError('the transaction was aborted before it committed: it was rolled back');
      const recorded = opts.record ? opts.record(value) : counter.rows;
      if (opts.requestId !== undefined && recorded !== false && !(await conn.recordRequest(opts.requestId, recorded))) {
        await conn.rollback();
        return { applied: false, rowsChanged: recorded };
      }
      const committing = conn.commit();
      if (committing) await committing;
      return { applied: true, value, rowsChanged: recorded === false ? 0 : recorded };
    } catch (err) {
      // A SQLite transaction that shared a COMMIT with others of its handle (what it read was
      // theirs) learns at ROLLBACK that their COMMIT failed: it is re-run with them.
      if (begun)
        err =
          (await conn.rollback().then(
            () => undefined,
            (e: unknown) => (isSharedCommitFailure(e) ? e : undefined),
          )) ?? err;
      // What failed after a statement's abort (DuckDB: the transaction is aborted; a conflict of
      // that statement) is the abort's doing: reported as such, and never re-run.
      if (counter.abortedInFlight && !hasCode(err, 'BOLT_ABORTED')) throw inFlightAbort(err);
      if (!isTransient(err)) throw err;
      if (attempt >= opts.retries) {
        throw new TxConflictError(
          `The transaction still conflicted after ${attempt + 1} attempts (${err.message}); retry later or reduce contention on the same rows`,
          { ...err.details, attempts: attempt + 1, transient: false },
          { cause: err },
        );
      }
      await delay(backoffDelay(attempt, { baseMs: 5, capMs: 200 }), opts.signal);
    }
  }
}

/** A shared COMMIT of SQLite write transactions failed (adapters/sqlite/shared-commit.ts). */
function isSharedCommitFailure(err: unknown): boolean {
  return hasCode(err, 'BOLT_TX_CONFLICT') && (err as { details?: Record<string, unknown> }).details?.sharedCommit === true;
}

/** One write applied exactly once under `requestId` (its own transaction). */
export async function executeOnce(
  conn: PinnedConnection,
  sql: string,
  params: readonly unknown[],
  requestId: string,
  retries: number,
  signal?: AbortSignal,
): Promise<ExecResult> {
  const out = await runTransaction(conn, (tx) => tx.execute(sql, params, { signal }), { retries, readOnly: false, requestId, signal });
  return out.applied ? out.value : { rowsChanged: out.rowsChanged, deduplicated: true };
}
