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
 * `mayInterrupt` is asked before each one: a connection that has begun to carry other callers'
 * writes (a group commit) is left alone from then on. Call the returned function once the
 * statement has ended.
 */
export function interruptUntilStopped(conn: DuckDBConnection, mayInterrupt: () => boolean = () => true): () => void {
  const interrupt = (): void => {
    if (mayInterrupt()) interruptOnce(conn);
  };
  interrupt();
  const timer = setInterval(interrupt, REPEAT_MS);
  return () => clearInterval(timer);
}

/** Interrupts what `conn` runs now, once: no timer, so it serves at process exit too. */
export function interruptOnce(conn: DuckDBConnection): void {
  try {
    conn.interrupt();
  } catch {
    /* nothing running, or closed */
  }
}

/**
 * Runs `fn`, the statement `conn` runs now; when one of `signals` aborts before `fn` settles,
 * the statement is interrupted (as {@link interruptUntilStopped}) while `mayInterrupt()` says
 * it may (not once its connection carries other callers' writes). Errors pass through as they
 * are: the caller tells an interrupted statement by its signals.
 */
export async function interruptedOnAbort<T>(
  conn: DuckDBConnection,
  signals: ReadonlyArray<AbortSignal | undefined>,
  fn: () => Promise<T>,
  mayInterrupt?: () => boolean,
): Promise<T> {
  let stop: (() => void) | undefined;
  const start = (): void => {
    stop ??= interruptUntilStopped(conn, mayInterrupt);
  };
  const forgets = signals.flatMap((s) => (s ? [whenAborted(s, start)] : []));
  if (forgets.length === 0) return fn();
  try {
    return await fn();
  } finally {
    for (const forget of forgets) forget();
    stop?.();
  }
}
