/**
 * Capped exponential backoff with full jitter, and a deadline-bounded retry loop.
 */
import { AbortedError } from '../../core/errors.js';

export interface BackoffOptions {
  /** First delay in ms (default 10). */
  baseMs?: number;
  /** Largest delay in ms (default 500). */
  capMs?: number;
}

/** Delay before attempt `attempt` (0-based): random in [base/2, min(cap, base·2^attempt)]. */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 10;
  const cap = opts.capMs ?? 500;
  const top = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.max(1, base / 2 + Math.random() * Math.max(0, top - base / 2));
}

/** Resolves after `ms` (rejects with AbortedError when `signal` aborts). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const onAbort = () => {
      clearTimeout(t);
      reject(new AbortedError());
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `fn` until it succeeds, `shouldRetry(err)` says no, or `deadlineMs` has passed (then
 * the last error is thrown). Waits with capped exponential backoff between attempts.
 */
export async function retryUntil<T>(
  fn: (attempt: number) => Promise<T>,
  opts: BackoffOptions & { deadlineMs: number; shouldRetry: (err: unknown) => boolean; signal?: AbortSignal },
): Promise<T> {
  const end = Date.now() + opts.deadlineMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!opts.shouldRetry(err)) throw err;
      const left = end - Date.now();
      if (left <= 0) throw err;
      await delay(Math.min(left, backoffDelay(attempt, opts)), opts.signal);
    }
  }
}
