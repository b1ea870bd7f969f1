/**
 * Keeps native database calls out of a thread that is about to be terminated. When a worker
 * thread is terminated while a native addon (better-sqlite3) is inside a call that fails, the
 * addon cannot create its JavaScript error and Node aborts the whole process (SIGABRT, "FATAL
 * ERROR: v8::ToLocalChecked Empty MaybeLocal"; architecture.md, fact 13). Termination cannot
 * stop a native call anyway.
 *
 * So an agent's thread, once told its task is being aborted (agents/worker.ts), stops starting
 * native calls: they throw BOLT_ABORTED instead, and the termination that follows the grace
 * period finds the thread in JavaScript. The state is per thread (each thread has its own
 * instance of this module).
 */
import { AbortedError } from '../../core/errors.js';

let stopping = false;

/** From now on, native calls in this thread throw BOLT_ABORTED (its task is being aborted). */
export function stopNativeCalls(): void {
  stopping = true;
}

/** Native calls may run again in this thread (a new task started). */
export function allowNativeCalls(): void {
  stopping = false;
}

/** Throws BOLT_ABORTED when this thread is being stopped; call right before a native call. */
export function beforeNativeCall(): void {
  if (stopping) throw new AbortedError('this agent is being stopped: no further database calls run in its thread');
}
