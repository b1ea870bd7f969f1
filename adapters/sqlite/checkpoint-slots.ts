/**
 * The shared memory between a handle's checkpointer (checkpointer.ts) and its thread
 * (checkpoint-worker.ts): one Int32Array, one slot per field.
 */
export const Slot = {
  /** What the thread is asked to do ({@link Request}); it sets None again when done. */
  Request: 0,
  /** Incremented (and notified) each time the thread finishes a request. */
  Done: 1,
  /** Frames in the WAL at the last checkpoint. */
  Log: 2,
  /** Of those, frames now in the database file. */
  Checkpointed: 3,
  /** 1 when the last checkpoint could not run (another connection was checkpointing). */
  Busy: 4,
  /** Checkpoints run, and those that failed (an I/O error, disk full). */
  Runs: 5,
  Failures: 6,
} as const;

export const SLOTS = 7;

export const Request = { None: 0, Checkpoint: 1, Stop: 2 } as const;
