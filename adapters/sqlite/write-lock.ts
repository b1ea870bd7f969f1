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
import { Fifo } from '../../core/fifo.js';

/** One writer waiting for its turn: plain fields, no closures of its own (one is made per waiting transaction). */
interface Waiter {
  name: string;
  deadline: number;
  resolve: () => void;
  reject: (err: Error) => void;
  /** Stops listening to the caller's signal. */
  forget: (() => void) | undefined;
  /** A transaction that may join one left open for it (pinned.ts, "shared commits"). */
  joinable: boolean;
}

/** The writer lock of one database file for one `SqliteDatabase`. */
export class WriteLock {
  /** Who holds the turn (undefined: free) and since when. */
  private holder: string | undefined;
  private holderSince = 0;
  private readonly queue = new Fifo<Waiter>();
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
    return this.holder === undefined ? undefined : { session: this.holder, heldMs: Date.now() - this.holderSince };
  }

  /**
   * Takes the turn, waiting up to `timeoutMs` for this handle's earlier writers; `name` is
   * shown to whoever waits behind. Undefined when the turn was free and is taken (no promise
   * on the hot path), else a promise of the wait.
   */
  acquire(name: string, timeoutMs: number, signal?: AbortSignal, joinable = false): Promise<void> | undefined {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    if (this.holder === undefined && this.queue.length === 0) {
      this.take(name);
      return undefined;
    }
    return this.takeTurn(name, Date.now() + timeoutMs, signal, joinable);
  }

  /** Writers of this handle waiting for the turn. */
  get waiting(): number {
    return this.queue.length;
  }

  /** The writer that {@link release} lets in next may join a transaction left open for it. */
  get nextJoinable(): boolean {
    return this.queue.peek()?.joinable === true;
  }

  /** Lets the next writer in. */
  release(): void {
    this.holder = undefined;
    const next = this.queue.shift();
    if (this.queue.length === 0) this.disarmTimer();
    if (!next) return;
    next.forget?.();
    this.take(next.name);
    next.resolve();
  }

  private take(name: string): void {
    this.holder = name;
    this.holderSince = Date.now();
  }

  /** Waits for this process's earlier writers (FIFO). */
  private takeTurn(name: string, deadline: number, signal: AbortSignal | undefined, joinable: boolean): Promise<void> {
    const waiter: Waiter = { name, deadline, resolve: noop, reject: noop, forget: undefined, joinable };
    const turn = new Promise<void>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    this.queue.push(waiter);
    if (signal) waiter.forget = whenAborted(signal, () => this.drop(waiter, new AbortedError()));
    this.armTimer(deadline);
    return turn;
  }

  private drop(waiter: Waiter, err: Error): void {
    if (!this.queue.delete(waiter)) return;
    if (this.queue.length === 0) this.disarmTimer();
    waiter.forget?.();
    waiter.reject(err);
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

const noop = (): void => undefined;
