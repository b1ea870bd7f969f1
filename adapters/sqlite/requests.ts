/**
 * What a `SqliteDatabase` asks of one of its connections (inline-connection.ts), and what
 * comes back: statement results, and failures as plain facts (`SqliteFailure`) that
 * classify-errors.ts turns into typed errors.
 */
import type { Row } from '../../core/database.js';

/** What a statement may do: refuse writes, ask the caller to take the writer lock first, or run. */
export type WritePolicy = 'deny' | 'ask' | 'allow';

export type ConnectionRequest =
  | { op: 'run'; sql: string; params: unknown[]; write: WritePolicy; rows: boolean }
  /** Autocommit write: BEGIN IMMEDIATE (retrying SQLITE_BUSY until `deadline`), run, COMMIT. */
  | { op: 'write'; sql: string; params: unknown[]; rows: boolean; deadline: number; bare?: boolean }
  /** Group commit: one BEGIN IMMEDIATE … COMMIT around several autocommit writes, each in its own savepoint. */
  | { op: 'write-batch'; items: BatchItem[]; deadline: number }
  | { op: 'begin'; immediate: boolean; deadline: number }
  | { op: 'commit' }
  | { op: 'rollback' }
  | { op: 'query-only'; on: boolean }
  /** Online backup API (one step: a consistent snapshot) into `dest`. */
  | { op: 'backup'; dest: string }
  /** integrity_check, foreign_key_check and row counts. */
  | { op: 'verify' };

/** Result of 'verify'. */
export interface VerifyOutcome {
  /** `['ok']` when sound, else SQLite's messages. */
  integrity: string[];
  /** Rows of `PRAGMA foreign_key_check`: rows whose parent is missing. */
  foreignKeyViolations: Array<{ table: string; rowid: number | null; parent: string }>;
  tables: Array<{ name: string; rows: number }>;
  journalMode: string;
  pageSize: number;
  pageCount: number;
}

/** One write of a 'write-batch'. */
export interface BatchItem {
  sql: string;
  params: unknown[];
  rows: boolean;
}

/** Outcome of one item of a 'write-batch': a failed item was rolled back to its savepoint, the others commit. */
export type BatchOutcome = { ok: true; result: RunResult } | { ok: false; error: SqliteFailure };

/** Outcome of 'run' and 'write'. */
export type RunResult = { needsWrite: true } | { needsWrite?: false; rows?: Row[]; changes: number };

/** A connection's failure as plain facts; `classify-errors.ts` turns it into a BoltError. */
export interface SqliteFailure {
  name: string;
  message: string;
  /** SQLite extended result code name, e.g. SQLITE_BUSY, SQLITE_CONSTRAINT_UNIQUE. */
  code?: string;
  /** Set when a statement that writes was refused on a read-only connection or session. */
  readOnly?: boolean;
  /** BEGIN IMMEDIATE gave up at its deadline. */
  busyTimeout?: { attempts: number; waitedMs: number };
}
