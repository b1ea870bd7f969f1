/**
 * One writer at a time within this database handle: a FIFO queue, so the handle's own writers
 * (the group-commit writer, sessions, transactions) take turns instead of competing for
 * SQLite's lock. Between threads and processes SQLite's own lock decides (BEGIN IMMEDIATE,
 * waited for without blocking by inline-connection.ts) — the same rule in main threads and
 * agents' worker threads. Past the timeout: BOLT_LOCK_TIMEOUT naming the session of this
 * process that holds the turn.
 */
import { AbortedError, LockTimeoutError } from '../../core/errors.js';
import { whenAborted } from '../../core/abortable.js';

interface Waiter {
  name: string;
  deadline: number;
  grant(): void;
  fail(err: Error): void;
}

/** The writer lock of one database file for one `SqliteDatabase`. */
export class WriteLock {
  private holder: { name: string; since: number } | undefined;
  private readonly queue: Waiter[] = [];
  /**
   * One timer for the whole queue, armed for the earliest deadline: most waits end in a turn,
   * not a timeout, and a timer per waiter was a tenth of what a small write transaction
   * allocated.
   */
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(readonly dbPath: string) {}

  /** Who holds the lock in this process, and for how long. */
  heldBy(): { session: string; heldMs: number } | undefined {
    return this.holder && { session: this.holder.name, heldMs: Date.now() - this.holder.since };
  }

  /**
   * Takes the turn, waiting up to `timeoutMs` for this handle's earlier writers; `name` is
   * shown to whoever waits behind. Undefined when the turn was free and is taken (no promise
   * on the hot path), else a promise of the wait.
   */
  acquire(name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> | undefined {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    if (!this.holder && this.queue.length === 0) {
      this.holder = { name, since: Date.now() };
      return undefined;
    }
    return this.takeTurn(name, Date.now() + timeoutMs, signal);
  }

  /** Lets the next writer in. */
  release(): void {
    this.holder = undefined;
    const next = this.queue.shift();
    if (this.queue.length === 0) this.disarmTimer();
    next?.grant();
  }

  /** Waits for this process's earlier writers (FIFO). */
  private takeTurn(name: string, deadline: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      let forget = (): void => undefined;
      const waiter: Waiter = {
        name,
        deadline,
        grant: () => {
          forget();
          this.holder = { name, since: Date.now() };
          resolve();
        },
        fail: (err) => {
          forget();
          reject(err);
        },
      };
      this.queue.push(waiter);
      if (signal) forget = whenAborted(signal, () => this.drop(waiter, new AbortedError()));
      this.armTimer(deadline);
    });
  }

  private drop(waiter: Waiter, err: Error): void {
    const i = this.queue.indexOf(waiter);
    if (i < 0) return;
    this.queue.splice(i, 1);
    if (this.queue.length === 0) this.disarmTimer();
    waiter.fail(err);
  }

  /** No one waits: no timer keeps the process alive. */
  private disarmTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Arms the queue's timer for `at` unless it fires earlier already. */
  private armTimer(at: number): void {
    if (at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - Date.now()));
  }

  /** Fails the waiters whose deadline passed, and re-arms for the next deadline. */
  private expire(): void {
    this.disarmTimer();
    const now = Date.now();
    let next = Infinity;
    for (const w of [...this.queue]) {
      if (w.deadline > now) {
        next = Math.min(next, w.deadline);
        continue;
      }
      const h = this.heldBy();
      this.drop(
        w,
        new LockTimeoutError(
          `Timed out waiting for the SQLite writer lock on ${this.dbPath}: session "${h?.session}" of this process (pid ${process.pid}) has held it for ${h?.heldMs} ms. Keep write transactions short`,
          { path: this.dbPath, pid: process.pid, holder: h, waiting: this.queue.length },
        ),
      );
    }
    if (next < Infinity) this.armTimer(next);
  }
}
