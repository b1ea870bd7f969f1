/**
 * The shared memory between a handle's checkpointer (checkpointer.ts) and its thread
 * (checkpoint-worker.ts): one Int32Array, one slot per field.
 */
export const Slot = {
  /** What the handle asks of the thread ({@link Request}); the thread sets None again when done. */
  Request: 0,
  /** Incremented (and notified) each time the thread finishes a request. */
  Done: 1,
  /** Frames in the WAL, as the thread last saw them. */
  Frames: 2,
  /** Frames in the WAL and of those copied, at the end of the last checkpoint; 1 when it could not run (busy). */
  Log: 3,
  Checkpointed: 4,
  Busy: 5,
  /** Checkpoints run, and those that failed (an I/O error, disk full). */
  Runs: 6,
  Failures: 7,
  /** 1 while the thread checkpoints as the WAL grows; 0 while commits do (SQLite's own checkpoints). */
  Watch: 8,
} as const;

export const SLOTS = 9;

export const Request = { None: 0, CatchUp: 1, Stop: 2 } as const;
