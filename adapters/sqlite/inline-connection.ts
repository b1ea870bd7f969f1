/**
 * One better-sqlite3 connection in the calling thread (the main thread, or an agent's worker
 * thread), driven by the same requests a connection used to receive as messages
 * (`ConnectionRequest`). Statements run synchronously, as bare better-sqlite3 runs them: no thread
 * hop, no copy of parameters and rows.
 *
 * It never waits inside SQLite: `busy_timeout` is 0, so a lock held elsewhere returns
 * SQLITE_BUSY at once. Waiting for the write lock (BEGIN IMMEDIATE, and a COMMIT in rollback-
 * journal mode) happens here, asynchronously, with backoff up to the caller's deadline: the
 * event loop keeps running while a writer waits. Reads that meet SQLITE_BUSY (rollback-journal
 * files, WAL recovery) fail with it, and the caller retries them the same way.
 *
 * What it cannot avoid: one long statement (a big GROUP BY) occupies its thread while it
 * runs, as with bare better-sqlite3, and so can a read that SQLite itself retries under heavy
 * WAL traffic (architecture.md, fact 14).
 */
import { connect, writeJournalMode, type SqliteConnectSettings } from './connect.js';
import { describeSqlite, integrityCheck } from './describe.js';
import type { BatchOutcome, VerifyOutcome, SqliteFailure, ConnectionRequest } from './requests.js';
import { RunError, StatementRunner } from './run.js';
import { delay } from '../../storage/platform/retry.js';
import { beforeNativeCall } from '../../storage/platform/native-guard.js';
import { backoffDelay } from '../../core/backoff.js';

/** Statements run inline in one turn of the event loop before the next one yields to it. */
const OPS_PER_TURN = 64;
let opsThisTurn = 0;
let turnEnds = false;

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
  return new Promise((resolve) => setImmediate(resolve));
}

/** Writers of this thread waiting for SQLite's lock, and the reads that wait for them. */
let writersWaiting = 0;
let writersWaitingSince = 0;
let writersGone: Array<() => void> = [];
/** A read waits for this thread's waiting writers at most this long. */
const READ_DEFERRAL_MS = 50;
/**
 * When the newest of this thread's waiting writers has waited this long, the lock is held by
 * something that does not compete for this CPU (a foreign program, a long transaction):
 * reads stop deferring.
 */
const DEFER_WHILE_WAITING_MS = 500;

/**
 * While a writer of this thread waits for SQLite's lock, this thread's reads (outside
 * transactions) wait too, up to READ_DEFERRAL_MS: reads never conflict with the lock, but a
 * thread that keeps reading at full speed while its writer waits takes the CPU from whichever
 * process holds the lock, and every writer waits longer. Bare SQLite gets this by blocking the
 * thread in its busy handler; here the event loop keeps running. After DEFER_WHILE_WAITING_MS
 * of waiting, reads go on at full speed.
 */
export function writersFirst(): Promise<void> | undefined {
  if (writersWaiting === 0 || Date.now() - writersWaitingSince > DEFER_WHILE_WAITING_MS) return undefined;
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, READ_DEFERRAL_MS);
    writersGone.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function writerStopsWaiting(): void {
  if (--writersWaiting > 0) return;
  const waiting = writersGone;
  writersGone = [];
  for (const w of waiting) w();
}

/** Delays between tries for a lock held by another process: like SQLite's own busy handler, 1 ms up to 25 ms. */
const LOCK_WAIT = { baseMs: 1, capMs: 25 };

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

function toWorkerError(err: unknown): SqliteFailure {
  if (err instanceof RunError) return err.info;
  const e = err as Error & { code?: unknown };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: typeof e?.code === 'string' ? e.code : undefined };
}

/** One SQLite connection in this thread. */
export class InlineConnection {
  private runner: StatementRunner | undefined;
  /** Resolved once open (or rejected with a `RunError`), as the pool expects of a connection. */
  readonly ready: Promise<void>;

  constructor(settings: SqliteConnectSettings) {
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

  /** Runs one request; rejects with a `RunError` (classified by the caller: classifyFailure) on failure. */
  async call<T = unknown>(req: ConnectionRequest): Promise<T> {
    // Inside a transaction this connection holds SQLite's write lock (or a read snapshot):
    // finish it without yielding, so other processes wait for its work only.
    if (!this.runner?.db.inTransaction) {
      const turn = nextTurn();
      if (turn) await turn;
    }
    // Rolling back gives locks back: it runs even in a thread being stopped.
    if (req.op !== 'rollback') beforeNativeCall();
    try {
      return (await this.handle(req)) as T;
    } catch (err) {
      throw err instanceof RunError ? err : new RunError(toWorkerError(err));
    }
  }

  /**
   * Runs a statement known to only read, now. Undefined when SQLite is busy (the caller
   * retries on the path that waits); throws a `RunError` for any other failure.
   */
  readNow(sql: string, params: readonly unknown[]): Record<string, unknown>[] | undefined {
    beforeNativeCall();
    try {
      const r = this.r.run(sql, params, 'deny', true);
      return ('rows' in r && r.rows) || [];
    } catch (err) {
      if (isBusy(err)) return undefined;
      throw err instanceof RunError ? err : new RunError(toWorkerError(err));
    }
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

  private async handle(msg: ConnectionRequest): Promise<unknown> {
    const r = this.r;
    switch (msg.op) {
      case 'run':
        return r.run(msg.sql, msg.params, msg.write, msg.rows);
      case 'write': {
        if (msg.bare) return r.run(msg.sql, msg.params, 'allow', msg.rows); // cannot run inside a transaction
        await this.beginImmediate(msg.deadline);
        let out;
        try {
          out = r.run(msg.sql, msg.params, 'allow', msg.rows);
        } catch (err) {
          r.rollback();
          throw err;
        }
        await this.commit(msg.deadline);
        return out;
      }
      case 'write-batch': {
        await this.beginImmediate(msg.deadline);
        const out: BatchOutcome[] = msg.items.map((it) => {
          r.db.exec('SAVEPOINT bolt_item');
          try {
            const result = r.run(it.sql, it.params, 'allow', it.rows);
            r.db.exec('RELEASE bolt_item');
            return { ok: true, result };
          } catch (err) {
            r.db.exec('ROLLBACK TO bolt_item');
            r.db.exec('RELEASE bolt_item');
            return { ok: false, error: toWorkerError(err) };
          }
        });
        await this.commit(msg.deadline);
        return out;
      }
      case 'begin':
        if (msg.immediate) await this.beginImmediate(msg.deadline);
        else r.db.exec('BEGIN');
        return undefined;
      case 'commit':
        await this.commit(Date.now() + 30_000);
        return undefined;
      case 'rollback':
        r.rollback();
        return undefined;
      case 'query-only':
        r.db.pragma(`query_only = ${msg.on ? 'ON' : 'OFF'}`);
        return undefined;
      case 'backup':
        return r.db.backup(msg.dest).then((p) => ({ totalPages: p.totalPages }));
      case 'verify': {
        const d = describeSqlite(r.db);
        const fk = r.db.pragma('foreign_key_check') as Array<{ table: string; rowid: number | bigint | null; parent: string }>;
        const out: VerifyOutcome = {
          integrity: integrityCheck(r.db),
          foreignKeyViolations: fk.map((v) => ({ table: v.table, rowid: v.rowid === null ? null : Number(v.rowid), parent: v.parent })),
          tables: d.tables,
          journalMode: d.journalMode,
          pageSize: d.pageSize,
          pageCount: d.pageCount,
        };
        return out;
      }
    }
  }

  /** BEGIN IMMEDIATE; while another connection writes, waits without blocking until `deadline`. */
  private async beginImmediate(deadline: number): Promise<void> {
    let waiting = false;
    try {
      await this.tryBeginImmediate(deadline, () => {
        if (!waiting) {
          writersWaiting++;
          writersWaitingSince = Date.now();
        }
        waiting = true;
      });
    } finally {
      if (waiting) writerStopsWaiting();
    }
  }

  private async tryBeginImmediate(deadline: number, onBusy: () => void): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      beforeNativeCall();
      try {
        this.r.beginImmediate();
        return;
      } catch (err) {
        if (isBusy(err)) onBusy();
        await this.waitOrGiveUp(err, attempt, started, deadline);
      }
    }
  }

  /**
   * COMMIT. In WAL mode it never waits; in rollback-journal mode it waits for readers to leave
   * (SQLITE_BUSY, the transaction stays open), then tries again, until `deadline`.
   */
  private async commit(deadline: number): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        beforeNativeCall();
        this.r.commit();
        return;
      } catch (err) {
        try {
          await this.waitOrGiveUp(err, attempt, started, deadline);
        } catch (e) {
          this.r.rollback();
          throw e;
        }
      }
    }
  }

  private async waitOrGiveUp(err: unknown, attempt: number, started: number, deadline: number): Promise<void> {
    if (!isBusy(err)) throw err;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new RunError({
        name: 'SqliteError',
        message: (err as Error).message,
        code: (err as { code: string }).code,
        busyTimeout: { attempts: attempt + 1, waitedMs: Date.now() - started },
      });
    }
    await delay(Math.min(left, backoffDelay(attempt, LOCK_WAIT)));
  }
}
