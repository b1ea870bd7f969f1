/**
 * Creates THE DuckDB instance of a file. Only a Bolt host calls this, and only while it holds
 * the sidecar flock (the `HeldFlock` argument is the proof): that is what keeps one instance
 * per file per machine across processes and threads. Within a thread, `storage/host-registry`
 * adds a guard keyed by realpath.
 *
 * Path problems are reported before DuckDB creates anything: missing directory, read-only
 * directory or file, a file that is not a DuckDB database.
 */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { BadInputError, LockForeignError, NotADatabaseError, PermissionError, hasCode } from '../../core/errors.js';
import { detectFileKind } from '../../storage/platform/file-kind.js';
import { checkDirectory } from '../../storage/platform/check-directory.js';
import type { HeldFlock } from '../../storage/platform/flock.js';
import { retryUntil } from '../../storage/platform/retry.js';
import { log } from '../../core/logger.js';
import { classifyDuckDBError } from './classify-errors.js';

/**
 * Checks that `path` can be a DuckDB database we may write: its directory exists and is
 * writable, and the file is missing, empty or a DuckDB file. Throws a typed error otherwise.
 * Reads the file header: never call it while this process has the file open in DuckDB.
 */
export function checkDuckDBPath(path: string): { exists: boolean } {
  const abs = resolve(path);
  checkDirectory(abs);
  const kind = detectFileKind(abs);
  switch (kind.kind) {
    case 'missing':
    case 'empty':
      return { exists: kind.kind === 'empty' };
    case 'duckdb':
      try {
        accessSync(abs, constants.W_OK);
      } catch {
        throw new PermissionError(`${abs} (or its directory) is read-only; DuckDB needs to write its WAL next to it`, { path: abs });
      }
      return { exists: true };
    case 'directory':
      throw new BadInputError(`${abs} is a directory, not a database file`, { path: abs });
    case 'sqlite':
      throw new NotADatabaseError(`${abs} is a SQLite database, not a DuckDB one (open it with engine 'sqlite')`, { path: abs });
    case 'unreadable':
      throw new PermissionError(`${abs} cannot be read: ${kind.reason}`, { path: abs });
    default:
      throw new NotADatabaseError(`${abs} is not a DuckDB database file (unknown header)`, { path: abs, size: kind.size });
  }
}

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
 * Opens DuckDB read-write on `path`. Requires the sidecar flock. When a foreign process holds
 * the file, retries with backoff up to `lockTimeoutMs`, then throws `BOLT_LOCK_FOREIGN`.
 */
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
          return await DuckDBInstance.create(path, {
            access_mode: 'READ_WRITE',
            disabled_optimizers: HOST_DISABLED_OPTIMIZERS,
            checkpoint_threshold: DUCKDB_CHECKPOINT_THRESHOLD,
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
