/**
 * Runs SQL on one DuckDB connection: prepare, decide read vs write from the prepared
 * statement's type (never by parsing SQL text), bind JS parameters, return plain JS rows.
 */
import { ResultReturnType, StatementType, type DuckDBConnection, type DuckDBMaterializedResult, type DuckDBPreparedStatement } from '@duckdb/node-api';
import type { Row, ValueMode } from '../../core/database.js';
import { BadInputError } from '../../core/errors.js';
import { classifyDuckDBError } from './classify-errors.js';
import { toDuckDBParams, valueConverter } from './values.js';
import { cacheStatement, cachedStatement } from './statement-cache.js';
import { PG_COMMENTS, sqlTextProblem } from '../../core/sql-text.js';
import { wireLimits } from '../../core/config.js';
import { MEMO_MAX_TEXT } from '../../core/text-memo.js';
import { READ_TYPES, assertSharedStateKept } from './statement-checks.js';

/**
 * The most a result may take as rows, estimated while they are made (text by its length, any
 * other value 8): a frame's limit (BOLT_MAX_FRAME_BYTES), which a client's reply meets anyway.
 * In the process that hosts the file nothing else bounded it, and `bolt query` of 3M rows of
 * 1 KB ran out of heap (SIGABRT) instead of answering.
 */
const MAX_RESULT_BYTES = wireLimits().maxFrameBytes;

/** Writes whose RETURNING gives rows instead of a count: each row returned is a row changed. */
const RETURNING_TYPES = new Set<StatementType>([StatementType.INSERT, StatementType.UPDATE, StatementType.DELETE, StatementType.MERGE_INTO]);
/** Statement types whose prepared plans are worth keeping (statement-cache.ts). */
const CACHED_TYPES = new Set<StatementType>([...READ_TYPES, StatementType.INSERT, StatementType.UPDATE, StatementType.DELETE]);

/** Prepared statement(s) for one SQL text (a script without parameters may hold several). */
export interface PreparedSql {
  readonly statements: DuckDBPreparedStatement[];
  /** How many statements the text holds (prepared ones and deferred ones). */
  readonly count: number;
  /**
   * The statements of a script from `from` on, which could not be prepared before the ones
   * before them ran (`CREATE TABLE t …; INSERT INTO t …`): prepared and run one by one after
   * them, from the script extracted again (a failed prepare consumes its statement). Their
   * types are unknown beforehand, so the script counts as a write.
   */
  readonly deferred?: { conn: DuckDBConnection; from: number };
  /** True when every statement only reads. */
  readonly isRead: boolean;
  /** True when some statement is BEGIN/COMMIT/ROLLBACK. */
  readonly isTransactionControl: boolean;
  readonly types: StatementType[];
  /** Owned by the connection's statement cache: not destroyed after use. */
  readonly cached: boolean;
}

/** The outcome of a statement; for a script, the last statement's rows, the rows all of them changed, and whether all only read. */
export interface StatementResult {
  rows: Row[];
  rowsChanged: number;
  isRead: boolean;
}

/**
 * Prepares `sql` on `conn`; a multi-statement script is split (it then takes no parameters).
 * With `cache`, a single read, INSERT, UPDATE or DELETE of at most MEMO_MAX_TEXT characters is
 * taken from / kept in the connection's statement cache (statement-cache.ts says why that is safe).
 */
export async function prepareSql(conn: DuckDBConnection, sql: string, paramCount: number, opts: { cache?: boolean } = {}): Promise<PreparedSql> {
  const problem = sqlTextProblem(sql, PG_COMMENTS);
  if (problem) throw new BadInputError(problem, { sql: String(sql).slice(0, 200) });
  let statements: DuckDBPreparedStatement[];
  let count = 1;
  let deferred: PreparedSql['deferred'];
  let cached = false;
  try {
    // A long text (a literal of megabytes) is not a statement run again: it is not kept.
    const cache = opts.cache === true && sql.length <= MEMO_MAX_TEXT;
    const hit = cache ? cachedStatement(conn, sql) : undefined;
    statements = [hit ?? (await conn.prepare(sql))];
    cached = hit !== undefined;
    if (!hit && cache && CACHED_TYPES.has(statements[0]!.statementType)) {
      cacheStatement(conn, sql, statements[0]!);
      cached = true;
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!/multiple statements/i.test(message)) throw classifyDuckDBError(err, { sql });
    if (paramCount > 0) throw new BadInputError('parameters are only accepted with a single statement', { sql });
    statements = [];
    try {
      const extracted = await conn.extractStatements(sql);
      count = extracted.count;
      for (let i = 0; i < extracted.count; i++) {
        try {
          statements.push(await extracted.prepare(i));
        } catch (e) {
          // A later statement may name what an earlier one creates: it is prepared after
          // those ran (and fails then if it is wrong on its own).
          if (i === 0) throw e;
          deferred = { conn, from: i };
          break;
        }
      }
    } catch (e) {
      for (const s of statements) s.destroySync();
      throw classifyDuckDBError(e, { sql });
    }
  }
  const types = statements.map((s) => s.statementType);
  return {
    statements,
    count,
    deferred,
    types,
    cached,
    isRead: !deferred && types.every((t) => READ_TYPES.has(t)),
    isTransactionControl: types.some((t) => t === StatementType.TRANSACTION),
  };
}

/** Binds parameters and runs prepared statement(s); returns the last one's rows, their values in `mode`. */
export async function runPrepared(p: PreparedSql, params: readonly unknown[] | undefined, sql: string, mode?: ValueMode): Promise<StatementResult> {
  const values = toDuckDBParams(params);
  let last: StatementResult = { rows: [], rowsChanged: 0, isRead: p.isRead };
  let changed = 0;
  let allRead = true;
  for (const s of p.statements) {
    try {
      if (p.count === 1) {
        if (values.length !== s.parameterCount) {
          throw new BadInputError(`the statement takes ${s.parameterCount} parameter(s), ${values.length} given`, { sql });
        }
        s.clearBindings();
        if (values.length)
          s.bind(
            values.map((v) => v.value),
            values.map((v) => v.type),
          );
      }
      const result = await s.run();
      const rows = result.returnType === ResultReturnType.QUERY_RESULT ? rowObjects(result, mode) : [];
      changed += changedBy(result, s.statementType, rows.length);
      allRead &&= READ_TYPES.has(s.statementType);
      last = { rows, rowsChanged: changed, isRead: allRead };
    } catch (err) {
      throw classifyDuckDBError(err, { sql });
    }
  }
  const again = p.deferred
    ? await p.deferred.conn.extractStatements(sql).catch((err: unknown) => Promise.reject(classifyDuckDBError(err, { sql })))
    : undefined;
  for (let i = p.deferred?.from ?? p.count; again && i < p.count; i++) {
    let s: DuckDBPreparedStatement | undefined;
    try {
      s = await again.prepare(i);
      if (s.statementType === StatementType.TRANSACTION)
        throw new BadInputError('transaction statements need a pinned connection: use db.transaction() or db.session()', { sql });
      assertSharedStateKept(s.statementType, sql);
      const result = await s.run();
      const rows = result.returnType === ResultReturnType.QUERY_RESULT ? rowObjects(result, mode) : [];
      changed += changedBy(result, s.statementType, rows.length);
      last = { rows, rowsChanged: changed, isRead: false };
    } catch (err) {
      throw classifyDuckDBError(err, { sql });
    } finally {
      s?.destroySync();
    }
  }
  return last;
}

/** Rows a statement changed: its count, or for a write with RETURNING the rows it returned. */
function changedBy(result: DuckDBMaterializedResult, type: StatementType, rowsReturned: number): number {
  if (result.returnType === ResultReturnType.CHANGED_ROWS) return result.rowsChanged;
  return RETURNING_TYPES.has(type) ? rowsReturned : 0;
}

/**
 * The rows of a materialized result as plain JS objects, their values in `values` mode
 * (values.ts). Its chunks are read in place: no
 * `fetchChunk()` call, each of which is a thread-pool hop (`runAndReadAll()` spent two on a
 * one-row result, and two on an INSERT whose count `rowsChanged` already gives).
 */
export function rowObjects(result: DuckDBMaterializedResult, values?: ValueMode): Row[] {
  const names = result.deduplicatedColumnNames();
  const convert = valueConverter(values);
  const rows: Row[] = [];
  let bytes = 0;
  for (let c = 0; c < result.chunkCount; c++) {
    const chunk = result.getChunk(c);
    for (let r = 0; r < chunk.rowCount; r++) {
      const row: Row = {};
      chunk.visitRowValues(r, (value, _r, col, type) => {
        bytes += typeof value === 'string' ? value.length : 8;
        row[names[col]!] = convert(value, type, convert);
      });
      rows.push(row);
    }
    if (bytes > MAX_RESULT_BYTES) {
      throw new BadInputError(
        `the result is more than a frame may hold (${MAX_RESULT_BYTES} bytes, BOLT_MAX_FRAME_BYTES) after ${rows.length} rows: select fewer rows or columns, or page through them`,
        { rowsRead: rows.length, maxBytes: MAX_RESULT_BYTES },
      );
    }
  }
  return rows;
}

/** Releases prepared statements. */
export function destroyPrepared(p: PreparedSql): void {
  if (p.cached) return;
  for (const s of p.statements) {
    try {
      s.destroySync();
    } catch {
      /* already gone */
    }
  }
}
