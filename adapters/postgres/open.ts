/**
 * `openPostgres(url, opts)`: a `Database` over a PostgreSQL server. The URL's password is
 * used to connect and never shown: `location` and every log line carry the redacted URL.
 */
import type { Database, OpenOptions } from '../../core/database.js';
import { BadInputError, ClosedError, HostUnreachableError } from '../../core/errors.js';
import { DEFAULT_TX_RETRIES } from '../shared/transaction.js';
import { keyedRequestLogDdl, REQUESTS_TABLE } from '../../core/request-log.js';
import { isPostgresUrl, quoteIdent, redactUrl } from './names.js';
import { PostgresDatabase } from './database.js';
import { checkIsolation, type PgIsolation } from './run.js';
import { checkOpenOptions } from '../shared/open-options.js';
import { createIdempotently } from '../../core/schema-race.js';

export interface PostgresOptions extends OpenOptions {
  /** Isolation of `transaction()` and session transactions (default 'repeatable read': snapshot isolation, as DuckDB). */
  isolation?: PgIsolation;
  /** Server-side statement timeout (default 0: none). */
  statementTimeoutMs?: number;
  /** Schema created if missing and put first on search_path (one per test, per tenant…). */
  schema?: string;
  /** Default re-runs of a transaction on serialization failure or deadlock (default 5). */
  retries?: number;
  /** Connections held longer than this are reported as leaks (default 60 s; 0 disables). */
  leakReportMs?: number;
  /** Shown in pg_stat_activity (default 'bolt'). */
  applicationName?: string;
  /**
   * Keep statements run with `{ prepared: true }` (the queue's claim and submit) prepared on each
   * connection (default true). Set false behind a pooler that cannot carry prepared statements
   * (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`).
   */
  preparedStatements?: boolean;
}

/** Connects a pool to `url` and makes sure `bolt_requests` exists (unless read-only). */
export async function openPostgres(url: string, opts: PostgresOptions = {}): Promise<Database> {
  if (!isPostgresUrl(url)) throw new BadInputError('Not a PostgreSQL URL: expected postgres://user@host:port/database', { location: redactUrl(url) });
  if (opts.schema !== undefined) quoteIdent(opts.schema);
  checkOpenOptions(opts, { statementTimeoutMs: opts.statementTimeoutMs, leakReportMs: opts.leakReportMs });
  const max = opts.maxConnections ?? 8;
  if (!(max >= 1)) throw new BadInputError('maxConnections must be at least 1', { maxConnections: max });
  const location = redactUrl(url);
  const settings = {
    url,
    max,
    connectionTimeoutMs: opts.connectionTimeoutMs ?? 10_000,
    statementTimeoutMs: opts.statementTimeoutMs ?? 0,
    schema: opts.schema,
    readOnly: opts.readOnly === true,
    applicationName: opts.applicationName ?? 'bolt',
  };
  if (opts.schema && !opts.readOnly) {
    // The schema must exist before the pool's search_path points at it.
    const setup = new PostgresDatabase({
      settings: { ...settings, schema: undefined, max: 1 },
      location,
      isolation: 'read committed',
      retries: 0,
      leakReportMs: 0,
    });
    try {
      await createIdempotently(() => setup.execute(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(opts.schema!)}`));
    } finally {
      await setup.close();
    }
  }
  const db = new PostgresDatabase({
    settings,
    location,
    isolation: checkIsolation(opts.isolation ?? 'repeatable read'),
    retries: opts.retries ?? DEFAULT_TX_RETRIES,
    leakReportMs: opts.leakReportMs ?? 60_000,
    values: opts.values,
    preparedStatements: opts.preparedStatements !== false,
  });
  try {
    // In the first schema of search_path (where CREATE puts it), not anywhere on the path.
    const has = await db.query('SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?) AS present', [REQUESTS_TABLE]);
    if (!opts.readOnly && has[0]?.present !== true) await createIdempotently(() => db.execute(keyedRequestLogDdl('TIMESTAMPTZ', 'now()')));
  } catch (err) {
    await db.close();
    throw neverConnected(err, location);
  }
  return db;
}

/**
 * The first statement of a handle failing on the network means the server was never reached:
 * BOLT_HOST_UNREACHABLE, not BOLT_CLOSED's "lost the connection" (nothing was lost).
 */
function neverConnected(err: unknown, location: string): unknown {
  if (!(err instanceof ClosedError) || err.details.connectionLost !== true) return err;
  return new HostUnreachableError(
    `Cannot reach PostgreSQL at ${location}: ${String(err.details.reason)}`,
    { location, sqlstate: err.details.sqlstate },
    { cause: err },
  );
}
