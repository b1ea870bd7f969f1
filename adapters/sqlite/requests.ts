/**
 * What a connection (inline-connection.ts) is given and gives back: write policies, batch
 * items, statement results, and failures as plain facts (`SqliteFailure`) that
 * classify-errors.ts turns into typed errors.
 */
import type { Row } from '../../core/database.js';

/** What a statement may do: refuse writes, ask the caller to take the writer lock first, or run. */
export type WritePolicy = 'deny' | 'ask' | 'allow';

/** What `InlineConnection.verify()` finds. */
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

/** One write of a group commit (`InlineConnection.writeBatch`). */
export interface BatchItem {
  sql: string;
  params: unknown[];
  rows: boolean;
}

/** Outcome of one item of a group commit: a failed item was rolled back to its savepoint, the others commit. */
export type BatchOutcome = { ok: true; result: RunResult } | { ok: false; error: SqliteFailure };

/** Outcome of a statement: `needsWrite` when the policy was 'ask' and it writes. */
export type RunResult =
  { needsWrite: true } | { needsWrite?: false; rows?: Row[]; changes: number; /** It was not a read (a write, DDL, a PRAGMA that sets). */ wrote?: boolean };

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
