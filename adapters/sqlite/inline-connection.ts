/**
 * One better-sqlite3 connection in the calling thread (the main thread, or an agent's worker
 * thread). Statements run synchronously, as bare better-sqlite3 runs them: no thread hop, no
 * copy of parameters and rows, no promise unless the connection has to wait.
 *
 * It does not wait inside SQLite (`busy_timeout` is 0), so a lock held elsewhere returns
 * SQLITE_BUSY at once. Waiting for the write lock (BEGIN IMMEDIATE, and a COMMIT in rollback-
 * journal mode) happens here, asynchronously, with backoff up to the caller's deadline: the
 * event loop keeps running while a writer waits, except for one that has waited a while for a
 * lock that keeps moving between others, whose tries each wait up to {@link BLOCKING_WAIT_MS}
 * inside SQLite. Reads that meet SQLITE_BUSY (rollback-journal files, WAL recovery) fail with
 * it, and the caller retries them the same way.
 *
 * What it cannot avoid: one long statement (a big GROUP BY) occupies its thread while it
 * runs, as with bare better-sqlite3, and so can a read that SQLite itself retries under heavy
 * WAL traffic (architecture.md, fact 14).
 */
import { connect, writeJournalMode, type SqliteConnectSettings } from './connect.js';
import { describeSqlite, integrityCheck } from './describe.js';
import type { BatchItem, BatchOutcome, RunResult, VerifyOutcome, SqliteFailure, WritePolicy } from './requests.js';
import { isBusyCode, RunError, StatementRunner } from './run.js';
import { delay } from '../../storage/platform/retry.js';
import { beforeNativeCall } from '../../storage/platform/native-guard.js';
import { backoffDelay } from '../../core/backoff.js';

/**
 * Statements run inline in one turn of the event loop before the next one yields to it. The
 * turn is also other processes' chance at SQLite's lock, which is not fair: a thread that
 * commits and begins again within microseconds keeps it from writers that retry every 1–25 ms.
 * With 256 the 16 × 8 soak's "nobody starves" check failed (processes without a write for a
 * second, writes waiting 9–14 s), also with 256 for reads and 64 for BEGINs; 256 gave point
 * reads about 5 % more.
 */
const OPS_PER_TURN = 64;
let opsThisTurn = 0;
let turnEnds = false;
let turnYield: Promise<void> | undefined;

/**
 * Inline statements resolve without ever leaving the microtask queue, so a caller looping on
 * them (`while (…) await db.query(…)`) would starve timers and I/O of its thread: the backoff
 * of a writer waiting for the lock, heartbeats, sockets. Every OPS_PER_TURN statements without
 * a turn of the event loop, the next one waits for one (setImmediate).
 */
export function nextTurn(): Promise<void> | undefined {
  if (!turnEnds) {
    turnEnds = true;
    setImmediate(() => {
      opsThisTurn = 0;
      turnEnds = false;
    });
  }
  if (++opsThisTurn < OPS_PER_TURN) return undefined;
  // Every caller past the limit waits for the same next turn: one immediate, not one each.
  return (turnYield ??= new Promise((resolve) =>
    setImmediate(() => {
      turnYield = undefined;
      resolve();
    }),
  ));
}

/** Writers of this thread waiting for SQLite's lock, and the reads that wait for them. */
const waiters: WritersWaiting = { waiting: 0, newestSince: 0, lockMovedAt: 0 };
let writersGone: Array<() => void> = [];
/** A read waits for this thread's waiting writers at most this long. */
const READ_DEFERRAL_MS = 50;
/**
 * When the newest of this thread's waiting writers has waited this long and the lock has not
 * moved between others for MOVING_RECENTLY_MS, it is held by something that does not compete
 * for this CPU (a foreign program, a long transaction): reads stop deferring.
 */
const DEFER_WHILE_WAITING_MS = 500;
const MOVING_RECENTLY_MS = 100;

/** What a thread knows of its writers waiting for SQLite's lock. */
export interface WritersWaiting {
  /** How many wait now. */
  waiting: number;
  /** When the newest of them began to wait (ms since the epoch). */
  newestSince: number;
  /** When one of them last saw the lock move between others: their commits changed `PRAGMA data_version`. */
  lockMovedAt: number;
}

/**
 * Whether the thread's reads wait for its waiting writers at `now`: while a writer waits, and
 * either it began under DEFER_WHILE_WAITING_MS ago (a wait that short is contention) or the
 * lock is moving between others. Only a lock that stays with one holder (a foreign program, a
 * long transaction) lets reads run at full speed while a writer waits: after such a holder let
 * go, every writer had waited long, and reads that no longer deferred took the CPU from the
 * writers catching up (in the 16 × 8 soak, writes stayed at a tenth of their rate for seconds
 * after each fault while reads ran 5–10 times their rate: docs/benchmarks.md).
 */
export function readsWaitForWriters(w: WritersWaiting, now: number): boolean {
  if (w.waiting === 0) return false;
  return now - w.newestSince <= DEFER_WHILE_WAITING_MS || now - w.lockMovedAt <= MOVING_RECENTLY_MS;
}

/**
 * While a writer of this thread waits for SQLite's lock, this thread's reads (outside
 * transactions) wait too, up to READ_DEFERRAL_MS ({@link readsWaitForWriters}): reads never
 * conflict with the lock, but a thread that keeps reading at full speed while its writer waits
 * takes the CPU from whichever process holds the lock, and every writer waits longer. Bare
 * SQLite gets this by blocking the thread in its busy handler; here the event loop keeps running.
 */
export function writersFirst(): Promise<void> | undefined {
  // Asked before every read: no clock read unless a writer waits.
  if (waiters.waiting === 0 || !readsWaitForWriters(waiters, Date.now())) return undefined;
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, READ_DEFERRAL_MS);
    writersGone.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function writerStopsWaiting(): void {
  if (--waiters.waiting > 0) return;
  const waiting = writersGone;
  writersGone = [];
  for (const w of waiting) w();
}

/**
 * A writer that has waited `blockingAfterMs` (its {@link LockWait}) while the lock kept moving
 * between others (their commits change `PRAGMA data_version`) lets each try wait up to
 * BLOCKING_WAIT_MS inside SQLite (`busy_timeout`: its busy handler sleeps 1, 2, 5 ms, trying
 * after each), blocking its thread, until its wait ends or the lock stands still (one holder
 * keeps it: a foreign program, a long transaction). Blocking from the first try did more for 16
 * processes but tripled the p99 at 4, where nearly every wait ends within a couple of
 * milliseconds and the busy handler's fixed sleeps overshoot it.
 */
export const BLOCKING_WAIT_MS = 10;

/** How a writer waits for SQLite's lock held by another connection. */
export interface LockWait {
  /** Waited this long for a moving lock, its tries block inside SQLite (see BLOCKING_WAIT_MS). */
  blockingAfterMs: number;
  /** Delays between tries that do not block: from `baseMs`, doubling up to `capMs`. */
  backoff: { baseMs: number; capMs: number };
}

/**
 * A transaction (one caller's): like SQLite's own busy handler, 1 ms up to 25 ms between tries,
 * blocking tries after 5 ms. At 16 processes × 8 callers the blocking tries cut the
 * read-modify-write p99 by about a quarter, and waiting longer before them raised it by up to
 * 2.5 times (docs/benchmarks.md).
 */
export const TRANSACTION_WAIT: LockWait = { blockingAfterMs: 5, backoff: { baseMs: 1, capMs: 25 } };

/**
 * A group-commit batch (write-batcher.ts): blocking tries after 30 ms, up to 50 ms between the
 * tries before. Every writer trying often spreads the waits over more batches, and each batch
 * carries several callers: with the transaction's shape, 1.7 % of the inserts of 16 processes × 8
 * callers waited over 15 ms (bare SQLite: 0.9 %) and their p99 was 20–25 ms; with this one
 * 12–19 ms in the same runs, with more throughput (docs/benchmarks.md). The 16 × 8 soak still
 * finds every process writing every second.
 */
export const BATCH_WAIT: LockWait = { blockingAfterMs: 30, backoff: { baseMs: 1, capMs: 50 } };

/**
 * A writer that has waited AGED_MS (but not yet STORM_MS) while the lock kept moving between
 * others (their commits change `PRAGMA data_version`) tries every AGED_RETRY_MS instead of
 * backing off to 25–50 ms: with the lock almost always held, a writer trying that rarely lands in
 * a free moment too rarely, and in the 16 × 8 soak whole processes went a second without a write.
 * While one holder keeps the lock (a foreign program, a long transaction) nothing moves and the
 * backoff stays. Past STORM_MS the backoff comes back: after a foreign program held the lock for
 * 2 s every writer of every process had waited that long, and all of them trying every
 * millisecond took the CPU from the holders (with no upper bound the soak's writes once fell from
 * ~300/s to ~50/s for the rest of the run). Measured in docs/benchmarks.md.
 */
const AGED_MS = 100;
const STORM_MS = 2000;
const AGED_RETRY_MS = 2;

/** What a try that found SQLite busy reports (SQLite's own code and text for it). */
const BUSY: SqliteFailure = { name: 'SqliteError', message: 'database is locked', code: 'SQLITE_BUSY' };

function asRunError(err: unknown): RunError {
  return err instanceof RunError ? err : new RunError(toWorkerError(err));
}

function toWorkerError(err: unknown): SqliteFailure {
  if (err instanceof RunError) return err.info;
  const e = err as Error & { code?: unknown };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: typeof e?.code === 'string' ? e.code : undefined };
}

/** A write of a group-commit batch whose failure ended the whole transaction. */
interface Ender {
  index: number;
  error: SqliteFailure;
}

/**
 * The write `index` of a batch failed with `err` and the transaction is gone. Refused by a
 * constraint (a trigger's RAISE(ROLLBACK), INSERT OR ROLLBACK), the write is at fault and fails
 * alone; anything else that ends a transaction (a full disk, an I/O error) would end the next
 * one too, and fails the batch (thrown).
 */
function ender(index: number, err: unknown): Ender {
  if (!isConstraint(err)) throw err;
  return { index, error: toWorkerError(err) };
}

/** A failure because a constraint refused the write (SQLITE_CONSTRAINT and its extended codes). */
function isConstraint(err: unknown): boolean {
  return toWorkerError(err).code?.startsWith('SQLITE_CONSTRAINT') === true;
}

/**
 * Opens a connection, waiting (with the backoff of a writer) while another program holds the
 * file exclusively: applying the connection's pragmas reads the schema (cache_size needs it),
 * which a rollback-journal file locked by a foreign writer's EXCLUSIVE transaction refuses with
 * SQLITE_BUSY. Gives up at `deadline` with a `RunError` saying how long it waited.
 */
export async function openConnection(settings: SqliteConnectSettings, deadline: number, onCommit?: () => void): Promise<InlineConnection> {
  const since = Date.now();
  for (let n = 0; ; n++) {
    const conn = new InlineConnection(settings, onCommit);
    try {
      await conn.ready;
      return conn;
    } catch (err) {
      const info = asRunError(err).info;
      const now = Date.now();
      if (!isBusyCode(info.code)) throw err;
      if (now >= deadline) throw new RunError({ ...info, busyTimeout: { attempts: n + 1, waitedMs: now - since } });
      await delay(Math.min(deadline - now, backoffDelay(n, TRANSACTION_WAIT.backoff)));
    }
  }
}

/**
 * One SQLite connection in this thread. Every method throws a `RunError` on failure (classified
 * by the caller: classifyFailure). Methods that cannot wait are synchronous; the caller of a
 * synchronous statement outside a transaction gives the event loop its turn first
 * ({@link nextTurn}).
 */
export class InlineConnection {
  private runner: StatementRunner | undefined;
  /** `PRAGMA data_version` at the last busy try ({@link lockMoved}). */
  private lastDataVersion: number | undefined;
  /** `PRAGMA data_version` at the last {@link committedElsewhere}. */
  private seenDataVersion: number | undefined;
  /** Resolved once open (or rejected with a `RunError`), as the pool expects of a connection. */
  readonly ready: Promise<void>;

  /** `onCommit`: called after each COMMIT of this connection (the handle's checkpointer counts them). */
  constructor(
    private readonly settings: SqliteConnectSettings,
    private readonly onCommit?: () => void,
  ) {
    try {
      this.runner = new StatementRunner(connect(settings), writeJournalMode(settings));
      this.ready = Promise.resolve();
    } catch (err) {
      this.ready = Promise.reject(new RunError(toWorkerError(err)));
      this.ready.catch(() => undefined);
    }
  }

  /** A closed connection is not pooled again. */
  get isDead(): boolean {
    return this.runner === undefined;
  }

  /** A transaction is open on this connection. */
  get inTransaction(): boolean {
    return this.runner?.db.inTransaction === true;
  }

  /** Runs one statement now under `write` policy; `rows` asks for result rows. */
  run(sql: string, params: readonly unknown[], write: WritePolicy, rows: boolean): RunResult {
    try {
      beforeNativeCall();
      return this.r.run(sql, params, write, rows);
    } catch (err) {
      throw asRunError(err);
    }
  }

  /**
   * {@link run}'s first row, null when there is none: a prepared read stops at it (better-sqlite3's
   * `get()`); any other statement runs whole, and this run prepares it.
   */
  runFirst(sql: string, params: readonly unknown[], write: WritePolicy): Record<string, unknown> | null {
    try {
      beforeNativeCall();
      const r = this.r;
      const row = r.readPreparedOne(sql, params);
      if (row !== undefined) return row;
      const out = r.run(sql, params, write, true);
      return ('rows' in out && out.rows?.[0]) || null;
    } catch (err) {
      throw asRunError(err);
    }
  }

  /**
   * Runs a statement known to only read, now. Undefined when SQLite is busy (the caller
   * retries on the path that waits).
   */
  readNow(sql: string, params: readonly unknown[]): Record<string, unknown>[] | undefined {
    try {
      beforeNativeCall();
      const r = this.r;
      const rows = r.readPrepared(sql, params);
      if (rows) return rows;
      const out = r.run(sql, params, 'deny', true);
      return ('rows' in out && out.rows) || [];
    } catch (err) {
      const e = asRunError(err);
      if (isBusyCode(e.info.code)) return undefined;
      throw e;
    }
  }

  /** {@link readNow} for the first row: null when there is none, undefined when SQLite is busy. */
  readOneNow(sql: string, params: readonly unknown[]): Record<string, unknown> | null | undefined {
    try {
      return this.runFirst(sql, params, 'deny');
    } catch (err) {
      if (isBusyCode((err as RunError).info.code)) return undefined;
      throw err;
    }
  }

  /** An autocommit write: BEGIN IMMEDIATE (waiting until `deadline`), the statement, COMMIT. `bare`: a statement SQLite refuses inside a transaction. */
  async write(sql: string, params: readonly unknown[], rows: boolean, deadline: number, bare = false, since = Date.now()): Promise<RunResult> {
    if (bare) return this.run(sql, params, 'allow', rows);
    const begun = this.begin(true, deadline, since);
    if (begun) await begun;
    let out;
    try {
      out = this.run(sql, params, 'allow', rows);
    } catch (err) {
      this.rollback();
      throw err;
    }
    const committed = this.commit(deadline);
    if (committed) await committed;
    return out;
  }

  /**
   * Group commit: one BEGIN IMMEDIATE … COMMIT around several writes; a failing write fails
   * alone, the others commit. A write that ends the whole transaction when refused (a trigger's
   * RAISE(ROLLBACK), INSERT OR ROLLBACK) undoes the others' work too: it fails alone, and the
   * others run again in a new transaction (nothing is acknowledged before the COMMIT, so running
   * them twice is running them once). A COMMIT refused by a constraint it checks (a deferred
   * foreign key) runs the writes again one transaction each.
   */
  async writeBatch(items: readonly BatchItem[], deadline: number, since = Date.now()): Promise<BatchOutcome[]> {
    const out = new Array<BatchOutcome>(items.length);
    let left = items.map((_, i) => i);
    for (;;) {
      const begun = this.begin(true, deadline, since, BATCH_WAIT);
      if (begun) await begun;
      const refused = this.native(() => {
        const once = this.batchAtOnce(items, left, out);
        return once === 'one by one' ? this.batchOneByOne(items, left, out) : once;
      });
      if (!refused) break;
      out[refused.index] = { ok: false, error: refused.error };
      left = left.filter((i) => i !== refused.index);
      if (left.length === 0) return out;
    }
    try {
      const committed = this.commit(deadline);
      if (committed) await committed;
    } catch (err) {
      // A constraint checked at COMMIT (a deferred foreign key) fails it for every write of the
      // batch, rolled back: each runs again in a transaction of its own, so the one at fault
      // fails alone. From the first of them on, some may be committed: each answers for itself.
      if (left.length === 1 || !isConstraint(err)) throw err;
      for (const k of left) {
        try {
          [out[k]] = await this.writeBatch([items[k]!], deadline, since);
        } catch (e) {
          out[k] = { ok: false, error: toWorkerError(e) };
        }
      }
    }
    return out;
  }

  /**
   * The writes `left` of `items` under one savepoint, their outcomes into `out`. 'one by one',
   * with all of their work undone, when one of them fails (then {@link batchOneByOne} runs them
   * again); the write that ended the whole transaction, if one did. A savepoint per write cost
   * two statements per write, about a fifth of a small insert's CPU; writes rarely fail.
   */
  private batchAtOnce(items: readonly BatchItem[], left: readonly number[], out: BatchOutcome[]): Ender | 'one by one' | undefined {
    if (left.length === 1) return 'one by one';
    const r = this.r;
    r.savepoint('bolt_batch', 'open');
    let i = 0;
    try {
      for (; i < left.length; i++) {
        const it = items[left[i]!]!;
        out[left[i]!] = { ok: true, result: r.run(it.sql, it.params, 'allow', it.rows) };
      }
    } catch (err) {
      if (!r.db.inTransaction) return ender(left[i]!, err);
      r.savepoint('bolt_batch', 'undo');
      return 'one by one';
    }
    r.savepoint('bolt_batch', 'release');
    return undefined;
  }

  /** The writes `left` of `items` each in its own savepoint, so that a failing one fails alone; as {@link batchAtOnce}. */
  private batchOneByOne(items: readonly BatchItem[], left: readonly number[], out: BatchOutcome[]): Ender | undefined {
    const r = this.r;
    for (const k of left) {
      const it = items[k]!;
      r.savepoint('bolt_item', 'open');
      try {
        out[k] = { ok: true, result: r.run(it.sql, it.params, 'allow', it.rows) };
        r.savepoint('bolt_item', 'release');
      } catch (err) {
        if (!r.db.inTransaction) return ender(k, err);
        r.savepoint('bolt_item', 'undo');
        out[k] = { ok: false, error: toWorkerError(err) };
      }
    }
    return undefined;
  }

  /**
   * BEGIN: IMMEDIATE takes SQLite's write lock, waiting for another connection's writer
   * without blocking until `deadline`; a deferred BEGIN (for reads) never waits.
   *
   * Returns undefined when it is done at once (the common case: no promise, no extra turn
   * of the microtask queue on the hot path of every transaction), else a promise of the
   * wait; throws a `RunError` at once for any failure but "busy". `since`: when the caller
   * began to wait (its wait for this handle's writer turn included), for the timeout's report;
   * `shape`: how it waits ({@link TRANSACTION_WAIT} or {@link BATCH_WAIT}).
   */
  begin(immediate: boolean, deadline: number, since = Date.now(), shape: LockWait = TRANSACTION_WAIT): Promise<void> | undefined {
    const turn = nextTurn(); // no transaction is open on this connection: BEGIN would fail
    if (turn) return turn.then(() => this.beginNow(immediate, deadline, since, shape));
    return this.beginNow(immediate, deadline, since, shape);
  }

  private beginNow(immediate: boolean, deadline: number, since: number, shape: LockWait): Promise<void> | undefined {
    if (!immediate) return void this.native(() => this.r.db.exec('BEGIN'));
    if (this.tryNow(() => this.r.beginImmediate())) return undefined;
    let waiting = false;
    return this.retryWhileBusy(
      deadline,
      since,
      shape,
      () => this.r.beginImmediate(),
      () => {
        if (!waiting) {
          waiters.waiting++;
          waiters.newestSince = Date.now();
        }
        waiting = true;
      },
    ).finally(() => {
      if (waiting) writerStopsWaiting();
    });
  }

  /**
   * COMMIT. In WAL mode it never waits; in rollback-journal mode it waits for readers to leave
   * (SQLITE_BUSY, the transaction stays open), then tries again until `deadline`, and rolls
   * back when it gives up. Undefined when done at once, as {@link begin}.
   */
  commit(deadline = Date.now() + 30_000): Promise<void> | undefined {
    try {
      if (this.tryNow(() => this.r.commit())) {
        this.onCommit?.();
        return undefined;
      }
    } catch (err) {
      this.rollback();
      throw err;
    }
    return this.retryWhileBusy(deadline, Date.now(), TRANSACTION_WAIT, () => this.r.commit()).then(
      () => this.onCommit?.(),
      (err: unknown) => {
        this.rollback();
        throw err;
      },
    );
  }

  /**
   * The savepoint of a transaction that joined one left open by an earlier transaction of its
   * handle (pinned.ts, "shared commits"): `open` it, `release` it (its work stays, for the
   * shared COMMIT), or `undo` its work alone.
   */
  memberSavepoint(op: 'open' | 'release' | 'undo'): void {
    this.native(() => this.r.savepoint('bolt_member', op));
  }

  /** Runs `attempt` once: true when done, false when SQLite is busy; any other failure is thrown. */
  private tryNow(attempt: () => boolean): boolean {
    try {
      beforeNativeCall();
      return attempt();
    } catch (err) {
      const e = asRunError(err);
      if (isBusyCode(e.info.code)) return false;
      throw e;
    }
  }

  /** ROLLBACK if a transaction is open. It gives locks back, so it runs even in a thread being stopped. */
  rollback(): void {
    try {
      this.runner?.rollback();
    } catch (err) {
      throw asRunError(err);
    }
  }

  /** `PRAGMA query_only`: a read-only session on this connection. */
  queryOnly(on: boolean): void {
    this.native(() => this.r.db.pragma(`query_only = ${on ? 'ON' : 'OFF'}`));
  }

  /** Online backup API (one step: a consistent snapshot) into `dest`. */
  async backup(dest: string): Promise<{ totalPages: number }> {
    try {
      beforeNativeCall();
      const p = await this.r.db.backup(dest);
      return { totalPages: p.totalPages };
    } catch (err) {
      throw asRunError(err);
    }
  }

  /** integrity_check, foreign_key_check and row counts. */
  verify(): VerifyOutcome {
    return this.native(() => {
      const db = this.r.db;
      const d = describeSqlite(db);
      const fk = db.pragma('foreign_key_check') as Array<{ table: string; rowid: number | bigint | null; parent: string }>;
      return {
        integrity: integrityCheck(db),
        foreignKeyViolations: fk.map((v) => ({ table: v.table, rowid: v.rowid === null ? null : Number(v.rowid), parent: v.parent })),
        tables: d.tables,
        journalMode: d.journalMode,
        pageSize: d.pageSize,
        pageCount: d.pageCount,
      };
    });
  }

  async close(): Promise<void> {
    const r = this.runner;
    this.runner = undefined;
    if (!r) return;
    try {
      r.rollback();
    } finally {
      r.db.close();
    }
  }

  private get r(): StatementRunner {
    if (!this.runner) throw new RunError({ name: 'Closed', message: 'the SQLite connection is closed', code: 'SQLITE_MISUSE' });
    return this.runner;
  }

  /** One call into SQLite, unless this thread is being stopped; failures as `RunError`. */
  private native<T>(fn: () => T): T {
    try {
      beforeNativeCall();
      return fn();
    } catch (err) {
      throw asRunError(err);
    }
  }

  /**
   * Whether another connection (of any thread or process) committed since the last call of
   * this method (`PRAGMA data_version`); true the first time, and when it cannot tell.
   */
  committedElsewhere(): boolean {
    const v = this.dataVersion();
    const moved = v === undefined || v !== this.seenDataVersion;
    this.seenDataVersion = v;
    return moved;
  }

  /** `PRAGMA wal_autocheckpoint`: SQLite's automatic checkpoint in this connection's commits, in pages (0: none). */
  autocheckpoint(pages: number): void {
    this.native(() => this.r.db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.trunc(pages))}`));
  }

  /** Whether another connection committed since the last call (`PRAGMA data_version`); false when it cannot tell. */
  private lockMoved(): boolean {
    const v = this.dataVersion();
    const moved = v !== undefined && this.lastDataVersion !== undefined && v !== this.lastDataVersion;
    this.lastDataVersion = v;
    return moved;
  }

  /** `PRAGMA data_version` now (it changes when another connection commits); undefined when it cannot be read. */
  private dataVersion(): number | undefined {
    try {
      return this.r.dataVersion();
    } catch {
      return undefined;
    }
  }

  /**
   * Runs `attempt` (BEGIN IMMEDIATE, COMMIT) until it is not busy, with backoff, until
   * `deadline`; giving up, it reports the wait since `since` (when the caller began to wait).
   */
  private async retryWhileBusy(deadline: number, since: number, shape: LockWait, attempt: () => boolean, onBusy?: () => void): Promise<void> {
    let blocking = false;
    try {
      for (let n = 0; ; n++) {
        if (this.tryNow(attempt)) return;
        onBusy?.();
        const now = Date.now();
        const left = deadline - now;
        if (left <= 0) throw new RunError({ ...BUSY, busyTimeout: { attempts: n + 1, waitedMs: now - since } });
        const moved = this.lockMoved();
        if (moved) waiters.lockMovedAt = now;
        const waited = now - since;
        const block = moved && waited >= shape.blockingAfterMs && this.lockWaitMs > 0;
        if (block !== blocking) {
          blocking = block;
          this.r.blockOnBusy(block ? this.lockWaitMs : undefined);
        }
        await delay(Math.min(left, moved && waited >= AGED_MS && waited < STORM_MS ? AGED_RETRY_MS : backoffDelay(n, shape.backoff)));
      }
    } finally {
      if (blocking) this.stopBlocking();
    }
  }

  /** Back to the connection's own busy_timeout after a wait that blocked; a closed connection has none. */
  private stopBlocking(): void {
    try {
      this.runner?.blockOnBusy(undefined);
    } catch {
      // closed meanwhile: nothing to restore
    }
  }

  /** How long one blocking try may wait inside SQLite (see BLOCKING_WAIT_MS). */
  private get lockWaitMs(): number {
    return this.settings.lockWaitMs ?? 0;
  }
}
