/**
 * Group commit for logged writes. A write that carries a request id costs an explicit
 * transaction (BEGIN, the write, the `bolt_requests` row, COMMIT), markedly slower than a bare
 * autocommit statement. When such writes arrive concurrently, everything queued runs in ONE
 * transaction on the connection of its first write, with one request-log flush and one commit
 * for all; the next batch starts once this one reaches its COMMIT. A lone write runs at once
 * (no waiting for company).
 * If the batch fails (an error in one statement aborts DuckDB's transaction, or a conflict),
 * it is rolled back and every write is re-run on its own, so each caller gets its own outcome.
 * Once stopped (a closing host interrupts what still runs), a write that has not been applied
 * is rejected instead of run or re-run.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ValueMode } from '../../core/database.js';
import { destroyPrepared, prepareSql, runPrepared, type PreparedSql } from './run.js';
import { beginTransaction, commitTransaction, rollbackTransaction } from './transaction-control.js';
import { recordRequests } from './request-log.js';

/** One logged write waiting to be applied. */
export interface GroupedWrite {
  sql: string;
  params: readonly unknown[] | undefined;
  requestId: string;
  autoId: boolean;
  /** The caller's leased connection, held by the caller until it has its outcome. */
  conn: DuckDBConnection;
  /**
   * The statement as its caller already prepared it on `conn` (prepared statements belong to
   * one connection): used when `conn` runs it, so a write is not prepared twice.
   */
  prepared?: PreparedSql;
  /** How the rows it returns (RETURNING) come back. */
  values?: ValueMode;
}

/**
 * Runs `w` on `conn`: with the caller's prepared statement when it belongs to `conn`,
 * otherwise from `conn`'s statement cache (prepared there on a miss).
 */
export async function runGroupedWrite(conn: DuckDBConnection, w: GroupedWrite): Promise<WriteOutcome> {
  if (w.prepared && w.conn === conn) return runPrepared(w.prepared, w.params, w.sql, w.values);
  const p = await prepareSql(conn, w.sql, w.params?.length ?? 0, { cache: true });
  try {
    return await runPrepared(p, w.params, w.sql, w.values);
  } finally {
    destroyPrepared(p);
  }
}

export interface WriteOutcome {
  rows: Record<string, unknown>[];
  rowsChanged: number;
  isRead: boolean;
}

interface Pending extends GroupedWrite {
  resolve: (r: WriteOutcome) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter {
  private readonly queue: Pending[] = [];
  /**
   * Holds on starting a batch: a batch until it reaches COMMIT, a lone write until it is done,
   * re-runs after a failed batch until they are done. No batch starts while one is held.
   */
  private holds = 0;
  /** Batches run with more than one write, and writes in them (for stats). */
  batches = 0;
  batchedWrites = 0;
  /** Set by {@link stop}: the error for a write that will not be applied. */
  private stoppedWith?: (w: GroupedWrite) => Error;

  constructor(
    /** Runs one write alone on its caller's connection, with its own transaction and conflict retries. */
    private readonly single: (w: GroupedWrite) => Promise<WriteOutcome>,
    private readonly maxBatch = 64,
  ) {}

  /** Applies `w`, possibly together with others (a batch runs on its first write's `conn`). */
  submit(w: GroupedWrite): Promise<WriteOutcome> {
    if (this.stoppedWith) return Promise.reject(this.stoppedWith(w));
    const outcome = new Promise<WriteOutcome>((resolve, reject) => this.queue.push({ ...w, resolve, reject }));
    this.startNext();
    return outcome;
  }

  /** Whether {@link stop} was called. */
  get stopped(): boolean {
    return this.stoppedWith !== undefined;
  }

  /**
   * Stops applying writes: those queued, submitted later, or in a batch that fails from now
   * on (an interrupted one) are rejected with `why(write)` and not re-run. A batch that
   * commits still resolves its writes.
   */
  stop(why: (w: GroupedWrite) => Error): void {
    this.stoppedWith ??= why;
    for (const w of this.queue.splice(0)) w.reject(this.stoppedWith(w));
  }

  /** Runs `w` alone, unless stopped. */
  private runAlone(w: Pending): Promise<void> {
    if (this.stoppedWith) {
      w.reject(this.stoppedWith(w));
      return Promise.resolve();
    }
    return this.single(w).then(w.resolve, w.reject);
  }

  /**
   * Starts a batch of everything queued unless something holds. Batches overlap by one step:
   * the next one runs its BEGIN and writes while the previous one commits (the commit is
   * mostly a WAL fsync; DuckDB serializes commits itself). Nothing else overlaps: a write that
   * conflicts and is retried competes with one committing batch at most, never with a stream
   * of new ones (measured: with re-runs overlapping new batches, 8 callers incrementing one
   * row got BOLT_TX_CONFLICT after the retries ran out).
   */
  private startNext(): void {
    if (this.holds > 0 || !this.queue.length) return;
    const batch = this.queue.splice(0, this.maxBatch);
    const hold = this.hold();
    void this.runBatch(batch, hold)
      // Never expected (runBatch settles every write itself), but no caller may wait forever.
      .catch((err: unknown) => batch.forEach((w) => w.reject(err)))
      .finally(hold.release);
  }

  private hold(): { release: () => void } {
    this.holds++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.holds--;
        this.startNext();
      },
    };
  }

  private async runBatch(batch: Pending[], hold: { release: () => void }): Promise<void> {
    const conn = batch[0]!.conn;
    if (batch.length === 1) {
      await this.runAlone(batch[0]!);
      return;
    }
    const results: WriteOutcome[] = [];
    try {
      await beginTransaction(conn);
      for (const w of batch) results.push(await runGroupedWrite(conn, w));
      await recordRequests(
        conn,
        batch.map((w, i) => ({ id: w.requestId, rowsChanged: results[i]!.rowsChanged, auto: w.autoId })),
      );
      hold.release();
      await commitTransaction(conn);
    } catch {
      await rollbackTransaction(conn).catch(() => undefined);
      // Nothing of the batch was applied: run each write alone (on its caller's connection,
      // which stays leased until that caller has its outcome) for its own outcome, holding
      // off new batches meanwhile; once stopped, each is rejected instead.
      const rerun = this.hold();
      hold.release();
      try {
        for (const w of batch) await this.runAlone(w);
      } finally {
        rerun.release();
      }
      return;
    }
    this.batches++;
    this.batchedWrites += batch.length;
    batch.forEach((w, i) => w.resolve(results[i]!));
  }
}
