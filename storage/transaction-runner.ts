/**
 * `transaction(fn)` on top of any Session: BEGIN, run the closure, COMMIT; on a write
 * conflict roll back and re-run the whole closure (capped exponential backoff), up to
 * `retries` times, then BOLT_TX_CONFLICT. With a requestId the transaction is recorded in
 * `bolt_requests` before COMMIT, and skipped (resolving undefined) when already recorded.
 */
import type { Session, Transaction, TransactionOptions } from '../core/database.js';
import { AbortedError, TxConflictError, hasCode } from '../core/errors.js';
import { REQUEST_LOG_DDL, REQUEST_LOG_TABLE } from './request-log.js';
import { backoffDelay, delay } from './retry.js';
import { checkRequestId } from '../core/request-id.js';

export const DEFAULT_TX_RETRIES = 5;

/** Runs `fn` in a transaction on `s` with conflict retries. */
export async function runTransaction<T>(
  s: Pick<Session, 'begin' | 'commit' | 'rollback' | 'query' | 'execute'>,
  fn: (tx: Transaction) => Promise<T>,
  opts: TransactionOptions = {},
  /** The request id is a fresh automatic one: record it, but skip the lookup (a table scan). */
  freshRequestId = false,
  /** The caller's note that `bolt_requests` exists (set here once it does). */
  requestLog?: { ready: boolean },
): Promise<T | undefined> {
  checkRequestId(opts.requestId);
  const retries = opts.retries ?? DEFAULT_TX_RETRIES;
  if (opts.requestId !== undefined && !requestLog?.ready) {
    // Bolt's log appears with the first write that records an id; made before BEGIN, since a
    // DDL inside the transaction would be undone by its rollback. Racing creators retry once.
    await s.execute(REQUEST_LOG_DDL).catch(() => s.execute(REQUEST_LOG_DDL));
    if (requestLog) requestLog.ready = true;
  }
  const tx: Transaction = {
    query: (sql, params, o) => s.query(sql, params, o),
    execute: (sql, params, o) => s.execute(sql, params, o),
  };
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new AbortedError('the transaction was aborted');
    await s.begin();
    let result: T;
    try {
      if (opts.requestId !== undefined && !freshRequestId) {
        const seen = await s.query(`SELECT 1 AS seen FROM ${REQUEST_LOG_TABLE} WHERE id = ? LIMIT 1`, [opts.requestId]);
        if (seen.length > 0) {
          await s.rollback();
          return undefined;
        }
      }
      result = await fn(tx);
      if (opts.requestId !== undefined) {
        await s.execute(`INSERT INTO ${REQUEST_LOG_TABLE} (id, rows_changed, auto) VALUES (?, 0, ?)`, [opts.requestId, opts.requestId.startsWith('auto:')]);
      }
      await s.commit();
      return result;
    } catch (err) {
      await s.rollback().catch(() => undefined);
      if (hasCode(err, 'BOLT_TX_CONFLICT') && attempt < retries) {
        await delay(backoffDelay(attempt, { baseMs: 5, capMs: 200 }), opts.signal);
        continue;
      }
      if (hasCode(err, 'BOLT_TX_CONFLICT')) {
        throw new TxConflictError(`the transaction still conflicted after ${attempt + 1} attempt(s); ${err.message}`, {
          ...err.details,
          attempts: attempt + 1,
        });
      }
      throw err;
    }
  }
}
