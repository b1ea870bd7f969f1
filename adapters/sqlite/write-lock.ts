/**
 * One SQLite writer at a time, across threads and processes: an in-process FIFO queue (so
 * this process's writers never poll each other) in front of an exclusive `flock` on
 * `<db>.bolt.wlock`, polled with capped backoff (flockSync 'exnb' never blocks the event loop).
 * Past the timeout: BOLT_LOCK_TIMEOUT naming the holder — a session of this process, or
 * the pid and command line of another process from /proc/locks.
 * On a worker thread fs-ext must not be loaded (storage/platform/flock.ts): there only the FIFO
 * applies, and BEGIN IMMEDIATE (SQLite's own lock, with its busy retries) keeps other
 * processes out.
 */
import { isMainThread } from 'node:worker_threads';
import { tryFlockExclusive, type HeldFlock } from '../../storage/platform/flock.js';
import { AbortedError, LockTimeoutError } from '../../core/errors.js';
import { orDiskFull } from '../../core/disk-full.js';
import { delay } from '../../storage/platform/retry.js';
import { backoffDelay } from '../../core/backoff.js';
import { describeHolders, lockHolders } from './lock-holders.js';

interface Waiter {
  name: string;
  grant: () => void;
}

/** The writer lock of one database file for one `SqliteDatabase`. */
export class WriteLock {
  private held: HeldFlock | undefined;
  private holder: { name: string; since: number } | undefined;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly dbPath: string,
    readonly lockPath = `${dbPath}.bolt.wlock`,
  ) {}

  /** Who holds the lock in this process, and for how long. */
  heldBy(): { session: string; heldMs: number } | undefined {
    return this.holder && { session: this.holder.name, heldMs: Date.now() - this.holder.since };
  }

  /** Waits up to `timeoutMs` for the lock; `name` is shown to whoever waits behind us. */
  async acquire(name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    await this.takeTurn(name, deadline, signal);
    try {
      for (let attempt = 0; !this.tryFlock(); attempt++) {
        if (Date.now() >= deadline) {
          const holders = lockHolders([this.lockPath]).filter((h) => h.class === 'FLOCK');
          throw new LockTimeoutError(
            `Timed out after ${Date.now() - started} ms waiting for the SQLite writer lock on ${this.dbPath}: ` +
              `${describeHolders(holders) || 'holder not visible in /proc/locks'}. Another Bolt process is writing; retry later, or end it if it is stuck`,
            { path: this.dbPath, lockPath: this.lockPath, waitedMs: Date.now() - started, holders },
          );
        }
        await delay(Math.min(backoffDelay(attempt, { baseMs: 1, capMs: 5 }), Math.max(1, deadline - Date.now())), signal);
      }
    } catch (err) {
      this.handOn();
      throw orDiskFull(err, { path: this.dbPath });
    }
    this.holder = { name, since: Date.now() };
  }

  /** Lets the next writer in. */
  release(): void {
    this.held?.release();
    this.held = undefined;
    this.handOn();
  }

  /** Lets go of the lock file if still held (no writer may be active). */
  close(): void {
    this.held?.release();
    this.held = undefined;
  }

  /** Whether other processes are kept out by the flock (main thread) or only by SQLite's own lock. */
  get crossProcess(): 'flock' | 'sqlite' {
    return isMainThread ? 'flock' : 'sqlite';
  }

  /** Waits for this process's earlier writers (FIFO). */
  private takeTurn(name: string, deadline: number, signal?: AbortSignal): Promise<void> {
    if (!this.holder && this.queue.length === 0) {
      this.holder = { name, since: Date.now() };
      return Promise.resolve();
    }
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

  private tryFlock(): boolean {
    if (!isMainThread) return true;
    this.held = tryFlockExclusive(this.lockPath);
    return this.held !== undefined;
  }

  private handOn(): void {
    this.holder = undefined;
    this.queue.shift()?.grant();
  }
}
