/**
 * Bolt's one pool of engine connections (DuckDB's host, SQLite): bounded, connections made on
 * demand, FIFO waiters, a wait timeout that names who holds the connections (and for how
 * long), an abort signal, and wait-time statistics. A connection given back as broken is
 * destroyed and a waiter gets a new one.
 */
import { Fifo } from '../../core/fifo.js';
import { AbortedError, ClosedError, PoolTimeoutError } from '../../core/errors.js';
import { whenAborted } from '../../core/abortable.js';
import type { DatabaseStats } from '../../core/database.js';
import { RecentSamples } from '../../core/latency-summary.js';

/** A connection lent to one holder until `release()`. */
export interface Lease<C> {
  readonly conn: C;
  readonly holder: string;
  readonly since: number;
  /** Returns the connection to the pool (or discards it when `broken`). */
  release(broken?: boolean): void;
}

interface Waiter<C> {
  holder: string;
  enqueued: number;
  resolve: (l: Lease<C>) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export interface PoolOptions<C> {
  size: number;
  /** Default wait for a connection (ms). */
  acquireTimeoutMs: number;
  create: () => Promise<C>;
  destroy: (c: C) => void;
}

export class ConnectionPool<C> {
  private readonly idle: C[] = [];
  private readonly leased = new Set<Lease<C>>();
  private readonly waiters = new Fifo<Waiter<C>>();
  private creating = 0;
  private closed = false;
  private readonly waits = new RecentSamples(2048);

  constructor(private readonly opts: PoolOptions<C>) {}

  get size(): number {
    return this.opts.size;
  }
  get inUse(): number {
    return this.leased.size;
  }
  /** Connections that exist now (idle or lent out). */
  get opened(): number {
    return this.idle.length + this.leased.size;
  }

  /** Lends a connection; waits FIFO up to `timeoutMs`, then throws BOLT_POOL_TIMEOUT (BOLT_ABORTED when `signal` aborts). */
  acquire(holder: string, timeoutMs = this.opts.acquireTimeoutMs, signal?: AbortSignal): Promise<Lease<C>> {
    if (this.closed) return Promise.reject(new ClosedError('the connection pool is closed'));
    if (signal?.aborted) return Promise.reject(new AbortedError());
    const enqueued = performance.now();
    if (this.waiters.length === 0) {
      const c = this.idle.pop();
      if (c !== undefined) return Promise.resolve(this.lend(c, holder, enqueued));
      if (this.leased.size + this.creating < this.opts.size) return this.createFor(holder, enqueued);
    }
    return new Promise<Lease<C>>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        reject(new AbortedError());
      };
      const forget = signal ? whenAborted(signal, onAbort) : () => undefined;
      const w: Waiter<C> = {
        holder,
        enqueued,
        resolve: (l) => {
          forget();
          resolve(l);
        },
        reject: (e) => {
          forget();
          reject(e);
        },
      };
      w.timer = setTimeout(() => {
        this.waiters.delete(w);
        const now = Date.now();
        const holders = [...this.leased].map((l) => ({ session: l.holder, heldMs: now - l.since }));
        w.reject(
          new PoolTimeoutError(
            `no database connection free after ${timeoutMs} ms (pool of ${this.opts.size}, ${this.waiters.length} other waiter(s)); held by: ${
              holders.map((h) => `${h.session} for ${h.heldMs} ms`).join(', ') || 'nobody'
            }. Close idle sessions or raise maxConnections`,
            { waitedMs: timeoutMs, size: this.opts.size, holders, waiting: this.waiters.length },
          ),
        );
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  private async createFor(holder: string, enqueued: number): Promise<Lease<C>> {
    this.creating++;
    let c: C;
    try {
      c = await this.opts.create();
    } finally {
      this.creating--;
    }
    if (this.closed) {
      this.opts.destroy(c);
      throw new ClosedError('the connection pool is closed');
    }
    return this.lend(c, holder, enqueued);
  }

  private lend(conn: C, holder: string, enqueued: number): Lease<C> {
    this.waits.add(performance.now() - enqueued);
    let done = false;
    const lease: Lease<C> = {
      conn,
      holder,
      since: Date.now(),
      release: (broken = false) => {
        if (done) return;
        done = true;
        this.leased.delete(lease);
        this.giveBack(conn, broken);
      },
    };
    this.leased.add(lease);
    return lease;
  }

  private giveBack(conn: C, broken: boolean): void {
    if (this.closed || broken) {
      this.opts.destroy(conn);
      if (!this.closed && broken) this.serveWaiterWithNew();
      return;
    }
    const w = this.waiters.shift();
    if (w) {
      clearTimeout(w.timer);
      w.resolve(this.lend(conn, w.holder, w.enqueued));
    } else {
      this.idle.push(conn);
    }
  }

  private serveWaiterWithNew(): void {
    const w = this.waiters.shift();
    if (!w) return;
    clearTimeout(w.timer);
    this.createFor(w.holder, w.enqueued).then(w.resolve, w.reject);
  }

  /** Pool statistics in the `DatabaseStats['pool']` shape. */
  stats(): DatabaseStats['pool'] {
    const now = Date.now();
    return {
      size: this.opts.size,
      inUse: this.leased.size,
      idle: this.idle.length,
      waiting: this.waiters.length,
      waitMs: this.waits.percentiles(),
      holders: [...this.leased].map((l) => ({ session: l.holder, heldMs: now - l.since })),
    };
  }

  /** Leases still out (for leak reports). */
  leases(): Lease<C>[] {
    return [...this.leased];
  }

  /** Rejects waiters, destroys idle connections; leased ones are destroyed when released. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.drain()) {
      clearTimeout(w.timer);
      w.reject(new ClosedError('the connection pool was closed while waiting'));
    }
    for (const c of this.idle.splice(0)) this.opts.destroy(c);
  }

  /** Destroys connections still leased (after close, when their holders will not return them). */
  destroyLeased(): void {
    for (const l of [...this.leased]) l.release(true);
  }
}
