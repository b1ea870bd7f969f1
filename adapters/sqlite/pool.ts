/**
 * A bounded pool of SQLite connections, created on demand up to `max`. Callers wait FIFO for
 * an idle connection up to a timeout (BOLT_POOL_TIMEOUT naming who holds them); a closed
 * connection is replaced.
 */
import { AbortedError, ClosedError, PoolTimeoutError } from '../../core/errors.js';
import type { PoolAccounting } from '../shared/pool-stats.js';
import type { SqliteConnectSettings } from './connect.js';
import { classifyFailure } from './classify-errors.js';
import { InlineConnection } from './inline-connection.js';

interface Waiter {
  resolve: (c: InlineConnection) => void;
  reject: (e: Error) => void;
}

/** A connection lent out, with the function that gives it back. */
export interface Lease {
  conn: InlineConnection;
  release(broken?: boolean): void;
}

export class WorkerPool {
  private readonly all = new Set<InlineConnection>();
  private readonly idle: InlineConnection[] = [];
  private readonly waiters: Waiter[] = [];
  private creating = 0;
  private closed = false;

  constructor(
    private readonly settings: SqliteConnectSettings,
    private readonly max: number,
    private readonly timeoutMs: number,
    private readonly acct: PoolAccounting,
  ) {}

  get size(): number {
    return this.all.size;
  }
  get idleCount(): number {
    return this.idle.length;
  }
  get waiting(): number {
    return this.waiters.length;
  }

  /** Lends a connection to `name`, waiting up to the pool timeout. */
  async acquire(name: string, signal?: AbortSignal): Promise<Lease> {
    if (this.closed) throw new ClosedError('The SQLite database is closed', { path: this.settings.path });
    const started = performance.now();
    const conn = await this.take(signal);
    this.acct.waits.add(performance.now() - started);
    const unhold = this.acct.hold(name);
    let done = false;
    return {
      conn,
      release: (broken = false) => {
        if (done) return;
        done = true;
        unhold();
        this.giveBack(conn, broken);
      },
    };
  }

  /** Opens one connection now (so `open()` reports a bad file at once). */
  async warm(): Promise<void> {
    const lease = await this.acquire('open');
    lease.release();
  }

  /** Closes every connection; held ones are closed after their current statement. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0))
      w.reject(new ClosedError('The SQLite database was closed while waiting for a connection', { path: this.settings.path }));
    this.idle.length = 0;
    await Promise.all([...this.all].map((c) => c.close()));
    this.all.clear();
  }

  private async take(signal?: AbortSignal): Promise<InlineConnection> {
    const c = this.idle.pop();
    if (c) return c;
    if (this.all.size + this.creating < this.max) return this.create();
    return new Promise<InlineConnection>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (conn) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(conn);
        },
        reject: (e) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const drop = (e: Error): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        waiter.reject(e);
      };
      const onAbort = (): void => drop(new AbortedError());
      const timer = setTimeout(() => {
        const holders = this.acct.holderList();
        drop(
          new PoolTimeoutError(
            `No SQLite connection free after ${this.timeoutMs} ms (pool of ${this.max}, held by ${holders.map((h) => `"${h.session}" for ${h.heldMs} ms`).join(', ')}). Close sessions you no longer use, or raise maxConnections`,
            { path: this.settings.path, max: this.max, holders, waited: this.timeoutMs },
          ),
        );
      }, this.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private async create(): Promise<InlineConnection> {
    this.creating++;
    const conn = new InlineConnection(this.settings);
    try {
      await conn.ready;
    } catch (err) {
      void conn.terminate();
      throw classifyFailure(err, { path: this.settings.path });
    } finally {
      this.creating--;
    }
    this.all.add(conn);
    return conn;
  }

  private giveBack(conn: InlineConnection, broken: boolean): void {
    if (broken || conn.isDead || this.closed) {
      this.all.delete(conn);
      void conn.close();
      if (!this.closed) this.refill();
      return;
    }
    const w = this.waiters.shift();
    if (w) w.resolve(conn);
    else this.idle.push(conn);
  }

  /** A waiter whose connection was discarded gets a new one. */
  private refill(): void {
    if (this.waiters.length === 0 || this.all.size + this.creating >= this.max) return;
    const w = this.waiters.shift()!;
    this.create().then(w.resolve, w.reject);
  }
}
