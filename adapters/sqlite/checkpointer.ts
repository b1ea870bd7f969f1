/**
 * WAL checkpoints in a thread of their own, so that a handle's commits do not run them.
 *
 * SQLite's default is an automatic checkpoint inside the COMMIT that brings the WAL past 1,000
 * pages: it copies those pages into the database file and fsyncs it and the WAL, blocking the
 * committing thread for milliseconds (2–6 ms here, about 70 times a second under a stream of
 * small transactions). With this checkpointer, a main thread's handle asks its thread for a
 * PASSIVE checkpoint every PASSIVE_EVERY commits, which blocks no one.
 *
 * A PASSIVE checkpoint alone never catches up with a steady stream of commits, and the WAL
 * starts over only when a writer finds every frame of it copied: the WAL would grow without
 * end. So once it holds CATCH_UP_FRAMES, the next checkpoint runs while the handle's writers
 * wait their turn (write-lock.ts), and copies all of it unless another process wrote
 * meanwhile. When another process did (several processes writing all the time), the catch-up
 * is tried again only after twice as many commits, up to 64 times: those writers keep the WAL
 * from starting over whoever checkpoints, as they do with SQLite's own checkpoints. The
 * connections keep SQLite's automatic checkpoint at SAFETY_PAGES, for when the thread cannot
 * run.
 *
 * Only handles in a main thread have one: agents' worker threads would each start a thread
 * (and an isolate) of their own, and keep SQLite's automatic checkpoints.
 */
import { Worker, isMainThread } from 'node:worker_threads';
import { log } from '../../core/logger.js';
import { writeJournalMode, type SqliteConnectSettings } from './connect.js';
import { Request, SLOTS, Slot } from './checkpoint-slots.js';
import type { WriteLock } from './write-lock.js';

/** Commits of a handle before its thread starts: a handle that writes a few rows never starts one. */
const START_AFTER = 32;
/** A checkpoint every this many commits of the handle. */
const PASSIVE_EVERY = 256;
/** WAL frames (pages) from which a checkpoint catches up under the writers' turn: 16 MiB with 4 KiB pages. */
const CATCH_UP_FRAMES = 4_000;
/** A catch-up that another process's writes spoiled is tried again after up to 2^MAX_BACKOFF times PASSIVE_EVERY commits. */
const MAX_BACKOFF = 6;
/** The connections' own automatic checkpoint, in pages, while a checkpointer runs for them. */
export const SAFETY_PAGES = 10_000;

/** How a handle's WAL is checkpointed: by a thread of its own, or by SQLite inside commits. */
export type CheckpointMode = 'background' | 'inline';

/**
 * Whether a handle opened with `settings` gets a checkpointer: a read-write WAL handle in a
 * main thread, unless asked for `inline` or its pragmas set `wal_autocheckpoint` themselves.
 */
export function checkpointsInBackground(settings: SqliteConnectSettings, mode: CheckpointMode = 'background'): boolean {
  return (
    mode === 'background' &&
    isMainThread &&
    writeJournalMode(settings)?.toUpperCase() === 'WAL' &&
    !Object.keys(settings.pragmas).some((k) => k.toLowerCase() === 'wal_autocheckpoint')
  );
}

/** What `stats()` reports of a checkpointer. */
export interface CheckpointStats {
  thread: 'not started' | 'running' | 'stopped' | 'failed';
  checkpoints: number;
  /** Catch-ups that copied the whole WAL, so that the next writer started it over. */
  caughtUp: number;
  failures: number;
}

/** The checkpoint thread of one database handle, started at its START_AFTER-th commit. */
export class Checkpointer {
  private readonly s = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
  private worker: Worker | undefined;
  private exited: Promise<void> = Promise.resolve();
  private state: CheckpointStats['thread'] = 'not started';
  private commits = 0;
  private askedAt = 0;
  private catchingUp = false;
  /** No catch-up before this many commits; spoiled catch-ups so far in a row. */
  private catchUpAt = 0;
  private spoiled = 0;
  private caughtUp = 0;
  private closed = false;

  /** `settings`: the handle's connections' settings (the thread opens one more connection). */
  constructor(
    private readonly settings: SqliteConnectSettings,
    private readonly lock: WriteLock,
    private readonly lockTimeoutMs: number,
  ) {}

  /** Called after every commit of the handle's connections: starts the thread, or asks it for a checkpoint. */
  readonly committed = (): void => {
    const n = ++this.commits;
    if (this.closed || this.catchingUp || this.state === 'failed') return;
    if (!this.worker) {
      if (n >= START_AFTER) this.start();
      return;
    }
    if (n - this.askedAt < PASSIVE_EVERY || Atomics.load(this.s, Slot.Request) !== Request.None) return;
    this.askedAt = n;
    if (this.s[Slot.Log]! >= CATCH_UP_FRAMES && n >= this.catchUpAt) void this.catchUp();
    else void this.ask(Request.Checkpoint);
  };

  stats(): CheckpointStats {
    return { thread: this.state, checkpoints: this.s[Slot.Runs]!, caughtUp: this.caughtUp, failures: this.s[Slot.Failures]! };
  }

  /** Stops the thread after the checkpoint it may be running; its connection is closed before the handle's. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.worker) return;
    if (Atomics.load(this.s, Slot.Request) !== Request.None) await this.done(Atomics.load(this.s, Slot.Done));
    this.worker.ref();
    Atomics.store(this.s, Slot.Request, Request.Stop);
    Atomics.notify(this.s, Slot.Request);
    await this.exited;
  }

  private start(): void {
    const workerData = { settings: this.settings, slots: this.s.buffer };
    let w: Worker;
    try {
      w = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData });
    } catch (err) {
      this.failed(err);
      return;
    }
    this.worker = w;
    this.state = 'running';
    w.unref();
    this.exited = new Promise((resolve) =>
      w.once('exit', () => {
        if (this.state === 'running') this.state = this.closed ? 'stopped' : 'failed';
        resolve();
      }),
    );
    w.on('error', (err) => this.failed(err));
  }

  private failed(err: unknown): void {
    this.state = 'failed';
    log('sqlite').warn({ err, path: this.settings.path }, 'the WAL checkpoint thread failed: the connections checkpoint the WAL themselves from now on');
  }

  private ask(req: number): Promise<void> {
    const seq = Atomics.load(this.s, Slot.Done);
    Atomics.store(this.s, Slot.Request, req);
    Atomics.notify(this.s, Slot.Request);
    return this.done(seq);
  }

  /**
   * Resolves once the thread finished the request after `seq`, or is gone. Meanwhile the thread
   * keeps the process alive: a pending `Atomics.waitAsync` does not, and writers waiting behind a
   * RESTART would otherwise see the process end under them.
   */
  private done(seq: number): Promise<void> {
    const w = waitAsync(this.s, Slot.Done, seq);
    if (!w.async) return Promise.resolve();
    const worker = this.worker!;
    worker.ref();
    return Promise.race([w.value.then(() => undefined), this.exited]).finally(() => {
      if (!this.closed) worker.unref();
    });
  }

  /** A checkpoint while the handle's writers wait: it copies the whole WAL unless another process writes meanwhile. */
  private async catchUp(): Promise<void> {
    this.catchingUp = true;
    try {
      const turn = this.lock.acquire('WAL checkpoint', this.lockTimeoutMs);
      if (turn) await turn;
      try {
        if (this.closed || this.state !== 'running') return;
        const runs = this.s[Slot.Runs];
        await this.ask(Request.Checkpoint);
        const whole = this.s[Slot.Runs] !== runs && this.s[Slot.Busy] === 0 && this.s[Slot.Checkpointed] === this.s[Slot.Log];
        if (whole) {
          this.caughtUp++;
          this.spoiled = 0;
          // The next writer starts the WAL over: it is short until a checkpoint says otherwise.
          this.s[Slot.Log] = 0;
        } else this.spoiled = Math.min(this.spoiled + 1, MAX_BACKOFF);
        this.catchUpAt = this.commits + PASSIVE_EVERY * 2 ** this.spoiled;
      } finally {
        this.lock.release();
      }
    } catch (err) {
      // The handle's writers held the turn past the timeout: a later checkpoint tries again.
      log('sqlite').debug({ err, path: this.settings.path }, 'WAL catch-up skipped');
    } finally {
      this.catchingUp = false;
    }
  }
}

/** `Atomics.waitAsync` (ES2024; Node ≥ 16), typed here because the project's lib is ES2023. */
function waitAsync(a: Int32Array, index: number, value: number): { async: false } | { async: true; value: Promise<'ok' | 'timed-out'> } {
  return (Atomics as unknown as { waitAsync: typeof waitAsync }).waitAsync(a, index, value);
}
