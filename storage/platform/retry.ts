/**
 * Waiting: an abortable delay, and a retry loop bounded by a deadline (core/backoff.ts gives
 * the delays).
 */
import { AbortedError } from '../../core/errors.js';
import { whenAborted } from '../../core/abortable.js';
import { backoffDelay, type BackoffOptions } from '../../core/backoff.js';

/** Resolves after `ms` (rejects with AbortedError when `signal` aborts). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const t = setTimeout(() => {
      forget();
      resolve();
    }, ms);
    const forget = signal
      ? whenAborted(signal, () => {
          clearTimeout(t);
          reject(new AbortedError());
        })
      : () => undefined;
  });
}

/**
 * Calls `fn` until it succeeds, `shouldRetry(err)` says no, or `deadlineMs` has passed (then
 * the last error is thrown). Waits with capped exponential backoff between attempts.
 */
export async function retryUntil<T>(
  fn: (attempt: number) => Promise<T>,
  opts: Partial<BackoffOptions> & { deadlineMs: number; shouldRetry: (err: unknown) => boolean; signal?: AbortSignal },
): Promise<T> {
  const end = Date.now() + opts.deadlineMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!opts.shouldRetry(err)) throw err;
      const left = end - Date.now();
      if (left <= 0) throw err;
      await delay(Math.min(left, backoffDelay(attempt, { baseMs: opts.baseMs ?? 10, capMs: opts.capMs ?? 500 })), opts.signal);
    }
  }
}
