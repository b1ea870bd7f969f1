/**
 * The engine-side contract the shared session and transaction logic drives: one connection
 * pinned to one caller. Each adapter implements it over its own connections (SQLite: a worker
 * thread; PostgreSQL: a `pg` client); sessions, transaction retries and request-id
 * exactly-once are written once, in `transaction.ts` and `session.ts`.
 */
import type { ExecResult, Row } from '../../core/database.js';

/** How a statement runs on a pinned connection. */
export interface RunOptions {
  /** A transaction is open on this connection (BEGIN was sent). */
  inTransaction: boolean;
  signal?: AbortSignal;
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
  query(sql: string, params: readonly unknown[], opts: RunOptions): Promise<Row[]>;
  execute(sql: string, params: readonly unknown[], opts: RunOptions): Promise<ExecResult>;
  begin(opts: BeginOptions): Promise<void>;
  commit(): Promise<void>;
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

/** SQL for the request log, valid on SQLite, PostgreSQL and DuckDB. */
export const REQUESTS_TABLE = 'bolt_requests';
export const CREATE_REQUESTS_SQL =
  `CREATE TABLE IF NOT EXISTS ${REQUESTS_TABLE} (request_id TEXT PRIMARY KEY, applied_at TEXT NOT NULL, rows_changed INTEGER NOT NULL DEFAULT 0)`;
export const LOOKUP_REQUEST_SQL = `SELECT rows_changed FROM ${REQUESTS_TABLE} WHERE request_id = ?`;
export const RECORD_REQUEST_SQL =
  `INSERT INTO ${REQUESTS_TABLE} (request_id, applied_at, rows_changed) VALUES (?, ?, ?) ON CONFLICT (request_id) DO NOTHING`;
