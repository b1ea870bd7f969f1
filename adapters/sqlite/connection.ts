/**
 * Main-thread handle on one connection worker: sends `WorkerRequest`s and matches replies.
 * If the worker dies, every pending call fails (BOLT_CLOSED) and the handle is marked dead.
 */
import { Worker } from 'node:worker_threads';
import { ClosedError } from '../../core/errors.js';
import type { SqliteConnectSettings } from './connect.js';
import type { WithoutId, WorkerError, WorkerReply, WorkerRequest } from './protocol.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: WorkerError | Error) => void };

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** One SQLite connection living in its own worker thread. */
export class WorkerConnection {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | undefined;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;

  constructor(settings: SqliteConnectSettings) {
    this.worker = new Worker(WORKER_URL, { workerData: settings });
    this.ready = new Promise((resolve, reject) => this.pending.set(0, { resolve: () => resolve(), reject }));
    this.worker.on('message', (m: WorkerReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(m.error);
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.fail(new ClosedError(`SQLite connection worker exited (code ${code})`, { exitCode: code }));
        resolve();
      });
    });
    this.worker.on('error', (err) => this.fail(err));
  }

  /** True once the worker is gone. */
  get isDead(): boolean {
    return this.dead !== undefined;
  }

  /** Sends one request; rejects with the worker's `WorkerError` or a BOLT_CLOSED error. */
  call<T = unknown>(req: WithoutId<WorkerRequest>): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  /** Closes the connection (after anything queued) and ends the thread. */
  async close(): Promise<void> {
    if (!this.dead) await this.call({ op: 'close' }).catch(() => undefined);
    const timer = setTimeout(() => void this.worker.terminate(), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Ends the thread at once (the connection's open transaction, if any, is rolled back by SQLite). */
  async terminate(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }

  private fail(err: Error): void {
    this.dead ??= err;
    for (const [, p] of this.pending) p.reject(err);
    this.pending.clear();
  }
}
