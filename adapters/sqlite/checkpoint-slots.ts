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
  /** Of those, frames written into the database file. */
  Checkpointed: 3,
  /** 1 when the last checkpoint could not finish (other connections' locks). */
  Busy: 4,
  /** Checkpoints run, restarts that finished, checkpoints that failed. */
  Runs: 5,
  Restarts: 6,
  Failures: 7,
} as const;

export const SLOTS = 8;

export const Request = { None: 0, Passive: 1, Restart: 2, Stop: 3 } as const;
