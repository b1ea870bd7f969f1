/**
 * Group commit for autocommit writes made on the database handle (not in a session): they
 * queue here, and one dedicated writer connection applies whatever has queued in a single
 * BEGIN IMMEDIATE … COMMIT (InlineConnection.writeBatch: a failing write fails alone, the
 * others commit). Writers are serialised anyway, so this turns
 * eight waiting callers into one commit instead of eight, and keeps the writer's page cache warm.
 */
import { AbortedError, ClosedError } from '../../core/errors.js';
import { whenAborted } from '../../core/abortable.js';
import { classifyFailure } from './classify-errors.js';
import type { SqliteConnectSettings } from './connect.js';
import { openConnection, type InlineConnection } from './inline-connection.js';
import type { BatchOutcome, RunResult } from './requests.js';
import type { WriteLock } from './write-lock.js';

const MAX_BATCH = 64;

interface Item {
  sql: string;
  params: unknown[];
  rows: boolean;
  deadline: number;
  signal?: AbortSignal;
  resolve: (r: RunResult & { needsWrite?: false }) => void;
  reject: (e: Error) => void;
}

export class WriteBatcher {
  private readonly queue: Item[] = [];
  private conn: InlineConnection | undefined;
  private opening: Promise<InlineConnection> | undefined;
  private draining = false;
  private closed = false;
  /** Batches committed and writes applied, for stats. */
  batches = 0;
  writes = 0;

  constructor(
    private readonly settings: SqliteConnectSettings,
    private readonly lock: WriteLock,
    private readonly timeoutMs: number,
    /** Called after each commit on the writer connection. */
    private readonly onCommit?: () => void,
  ) {}

  /** Queues one write; resolves when its batch commits (or rejects with its own error). */
  write(sql: string, params: unknown[], rows: boolean, signal?: AbortSignal): Promise<RunResult & { needsWrite?: false }> {
    if (this.closed) return Promise.reject(new ClosedError(`SQLite database ${this.settings.path} is closed`, { path: this.settings.path }));
    if (signal?.aborted) return Promise.reject(new AbortedError());
    return new Promise((resolve, reject) => {
      let forget = (): void => undefined;
      const item: Item = {
        sql,
        params,
        rows,
        deadline: Date.now() + this.timeoutMs,
        signal,
        resolve: (r) => {
          forget();
          resolve(r);
        },
        reject: (e) => {
          forget();
          reject(e);
        },
      };
      if (signal) {
        forget = whenAborted(signal, () => {
          const i = this.queue.indexOf(item);
          if (i >= 0) {
            this.queue.splice(i, 1);
            item.reject(new AbortedError());
          }
        });
      }
      this.queue.push(item);
      if (!this.draining) void this.drain();
    });
  }

  /**
   * The writer connection, opened if needed, for the handle's write transactions too. Whoever
   * uses it holds the handle's write lock first: one user at a time, its page cache stays warm.
   */
  /** The writer connection when it is open and alive. */
  get openConnection(): InlineConnection | undefined {
    return this.conn && !this.conn.isDead ? this.conn : undefined;
  }

  /** The writer connection, opened once however many ask at the same time. */
  connection(): Promise<InlineConnection> {
    if (this.conn && !this.conn.isDead) return Promise.resolve(this.conn);
    this.opening ??= openConnection(this.settings, Date.now() + this.timeoutMs, this.onCommit)
      .then(async (c) => {
        if (this.closed) {
          await c.close();
          throw new ClosedError(`SQLite database ${this.settings.path} is closed`, { path: this.settings.path });
        }
        return (this.conn = c);
      })
      .finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** True while the writer connection exists (it counts as one more connection). */
  get hasConnection(): boolean {
    return this.conn !== undefined && !this.conn.isDead;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const it of this.queue.splice(0))
      it.reject(new ClosedError(`SQLite database ${this.settings.path} was closed before the write ran`, { path: this.settings.path }));
    const c = this.conn;
    this.conn = undefined;
    await c?.close();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const first = this.queue[0]!;
        try {
          await this.lock.acquire('autocommit writes', Math.max(0, first.deadline - Date.now()));
        } catch (err) {
          // Everyone queued by now has waited about as long: they fail together.
          for (const it of this.queue.splice(0)) it.reject(err as Error);
          continue;
        }
        // One batch per turn: SQLite's write lock is held for one short transaction, then
        // every other writer (sessions here, other processes) has its chance.
        try {
          await this.apply(this.queue.splice(0, MAX_BATCH));
        } finally {
          this.lock.release();
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async apply(batch: Item[]): Promise<void> {
    const deadline = Math.min(...batch.map((b) => b.deadline));
    let outcomes: BatchOutcome[];
    try {
      // The batch waits since its oldest write was queued.
      const since = deadline - this.timeoutMs;
      outcomes = await (await this.connection()).writeBatch(batch, deadline, since);
    } catch (err) {
      const e = this.classify(err, batch.length === 1 ? batch[0]!.sql : undefined);
      for (const it of batch) it.reject(e);
      return;
    }
    this.batches++;
    batch.forEach((it, i) => {
      const o = outcomes[i]!;
      if (o.ok) {
        this.writes++;
        it.resolve(o.result as RunResult & { needsWrite?: false });
      } else it.reject(this.classify(o.error, it.sql));
    });
  }

  private classify(err: unknown, sql?: string): Error {
    return classifyFailure(err, { path: this.settings.path, sql });
  }
}
