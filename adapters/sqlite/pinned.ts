/**
 * `PinnedConnection` over one SQLite connection (inline-connection.ts). Reads run at once; a
 * write outside a transaction takes the handle's writer turn, then BEGIN IMMEDIATE / statement /
 * COMMIT in one request; a read-write transaction holds the turn from BEGIN IMMEDIATE to
 * COMMIT/ROLLBACK. Whether a statement writes is asked of SQLite (`sqlite3_stmt_readonly`)
 * once per SQL text and remembered.
 */
import { checkRequestId } from '../../core/request-id.js';
import { BadInputError } from '../../core/errors.js';
import type { ExecResult, Row } from '../../core/database.js';
import { SQLITE_PARAM_RULES, checkParams } from '../../core/parameters.js';
import { delay } from '../../storage/platform/retry.js';
import { backoffDelay } from '../../core/backoff.js';
import type { BeginOptions, PinnedConnection, RunOptions, StatementOutcome } from '../shared/pinned.js';
import { LOOKUP_REQUEST_SQL, RECORD_REQUEST_SQL, REQUESTS_TABLE, isAutoRequestId, keyedRequestLogDdl } from '../../core/request-log.js';
import { classifyFailure, isRetryableBusy } from './classify-errors.js';
import { nextTurn, type InlineConnection } from './inline-connection.js';

/** A pooled connection lent to one caller. */
export interface Lease {
  conn: InlineConnection;
  release(broken?: boolean): void;
}
import type { RunResult, WritePolicy } from './requests.js';
import type { WriteBatcher } from './write-batcher.js';
import { changesConnectionIn, leavesConnectionState } from './run.js';
import type { WriteLock } from './write-lock.js';
import type { SharedCommit } from './shared-commit.js';

/** What a pinned SQLite connection shares with its database. */
export interface SqliteShared {
  path: string;
  writeLock: WriteLock;
  /** How long a writer waits for the writer lock and for SQLite's own lock (ms). */
  writeLockTimeoutMs: number;
  /** SQL text → does it write? */
  kinds: Map<string, boolean>;
  countQuery(): void;
  /** Group commit for autocommit writes made outside sessions. */
  batcher: WriteBatcher;
  /** `bolt_requests` is known to exist (committed). */
  requestLogReady: boolean;
  /** Write transactions on the writer connection that share one COMMIT (shared-commit.ts). */
  sharedCommit: SharedCommit;
}

const KINDS_MAX = 2_000;

/** Statements SQLite refuses inside a transaction: run bare, still under the writer lock. */
export const OUTSIDE_TRANSACTION = /^\s*(VACUUM|PRAGMA|ATTACH|DETACH)\b/i;

export class SqlitePinned implements PinnedConnection {
  private readOnlySession = false;
  private holdsWriteLock = false;
  /** This write transaction runs on the handle's writer connection and may share its COMMIT (shared-commit.ts). */
  private shares = false;
  /** This write transaction joined one left open for it: its work is in savepoint `bolt_member`. */
  private joined = false;
  /** The transaction begun last is a write transaction (it took the writer turn). */
  private writing = false;
  /** A caller's statement left state on this connection (`leavesConnectionState`): closed when released. */
  private stateLeft = false;

  constructor(
    private readonly lease: Lease,
    private readonly shared: SqliteShared,
    private readonly dbReadOnly: boolean,
    readonly name: string,
    /** Borrowed for one operation on the database handle (not a session): autocommit writes may be group-committed. */
    private readonly unpinned = false,
  ) {}

  /** The connection was closed under its holder. */
  get isDead(): boolean {
    return this.lease.conn.isDead;
  }

  private get readOnly(): boolean {
    return this.dbReadOnly || this.readOnlySession;
  }

  query(sql: string, params: readonly unknown[], opts: RunOptions): Promise<Row[]> {
    // Inside a transaction the statement runs now: one settled promise, no async frames.
    if (opts.inTransaction) return this.settled(() => this.inTransaction(sql, params, true, opts.readOnly === true).rows ?? []);
    return this.statement(sql, params, opts, true).then((r) => r.rows ?? []);
  }

  /** {@link query}'s first row; inside a transaction a known read stops at it (better-sqlite3's `get()`). */
  queryOne(sql: string, params: readonly unknown[], opts: RunOptions): Promise<Row | undefined> {
    if (opts.inTransaction) return this.settled(() => this.inTransaction(sql, params, 'first', opts.readOnly === true).rows?.[0]);
    return this.statement(sql, params, opts, true).then((r) => r.rows?.[0]);
  }

  async run(sql: string, params: readonly unknown[], opts: RunOptions): Promise<StatementOutcome> {
    const r = await this.statement(sql, params, opts, true);
    return { rows: r.rows ?? [], rowsChanged: r.changes, isRead: r.wrote !== true };
  }

  execute(sql: string, params: readonly unknown[], opts: RunOptions): Promise<ExecResult> {
    if (opts.inTransaction) return this.settled(() => ({ rowsChanged: this.inTransaction(sql, params, false, opts.readOnly === true).changes }));
    return this.statement(sql, params, opts, false).then((r) => ({ rowsChanged: r.changes }));
  }

  begin(opts: BeginOptions): Promise<void> | void {
    this.writing = !(opts.readOnly || this.readOnly);
    if (!this.writing) {
      const begun = this.now(() => this.lease.conn.begin(false, 0));
      return begun && this.waited(begun);
    }
    const since = Date.now();
    const deadline = since + this.shared.writeLockTimeoutMs;
    this.shares = this.shared.sharedCommit.enabled && this.lease.conn === this.shared.batcher.openConnection;
    const turn = this.shared.writeLock.acquire(this.name, this.shared.writeLockTimeoutMs, opts.signal, this.shares);
    return turn ? turn.then(() => this.beginWriting(deadline, since)) : this.beginWriting(deadline, since);
  }

  /**
   * BEGIN IMMEDIATE once this handle's writer turn is ours, or a savepoint in the transaction an
   * earlier writer left open for this one (only a writer that may join gets the turn then); the
   * turn is given back if it fails.
   */
  private beginWriting(deadline: number, since: number): Promise<void> | void {
    this.holdsWriteLock = true;
    try {
      if (this.shared.sharedCommit.isOpen) {
        this.now(() => this.lease.conn.memberSavepoint('open'));
        this.joined = true;
        return;
      }
      const begun = this.now(() => this.lease.conn.begin(true, deadline, since));
      return begun?.then(undefined, (err: unknown) => {
        this.releaseWriteLock();
        throw this.classify(err);
      });
    } catch (err) {
      this.releaseWriteLock();
      throw err;
    }
  }

  commit(): Promise<void> | void {
    const conn = this.lease.conn;
    const sc = this.shared.sharedCommit;
    if (this.joined) {
      this.joined = false;
      try {
        this.now(() => conn.memberSavepoint('release'));
      } catch (err) {
        // The transaction is gone (SQLite rolled it back): the others fail with it, and re-run.
        this.undoMember()?.catch(() => undefined);
        throw err;
      }
    }
    if (this.shares && this.holdsWriteLock) {
      // The next writer of the handle may join: it commits this one's work with its own.
      const ack = sc.leaveOpen(conn);
      if (ack) {
        this.releaseWriteLock();
        return ack.then(undefined, (err: unknown) => Promise.reject(this.classify(err)));
      }
    }
    // Committed, or rolled back by the connection when COMMIT failed (a deferred foreign key):
    // no transaction is left either way, so this handle's other writers may go on. With it, the
    // transactions that left their work open for this one (none unless it shares).
    let committed: Promise<void> | undefined;
    try {
      committed = sc.commitWith(() => {
        const c = this.now(() => conn.commit());
        return c && this.waited(c);
      }, this.shares);
    } catch (err) {
      this.releaseWriteLock();
      throw err;
    }
    if (!committed) return this.releaseWriteLock();
    return committed.finally(() => this.releaseWriteLock());
  }

  async rollback(): Promise<void> {
    // A member's failure (or its request id found recorded) is reported once the work it saw is
    // committed; when that COMMIT fails it is re-run with the others (a transient error).
    if (this.joined) return this.undoMember()?.catch((err: unknown) => Promise.reject(this.classify(err)));
    // A write transaction whose turn is over has nothing open here any more: the connection may
    // be running the handle's next writer's transaction by now.
    if (this.writing && !this.holdsWriteLock) return;
    try {
      this.now(() => this.lease.conn.rollback());
    } finally {
      this.releaseWriteLock();
    }
  }

  /**
   * Undoes the work of a transaction that joined one left open (the others' work stays), and
   * gives the turn up. Returns the promise of the shared COMMIT of the others' work (see
   * {@link SharedCommit.follow}).
   */
  private undoMember(): Promise<void> | undefined {
    this.joined = false;
    let settled: Promise<void> | undefined;
    try {
      this.now(() => this.lease.conn.memberSavepoint('undo'));
      settled = this.shared.sharedCommit.follow();
    } finally {
      this.releaseWriteLock();
    }
    return settled;
  }

  async lookupRequest(requestId: string): Promise<number | undefined> {
    checkRequestId(requestId);
    await this.ensureRequestLog();
    const rows = await this.query(LOOKUP_REQUEST_SQL, [requestId], { inTransaction: true });
    return rows.length ? Number(rows[0]!.rows_changed) : undefined;
  }

  async recordRequest(requestId: string, rowsChanged: number): Promise<boolean> {
    const r = await this.execute(RECORD_REQUEST_SQL, [requestId, rowsChanged, isAutoRequestId(requestId)], { inTransaction: true });
    return r.rowsChanged === 1;
  }

  /**
   * Creates `bolt_requests` the first time a request id is used (inside the caller's
   * transaction), so opening a user's SQLite file adds no table until Bolt needs one.
   */
  private async ensureRequestLog(): Promise<void> {
    if (this.shared.requestLogReady) return;
    const has = await this.query("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [REQUESTS_TABLE], { inTransaction: true });
    // Not when this transaction joined others: the table it sees may be theirs, not committed yet.
    if (has.length > 0) this.shared.requestLogReady = !this.joined;
    else if (!this.readOnly) await this.execute(keyedRequestLogDdl('TEXT', 'CURRENT_TIMESTAMP'), [], { inTransaction: true });
  }

  async setReadOnly(readOnly: boolean): Promise<void> {
    if (this.dbReadOnly) return;
    this.now(() => this.lease.conn.queryOnly(readOnly));
    this.readOnlySession = readOnly;
  }

  release(broken = false): void {
    this.releaseWriteLock();
    this.lease.release(broken || this.stateLeft);
  }

  /** `fn`'s value as a settled promise (a rejected one when it throws). */
  private settled<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /**
   * A statement in this connection's open transaction, now: it holds SQLite's write lock (or a
   * read snapshot), so it finishes without yielding and other processes wait for its work only.
   */
  private inTransaction(sql: string, params: readonly unknown[], rows: boolean | 'first', readOnly = false): RunResult & { needsWrite?: false } {
    this.shared.countQuery();
    const conn = this.lease.conn;
    // The handle's writer connection serves every later writer of the handle and is not closed
    // after this transaction: what would stay on it is refused instead (a PRAGMA query_only made
    // every later write fail). A temporary object made here is undone by the rollback that follows.
    const onWriter = conn === this.shared.batcher.openConnection;
    const leaves = typeof sql === 'string' && leavesConnectionState(sql);
    if (leaves && !onWriter) this.stateLeft = true;
    if (leaves && onWriter && changesConnectionIn(sql)) throw leavesWriterState(sql);
    checkParams(params, SQLITE_PARAM_RULES);
    const policy: WritePolicy = this.readOnly || readOnly || !this.holdsWriteLock ? 'deny' : 'allow';
    let out: RunResult & { needsWrite?: false };
    if (rows === 'first') {
      const row = this.now(() => conn.runFirst(sql, params, policy), sql);
      out = { rows: row ? [row] : [], changes: 0 };
    } else out = this.now(() => conn.run(sql, params, policy, rows), sql) as RunResult & { needsWrite?: false };
    if (leaves && onWriter && this.now(() => conn.runFirst('SELECT count(*) AS n FROM temp.sqlite_master', [], 'deny'))?.n !== 0) {
      throw leavesWriterState(sql);
    }
    return out;
  }

  /** One statement: inside a transaction as is; outside, reads retried on busy, writes under the writer lock. */
  private async statement(sql: string, params: readonly unknown[], opts: RunOptions, rows: boolean): Promise<RunResult & { needsWrite?: false }> {
    if (opts.inTransaction) return this.inTransaction(sql, params, rows, opts.readOnly === true);
    this.shared.countQuery();
    const leavesState = typeof sql === 'string' && leavesConnectionState(sql);
    if (leavesState) this.stateLeft = true;
    checkParams(params, SQLITE_PARAM_RULES);
    const args = [...(params ?? [])]; // null: no parameters, as checkParams takes it
    const readOnly = this.readOnly || opts.readOnly === true;
    if (readOnly || this.shared.kinds.get(sql) !== true) {
      const r = await this.readWithRetry(sql, args, readOnly ? 'deny' : 'ask', rows, opts.signal);
      this.remember(sql, r.needsWrite === true);
      if (!r.needsWrite) return r;
    }
    return this.autocommitWrite(sql, args, rows, leavesState, opts.signal);
  }

  private async readWithRetry(sql: string, params: unknown[], write: WritePolicy, rows: boolean, signal?: AbortSignal): Promise<RunResult> {
    const deadline = Date.now() + this.shared.writeLockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const turn = nextTurn();
        if (turn) await turn;
        return this.lease.conn.run(sql, params, write, rows);
      } catch (err) {
        // Retried while busy without classifying: naming the holders reads /proc/locks.
        if (!isRetryableBusy(err) || Date.now() >= deadline) throw classifyFailure(err, { path: this.shared.path, sql, session: this.name });
        await delay(backoffDelay(attempt, { baseMs: 5, capMs: 200 }), signal);
      }
    }
  }

  private async autocommitWrite(
    sql: string,
    params: unknown[],
    rows: boolean,
    leavesState: boolean,
    signal?: AbortSignal,
  ): Promise<RunResult & { needsWrite?: false }> {
    // Also what leaves state on the connection: on this one, which is closed after, not the group's writer.
    const bare = OUTSIDE_TRANSACTION.test(sql) || leavesState;
    if (this.unpinned && !bare) return this.shared.batcher.write(sql, params, rows, signal);
    const since = Date.now();
    const deadline = since + this.shared.writeLockTimeoutMs;
    await this.shared.writeLock.acquire(this.name, this.shared.writeLockTimeoutMs, signal);
    try {
      return (await this.waited(this.lease.conn.write(sql, params, rows, deadline, bare, since), sql)) as RunResult & { needsWrite?: false };
    } finally {
      this.shared.writeLock.release();
    }
  }

  private remember(sql: string, writes: boolean): void {
    const k = this.shared.kinds;
    if (k.has(sql)) return;
    if (k.size >= KINDS_MAX) k.delete(k.keys().next().value!);
    k.set(sql, writes);
  }

  /**
   * Gives the writer turn up. When earlier transactions left their work open and the next writer
   * cannot join it (or none waits), it is committed first.
   */
  private releaseWriteLock(): void {
    if (!this.holdsWriteLock) return;
    this.holdsWriteLock = false;
    const sc = this.shared.sharedCommit;
    const writer = this.shared.batcher.openConnection;
    // No writer connection (the handle closed it): commitLeft fails the transactions left open.
    if (sc.isOpen && !(writer && sc.canPass(writer))) {
      const committing = sc.commitLeft(writer);
      if (committing) {
        void committing.finally(() => this.shared.writeLock.release());
        return;
      }
    }
    this.shared.writeLock.release();
  }

  /** Runs a synchronous call on the connection, its failure classified. */
  now<T>(fn: () => T, sql?: string): T {
    try {
      return fn();
    } catch (err) {
      throw this.classify(err, sql);
    }
  }

  /** Awaits a call on the connection, its failure classified. */
  async waited<T>(call: Promise<T>, sql?: string): Promise<T> {
    try {
      return await call;
    } catch (err) {
      throw this.classify(err, sql);
    }
  }

  /** The connection this pinned handle holds (for verify and backup). */
  get connection(): InlineConnection {
    return this.lease.conn;
  }

  private classify(err: unknown, sql?: string): Error {
    return classifyFailure(err, { path: this.shared.path, sql, session: this.name });
  }
}

/** A statement that would leave state on the handle's shared writer connection (see SqlitePinned.inTransaction). */
function leavesWriterState(sql: string): BadInputError {
  return new BadInputError(
    "ATTACH, DETACH, PRAGMAs that set something and temporary objects are not run in the handle's transactions, which share one connection: use a session (db.session()), whose connection is closed after it",
    { sql },
  );
}
