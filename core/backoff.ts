/**
 * Retry delays: capped exponential backoff with "equal jitter" — half the delay is fixed,
 * half random — so retries of many tasks failing together spread out but never come back
 * sooner than half the nominal delay.
 */

export interface BackoffOptions {
  /** Delay before the first retry, ms (default 500). */
  baseMs: number;
  /** Upper bound of any delay, ms (default 60 s). */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 60_000 };

/**
 * Delay before retrying after the `attempt`-th attempt failed (attempt ≥ 1).
 * `random` is injectable for tests; it must return a number in [0, 1).
 */
export function retryDelayMs(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(opts.capMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  const half = exp / 2;
  return Math.round(half + random() * half);
}
