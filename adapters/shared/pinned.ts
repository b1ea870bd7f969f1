/**
 * The engine-side contract the shared session and transaction logic drives: one connection
 * pinned to one caller. Each adapter implements it over its own connections (SQLite: a worker
 * thread; PostgreSQL: a `pg` client); sessions, transaction retries and request-id
 * exactly-once are written once, in `transaction.ts` and `session.ts`.
 */
import type { ExecResult, Row, ValueMode } from '../../core/database.js';

/** A statement of either kind: its rows, the rows it changed, and whether it only read. */
export interface StatementOutcome {
  rows: Row[];
  rowsChanged: number;
  isRead: boolean;
  /** Not run again: its request id was recorded already (rows are then empty). */
  deduplicated?: boolean;
}

/** How a statement runs on a pinned connection. */
export interface RunOptions {
  /** A transaction is open on this connection (BEGIN was sent). */
  inTransaction: boolean;
  signal?: AbortSignal;
  /** How result values come back (default 'exact'). */
  values?: ValueMode;
  /** Only a read may run (`StatementOptions.readOnly`). */
  readOnly?: boolean;
  /** Keep the statement prepared (`StatementOptions.prepared`; PostgreSQL only). */
  prepared?: boolean;
}

export interface BeginOptions {
  /** Reads only: SQLite takes no writer lock; PostgreSQL sends READ ONLY. */
  readOnly: boolean;
  /** Engine-specific isolation level (PostgreSQL); ignored where the engine has one level. */
  isolation?: string;
  signal?: AbortSignal;
}

/** One connection pinned to one caller until `release()`. */
export interface PinnedConnection {
  /**
   * A statement whose signal aborts ends itself, and its caller must wait for that: PostgreSQL
   * cancels it on the server, and its connection may run nothing else until it has ended. When
   * absent, a session or transaction ends the caller's wait at the abort.
   */
  readonly stopsAbortedStatements?: boolean;
  query(sql: string, params: readonly unknown[], opts: RunOptions): Promise<Row[]>;
  /** The first row of `query`, for an engine that can stop there (SQLite's `get()`); else `query` is used. */
  queryOne?(sql: string, params: readonly unknown[], opts: RunOptions): Promise<Row | undefined>;
  execute(sql: string, params: readonly unknown[], opts: RunOptions): Promise<ExecResult>;
  /** Either kind of statement, reporting rows, rows changed and whether it only read. */
  run(sql: string, params: readonly unknown[], opts: RunOptions): Promise<StatementOutcome>;
  /**
   * Opens a transaction. May finish synchronously (returning nothing, or throwing) when nothing
   * had to be waited for: an SQLite transaction is a few microseconds, and a promise per step
   * was a measurable part of it.
   */
  begin(opts: BeginOptions): Promise<void> | void;
  /** Commits; may finish synchronously, as `begin`. */
  commit(): Promise<void> | void;
  /** Rolls back; never throws for "no transaction is active". */
  rollback(): Promise<void>;
  /** Inside a transaction: rows changed recorded for `requestId`, or undefined when it was never applied. */
  lookupRequest(requestId: string): Promise<number | undefined>;
  /** Inside a transaction: records `requestId`; false when it is already recorded (someone else applied it). */
  recordRequest(requestId: string, rowsChanged: number): Promise<boolean>;
  /** Makes statements that are not reads fail with BOLT_READ_ONLY (or lifts that). */
  setReadOnly(readOnly: boolean): Promise<void>;
  /** Gives the connection back to its pool; `broken` discards it instead. */
  release(broken?: boolean): void;
}
