/**
 * Bolt's one backoff: capped exponential delays with jitter, in two shapes.
 *
 * - `'equal'` (task retries): half the delay is fixed, half random, so retries of many tasks
 *   failing together spread out but never come back sooner than half the nominal delay.
 * - `'wide'` (the default; lock, election and conflict waits): anywhere from half the base
 *   delay up to the nominal one, so a waiter that lost a race tries again soon while many
 *   waiters still spread out.
 */

export interface BackoffOptions {
  /** Delay before the first retry, ms (default 500). */
  baseMs: number;
  /** Upper bound of any delay, ms (default 60 s). */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 60_000 };

export type BackoffJitter = 'equal' | 'wide';

/**
 * Delay in ms before the next try after `attempt` failed tries (0 = the first failed):
 * nominal `min(cap, base·2^attempt)`, jittered by `jitter`. `random` must return [0, 1).
 */
export function backoffDelay(attempt: number, opts: BackoffOptions & { jitter?: BackoffJitter }, random: () => number = Math.random): number {
  const top = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  if (opts.jitter === 'equal') return top / 2 + random() * (top / 2);
  const low = opts.baseMs / 2;
  return Math.max(1, low + random() * Math.max(0, top - low));
}

/**
 * Delay before retrying a task after its `attempt`-th attempt failed (attempt ≥ 1), in whole
 * ms, with equal jitter.
 */
export function retryDelayMs(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  return Math.round(backoffDelay(attempt - 1, { ...opts, jitter: 'equal' }, random));
}
