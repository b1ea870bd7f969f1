/**
 * Capped exponential backoff with full jitter, and an abortable sleep. Used by every adapter
 * for the retries the design allows: reads, writes with a request id, whole transactions.
 */
import { AbortedError } from '../../core/errors.js';

export interface BackoffOptions {
  /** First delay (default 5 ms). */
  baseMs?: number;
  /** Largest delay (default 250 ms). */
  capMs?: number;
}

/** The delay before retry number `attempt` (0-based): random in [base/2, min(cap, base·2^attempt)]. */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 5;
  const cap = opts.capMs ?? 250;
  const top = Math.min(cap, base * 2 ** Math.min(attempt, 20));
  return base / 2 + Math.random() * Math.max(0, top - base / 2);
}

/** Resolves after `ms`, or rejects with BOLT_ABORTED when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortedError());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Throws BOLT_ABORTED when `signal` has aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortedError();
}
