/**
 * BEGIN, COMMIT and ROLLBACK run through DuckDB's pending-result API from the event loop, not
 * as an ordinary async statement.
 *
 * Why: an async statement runs on a libuv thread that hands the query's tasks to DuckDB's
 * scheduler; DuckDB's background thread often takes the task, and the libuv thread then
 * busy-waits on the scheduler's queue mutex (perf: ~30 % of CPU in `Executor::ExecuteTask` →
 * `ConcurrentQueue::DequeueFromProducer`), slowing the very thread doing the work. For COMMIT
 * the task is the whole commit (WAL write and fsync): an explicit transaction cost ~2.7× an
 * autocommit INSERT (1.65 vs 0.61 ms in-process). Here `start()` queues the task and
 * `runTask()` runs it on the calling thread, or, when the background thread already took it
 * (most COMMITs: ~117 polls each in a 2,000-commit run), the event loop polls between other
 * events for up to POLL_MS. In the host, a logged write's BEGIN went from 171-182 to 120 µs
 * and its COMMIT from 665-817 to 595 µs (bench, same run).
 *
 * An error (e.g. a write conflict at COMMIT) is thrown with DuckDB's message.
 *
 * A pending result holds its connection's context, and with it the database, open until it is
 * fetched: an unfetched one kept the file locked after `closeSync()` (measured). So each is
 * fetched in the background (a thread hop off the caller's path; it fails harmlessly when the
 * connection's next statement has already closed it, and releases the context either way), and
 * the host awaits `settleTransactionControl()` before it closes DuckDB.
 */
import { DuckDBPendingResultState, type DuckDBConnection, type DuckDBPendingResult } from '@duckdb/node-api';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { fixedStatement } from './statement-cache.js';

type ControlStatement = 'BEGIN TRANSACTION' | 'COMMIT' | 'ROLLBACK';

const unsettled = new Set<Promise<unknown>>();
const unsettledOn = new WeakMap<DuckDBConnection, Set<Promise<unknown>>>();

/** Resolves when every pending result started here has been released. */
export async function settleTransactionControl(): Promise<void> {
  while (unsettled.size) await Promise.all([...unsettled]);
}

/**
 * Resolves once `conn`'s pending results are released, or undefined when it has none. Closing a
 * connection while a pool thread fetches one deadlocks that thread (DuckDB destroys the context
 * whose lock the fetch holds: see host.ts, closeNow), so a connection is closed only after this.
 */
export function connectionSettled(conn: DuckDBConnection): Promise<void> | undefined {
  const mine = unsettledOn.get(conn);
  return mine?.size ? Promise.all([...mine]).then(() => undefined) : undefined;
}

function release(conn: DuckDBConnection, pending: DuckDBPendingResult): void {
  const mine = unsettledOn.get(conn) ?? new Set<Promise<unknown>>();
  unsettledOn.set(conn, mine);
  const settled = (): void => {
    unsettled.delete(p);
    mine.delete(p);
  };
  const p: Promise<void> = pending.getResult().then(settled, settled);
  unsettled.add(p);
  mine.add(p);
}

/**
 * How long the event loop polls a task that DuckDB's background thread took (usually a COMMIT:
 * its WAL write and fsync take 0.3-1.3 ms here) before leaving the wait to a pool thread: a
 * commit that also checkpoints runs far longer, and the loop should not spin through it.
 */
const POLL_MS = 2;

async function runInline(conn: DuckDBConnection, sql: ControlStatement): Promise<void> {
  const pending = (await fixedStatement(conn, sql)).start();
  const pollUntil = performance.now() + POLL_MS;
  let fetched = false;
  try {
    for (;;) {
      const state = pending.runTask();
      if (state === DuckDBPendingResultState.RESULT_READY) return;
      if (state !== DuckDBPendingResultState.NO_TASKS_AVAILABLE) continue;
      // Another thread is running the task: poll between other events, then hand over.
      if (performance.now() < pollUntil) {
        await yieldToLoop();
      } else {
        fetched = true;
        await pending.getResult();
        return;
      }
    }
  } catch (err) {
    throw new Error((err as Error).message.replace(/^Failure running pending result task: /, ''));
  } finally {
    if (!fetched) release(conn, pending);
  }
}

/** Starts an explicit transaction on `conn`. */
export function beginTransaction(conn: DuckDBConnection): Promise<void> {
  return runInline(conn, 'BEGIN TRANSACTION');
}

/** Commits `conn`'s transaction; a write conflict is thrown here. */
export function commitTransaction(conn: DuckDBConnection): Promise<void> {
  return runInline(conn, 'COMMIT');
}

/** Rolls back `conn`'s transaction. */
export function rollbackTransaction(conn: DuckDBConnection): Promise<void> {
  return runInline(conn, 'ROLLBACK');
}

/**
 * Runs `work` in a transaction of its own on `conn`: committed when it succeeds, rolled back
 * (and the error rethrown) when it fails. What a multi-statement script or a bulk append needs
 * to be all-or-nothing.
 */
export async function inTransaction<T>(conn: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await beginTransaction(conn);
  try {
    const r = await work();
    await commitTransaction(conn);
    return r;
  } catch (err) {
    await rollbackTransaction(conn).catch(() => undefined);
    throw err;
  }
}
