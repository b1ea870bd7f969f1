/**
 * Creates THE DuckDB instance of a file. Only a Bolt host calls this, and only while it holds
 * the sidecar flock (the `HeldFlock` argument is the proof): that is what keeps one instance
 * per file per machine across processes and threads. Within a thread, `storage/host/registry.ts`
 * adds a guard keyed by realpath. Path problems are reported before, by check-path.ts.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { BadInputError, LockForeignError, hasCode } from '../../core/errors.js';
import type { HeldFlock } from '../../storage/platform/flock.js';
import { retryUntil } from '../../storage/platform/retry.js';
import { log } from '../../core/logger.js';
import { classifyDuckDBError } from './classify-errors.js';

/**
 * Checks that the directory of `path` exists and is writable (for the sidecar, the WAL and a
 * new file); returns it. Reads nothing of the database file itself.
 */

export interface CreateInstanceOptions {
  /** How long to wait for a foreign holder of DuckDB's own lock (default 30 s). */
  lockTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * The host's WAL checkpointer (adapters/duckdb/wal-checkpointer.ts) checkpoints once the WAL passes
 * this size. A host killed with SIGKILL leaves its WAL, and the next host replays it before it
 * can serve: measured here (quiet machine, 8,000 small write transactions, then SIGKILL), a
 * 3.2 MB WAL took 770-800 ms to open, 79 KB 39 ms. Under CPU contention replay is several
 * times slower still.
 */
export const CHECKPOINT_THRESHOLD_BYTES = 256 * 1024;
/**
 * DuckDB's own `checkpoint_threshold` (its default is 16 MB), only a backstop behind the
 * checkpointer. DuckDB tries it on every commit past the threshold, and on a busy host the try
 * mostly fails (other transactions are open) and is made again on the next commit: set to the
 * checkpointer's 256 KiB it tripled the queue's enqueue->start p50 (3.3 -> 13.2 ms) and cost
 * 15 % of its throughput (bench/task-queue.bench.ts, same run); at 4 MiB, 3.3 ms.
 */
const DUCKDB_CHECKPOINT_THRESHOLD = '4MiB';

/**
 * DuckDB optimizers the host turns off so that no prepared plan depends on table statistics
 * (why: in `createDuckDBInstance`; checked by test/duckdb-stale-plans.test.ts).
 */
export const HOST_DISABLED_OPTIMIZERS = 'statistics_propagation,compressed_materialization';

/**
 * Opens DuckDB read-write on `path`. Requires the sidecar flock. When a foreign process holds
 * the file, retries with backoff up to `lockTimeoutMs`, then throws `BOLT_LOCK_FOREIGN`.
 */
export async function createDuckDBInstance(path: string, sidecarLock: HeldFlock, opts: CreateInstanceOptions = {}): Promise<DuckDBInstance> {
  if (!sidecarLock || typeof sidecarLock.fd !== 'number') throw new BadInputError('createDuckDBInstance needs the sidecar lock');
  const timeout = opts.lockTimeoutMs ?? 30_000;
  const started = Date.now();
  let attempts = 0;
  try {
    return await retryUntil(
      async () => {
        attempts++;
        try {
          // Statistics-based optimizers off: DuckDB 1.5.6 bakes the column statistics of the
          // moment into a prepared plan. Measured: a statement prepared while a table was empty,
          // re-run after rows arrived, returned corrupted GROUP BY/ORDER BY strings ('done' → 'g')
          // and `WHERE status = 'done'` found no rows (test/duckdb-cached-plan.test.ts). With
          // these optimizers off no plan depends on statistics, which is what lets the host keep
          // prepared plans across writes (statement-cache.ts; test/duckdb-stale-plans.test.ts).
          // Cost: GROUP BY over 1M rows takes ~35 % longer in-process — correctness first.
          // Extensions are not installed or loaded behind a statement's back: `read_parquet('https://…')`
          // made the host download httpfs and load it for every caller, while INSTALL and LOAD are
          // refused. The extensions built into this DuckDB (parquet, json, icu) are loaded anyway.
          return await DuckDBInstance.create(path, {
            access_mode: 'READ_WRITE',
            disabled_optimizers: HOST_DISABLED_OPTIMIZERS,
            checkpoint_threshold: DUCKDB_CHECKPOINT_THRESHOLD,
            autoinstall_known_extensions: 'false',
            autoload_known_extensions: 'false',
          });
        } catch (err) {
          const e = classifyDuckDBError(err, { path });
          if (e.code === 'BOLT_LOCK_FOREIGN' && attempts === 1)
            log('duckdb').warn({ path, holderPid: e.details.pid, holderCommand: e.details.command }, 'database held by a foreign process; waiting');
          throw e;
        }
      },
      { deadlineMs: timeout, baseMs: 20, capMs: 100, shouldRetry: (e) => hasCode(e, 'BOLT_LOCK_FOREIGN'), signal: opts.signal },
    );
  } catch (err) {
    if (err instanceof LockForeignError) {
      const { pid, command } = err.details as { pid?: number; command?: string };
      throw new LockForeignError(
        `${path} is held by a process that is not a Bolt host${pid ? ` (PID ${pid}: ${command ?? '?'})` : ''}; waited ${Date.now() - started} ms. Close it there, or raise lockTimeoutMs`,
        { ...err.details, path, waitedMs: Date.now() - started, attempts },
      );
    }
    throw err;
  }
}
