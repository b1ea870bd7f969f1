/**
 * Stopping a statement DuckDB is running on a connection.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { whenAborted } from '../../core/abortable.js';

/** How often an interrupt is repeated until the statement has ended. */
const REPEAT_MS = 20;

/**
 * Interrupts what `conn` runs now, and again every 20 ms until the returned function is
 * called: DuckDB forgets an interrupt that arrives before its statement starts executing (one
 * still being prepared, or between two steps of a caller), so a single interrupt can miss.
 * Call the returned function once the statement has ended.
 */
export function interruptUntilStopped(conn: DuckDBConnection): () => void {
  const interrupt = (): void => {
    try {
      conn.interrupt();
    } catch {
      /* nothing running */
    }
  };
  interrupt();
  const timer = setInterval(interrupt, REPEAT_MS);
  return () => clearInterval(timer);
}

/**
 * Runs `fn`, the statement `conn` runs now; when `signal` aborts before `fn` settles, the
 * statement is interrupted (as {@link interruptUntilStopped}) unless `mayInterrupt()` says no
 * (its connection carries other callers' writes). Errors pass through as they are: the caller
 * tells an interrupted statement by its signal.
 */
export async function interruptedOnAbort<T>(
  conn: DuckDBConnection,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
  mayInterrupt: () => boolean = () => true,
): Promise<T> {
  if (!signal) return fn();
  let stop: (() => void) | undefined;
  const forget = whenAborted(signal, () => {
    if (mayInterrupt()) stop = interruptUntilStopped(conn);
  });
  try {
    return await fn();
  } finally {
    forget();
    stop?.();
  }
}
