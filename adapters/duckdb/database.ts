/**
 * A handle on one DuckDB file, safe for many threads and processes: the first opener hosts the
 * file, everyone else is a client over a Unix socket (storage/host/), and when the host goes
 * away a client takes over and re-sends what may be re-sent. Users get these handles as
 * `ConcurrentDatabase` instances (storage/concurrent-database.ts, which picks the engine).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type {
  CloseOptions,
  Database,
  DatabaseStats,
  ExecResult,
  LockInfo,
  OpenOptions,
  Row,
  Session,
  SessionOptions,
  StatementOptions,
  Transaction,
  TransactionOptions,
  ValueMode,
} from '../../core/database.js';
import { checkValueMode, firstRow } from '../../core/database.js';
import { unlessAborted } from '../../core/abortable.js';
import { checkCloseOptions, checkSessionOptions } from '../../core/session-options.js';
import { BoltError, ClosedError, OutcomeUnknownError, hasCode } from '../../core/errors.js';
import { log } from '../../core/logger.js';
import { checkRequestId } from '../../core/request-id.js';
import type { Backend, BackupResult, HostStatementOptions, ServedHost, StatementOutcome, VerifyResult } from '../../storage/host/backend.js';
import { sidecarPath } from '../../storage/platform/sidecar.js';
import { runSessionTransaction } from '../shared/session-transaction.js';
import { electBackend, openBackend } from './open.js';
import { AUTO_REQUEST_PREFIX } from '../../core/request-log.js';
import { assertNewBackupPath } from './backup.js';

/** The host itself (this thread hosts the file), not a client of it. */
function isServedHost(b: Backend): b is ServedHost {
  return b.role === 'host';
}

/** True for errors that mean "the host is gone, find the new one". */
export function isHostLost(err: unknown): err is BoltError {
  return err instanceof BoltError && err.hostLost;
}

const FAILOVER_DEADLINE_MS = 30_000;

/** A handle on one DuckDB file. Many handles (threads, processes) may share it. */
export class DuckDbDatabase implements Database {
  readonly engine = 'duckdb' as const;
  /** The close under way or done (a second `close()` waits for it, and may hurry it). */
  private closing?: Promise<void>;
  /** The shortest `graceMs` any `close()` asked for. */
  private closeGraceMs?: number;
  private get closed(): boolean {
    return this.closing !== undefined;
  }
  private reelecting?: Promise<Backend>;
  /** `bolt_requests` is known to exist (transactions with a request id make it first). */
  private readonly requestLog = { ready: false };

  protected constructor(
    readonly location: string,
    private readonly opts: OpenOptions,
    private backend: Backend,
  ) {
    this.attach(backend);
  }

  /**
   * Opens the DuckDB file `path` (created when missing): hosts it, or becomes a client of the
   * process that does. Called on a subclass, returns an instance of it.
   */
  static async openFile(path: string, opts: OpenOptions = {}): Promise<DuckDbDatabase> {
    const { realPath, backend } = await openBackend(path, opts);
    return new this(realPath, opts, backend);
  }

  private attach(b: Backend): void {
    if (isServedHost(b)) b.attachHandle();
  }

  private detach(b: Backend, graceMs?: number): Promise<void> | void {
    if (isServedHost(b)) {
      return b.detachHandle(graceMs);
    } else if ('destroy' in b) {
      (b as { destroy(): void }).destroy();
    }
  }

  /** The role of this handle right now. */
  get role(): 'host' | 'client' {
    return this.backend.role;
  }

  private async current(): Promise<Backend> {
    if (this.closed) throw new ClosedError(`the database handle for ${this.location} is closed`, { path: this.location });
    if (!this.backend.isClosed) return this.backend;
    return this.failover(this.backend);
  }

  /** Finds the new host after `dead` went away (one election per handle at a time). */
  private failover(dead: Backend): Promise<Backend> {
    // A closed handle never elects: the backend it would attach would outlive it.
    if (this.closed) return Promise.reject(new ClosedError(`the database handle for ${this.location} is closed`, { path: this.location }));
    if (this.backend !== dead && !this.backend.isClosed) return Promise.resolve(this.backend);
    this.reelecting ??= (async () => {
      const started = Date.now();
      if (this.backend === dead) void this.detach(dead);
      const b = await electBackend(this.location, this.opts);
      this.attach(b);
      this.backend = b;
      log('failover').info({ path: this.location, role: b.role, ms: Date.now() - started }, 'reached the new host');
      return b;
    })().finally(() => {
      this.reelecting = undefined;
    });
    return this.reelecting;
  }

  /**
   * Runs `fn` against the current backend; when the host is lost, fails over and re-sends if
   * `retryable` (reads, writes with a request id), else BOLT_OUTCOME_UNKNOWN. A request that may
   * write and was in flight when this handle closed is BOLT_OUTCOME_UNKNOWN too.
   */
  private async withFailover<T>(what: string, retryable: boolean, fn: (b: Backend, resent: boolean) => Promise<T>, mayWrite = true): Promise<T> {
    let resent = false;
    const deadline = Date.now() + Math.max(FAILOVER_DEADLINE_MS, (this.opts.lockTimeoutMs ?? 30_000) + 5_000);
    for (;;) {
      const b = await this.current();
      try {
        return await fn(b, resent);
      } catch (err) {
        if (!isHostLost(err)) throw err;
        const sent = err.requestSent;
        if (this.closed) {
          // This handle was closed while the request was in flight (closing drops its host
          // connection): no failover, and a request that may have written was maybe applied.
          if (sent && mayWrite) {
            throw new OutcomeUnknownError(`${what}: the database handle was closed while the request was in flight; whether it was applied is unknown`, {
              path: this.location,
            });
          }
          throw new ClosedError(`the database handle for ${this.location} was closed while the request was in flight`, { path: this.location });
        }
        if (sent && !retryable) {
          throw new OutcomeUnknownError(
            `${what}: the host was lost while the write was in flight and it carried no request id, so whether it was applied is unknown`,
            { path: this.location },
            { cause: err },
          );
        }
        resent ||= sent;
        try {
          if (Date.now() > deadline) throw err;
          await this.failover(b);
        } catch (e) {
          if (sent && resent) {
            throw new OutcomeUnknownError(`${what}: the host was lost and no new host could be reached to re-send it (${(e as Error).message})`, {
              path: this.location,
            });
          }
          throw e;
        }
      }
    }
  }

  /** How this handle's values come back unless a statement or session says otherwise. */
  private get values(): ValueMode {
    return this.opts.values ?? 'exact';
  }

  /** Adds an automatic request id for client writes, so a re-send is applied exactly once. */
  private autoId(opts: StatementOptions | undefined): { id?: string; auto: boolean } {
    checkRequestId(opts?.requestId);
    if (opts?.requestId !== undefined) return { id: opts.requestId, auto: false };
    return { id: `${AUTO_REQUEST_PREFIX}${randomUUID()}`, auto: true };
  }

  private statementOptions(
    b: Backend,
    ids: { id?: string; auto: boolean },
    resent: boolean,
    values = this.values,
    readOnly = false,
    signal?: AbortSignal,
  ): HostStatementOptions {
    const o = this.idOptions(b, ids, resent);
    if (values !== undefined) o.values = values;
    if (signal !== undefined) o.signal = signal;
    // A read-only handle (or statement) may share a read-write host: the host refuses its writes by statement type.
    return this.opts.readOnly || readOnly ? { ...o, readOnly: true } : o;
  }

  private idOptions(b: Backend, ids: { id?: string; auto: boolean }, resent: boolean): HostStatementOptions {
    if (ids.auto && this.opts.exactlyOnce === false) {
      return b.role === 'host' && !resent ? {} : { requestId: ids.id, autoId: true, unlogged: true, resent };
    }
    // In the host itself an automatic id is only needed when re-sending (this handle was a
    // client whose host died mid-request and has just become the host).
    if (b.role === 'host' && !resent) return ids.auto ? {} : { requestId: ids.id };
    return { requestId: ids.id, autoId: ids.auto, resent };
  }

  queryOne<T extends Row = Row>(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<T | undefined> {
    return this.query<T>(sql, params, opts).then(firstRow);
  }

  async query<T extends Row = Row>(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<T[]> {
    const ids = this.autoId(opts);
    const values = checkValueMode(opts?.values) ?? this.values;
    return unlessAborted(opts?.signal, () =>
      this.withFailover(
        'query',
        true,
        (b, resent) => b.query(sql, params, this.statementOptions(b, ids, resent, values, opts?.readOnly === true, opts?.signal)) as Promise<T[]>,
      ),
    );
  }

  async execute(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<ExecResult> {
    const ids = this.autoId(opts);
    return unlessAborted(opts?.signal, () =>
      this.withFailover('execute', true, (b, resent) =>
        b.execute(sql, params, this.statementOptions(b, ids, resent, this.values, opts?.readOnly === true, opts?.signal)),
      ),
    );
  }

  /** Runs a statement of either kind and returns its rows, rows changed, and whether it only read. */
  async run(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<StatementOutcome> {
    const ids = this.autoId(opts);
    const values = checkValueMode(opts?.values) ?? this.values;
    return unlessAborted(opts?.signal, () =>
      this.withFailover('run', true, (b, resent) => b.run(sql, params, this.statementOptions(b, ids, resent, values, false, opts?.signal))),
    );
  }

  async insertMany(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], opts?: StatementOptions): Promise<ExecResult> {
    const ids = this.autoId(opts);
    return unlessAborted(opts?.signal, () =>
      this.withFailover('insertMany', true, (b, resent) =>
        b.insertMany(table, columns, rows, this.statementOptions(b, ids, resent, this.values, false, opts?.signal)),
      ),
    );
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T | undefined> {
    checkRequestId(opts.requestId);
    let requestId = opts.requestId;
    let fresh = false;
    for (let resent = false; ; resent = true) {
      const b = await this.current();
      // A read-only handle's transaction cannot write, so it has nothing to record.
      if (requestId === undefined && b.role === 'client' && this.opts.exactlyOnce !== false && !this.opts.readOnly) {
        requestId = `${AUTO_REQUEST_PREFIX}${randomUUID()}`;
        fresh = true;
      }
      let s: Session | undefined;
      try {
        s = await b.openSession({ name: 'transaction', readOnly: this.opts.readOnly, values: this.values }, this.opts.connectionTimeoutMs);
        return await runSessionTransaction(s, fn, { ...opts, requestId, freshRequestId: fresh && !resent, requestLog: this.requestLog });
      } catch (err) {
        if (!isHostLost(err)) throw err;
        if (this.closed && !this.opts.readOnly) {
          throw new OutcomeUnknownError('transaction: the database handle was closed during the transaction, so whether it committed is unknown', {
            path: this.location,
          });
        }
        // A lost session took its transaction with it (rolled back): running it again is safe.
        if (requestId === undefined && !hasCode(err, 'BOLT_SESSION_LOST')) {
          throw new OutcomeUnknownError('transaction: the host was lost during the transaction and it had no request id, so whether it committed is unknown', {
            path: this.location,
          });
        }
        await this.failover(b);
      } finally {
        await s?.close().catch(() => undefined);
      }
    }
  }

  async session(opts: SessionOptions = {}): Promise<Session> {
    const b = await this.current();
    checkSessionOptions(opts);
    const o = { ...opts, values: opts.values ?? this.values };
    return b.openSession(this.opts.readOnly ? { ...o, readOnly: true } : o, this.opts.connectionTimeoutMs);
  }

  stats(): DatabaseStats {
    return this.backend.stats();
  }

  lockInfo(): LockInfo {
    return { path: this.location, engine: 'duckdb', role: this.backend.role, host: this.backend.identity(), sidecar: sidecarPath(this.location) };
  }

  /** The live host's `info` (pid, socket, uptime, clients, sessions, pool, tables). */
  async hostInfo(): Promise<Record<string, unknown>> {
    return this.withFailover('info', true, (b) => b.info(), false);
  }

  /** Consistent copy of the database into `dest`, taken by the host while others write. */
  async backup(dest: string): Promise<BackupResult> {
    const abs = resolve(dest);
    // The host refuses an existing destination itself (adapters/duckdb/backup.ts); checking
    // here too spares a round trip.
    assertNewBackupPath(abs);
    // A backup is published whole (link) or not at all, so one whose host was lost re-runs on
    // the next host, unless the lost host had published it already.
    return this.withFailover('backup', true, (b, resent) => {
      if (resent && existsSync(abs)) {
        throw new OutcomeUnknownError(
          `backup: the host was lost during the backup, and ${abs} exists now: the lost host may have published it (a backup is published only once whole) or something else wrote it; check it with bolt db verify`,
          { path: this.location, dest: abs },
        );
      }
      return b.backup(abs);
    });
  }

  /** Scans every table in full through the host. */
  async verify(): Promise<VerifyResult> {
    return this.withFailover('verify', true, (b) => b.verify(), false);
  }

  async close(opts?: CloseOptions): Promise<void> {
    const { graceMs } = checkCloseOptions(opts);
    if (graceMs !== undefined) this.closeGraceMs = Math.min(graceMs, this.closeGraceMs ?? graceMs);
    if (this.closing) {
      // Under way: a shorter grace hurries the host's wait for statements (its close is
      // idempotent); a close still waiting for an election reads closeGraceMs after it.
      const b = this.backend;
      if (graceMs !== undefined && isServedHost(b) && b.isClosed) void b.close(undefined, this.closeGraceMs).catch(() => undefined);
      return this.closing;
    }
    this.closing = (async () => {
      await this.reelecting?.catch(() => undefined);
      await this.detach(this.backend, this.closeGraceMs);
    })();
    return this.closing;
  }
}
