/**
 * Re-running single autocommit statements that lost an optimistic write conflict (DuckDB's
 * MVCC, a PostgreSQL serialization failure): each is one statement, so re-running it is safe.
 */
import { isTransient } from '../errors.js';
import { log } from '../logger.js';

const logger = log('task-queue');

/** Runs `fn`, re-running it (with a short random backoff) while it fails with a transient error. */
export async function retryConflicts<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || i >= attempts) throw e;
      logger.debug({ err: e, attempt: i }, 'write conflict, re-running the statement');
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** i)));
    }
  }
}
