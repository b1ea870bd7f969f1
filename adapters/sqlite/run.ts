/**
 * Runs statements on one better-sqlite3 connection: prepared statement cache, the read/write
 * decision (`stmt.readonly`), parameter and value conversion, the journal mode set before the
 * first write.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Row } from '../../core/database.js';
import type { RunResult, SqliteFailure, WritePolicy } from './requests.js';
import { afterLeadingComments, SQLITE_COMMENTS, sqlTextProblem } from '../../core/sql-text.js';
import { memoizeText } from '../../core/text-memo.js';
import { controlStatement, lastStatementStart, statementTexts } from './control-statements.js';

/** PRAGMAs that take an argument and only report (`PRAGMA table_info(t)`); any other with one sets something. */
const REPORTING_PRAGMAS = new Set([
  'table_info',
  'table_xinfo',
  'table_list',
  'index_info',
  'index_xinfo',
  'index_list',
  'foreign_key_list',
  'foreign_key_check',
  'integrity_check',
  'quick_check',
]);

/**
 * Statements SQLite calls read-only (`stmt.readonly`) that change the connection instead of
 * the file: ATTACH and DETACH (another file becomes readable, or writable, on this pooled
 * connection) and PRAGMAs that set something (`PRAGMA query_only = 0` would lift a read-only
 * session's guard). A read-only session refuses them; elsewhere they run as writes.
 */
export function changesConnection(sql: string): boolean {
  const head = afterLeadingComments(sql, SQLITE_COMMENTS);
  if (/^(attach|detach)\b/i.test(head)) return true;
  if (!/^pragma\b/i.test(head)) return false;
  // PRAGMA [schema.]name [= value | (value)], the names quoted any of SQLite's four ways.
  const name = `(?:"[^"]*"|'[^']*'|\\[[^\\]]*\\]|\`[^\`]*\`|\\w+)`;
  const m = new RegExp(`^pragma\\s*(?:${name}\\s*\\.\\s*)?(${name})\\s*([=(])?`, 'i').exec(head);
  if (!m) return true; // not a form we can read: not a read
  // Nothing may follow a bare name: `PRAGMA query_only/**/=1` sets it (a comment before `=`).
  if (!m[2]) return head.slice(m[0].length).replace(/;\s*$/, '').trim() !== '';
  return m[2] === '=' || !REPORTING_PRAGMAS.has(m[1]!.replace(/^["'[`]|["'\]`]$/g, '').toLowerCase());
}

/** Whether any statement of `sql` is an ATTACH, a DETACH or a PRAGMA that sets something ({@link changesConnection}). */
export const changesConnectionIn: (sql: string) => boolean = memoizeText((sql) => statementTexts(sql).some(changesConnection));

/**
 * Whether `sql` (any statement of a script) may leave state on its connection for whoever uses
 * it next: ATTACH, DETACH and PRAGMAs that set something ({@link changesConnection}), and any
 * CREATE (a temporary table, view or trigger: `CREATE TEMP …` or `CREATE TRIGGER temp.t …`; a
 * temporary trigger on the shared writer rewrote every caller's inserts). Such a connection is
 * closed after use instead of going back to the pool (pinned.ts).
 */
export const leavesConnectionState: (sql: string) => boolean = memoizeText((sql) =>
  statementTexts(sql).some((s) => changesConnection(s) || /^create\b/i.test(afterLeadingComments(s, SQLITE_COMMENTS))),
);

/**
 * What a script (several statements in one string) may not be: given parameters (SQLite binds
 * them to one statement), or run read-only (its statements are not checked one by one).
 */
function checkScript(params: readonly unknown[] | null, write: WritePolicy): void {
  if (params !== null && params.length > 0) {
    throw new RunError({ name: 'BadInput', message: 'parameters are only accepted with a single statement', code: 'BOLT_MULTI_PARAMS' });
  }
  if (write === 'deny') {
    throw new RunError({
      name: 'BadInput',
      message: 'a read-only statement must be a single statement on SQLite: send the statements of the script one at a time',
      code: 'BOLT_BAD_INPUT',
    });
  }
}

const CACHE_MAX = 200;

interface Prepared {
  stmt: BetterSqlite3.Statement;
  readonly: boolean;
  /** Returns rows (a SELECT, or a write with RETURNING). */
  reader: boolean;
}
const MULTI = 'more than one statement';

/** What a connection throws: SQLite's facts as a `SqliteFailure` (classified by classify-errors.ts). */
export class RunError extends Error {
  constructor(readonly info: SqliteFailure) {
    super(info.message);
  }
}

/** Converts a JS value to something SQLite binds: booleans → 0/1, dates → ISO text, objects → JSON. */
export function toSqlite(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'object') return JSON.stringify(v);
  return v;
}

/** The parameters as SQLite binds them: numbers, strings, bigints and null as they are (no copy for the common case). */
function bindable(params: readonly unknown[] | null): readonly unknown[] {
  if (params === null) return []; // null: no parameters, as checkParams takes it
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    const t = typeof v;
    if (t !== 'number' && t !== 'string' && t !== 'bigint' && v !== null) return params.map(toSqlite);
  }
  return params;
}

/**
 * Integers come back as bigint (safeIntegers) and become numbers when that loses nothing; BLOBs
 * as plain Uint8Arrays (better-sqlite3 gives Buffers), as from the other engines.
 */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function fromSqlite(row: Record<string, unknown>): Row {
  for (const k in row) {
    const v = row[k];
    if (typeof v === 'bigint') {
      if (v <= MAX_SAFE && v >= MIN_SAFE) row[k] = Number(v);
    } else if (v instanceof Uint8Array) row[k] = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  return row;
}

/** One connection's statement runner. */
export class StatementRunner {
  /** SQL text → its prepared statement with the facts asked on every run (asked of SQLite once). */
  private readonly cache = new Map<string, Prepared | 'multi'>();

  /** Bolt's own transaction statements (BEGIN IMMEDIATE, COMMIT, savepoints), prepared once: parsing them at every transaction showed in profiles. */
  private readonly control = new Map<string, BetterSqlite3.Statement>();
  private dataVersionStmt: BetterSqlite3.Statement | undefined;

  /** busy_timeout as connected (read at the first {@link blockOnBusy}), and as set now. */
  private connectedBusyMs: number | undefined;
  private busyMs: number | undefined;

  /** Journal mode still to set before this connection's first write (undefined: done, or none). */
  private pendingJournalMode: string | undefined;

  constructor(
    readonly db: BetterSqlite3.Database,
    journalMode?: string,
  ) {
    if (journalMode !== undefined && !/^[A-Za-z]+$/.test(journalMode)) throw new Error(`invalid journal mode: ${journalMode}`);
    this.pendingJournalMode = journalMode;
  }

  /**
   * Sets the journal mode (WAL) before the first write of this connection, outside any
   * transaction (SQLite refuses the change inside one). A file only read keeps its mode and
   * its bytes. Other connections and processes follow by themselves: SQLite reads the mode
   * from the file header at each transaction. When the change cannot be made now (another
   * connection keeps the file busy past busy_timeout) this write goes through the rollback
   * journal, which is just as safe, and the next one tries again.
   */
  private beforeWrite(): void {
    if (this.pendingJournalMode === undefined || this.db.inTransaction) return;
    try {
      this.db.pragma(`journal_mode = ${this.pendingJournalMode}`);
      this.pendingJournalMode = undefined;
    } catch {
      // busy: see above
    }
  }

  /** Prepares and caches a text not in the cache (runStatement checked it first). */
  private prepare(sql: string): Prepared | 'multi' {
    let s: Prepared | 'multi';
    const control = controlStatement(sql);
    if (control) {
      throw new RunError({
        name: 'BadInput',
        message: `${control} is not run as a statement: Bolt manages transactions (use db.transaction(), or a session's begin(), commit() and rollback())`,
        code: 'BOLT_BAD_INPUT',
      });
    }
    try {
      const stmt = this.db.prepare(sql).safeIntegers(true);
      s = { stmt, readonly: stmt.readonly && !changesConnection(sql), reader: stmt.reader };
    } catch (err) {
      if (!(err instanceof RangeError && err.message.includes(MULTI))) throw err;
      // Run as a write on the handle's one writer connection, it would change that connection
      // for every later write (`PRAGMA query_only = 1` made them all fail).
      if (statementTexts(sql).some(changesConnection)) {
        throw new RunError({
          name: 'BadInput',
          message: 'ATTACH, DETACH and PRAGMAs that set something change the connection: send them on their own (or in a session), not in a script',
          code: 'BOLT_BAD_INPUT',
        });
      }
      s = 'multi';
    }
    this.cache.set(sql, s);
    if (this.cache.size > CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    return s;
  }

  /**
   * Runs one statement under `write` policy; `rows` asks for result rows. Transaction control
   * is refused before it runs (control-statements.ts). Should a form of it get past that, a
   * statement that leaves a transaction open on a connection that had none is rolled back and
   * refused (the pooled connection would keep it open under its next users, blocking every
   * writer of the file), and one that ended the transaction it ran in is reported.
   */
  run(sql: string, params: readonly unknown[], write: WritePolicy, rows: boolean): RunResult {
    const p = this.cache.get(sql);
    // A statement that returns rows cannot open a transaction: no need to ask SQLite (twice).
    if (p !== undefined && p !== 'multi' && p.reader && p.readonly) return this.readRows(p, params, rows);
    const wasInTransaction = this.db.inTransaction;
    const r = this.runStatement(sql, params, write, rows);
    if (wasInTransaction !== this.db.inTransaction) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw new RunError({
        name: 'BadInput',
        message: `the statement ${wasInTransaction ? 'ended the transaction' : 'left a transaction open'}: Bolt manages transactions (use db.transaction(), or a session's begin(), commit() and rollback())`,
        code: 'BOLT_BAD_INPUT',
      });
    }
    return r;
  }

  private runStatement(sql: string, params: readonly unknown[], write: WritePolicy, rows: boolean): RunResult {
    const known = this.cache.get(sql);
    if (known === undefined) {
      // A text not seen yet is checked before anything reads it (changesConnection, prepare).
      const problem = sqlTextProblem(sql, SQLITE_COMMENTS);
      if (problem) throw new RunError({ name: 'BadInput', message: problem, code: 'BOLT_BAD_INPUT' });
      // Preparing some statements applies them: SQLite sets flag PRAGMAs (foreign_keys,
      // ignore_check_constraints, query_only…) as it compiles them. So one that changes the
      // connection is not prepared where it may not run: a read-only session would refuse it
      // with its effect already in place, on a connection the pool lends to others next.
      if (write !== 'allow' && changesConnection(sql)) {
        if (write === 'deny') throw new RunError({ name: 'ReadOnly', message: 'statement is not a read', readOnly: true });
        return { needsWrite: true };
      }
    }
    const p = known ?? this.prepare(sql);
    if (p === 'multi') checkScript(params, write);
    const isWrite = p === 'multi' || !p.readonly;
    if (isWrite && write === 'deny') {
      throw new RunError({ name: 'ReadOnly', message: 'statement is not a read', readOnly: true });
    }
    if (isWrite && write === 'ask') return { needsWrite: true };
    if (isWrite) this.beforeWrite();
    if (p === 'multi') {
      const before = this.db.prepare('SELECT total_changes() AS n').pluck().get() as number;
      const out = this.script(sql);
      const after = this.db.prepare('SELECT total_changes() AS n').pluck().get() as number;
      return { changes: after - before, rows: rows ? out : undefined, wrote: true };
    }
    if (p.reader) return this.readRows(p, params, rows);
    const r = runWith(p.stmt, bindable(params));
    return { changes: r.changes, rows: rows ? [] : undefined, wrote: isWrite };
  }

  /**
   * The rows of `sql` when it is prepared already and known to only read (the hot path of point
   * reads: no result object, no transaction checks); undefined otherwise (use {@link run}).
   */
  readPrepared(sql: string, params: readonly unknown[]): Row[] | undefined {
    const p = this.cache.get(sql);
    if (p === undefined || p === 'multi' || !p.reader || !p.readonly) return undefined;
    return allRows(p.stmt, params);
  }

  /**
   * {@link readPrepared} for the first row only (better-sqlite3's `get()`): the row, null when
   * there is none, undefined when the text is not a prepared read.
   */
  readPreparedOne(sql: string, params: readonly unknown[]): Row | null | undefined {
    const p = this.cache.get(sql);
    if (p === undefined || p === 'multi' || !p.reader || !p.readonly) return undefined;
    const row = getWith(p.stmt, bindable(params)) as Record<string, unknown> | undefined;
    if (row === undefined) return null;
    fromSqlite(row);
    return row;
  }

  /**
   * Runs a script of several statements; returns the rows of its last one, as DuckDB and
   * PostgreSQL do (better-sqlite3's `exec` returns none): everything before it runs with
   * `exec`, then the last statement alone.
   */
  private script(sql: string): Row[] {
    const start = lastStatementStart(sql);
    if (start > 0) this.db.exec(sql.slice(0, start));
    let last: BetterSqlite3.Statement;
    try {
      last = this.db.prepare(sql.slice(start)).safeIntegers(true);
    } catch (err) {
      // Split where SQLite would not have: the rest runs as it is, and gives no rows.
      if (!(err instanceof RangeError && err.message.includes(MULTI))) throw err;
      this.db.exec(sql.slice(start));
      return [];
    }
    if (!last.reader) {
      last.run();
      return [];
    }
    return allRows(last, []);
  }

  /** Runs a statement that returns rows (a SELECT, or a write with RETURNING). */
  private readRows(p: Prepared, params: readonly unknown[], rows: boolean): RunResult {
    const out = allRows(p.stmt, params);
    return { rows: rows ? out : undefined, changes: p.readonly ? 0 : out.length, wrote: !p.readonly };
  }

  /** BEGIN IMMEDIATE, once: false when another connection writes (the caller waits). */
  beginImmediate(): boolean {
    this.beforeWrite();
    return runUnlessBusy(this.controlStatement('BEGIN IMMEDIATE'));
  }

  /**
   * SQLite's own wait for a lock (`busy_timeout`), which blocks the thread: `ms` from now on, or
   * (undefined) back to what the connection was opened with.
   */
  blockOnBusy(ms: number | undefined): void {
    this.connectedBusyMs ??= Number(this.db.pragma('busy_timeout', { simple: true }));
    const want = ms ?? this.connectedBusyMs;
    if (want === (this.busyMs ?? this.connectedBusyMs)) return;
    this.db.pragma(`busy_timeout = ${want}`);
    this.busyMs = want;
  }

  /** `PRAGMA data_version`: changes when another connection commits. */
  dataVersion(): number {
    return Number((this.dataVersionStmt ??= this.db.prepare('PRAGMA data_version').pluck()).get());
  }

  /** COMMIT: false when SQLite is busy (rollback-journal mode waiting for readers; the transaction stays open). */
  commit(): boolean {
    return runUnlessBusy(this.controlStatement('COMMIT'));
  }

  /** A savepoint named `name` inside the open transaction: `open` it, `release` it (its work stays), or `undo` its work and release it. */
  savepoint(name: 'bolt_batch' | 'bolt_item' | 'bolt_member', op: 'open' | 'release' | 'undo'): void {
    if (op === 'open') return void this.controlStatement(`SAVEPOINT ${name}`).run();
    if (op === 'undo') this.controlStatement(`ROLLBACK TO ${name}`).run();
    this.controlStatement(`RELEASE ${name}`).run();
  }

  private controlStatement(sql: string): BetterSqlite3.Statement {
    let stmt = this.control.get(sql);
    if (!stmt) this.control.set(sql, (stmt = this.db.prepare(sql)));
    return stmt;
  }

  /** Rolls back if a transaction is open. */
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }
}

/** Whether a SQLite error code says another connection holds a lock this one needs (the caller may wait and try again). */
export function isBusyCode(code: unknown): boolean {
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Runs a transaction statement that SQLite may answer with "busy" (another connection holds the
 * lock): false then. That answer is expected, often thousands of times a second with 16
 * processes writing, so the error SQLite's driver builds for it gets no stack trace: capturing
 * them took about 8 % of those processes' CPU. Any other failure is thrown (without a stack
 * trace either: it becomes a typed error that never shows one).
 */
function runUnlessBusy(stmt: BetterSqlite3.Statement): boolean {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    stmt.run();
    return true;
  } catch (err) {
    if (isBusyCode((err as { code?: unknown }).code)) return false;
    throw err;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

// `stmt.get(...params)` without the spread for statements of none or one parameter: spreading
// the array took about 10 % of a point read (0.17 of 1.7 µs).
function getWith(stmt: BetterSqlite3.Statement, p: readonly unknown[]): unknown {
  return p.length === 0 ? stmt.get() : p.length === 1 ? stmt.get(p[0]) : stmt.get(...p);
}

function allWith(stmt: BetterSqlite3.Statement, p: readonly unknown[]): unknown[] {
  return p.length === 0 ? stmt.all() : p.length === 1 ? stmt.all(p[0]) : stmt.all(...p);
}

function runWith(stmt: BetterSqlite3.Statement, p: readonly unknown[]): BetterSqlite3.RunResult {
  return p.length === 0 ? stmt.run() : p.length === 1 ? stmt.run(p[0]) : stmt.run(...p);
}

/** Every row of `stmt`, its values as Bolt gives them. */
function allRows(stmt: BetterSqlite3.Statement, params: readonly unknown[]): Row[] {
  const out = allWith(stmt, bindable(params)) as Row[];
  for (let i = 0; i < out.length; i++) fromSqlite(out[i]!);
  return out;
}
