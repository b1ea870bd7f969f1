/**
 * `transaction(fn)` over a DuckDB `Session` (in the host, or over the host's socket): the one
 * transaction engine (transaction.ts) driving the session's BEGIN/COMMIT/ROLLBACK, with the
 * transaction's request id looked up and recorded through the session's own statements.
 * Statement request ids inside the closure are passed to the session, which applies them.
 */
import type { Session, Transaction, TransactionOptions } from '../../core/database.js';
import { checkRequestId } from '../../core/request-id.js';
import { HOSTED_REQUEST_LOG_DDL, LOOKUP_REQUEST_SQL, REQUESTS_TABLE, isAutoRequestId } from '../../core/request-log.js';
import { DEFAULT_TX_RETRIES, runTransaction, transactionEnded, type TransactionTarget } from './transaction.js';

type TxSession = Pick<Session, 'begin' | 'commit' | 'rollback' | 'query' | 'queryOne' | 'execute'>;

export interface SessionTransactionOptions extends TransactionOptions {
  /** `requestId` was generated for this call: record it, but skip the lookup (a table scan). */
  freshRequestId?: boolean;
  /** The caller's note that `bolt_requests` exists (set here once it does). */
  requestLog?: { ready: boolean };
}

/** Runs `fn` in a transaction on `s`; resolves undefined when `requestId` was already applied. */
export async function runSessionTransaction<T>(
  s: TxSession,
  fn: (tx: Transaction) => Promise<T>,
  opts: SessionTransactionOptions = {},
): Promise<T | undefined> {
  checkRequestId(opts.requestId);
  if (opts.requestId !== undefined && !opts.requestLog?.ready) {
    // Bolt's log appears with the first write that records an id; made before BEGIN, since a
    // DDL inside the transaction would be undone by its rollback. Racing creators retry once.
    await s.execute(HOSTED_REQUEST_LOG_DDL).catch(() => s.execute(HOSTED_REQUEST_LOG_DDL));
    if (opts.requestLog) opts.requestLog.ready = true;
  }
  const out = await runTransaction(sessionTarget(s), fn, {
    retries: opts.retries ?? DEFAULT_TX_RETRIES,
    readOnly: false,
    requestId: opts.requestId,
    freshRequestId: opts.freshRequestId,
    signal: opts.signal,
  });
  return out.applied ? out.value : undefined;
}

function sessionTarget(s: TxSession): TransactionTarget {
  return {
    query: (sql, params, o) => s.query(sql, params, { signal: o.signal }),
    execute: (sql, params, o) => s.execute(sql, params, { signal: o.signal }),
    begin: () => s.begin(),
    commit: () => s.commit(),
    rollback: () => s.rollback(),
    async lookupRequest(id) {
      const rows = await s.query(LOOKUP_REQUEST_SQL, [id]);
      return rows.length > 0 ? Number(rows[0]!.rows_changed ?? 0) : undefined;
    },
    async recordRequest(id, rowsChanged) {
      // The host applies one id at a time (its log has no key): recording always succeeds.
      await s.execute(`INSERT INTO ${REQUESTS_TABLE} (id, rows_changed, auto) VALUES (?, ?, ?)`, [id, rowsChanged, isAutoRequestId(id)]);
      return true;
    },
    // Once the transaction ended, its handle runs nothing: the session may be in another one by then.
    handle: (counter) => ({
      query: (sql, params, o) => (counter.ended ? Promise.reject(transactionEnded()) : s.query(sql, params, o)),
      queryOne: (sql, params, o) => (counter.ended ? Promise.reject(transactionEnded()) : s.queryOne(sql, params, o)),
      async execute(sql, params, o) {
        if (counter.ended) throw transactionEnded();
        const r = await s.execute(sql, params, o);
        if (!r.deduplicated) counter.rows += r.rowsChanged;
        return r;
      },
    }),
  };
}
