/**
 * `Database` over PostgreSQL through a `pg` Pool: statements on any pooled client, sessions
 * pinning one client, transactions re-run on serialization failure and deadlock (40001,
 * 40P01), request-id exactly-once through `bolt_requests`; sessions, transactions and
 * statistics from `adapters/shared`.
 */
import pg from 'pg';
import {
  checkValueMode,
  type ExecResult,
  type LockInfo,
  type Row,
  type StatementOptions,
  type Transaction,
  type TransactionOptions,
  type ValueMode,
} from '../../core/database.js';
import { log } from '../../core/logger.js';
import { POSTGRES_PARAM_RULES } from '../../core/parameters.js';
import { delay } from '../../storage/platform/retry.js';
import { backoffDelay } from '../../core/backoff.js';
import { DirectDatabase } from '../shared/direct-database.js';
import { REQUESTS_TABLE } from '../../core/request-log.js';
import { isTransient } from '../../core/errors.js';
import { classifyPgError } from './classify-errors.js';
import { poolConfig, type PgConnectSettings } from './connect.js';
import { quoteIdent } from './names.js';
import { PgPinned, checkIsolation, type PgIsolation } from './run.js';
import { rewritePlaceholders } from './placeholders.js';

/** Transaction options with a PostgreSQL isolation level for this transaction. */
export interface PgTransactionOptions extends TransactionOptions {
  isolation?: PgIsolation;
}

export interface PgResolved {
  settings: PgConnectSettings;
  location: string;
  isolation: PgIsolation;
  retries: number;
  leakReportMs: number;
  /** How values come back (default 'exact'). */
  values?: ValueMode;
  /** Statements run `{ prepared: true }` are kept prepared (default true; see PostgresOptions). */
  preparedStatements?: boolean;
}

/** First keyword says the statement only reads. */
const READ_HEAD = /^\s*(\(\s*)*(select|values|show|table|explain(?![^;]*\banalyze\b))\b/i;

/**
 * Whether `sql` only reads, so it is safe to run again after a lost connection: one statement
 * with a reading first keyword. `SELECT 1; INSERT …` starts as a read, and re-sent after a
 * connection lost once the server ran it, its INSERT would apply twice.
 */
function retryableRead(sql: string): boolean {
  return typeof sql === 'string' && READ_HEAD.test(sql) && rewritePlaceholders(sql).statements <= 1;
}

export class PostgresDatabase extends DirectDatabase<PgPinned> {
  private readonly pool: pg.Pool;

  constructor(private readonly cfg: PgResolved) {
    super({
      engine: 'postgres',
      location: cfg.location,
      label: 'PostgreSQL database',
      readOnly: cfg.settings.readOnly,
      retries: cfg.retries,
      leakReportMs: cfg.leakReportMs,
      // PostgreSQL allows 65,535 parameters per statement.
      maxParams: 30_000,
      paramRules: POSTGRES_PARAM_RULES,
      isolation: cfg.isolation,
      values: cfg.values ?? 'exact',
    });
    this.pool = new pg.Pool(poolConfig(cfg.settings));
    // An idle client losing its server must not crash the process; the pool drops it.
    this.pool.on('error', (err) =>
      log('postgres').warn({ location: this.location, err: { message: err.message, code: (err as { code?: string }).code } }, 'idle PostgreSQL client failed'),
    );
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<T[]> {
    if (PostgresDatabase.onceFor(opts)) return (await this.withRetry(true, opts.signal, () => this.runOnce(sql, params, opts))).rows as T[];
    return this.withRetry(retryableRead(sql), opts.signal, () =>
      this.withPinned(
        'query',
        (c) =>
          c.query(sql, params, {
            inTransaction: false,
            signal: opts.signal,
            values: checkValueMode(opts.values) ?? this.direct.values,
            readOnly: opts.readOnly,
            prepared: opts.prepared === true && this.cfg.preparedStatements !== false,
          }),
        opts.signal,
      ),
    ) as Promise<T[]>;
  }

  override async execute(sql: string, params: readonly unknown[] = [], opts: StatementOptions = {}): Promise<ExecResult> {
    return this.withRetry(opts.requestId !== undefined || retryableRead(sql), opts.signal, () => super.execute(sql, params, opts));
  }

  override async transaction<T>(fn: (tx: Transaction) => Promise<T>, opts: PgTransactionOptions = {}): Promise<T | undefined> {
    return super.transaction(fn, { ...opts, isolation: opts.isolation === undefined ? undefined : checkIsolation(opts.isolation) });
  }

  lockInfo(): LockInfo {
    return { path: this.location, engine: 'postgres', role: 'direct', schema: this.cfg.settings.schema };
  }

  /** The pool itself, for code built on this adapter (describe, LISTEN/NOTIFY). */
  get rawPool(): pg.Pool {
    return this.pool;
  }

  /** A dedicated connection that LISTENs on `channel` (see Database.listen). */
  async listen(channel: string, onNotify: () => void): Promise<{ close(): Promise<void> }> {
    this.assertOpen();
    const client = new pg.Client(poolConfig({ ...this.cfg.settings, max: 1 }));
    client.on('error', (err) => log('postgres').warn({ location: this.location, channel, err: { message: err.message } }, 'LISTEN connection failed'));
    client.on('notification', (n) => {
      if (n.channel === channel) onNotify();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(channel)}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw classifyPgError(err, { location: this.location });
    }
    return { close: () => client.end().catch(() => undefined) };
  }

  /** Checks out one client for `name`, timing the wait. */
  protected async pin(name: string): Promise<PgPinned> {
    this.assertOpen();
    const started = performance.now();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw classifyPgError(err, { location: this.location, holders: this.acct.holderList(), max: this.cfg.settings.max });
    }
    this.acct.waits.add(performance.now() - started);
    // Checked out, a client has no listener of the pool's: the server ending its connection
    // (a restart, pg_terminate_backend, the database dropped) while it sits in a session between
    // statements would be an uncaught 'error' that ends the process. Its next statement fails.
    const onError = (err: Error): void =>
      log('postgres').warn(
        { location: this.location, holder: name, err: { message: err.message, code: (err as { code?: string }).code } },
        'a held PostgreSQL connection failed',
      );
    client.on('error', onError);
    const unhold = this.acct.hold(name);
    let released = false;
    return new PgPinned(
      client,
      this.location,
      name,
      this.cfg.isolation,
      () => void this.acct.queries++,
      (broken) => {
        if (released) return;
        released = true;
        unhold();
        client.removeListener('error', onError);
        client.release(broken ? true : undefined);
      },
      this.cfg.settings.readOnly,
    );
  }

  protected pruneRequestsSql(): string {
    return `DELETE FROM ${REQUESTS_TABLE} WHERE (auto AND recorded_at < now() - interval '10 minutes') OR recorded_at < now() - interval '24 hours'`;
  }

  protected isBroken(err: unknown): boolean {
    return (err as { details?: { connectionLost?: boolean } }).details?.connectionLost === true;
  }

  protected poolCounts(): { size: number; inUse: number; idle: number; waiting: number } {
    return { size: this.pool.totalCount, inUse: this.pool.totalCount - this.pool.idleCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  protected extraStats(): Record<string, unknown> {
    return { isolation: this.cfg.isolation };
  }

  protected async closeConnections(): Promise<void> {
    await this.pool.end();
  }

  /** Re-runs `op` on transient failures when it is safe (reads, request-id writes). */
  private async withRetry<T>(safe: boolean, signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (!safe || !isTransient(err) || attempt >= this.cfg.retries) throw err;
        await delay(backoffDelay(attempt, { baseMs: 10, capMs: 500 }), signal);
      }
    }
  }
}
