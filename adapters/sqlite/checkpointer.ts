/**
 * WAL checkpoints in a thread of their own while one process writes, so that its commits do not
 * run them.
 *
 * SQLite's default is an automatic checkpoint inside the COMMIT that brings the WAL past 1,000
 * pages: it copies those pages into the database file and fsyncs it and the WAL, blocking the
 * committing thread for milliseconds (2–6 ms here, about 70 times a second under a stream of
 * small transactions: about 1 % of such a stream's operations, which set its p99).
 *
 * Every CATCH_UP_EVERY commits a main thread's handle looks whether another connection
 * committed meanwhile (`PRAGMA data_version` on its writer connection). After ALONE_LOOKS looks
 * without one, the writer connection's own automatic checkpoint moves out to SAFETY_PAGES and a
 * thread takes over (checkpoint-worker.ts, started then: 50–70 ms of CPU, once): it watches the
 * WAL and runs a PASSIVE checkpoint, which blocks no one, whenever 1,000 frames wait to be
 * copied. At the first look that sees another connection's commit, SQLite's own checkpoints
 * come back, and the thread only watches. With several processes writing, the
 * thread's checkpoints made the 16 × 8 soak's writers starve (a process's main thread no longer
 * paused in checkpoints and read all the more, taking the CPU from whoever held the lock).
 *
 * A PASSIVE checkpoint alone never catches up with a steady stream of commits, and the WAL
 * starts over only when a writer finds every frame of it copied. So once it holds
 * CATCH_UP_FRAMES, a checkpoint runs while the handle's writers wait their turn (write-lock.ts)
 * and copies all of it, unless another process writes meanwhile: then the catch-up is tried
 * again only after twice as many commits, up to 64 times.
 *
 * Only handles in a main thread have one: agents' worker threads would each start a thread
 * (and an isolate) of their own.
 */
import { Worker, isMainThread } from 'node:worker_threads';
import { BadInputError } from '../../core/errors.js';
import { log } from '../../core/logger.js';
import { writeJournalMode, type SqliteConnectSettings } from './connect.js';
import { Request, SLOTS, Slot } from './checkpoint-slots.js';
import type { WriteLock } from './write-lock.js';
import { fileIdentity, sameFile, type FileIdentity } from './file-identity.js';

/** The handle's commits between two looks at other connections' commits and the WAL. */
const CATCH_UP_EVERY = 256;
/** Looks in a row without another connection's commit before the thread takes over. */
const ALONE_LOOKS = 4;
/** SQLite's automatic checkpoint, pages: the default, and what the writer connection keeps while the thread checkpoints. */
const SQLITE_DEFAULT_PAGES = 1_000;
/** WAL frames (pages) from which a checkpoint catches up under the writers' turn: 16 MiB with 4 KiB pages. */
const CATCH_UP_FRAMES = 4_000;
/** A catch-up that another process's writes spoiled is tried again after up to 2^MAX_BACKOFF times CATCH_UP_EVERY commits. */
const MAX_BACKOFF = 6;
/**
 * No catch-up for a handle whose writers wait less than this for their turn: one takes a copy and
 * two fsyncs (milliseconds, longer on a busy disk), and with a 5 ms timeout writers behind it
 * failed with BOLT_LOCK_TIMEOUT. Such a handle's WAL starts over by SQLite's own checkpoint at
 * SAFETY_PAGES.
 */
const CATCH_UP_MIN_TIMEOUT_MS = 1_000;
/** The writer connection's own automatic checkpoint while the thread checkpoints: bounds the WAL if the thread cannot keep up. */
const SAFETY_PAGES = 10_000;

/** How a handle's WAL is checkpointed: by a thread of its own, or by SQLite inside commits. */
export type CheckpointMode = 'background' | 'inline';

/** `mode` if it is a {@link CheckpointMode} (or undefined), else BOLT_BAD_INPUT. */
export function checkCheckpointMode(mode: unknown): CheckpointMode | undefined {
  if (mode === undefined || mode === 'background' || mode === 'inline') return mode;
  throw new BadInputError(`checkpoints must be 'background' or 'inline', not ${JSON.stringify(mode)}`, { checkpoints: String(mode) });
}

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

/** What the checkpointer needs of the handle's writer connection. */
export interface WriterConnection {
  /** Whether another connection committed since the last call. */
  committedElsewhere(): boolean;
  /** Sets its automatic checkpoint (`PRAGMA wal_autocheckpoint`), in pages. */
  autocheckpoint(pages: number): void;
}

/** What `stats()` reports of a checkpointer. */
export interface CheckpointStats {
  thread: 'not started' | 'running' | 'stopped' | 'failed';
  /** Who checkpoints now: the thread, or commits (SQLite's automatic checkpoint). */
  by: 'thread' | 'commits';
  checkpoints: number;
  /** Catch-ups that copied the whole WAL, so that the next writer started it over. */
  caughtUp: number;
  failures: number;
}

/** The checkpoint thread of one database handle. */
export class Checkpointer {
  private readonly s = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
  private worker: Worker | undefined;
  private exited: Promise<void> = Promise.resolve();
  private state: CheckpointStats['thread'] = 'not started';
  private commits = 0;
  private lookedAt = 0;
  private catchingUp = false;
  /** No catch-up before this many commits; spoiled catch-ups so far in a row. */
  private catchUpAt = 0;
  private spoiled = 0;
  private caughtUp = 0;
  private aloneLooks = 0;
  private closed = false;
  /** The handle's file when it opened ({@link opened}). */
  private file: FileIdentity | undefined;

  /**
   * `settings`: the handle's connections' settings (the thread opens one more connection).
   * `writer`: the handle's writer connection, where most of its commits are, when it is open.
   */
  constructor(
    private readonly settings: SqliteConnectSettings,
    private readonly lock: WriteLock,
    private readonly lockTimeoutMs: number,
    private readonly writer: () => WriterConnection | undefined,
  ) {}

  /** The handle's first connection is open: remembers which file the path names now. */
  opened(): void {
    this.file = fileIdentity(this.settings.path);
  }

  /** Called after every commit of the handle's connections: has the WAL caught up with when it needs it. */
  readonly committed = (): void => {
    const n = ++this.commits;
    if (this.closed || this.catchingUp || this.state === 'failed') return;
    if (n - this.lookedAt < CATCH_UP_EVERY) return;
    this.lookedAt = n;
    try {
      this.look(n);
    } catch (err) {
      // Nothing here may fail the commit that called it (the writer connection closed meanwhile).
      log('sqlite').debug({ err, path: this.settings.path }, 'checkpoint look failed');
    }
  };

  /** Who checkpoints from now on, and whether the WAL needs a catch-up. */
  private look(n: number): void {
    const writer = this.writer();
    // Asked at every look, so that it covers the last CATCH_UP_EVERY commits.
    const alone = writer !== undefined && !writer.committedElsewhere();
    this.aloneLooks = alone ? this.aloneLooks + 1 : 0;
    const watch = this.aloneLooks >= ALONE_LOOKS;
    if (watch && !this.worker) this.start();
    if (this.state !== 'running') return;
    Atomics.store(this.s, Slot.Watch, watch ? 1 : 0);
    // Set at every look: a writer connection opened again starts with SQLite's default.
    writer?.autocheckpoint(watch ? SAFETY_PAGES : SQLITE_DEFAULT_PAGES);
    if (watch && this.lockTimeoutMs >= CATCH_UP_MIN_TIMEOUT_MS && Atomics.load(this.s, Slot.Frames) >= CATCH_UP_FRAMES && n >= this.catchUpAt)
      void this.catchUp();
  }

  stats(): CheckpointStats {
    return {
      thread: this.state,
      by: this.s[Slot.Watch] === 1 ? 'thread' : 'commits',
      checkpoints: this.s[Slot.Runs]!,
      caughtUp: this.caughtUp,
      failures: this.s[Slot.Failures]!,
    };
  }

  /** Stops the thread after the checkpoint it may be running; its connection is closed before the handle's. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.worker) return;
    // Done first: a request that ends between the two reads must not leave us waiting for it.
    const seq = Atomics.load(this.s, Slot.Done);
    if (Atomics.load(this.s, Slot.Request) !== Request.None) await this.done(seq);
    this.worker.ref();
    Atomics.store(this.s, Slot.Request, Request.Stop);
    Atomics.notify(this.s, Slot.Request);
    await this.exited;
  }

  /** Starts the thread, the first time the handle is seen writing alone; never on a file renamed away or replaced since the handle opened it. */
  private start(): void {
    const file = this.file;
    if (!file || !sameFile(this.settings.path, file)) {
      this.failed(new Error(`${this.settings.path} is no longer the file the handle opened`));
      return;
    }
    const workerData = { settings: this.settings, slots: this.s.buffer, file };
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
        if (this.state === 'running') {
          if (this.closed) this.state = 'stopped';
          else this.failed(new Error('the checkpoint thread exited'));
        }
        resolve();
      }),
    );
    w.on('error', (err) => this.failed(err));
  }

  private failed(err: unknown): void {
    this.state = 'failed';
    Atomics.store(this.s, Slot.Watch, 0);
    try {
      this.writer()?.autocheckpoint(SQLITE_DEFAULT_PAGES);
    } catch {
      // A writer connection closed meanwhile: the next one starts with SQLite's default anyway.
    }
    log('sqlite').warn({ err, path: this.settings.path }, 'the WAL checkpoint thread failed: commits checkpoint the WAL from now on');
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
   * catch-up would otherwise see the process end under them.
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
        const failures = this.s[Slot.Failures];
        await this.ask(Request.CatchUp);
        const whole = this.s[Slot.Failures] === failures && this.s[Slot.Busy] === 0 && this.s[Slot.Checkpointed] === this.s[Slot.Log];
        if (whole) {
          this.caughtUp++;
          this.spoiled = 0;
          // The next writer starts the WAL over: it is short until the thread looks again.
          this.s[Slot.Frames] = 0;
        } else this.spoiled = Math.min(this.spoiled + 1, MAX_BACKOFF);
        this.catchUpAt = this.commits + CATCH_UP_EVERY * 2 ** this.spoiled;
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
