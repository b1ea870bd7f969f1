/**
 * Runs SQL on one DuckDB connection: prepare, decide read vs write from the prepared
 * statement's type (never by parsing SQL text), bind JS parameters, return plain JS rows.
 */
import { ResultReturnType, StatementType, type DuckDBConnection, type DuckDBMaterializedResult, type DuckDBPreparedStatement } from '@duckdb/node-api';
import type { Row, ValueMode } from '../../core/database.js';
import { BadInputError, ReadOnlyError } from '../../core/errors.js';
import { classifyDuckDBError } from './classify-errors.js';
import { toDuckDBParams, valueConverter } from './values.js';
import { cacheStatement, cachedStatement } from './statement-cache.js';
import { sqlTextProblem } from '../../core/sql-text.js';
import { memoizeText } from '../../core/text-memo.js';
import { statementHeads } from './statement-heads.js';
import { wireLimits } from '../../core/config.js';

/**
 * The most a result may take as rows, estimated while they are made (text by its length, any
 * other value 8): a frame's limit (BOLT_MAX_FRAME_BYTES), which a client's reply meets anyway.
 * In the process that hosts the file nothing else bounded it, and `bolt query` of 3M rows of
 * 1 KB ran out of heap (SIGABRT) instead of answering.
 */
const MAX_RESULT_BYTES = wireLimits().maxFrameBytes;

/** Statement types that only read. */
const READ_TYPES = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);
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

/** Human name of a statement type, for messages. */
export function statementTypeName(t: StatementType): string {
  return StatementType[t] ?? String(t);
}

/**
 * Prepares `sql` on `conn`; a multi-statement script is split (it then takes no parameters).
 * With `cache`, a single read, INSERT, UPDATE or DELETE is taken from / kept in the
 * connection's statement cache (statement-cache.ts says why that is safe).
 */
export async function prepareSql(conn: DuckDBConnection, sql: string, paramCount: number, opts: { cache?: boolean } = {}): Promise<PreparedSql> {
  const problem = sqlTextProblem(sql);
  if (problem) throw new BadInputError(problem, { sql: String(sql).slice(0, 200) });
  let statements: DuckDBPreparedStatement[];
  let count = 1;
  let deferred: PreparedSql['deferred'];
  let cached = false;
  try {
    const hit = opts.cache ? cachedStatement(conn, sql) : undefined;
    statements = [hit ?? (await conn.prepare(sql))];
    cached = hit !== undefined;
    if (!hit && opts.cache && CACHED_TYPES.has(statements[0]!.statementType)) {
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

/**
 * What a read-only caller may not run, found in the text before DuckDB prepares it: reads by
 * statement type that write all the same, and a statement whose preparing writes. Each pattern
 * also matches with a comment or quotes between the name and its parenthesis, and inside a
 * string (what `query()` would run):
 * - `nextval` (DuckDB sequences are not transactional, so a SELECT calling it writes; a view or
 *   macro that calls it is not seen here: see docs/concurrent-database.md);
 * - `EXPLAIN ANALYZE` (runs the statement it explains, whatever it is);
 * - the `checkpoint()` table functions (rewrite the file);
 * - `query()` and `json_execute_serialized_sql()`, which run SQL they build when they run
 *   (`query('SELECT next' || 'val(…)')`);
 * - `EXPORT DATABASE`, whose directory DuckDB creates while preparing it, before its type is known.
 */
const WRITES_IN_A_READ: ReadonlyArray<[RegExp, string]> = [
  [/\bnextval\b/i, 'nextval() advances a sequence, which is a write'],
  [/\bexplain\b[\s\S]*\banaly[sz]e\b/i, 'EXPLAIN ANALYZE runs the statement it explains'],
  [/\b(force_)?checkpoint"?\s*(\(|\/\*|--)/i, 'checkpoint() rewrites the database file'],
  [
    /\b(query|json_execute_serialized_sql)"?\s*(\(|\/\*|--)/i,
    'query() and json_execute_serialized_sql() run SQL they build when they run, which cannot be checked beforehand; run that SQL itself',
  ],
  [/\bexport\b[\s\S]*\bdatabase\b/i, 'EXPORT DATABASE writes files'],
];

/**
 * Table functions that switch something for the whole instance or for the connection they run
 * on, which later callers share: DuckDB's logging (it records every caller's statements, which
 * any caller could then read in `duckdb_logs`), profiling (it stays on the pooled connection and
 * prints each later statement's plan in the host process) and the parser (`enable_peg_parser`
 * sets `allow_parser_override_extension` for every connection). Matched as the read-only
 * patterns are; SQL that `query()` builds at run time is not seen (docs/concurrent-database.md).
 */
const SWITCHES =
  /\b(enable_logging|disable_logging|truncate_duckdb_logs|enable_profiling|disable_profiling|enable_peg_parser|disable_peg_parser)"?\s*(\(|\/\*|--)/i;

/**
 * Functions that run SQL they build when they run, which no check can see beforehand:
 * `json_execute_serialized_sql()` (refused for every caller) and `query()` (refused for
 * read-only callers; see WRITES_IN_A_READ).
 */
const RUNS_BUILT_SQL = /\bjson_execute_serialized_sql"?\s*(\(|\/\*|--)/i;

/** What EXPLAIN ANALYZE may run for a caller: a query (it runs the statement it explains). */
const QUERY_STARTS = new Set(['SELECT', 'FROM', 'VALUES', 'TABLE', 'WITH', 'SUMMARIZE', 'DESCRIBE', 'SHOW', '(']);
/** Words that make a WITH … statement a write. */
const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);
/** Words between EXPLAIN and the statement it explains. */
const EXPLAIN_WORDS = new Set(['ANALYZE', 'ANALYSE', 'VERBOSE']);

/**
 * The first word of a statement that an EXPLAIN with options in `sql` would run and that is not
 * a query, or undefined. EXPLAIN ANALYZE runs what it explains, but DuckDB's prepared type is
 * EXPLAIN, so the type checks never saw it: `EXPLAIN ANALYZE SET threads = 1` changed the
 * instance, and `EXPLAIN ANALYZE BEGIN` left a pooled connection in a transaction whose
 * writes (other callers' acknowledged inserts) were lost at close. DuckDB takes the option in
 * many spellings (`("analyze" false)` runs the statement too), so any EXPLAIN with options or
 * words before its statement must explain a query; a plain `EXPLAIN <statement>` only plans.
 */
const explainedNonQuery = memoizeText((sql: string): string | undefined => {
  if (!/explain/i.test(sql)) return undefined;
  for (const tokens of statementHeads(sql, Infinity)) {
    if (tokens[0] !== 'EXPLAIN') continue;
    let i = 1;
    let options = false;
    if (tokens[1] === '(' && !QUERY_STARTS.has(tokens[2] ?? '')) {
      // Options: EXPLAIN (ANALYZE, FORMAT json) …
      options = true;
      for (let depth = 0; i < tokens.length; i++) {
        if (tokens[i] === '(') depth++;
        else if (tokens[i] === ')' && --depth === 0) break;
      }
      i++;
    }
    for (; EXPLAIN_WORDS.has(tokens[i] ?? ''); i++) options = true;
    if (!options) continue;
    const first = tokens[i];
    if (first === undefined || !QUERY_STARTS.has(first)) return first ?? 'nothing';
    const write = tokens.slice(i).find((t) => WRITES.has(t));
    if (write) return write;
  }
  return undefined;
});

/**
 * Characters DuckDB's lexer takes for white space beyond ASCII's (measured on 1.5.6 over every
 * code point to U+FFFF): `EXPLAIN ANALYZE\u00a0SET …` is two words and a SET to DuckDB, and a
 * zero-width space may stand between a function's name and its parenthesis. The checks read the
 * text with each of them as a space.
 */
const DUCKDB_SPACES = /[\u00a0\u2000-\u200b\u202f\u205f\u2060\u3000\ufeff]/g;
const asDuckDbReadsIt = memoizeText((sql: string): string => sql.replace(DUCKDB_SPACES, ' '));

/** The words that may stand between CREATE or DROP and SECRET. */
const SECRET_MODIFIERS = new Set(['OR', 'REPLACE', 'PERSISTENT', 'TEMPORARY', 'TEMP']);

/**
 * True when a statement of `sql` creates or drops a secret. DuckDB keeps secrets in the instance
 * (every caller's), persistent ones in a file under the home directory; to the prepared
 * statement they are a CREATE and a DROP like any other, so the text says which.
 */
const makesSecret = memoizeText(
  (sql: string): boolean =>
    /secret/i.test(sql) &&
    statementHeads(sql, 5).some(([first, ...rest]) => {
      if (first !== 'CREATE' && first !== 'DROP') return false;
      const i = rest.findIndex((w) => !SECRET_MODIFIERS.has(w));
      return rest[i] === 'SECRET';
    }),
);

/**
 * Refuses, before it is prepared, text that would switch what other callers share (SWITCHES, a
 * secret), that runs SQL built at run time (RUNS_BUILT_SQL), an EXPLAIN ANALYZE of anything but
 * a query and, for a read-only caller, text that writes although its statement type reads
 * (WRITES_IN_A_READ, which refuses every EXPLAIN ANALYZE).
 */
export function assertText(original: string, readOnly: boolean): void {
  const sql = asDuckDbReadsIt(original);
  const switched = SWITCHES.exec(sql)?.[1];
  if (switched !== undefined || makesSecret(sql)) {
    throw new BadInputError(
      `${switched ? `${switched}()` : 'CREATE SECRET and DROP SECRET'} statements are not run through Bolt: they would change the whole database instance, or a connection other callers share`,
      { sql: original },
    );
  }
  if (RUNS_BUILT_SQL.test(sql)) {
    throw new BadInputError(
      'json_execute_serialized_sql() is not run through Bolt: it runs SQL built when it runs, which Bolt cannot check beforehand; send that SQL itself',
      { sql: original },
    );
  }
  const explained = explainedNonQuery(sql);
  if (explained !== undefined) {
    throw new BadInputError(
      `EXPLAIN ANALYZE runs the statement it explains, so through Bolt it explains only a query (SELECT …), not ${explained}: run that statement itself, or EXPLAIN it without options`,
      { sql: original },
    );
  }
  if (!readOnly) return;
  for (const [pattern, why] of WRITES_IN_A_READ) {
    if (pattern.test(sql)) throw new ReadOnlyError(`read-only: ${why}; use a read-write session`, { sql: original });
  }
}

/**
 * Statements that change one of the host's pooled connections, which later callers share, or
 * the whole instance: SET, RESET, USE and PRAGMAs that set something (the read-like pragmas,
 * such as `PRAGMA table_info`, are SELECTs to DuckDB; `SET threads` or `SET GLOBAL memory_limit`
 * change the instance whatever the scope written, and `SET disabled_optimizers` would undo the
 * host's own settings: docs/concurrent-database.md, cached plans), ATTACH and DETACH (databases
 * every caller then sees, or loses), LOAD and INSTALL (extensions), and PREPARE.
 */
const SHARED_STATE = new Set<StatementType>([
  StatementType.SET,
  StatementType.VARIABLE_SET,
  StatementType.PRAGMA,
  StatementType.ATTACH,
  StatementType.DETACH,
  StatementType.LOAD,
  StatementType.EXTENSION,
  StatementType.UPDATE_EXTENSIONS,
  StatementType.PREPARE,
]);

/** Throws BOLT_BAD_INPUT for a statement of type `t` that would change what other callers share (SHARED_STATE). */
function assertSharedStateKept(t: StatementType, sql: string): void {
  if (!SHARED_STATE.has(t)) return;
  throw new BadInputError(
    `${statementTypeName(t)} statements are not run through Bolt: they would change a connection other callers share, or the whole database instance`,
    { sql, statementType: statementTypeName(t) },
  );
}

/** Refuses statements that change what other callers share (see SHARED_STATE); a script's later statements are checked as they are prepared. */
function assertNoSettings(p: PreparedSql, sql: string): void {
  for (const t of p.types) assertSharedStateKept(t, sql);
}

/** `read_csv` options that keep the rows it rejected in temporary tables (a SELECT that creates). */
const REJECTS_TABLES = /\b(store_rejects|rejects_table|rejects_scan)\b/i;

/**
 * True when the statement(s) may leave objects on their connection: a CREATE can make a
 * temporary table, view, macro or sequence, which lives on that connection only, and so does
 * `read_csv(…, store_rejects = true)`, a SELECT. Such a connection is closed after use instead of
 * going back to the pool, so no later caller sees them.
 */
export function mayLeaveObjects(p: PreparedSql | undefined, sql: string): boolean {
  return p !== undefined && (p.types.includes(StatementType.CREATE) || p.deferred !== undefined || REJECTS_TABLES.test(sql));
}

/**
 * Refuses a prepared statement the host does not run for this caller: what changes what others
 * share ({@link assertNoSettings}), and for a read-only caller anything but a read (call
 * {@link assertText} before preparing).
 */
export function assertAllowed(p: PreparedSql, sql: string, readOnly: boolean): void {
  if (readOnly) assertReadOnlyAllowed(p, sql);
  assertNoSettings(p, sql);
}

/** Refuses prepared statements a read-only caller may not run (transaction control is allowed). */
function assertReadOnlyAllowed(p: PreparedSql, sql: string): void {
  const bad = p.types.find((t) => !READ_TYPES.has(t) && t !== StatementType.TRANSACTION);
  if (bad === undefined && p.deferred) {
    throw new ReadOnlyError(`read-only: statement ${p.deferred.from + 1} of the script names what an earlier one must create first, so it is not a read`, {
      sql,
    });
  }
  if (bad !== undefined) {
    throw new ReadOnlyError(`read-only: a ${statementTypeName(bad)} statement is not a read; use a read-write session`, {
      sql,
      statementType: statementTypeName(bad),
    });
  }
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

/** prepare + (read-only check) + run + destroy. */
export async function runSql(
  conn: DuckDBConnection,
  sql: string,
  params: readonly unknown[] | undefined,
  opts: { readOnly?: boolean } = {},
): Promise<StatementResult> {
  const p = await prepareSql(conn, sql, params?.length ?? 0);
  try {
    if (opts.readOnly) assertReadOnlyAllowed(p, sql);
    return await runPrepared(p, params, sql);
  } finally {
    destroyPrepared(p);
  }
}
