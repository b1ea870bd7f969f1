/**
 * A caller's `signal` on a statement: it ends the caller's wait, not the work already sent.
 */
import { AbortedError, BadInputError } from './errors.js';
import { log } from './logger.js';

/** Why `signal` cannot be a statement's signal option (undefined or an AbortSignal), or undefined when it can. */
export function signalProblem(signal: unknown): BadInputError | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return undefined;
  const what = signal !== null && typeof signal === 'object' ? 'an object of another kind' : (JSON.stringify(signal) ?? typeof signal);
  return new BadInputError(`signal must be an AbortSignal, not ${what}`);
}

/** Why work under `signal` must not start: not an AbortSignal (BOLT_BAD_INPUT) or already aborted (BOLT_ABORTED). */
export function notStartable(signal: AbortSignal): BadInputError | AbortedError | undefined {
  return signalProblem(signal) ?? (signal.aborted ? new AbortedError() : undefined);
}

/**
 * Starts `start()` unless `signal` is not an AbortSignal or is already aborted. With
 * `workStops`, what happens when it aborts later is the work's to handle (PostgreSQL's caller
 * waits until the cancelled statement has ended, so its connection is not lent out while the
 * cancel is on its way); without, as {@link unlessAborted}.
 */
export function ifStartable<T>(signal: AbortSignal | undefined, workStops: boolean | undefined, start: () => Promise<T>): Promise<T> {
  if (!workStops) return unlessAborted(signal, start);
  if (signal === undefined) return start();
  const refused = notStartable(signal);
  return refused ? Promise.reject(refused) : start();
}

/**
 * Starts `start()` unless `signal` is already aborted (then BOLT_ABORTED, nothing started),
 * and rejects with BOLT_ABORTED as soon as `signal` aborts while it runs. The work itself is
 * not stopped: a statement already sent may still complete on the engine.
 */
export function unlessAborted<T>(signal: AbortSignal | undefined, start: () => Promise<T>): Promise<T> {
  if (signal === undefined) return start();
  const refused = notStartable(signal);
  if (refused) return Promise.reject(refused);
  const work = start();
  return new Promise<T>((resolve, reject) => {
    const forget = whenAborted(signal, () => reject(new AbortedError()));
    work.then(resolve, reject).finally(forget);
  });
}

/** What waits on each signal: one listener per signal however many statements share it. */
const waiting = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` once when `signal` aborts (at once if it has), unless the returned function was
 * called first. A signal gets one 'abort' listener however many wait on it, so one signal
 * passed to many statements at once (an agent's `ctx.signal` in a `Promise.all`) raises no
 * MaxListenersExceededWarning, and waits that ended leave nothing behind on it.
 */
export function whenAborted(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn();
    return () => undefined;
  }
  let fns = waiting.get(signal);
  if (!fns) {
    const all = new Set<() => void>();
    waiting.set(signal, all);
    signal.addEventListener(
      'abort',
      () => {
        waiting.delete(signal);
        for (const f of all) {
          // One failing callback must neither stop the others nor escape (an exception in an
          // 'abort' listener is an uncaught exception of the process).
          try {
            f();
          } catch (err) {
            log('abort').error({ err }, 'a callback on an aborted signal threw');
          }
        }
      },
      { once: true },
    );
    fns = all;
  }
  const once = (): void => fn();
  fns.add(once);
  const set = fns;
  return () => set.delete(once);
}
