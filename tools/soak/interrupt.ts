/**
 * SIGINT and SIGTERM while a soak runs: instead of Node's default (the orchestrator dies at
 * once and the soak processes it started run on, orphaned, until their deadline), they abort
 * the run, which stops and reaps every process it started and says where its journals are.
 */
import { constants } from 'node:os';
import { AbortedError } from '../../core/errors.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type StopSignal = (typeof SIGNALS)[number];

export interface Interrupt {
  /** Aborted, with the signal's name as reason, when SIGINT or SIGTERM arrives. */
  signal: AbortSignal;
  /** Stops listening (the signals get Node's default behaviour again). */
  dispose(): void;
}

/** Listens for SIGINT and SIGTERM until `dispose()`. */
export function interruptOnSignals(): Interrupt {
  const ac = new AbortController();
  const dispose = () => {
    for (const [name, h] of handlers) process.off(name, h);
  };
  // The first signal aborts the run; a second one (Ctrl-C again) gets Node's default: at once.
  const on = (name: StopSignal) => () => {
    dispose();
    ac.abort(name);
  };
  const handlers = SIGNALS.map((name) => [name, on(name)] as const);
  for (const [name, h] of handlers) process.on(name, h);
  return { signal: ac.signal, dispose };
}

/** The error of a run stopped by `signal` (its reason: the signal's name); `schema`: a PostgreSQL run's, kept. */
export function soakInterrupted(signal: AbortSignal, workDir: string, elapsedS: number | undefined, schema?: string): AbortedError {
  const name = String(signal.reason);
  const when = elapsedS === undefined ? 'before the workload started' : `after ${elapsedS.toFixed(1)} s`;
  const kept = schema ? `; the run's schema ${schema} kept (drop it with DROP SCHEMA ${schema} CASCADE)` : '';
  return new AbortedError(
    `soak interrupted by ${name} ${when}, without a verdict: every soak process was stopped; journals and metrics kept in ${workDir}${kept}`,
    { signal: name, workDir, ...(schema ? { schema } : {}) },
  );
}

/** The exit code of a run stopped by signal `name`: 128 + its number (130 for SIGINT, 143 for SIGTERM). */
export function interruptedExitCode(name: string): number {
  const n = (constants.signals as Record<string, number | undefined>)[name];
  return n === undefined ? 2 : 128 + n;
}
