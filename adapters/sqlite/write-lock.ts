/**
 * One writer at a time within this database handle: a FIFO queue, so the handle's own writers
 * (the group-commit writer, sessions, transactions) take turns instead of competing for
 * SQLite's lock. Between threads and processes SQLite's own lock decides (BEGIN IMMEDIATE,
 * waited for without blocking by inline-connection.ts) — the same rule in main threads and
 * agents' worker threads. Past the timeout: BOLT_LOCK_TIMEOUT naming the session of this
 * process that holds the turn.
 */
import { AbortedError, LockTimeoutError } from '../../core/errors.js';

interface Waiter {
  name: string;
  grant: () => void;
}

/** The writer lock of one database file for one `SqliteDatabase`. */
export class WriteLock {
  private holder: { name: string; since: number } | undefined;
  private readonly queue: Waiter[] = [];

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
    this.handOn();
  }

  /** Waits for this process's earlier writers (FIFO). */
  private takeTurn(name: string, deadline: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        name,
        grant: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.holder = { name, since: Date.now() };
          resolve();
        },
      };
      const drop = (err: Error): void => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      const onAbort = (): void => drop(new AbortedError());
      const timer = setTimeout(
        () => {
          const h = this.heldBy();
          drop(
            new LockTimeoutError(
              `Timed out waiting for the SQLite writer lock on ${this.dbPath}: session "${h?.session}" of this process (pid ${process.pid}) has held it for ${h?.heldMs} ms. Keep write transactions short`,
              { path: this.dbPath, pid: process.pid, holder: h, waiting: this.queue.length },
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private handOn(): void {
    this.holder = undefined;
    this.queue.shift()?.grant();
  }
}
