/**
 * Runs statements on one `pg` client: `?` → `$n`, parameter count check, value preparation,
 * error classification; and `PgPinned`, the `PinnedConnection` the shared session and
 * transaction logic drives.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { ExecResult, Row, ValueMode } from '../../core/database.js';
import { pgTypes } from './types.js';
import { AbortedError, BadInputError, ClosedError, ReadOnlyError, rolledBackAtCommit } from '../../core/errors.js';
import { stoppedOnAbort } from './cancel.js';
import { whenAborted } from '../../core/abortable.js';
import { POSTGRES_PARAM_RULES, checkParams } from '../../core/parameters.js';
import type { BeginOptions, PinnedConnection, RunOptions, StatementOutcome } from '../shared/pinned.js';
import { LOOKUP_REQUEST_SQL, RECORD_REQUEST_SQL, isAutoRequestId } from '../../core/request-log.js';
import { classifyPgError } from './classify-errors.js';
import { rewritePlaceholders } from './placeholders.js';
import { afterLeadingComments, PG_COMMENTS, sqlTextProblem } from '../../core/sql-text.js';
import { checkRequestId } from '../../core/request-id.js';

/** PostgreSQL isolation levels accepted by `isolation` options. */
export type PgIsolation = 'read committed' | 'repeatable read' | 'serializable';
const LEVELS = new Set<string>(['read committed', 'repeatable read', 'serializable']);

/** Checks an isolation level (case-insensitive) and returns it lower-cased. */
export function checkIsolation(level: string): PgIsolation {
  const l = level.toLowerCase();
  if (!LEVELS.has(l))
    throw new BadInputError(`Unknown isolation level ${JSON.stringify(level)}: use read committed, repeatable read or serializable`, { level });
  return l as PgIsolation;
}

/** Statement names by text (`StatementOptions.prepared`); bounded, past it statements are not kept prepared. */
const preparedNames = new Map<string, string>();
const PREPARED_MAX = 256;

/**
 * The name a prepared statement has on every connection: derived from its text, so one name
 * never stands for two texts (node-postgres parses a named statement once per connection).
 */
function preparedName(text: string): string | undefined {
  let name = preparedNames.get(text);
  if (name === undefined && preparedNames.size < PREPARED_MAX) {
    name = `bolt_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    preparedNames.set(text, name);
  }
  return name;
}

/** Runs one statement with Bolt's conventions; rejects with a classified BoltError. */
export async function runPg(
  client: pg.ClientBase,
  sql: string,
  params: readonly unknown[],
  ctx: { location: string; session?: string; signal?: AbortSignal; values?: ValueMode; oneStatement?: boolean; prepared?: boolean; control?: boolean },
): Promise<pg.QueryResult<Row>> {
  const problem = sqlTextProblem(sql, PG_COMMENTS);
  if (problem) throw new BadInputError(problem, { sql: String(sql).slice(0, 200) });
  checkParams(params, POSTGRES_PARAM_RULES);
  const { sql: text, count, control, positional } = rewritePlaceholders(sql);
  // Transaction control only from Bolt itself: a caller's would end or undo the transaction Bolt runs it in.
  if (control && !ctx.control) {
    throw new BadInputError(
      `${control} is not run as a statement: Bolt manages transactions (use db.transaction(), or a session's begin(), commit() and rollback())`,
      { sql: sql.slice(0, 200) },
    );
  }
  // Each ? becomes $1, $2 … in order: a $n of the caller's own would silently share a ?'s value.
  if (positional && count > 0) {
    throw new BadInputError('The statement mixes ? placeholders with PostgreSQL $n parameters: write every parameter as ?', {
      sql: sql.slice(0, 200),
    });
  }
  if (count !== params.length) {
    throw new BadInputError(`The statement has ${count} ? placeholder(s) but ${params.length} parameter(s) were given`, { sql: sql.slice(0, 200) });
  }
  // Sent as a statement, it failed as "cancelled (statement_timeout or cancel request)": no stream to copy through.
  if (COPY_STREAM.test(afterLeadingComments(sql, PG_COMMENTS))) {
    throw new BadInputError(
      'COPY … FROM STDIN and COPY … TO STDOUT need a data stream, which a statement does not carry: use INSERT, or COPY with a file on the server',
      {
        sql: sql.slice(0, 200),
      },
    );
  }
  const name = ctx.prepared ? preparedName(text) : undefined;
  try {
    // The extended protocol takes one statement only; without it, text without parameters may
    // hold several (`COMMIT; INSERT …` would end a read-only transaction and write).
    const result = await stoppedOnAbort(client, ctx.signal, () =>
      client.query<Row>({
        text,
        values: params as unknown[],
        types: pgTypes(ctx.values),
        ...(ctx.oneStatement ? { queryMode: 'extended' } : {}),
        ...(name ? { name } : {}),
      }),
    );
    // Several statements in one text (the simple protocol) give one result each.
    return Array.isArray(result) ? scriptResult(result as pg.QueryResult<Row>[]) : result;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (name !== undefined && (code === PREPARED_GONE || (code === '0A000' && /cached plan must not change result type/.test(String(err))))) {
      // Someone ran DEALLOCATE ALL or DISCARD ALL on this connection (node-postgres still thinks
      // the statement is there), or changed a column it returns. It did not run: drop it, run it
      // unprepared once; the next run prepares it again.
      if (code !== PREPARED_GONE) await client.query(`DEALLOCATE ${name}`).catch(() => undefined);
      forgetPrepared(client, name);
      return runPg(client, sql, params, { ...ctx, prepared: false });
    }
    if (code === '42601' && /cannot insert multiple commands into a prepared statement/.test(String(err))) {
      // The extended protocol (parameters, read-only, prepared) takes one statement; nothing ran.
      const what =
        params.length > 0
          ? 'parameters are only accepted with a single statement'
          : `a ${ctx.prepared ? 'prepared' : 'read-only'} statement must be a single statement on PostgreSQL: send the statements of the script one at a time`;
      throw new BadInputError(what, { sql: sql.slice(0, 200) });
    }
    throw classifyPgError(err, { location: ctx.location, sql, session: ctx.session });
  }
}

/** Commands whose row count counts rows read, not changed. */
const READ_COMMANDS = new Set(['SELECT', 'SHOW', 'EXPLAIN']);

/** Whether a result's command only read. */
export function isReadCommand(command: string | null | undefined): boolean {
  return READ_COMMANDS.has(command ?? '');
}

/**
 * One result for a script, as the other engines give it: the last statement's rows, and the
 * rows every statement changed (`command` that of the last statement that wrote, if any).
 */
function scriptResult(results: pg.QueryResult<Row>[]): pg.QueryResult<Row> {
  const last = results[results.length - 1]!;
  const writes = results.filter((r) => !isReadCommand(r.command));
  if (writes.length === 0) return last;
  return { ...last, command: writes[writes.length - 1]!.command, rowCount: writes.reduce((n, r) => n + (r.rowCount ?? 0), 0) };
}

/** SQLSTATE invalid_sql_statement_name: "prepared statement … does not exist". */
const PREPARED_GONE = '26000';

/** Drops node-postgres's note that `name` is prepared on this client (its connection's parse cache). */
function forgetPrepared(client: pg.ClientBase, name: string): void {
  const parsed = (client as { connection?: { parsedStatements?: Record<string, string> } }).connection?.parsedStatements;
  if (parsed) delete parsed[name];
}

/** COPY reaches the server's files and programs, which no read-only transaction guards. */
const COPY = /^copy\b/i;
/** A COPY through the client's own stream. */
const COPY_STREAM = /^copy\b[\s\S]*\b(from\s+stdin|to\s+stdout)\b/i;

/**
 * One pinned `pg` client. A read-only statement (session, handle or `readOnly` option) outside
 * a transaction runs in `BEGIN READ ONLY` … `ROLLBACK`: `default_transaction_read_only` alone
 * would let one statement (`SELECT set_config('default_transaction_read_only', 'off', false)`)
 * lift it for the next, and a rollback undoes any setting a statement makes. It must be one
 * statement (the extended protocol), and COPY is refused.
 */
export class PgPinned implements PinnedConnection {
  constructor(
    private readonly client: pg.PoolClient,
    private readonly location: string,
    readonly name: string,
    private readonly defaultIsolation: PgIsolation,
    private readonly countQuery: () => void,
    private readonly onRelease: (broken: boolean) => void,
    /** The handle was opened read-only (or a read-only session holds this connection). */
    private readOnly = false,
  ) {}

  /** Aborted statements are cancelled on the server; their callers wait until they have ended (cancel.ts). */
  readonly stopsAbortedStatements = true;

  /** Why this client must not run anything more (see `onClient`). */
  private lost: string | undefined;
  /** A caller's statement changed the session beyond itself: the client is closed when released. */
  private sessionChanged = false;

  async query(sql: string, params: readonly unknown[], opts: RunOptions): Promise<Row[]> {
    return (await this.statement(sql, params, opts)).rows;
  }

  async run(sql: string, params: readonly unknown[], opts: RunOptions): Promise<StatementOutcome> {
    const r = await this.statement(sql, params, opts);
    const isRead = isReadCommand(r.command);
    return { rows: r.rows ?? [], rowsChanged: isRead ? 0 : (r.rowCount ?? 0), isRead };
  }

  async execute(sql: string, params: readonly unknown[], opts: RunOptions): Promise<ExecResult> {
    return { rowsChanged: (await this.statement(sql, params, { ...opts, values: undefined })).rowCount ?? 0 };
  }

  private async statement(sql: string, params: readonly unknown[], opts: RunOptions): Promise<pg.QueryResult<Row>> {
    if (typeof sql === 'string' && rewritePlaceholders(sql).sessionState) this.sessionChanged = true;
    if (!this.readOnly && opts.readOnly !== true) return this.send(sql, params, opts.signal, opts.values, false, opts.prepared);
    if (COPY.test(afterLeadingComments(sql, PG_COMMENTS)))
      throw new ReadOnlyError('read-only: COPY is not a read; use a read-write session', { sql: sql.slice(0, 200) });
    if (opts.inTransaction) return this.readOnly ? this.send(sql, params, opts.signal, opts.values, true) : this.readInTransaction(sql, params, opts);
    await this.control('BEGIN READ ONLY', opts.signal);
    try {
      return await this.send(sql, params, opts.signal, opts.values, true);
    } finally {
      // A connection that cannot roll back is broken; the next statement finds out.
      await this.control('ROLLBACK').catch(() => undefined);
    }
  }

  /**
   * A statement that may only read, in a read-write transaction: PostgreSQL cannot make one
   * statement read-only, so it runs in a savepoint made read-only, rolled back to after it (a
   * read leaves nothing to undo, and the transaction goes on whether it failed or not).
   */
  private async readInTransaction(sql: string, params: readonly unknown[], opts: RunOptions): Promise<pg.QueryResult<Row>> {
    await this.control('SAVEPOINT bolt_read_only; SET LOCAL transaction_read_only = on', opts.signal);
    try {
      return await this.send(sql, params, opts.signal, opts.values, true);
    } finally {
      // A connection that cannot roll back is broken; the next statement finds out.
      await this.control('ROLLBACK TO SAVEPOINT bolt_read_only; RELEASE SAVEPOINT bolt_read_only').catch(() => undefined);
    }
  }

  async begin(opts: BeginOptions): Promise<void> {
    const level = checkIsolation(opts.isolation ?? this.defaultIsolation);
    // A read-only transaction takes its snapshot at once: PostgreSQL lets the first statement
    // of a transaction make it read-write (SET TRANSACTION READ WRITE), and refuses that after.
    await this.control(`BEGIN ISOLATION LEVEL ${level.toUpperCase()}${opts.readOnly ? ' READ ONLY; SELECT 1' : ''}`, opts.signal);
  }

  async commit(): Promise<void> {
    // PostgreSQL answers COMMIT of a transaction in which a statement failed with ROLLBACK.
    if ((await this.control('COMMIT')).command === 'ROLLBACK') throw rolledBackAtCommit();
  }

  async rollback(): Promise<void> {
    await this.control('ROLLBACK');
  }

  async lookupRequest(requestId: string): Promise<number | undefined> {
    checkRequestId(requestId);
    const rows = (await this.send(LOOKUP_REQUEST_SQL, [requestId])).rows;
    return rows.length ? Number(rows[0]!.rows_changed) : undefined;
  }

  async recordRequest(requestId: string, rowsChanged: number): Promise<boolean> {
    return ((await this.send(RECORD_REQUEST_SQL, [requestId, rowsChanged, isAutoRequestId(requestId)])).rowCount ?? 0) === 1;
  }

  async setReadOnly(readOnly: boolean): Promise<void> {
    await this.send(readOnly ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only', []);
    this.readOnly = readOnly;
  }

  /**
   * Gives the client back. One whose session a caller's statement changed (SET, LISTEN, a
   * temporary table, a session-level advisory lock: placeholders.ts) is closed instead: the
   * next caller to get it from the pool would inherit that state.
   */
  release(broken = false): void {
    this.onRelease(broken || this.sessionChanged);
  }

  private send(
    sql: string,
    params: readonly unknown[],
    signal?: AbortSignal,
    values?: ValueMode,
    oneStatement = false,
    prepared = false,
  ): Promise<pg.QueryResult<Row>> {
    return this.onClient(sql, params, { location: this.location, session: this.name, signal, values, oneStatement, prepared });
  }

  /** Bolt's own BEGIN, COMMIT or ROLLBACK (the one way transaction control reaches the server). */
  private control(sql: string, signal?: AbortSignal): Promise<pg.QueryResult<Row>> {
    return this.onClient(sql, [], { location: this.location, session: this.name, signal, control: true });
  }

  /** The statements sent on this client, one at a time: each waits for the one before. */
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * One statement on this client, after the ones already sent on it have ended (a session's
   * callers may send several at once): only the statement actually running can be cancelled,
   * so an aborted one never cancels another caller's. A statement whose signal aborts while it
   * waits its turn is never sent. Nothing is sent once an aborted statement left the client
   * lost (still running after its cancel): a transaction's ROLLBACK does not queue behind it,
   * and the client is destroyed when released.
   */
  private async onClient(sql: string, params: readonly unknown[], ctx: Parameters<typeof runPg>[3]): Promise<pg.QueryResult<Row>> {
    this.countQuery();
    let started = false;
    const run = this.tail.then(() => {
      if (this.lost) throw new ClosedError(`Lost the connection to PostgreSQL at ${this.location}: ${this.lost}`, { connectionLost: true });
      started = true;
      return runPg(this.client, sql, params, ctx);
    });
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await (ctx.signal ? abortedWhileWaiting(run, ctx.signal, () => started) : run);
    } catch (err) {
      if ((err as { details?: { connectionLost?: unknown } }).details?.connectionLost === true) this.lost ??= (err as Error).message;
      throw err;
    }
  }
}

/** `run`, or BOLT_ABORTED as soon as `signal` aborts while it has not `started` (once started, `runPg` stops it). */
function abortedWhileWaiting<T>(run: Promise<T>, signal: AbortSignal, started: () => boolean): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const forget = whenAborted(signal, () => {
      if (!started()) reject(new AbortedError('the statement was not sent: its caller stopped waiting while it waited for its turn'));
    });
    run.then(resolve, reject).finally(forget);
  });
}
