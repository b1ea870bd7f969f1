/**
 * A caller's `signal` on a statement: it ends the caller's wait, not the work already sent.
 */
import { AbortedError, BadInputError } from './errors.js';

/** Why `signal` cannot be a statement's signal option (undefined or an AbortSignal), or undefined when it can. */
export function signalProblem(signal: unknown): BadInputError | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return undefined;
  const what = signal !== null && typeof signal === 'object' ? 'an object of another kind' : (JSON.stringify(signal) ?? typeof signal);
  return new BadInputError(`signal must be an AbortSignal, not ${what}`);
}

/**
 * Starts `start()` unless `signal` is already aborted (then BOLT_ABORTED, nothing started),
 * and rejects with BOLT_ABORTED as soon as `signal` aborts while it runs. The work itself is
 * not stopped: a statement already sent may still complete on the engine.
 */
export function unlessAborted<T>(signal: AbortSignal | undefined, start: () => Promise<T>): Promise<T> {
  if (signal === undefined) return start();
  const problem = signalProblem(signal);
  if (problem) return Promise.reject(problem);
  if (signal.aborted) return Promise.reject(new AbortedError());
  const work = start();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
