/**
 * What the DuckDB host refuses to run for a caller, and what makes it close a connection after
 * use instead of lending it again: statements that would change what other callers share (the
 * instance's settings, a pooled connection's state, instance-wide objects), EXPLAIN ANALYZE of
 * anything but a query, SQL built at run time, and for read-only callers anything that writes.
 * Text is checked before DuckDB prepares it (preparing some statements already acts), the
 * prepared statement's type after. docs/concurrent-database.md, "Shared connections stay as the
 * host made them" and "Sessions".
 */
import { StatementType } from '@duckdb/node-api';
import { BadInputError, ReadOnlyError } from '../../core/errors.js';
import { memoizeText } from '../../core/text-memo.js';
import type { PreparedSql } from './run.js';
import { statementHeads } from './statement-heads.js';
import { asDuckDbLexesIt } from './unicode-spaces.js';

/** Statement types that only read. */
export const READ_TYPES = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);

/** Human name of a statement type, for messages. */
export function statementTypeName(t: StatementType): string {
  return StatementType[t] ?? String(t);
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
const WRITES_IN_A_READ: ReadonlyArray<[(sql: string) => boolean, string]> = [
  [(sql) => /\bnextval\b/i.test(sql), 'nextval() advances a sequence, which is a write'],
  [(sql) => followedBy(sql, /\bexplain\b/i, /\banaly[sz]e\b/gi), 'EXPLAIN ANALYZE runs the statement it explains'],
  [(sql) => /\b(force_)?checkpoint"?\s*(\(|\/\*|--)/i.test(sql), 'checkpoint() rewrites the database file'],
  [
    (sql) => /\b(query|json_execute_serialized_sql)"?\s*(\(|\/\*|--)/i.test(sql),
    'query() and json_execute_serialized_sql() run SQL they build when they run, which cannot be checked beforehand; run that SQL itself',
  ],
  [(sql) => followedBy(sql, /\bexport\b/i, /\bdatabase\b/gi), 'EXPORT DATABASE writes files'],
];

/**
 * Whether `first` matches in `sql` and `then` (a global pattern) somewhere after it. The
 * pattern `first[\s\S]*then` says the same but reads to the end of the text from every match
 * of `first`: a read-only query of 160,000 characters repeating "explain" took 2.4 s.
 */
function followedBy(sql: string, first: RegExp, then: RegExp): boolean {
  const m = first.exec(sql);
  if (!m) return false;
  then.lastIndex = m.index + m[0].length;
  return then.test(sql);
}

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
 * The text as DuckDB's lexer gets it: the Unicode spaces DuckDB turns into plain ones where it
 * does (unicode-spaces.ts). `EXPLAIN ANALYZE\u00a0SET …` is then two words and a SET, as to
 * DuckDB, and a space DuckDB leaves stays a letter of a word, as to DuckDB.
 */
const asDuckDbReadsIt = memoizeText(asDuckDbLexesIt);

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
  for (const [writes, why] of WRITES_IN_A_READ) {
    if (writes(sql)) throw new ReadOnlyError(`read-only: ${why}; use a read-write session`, { sql: original });
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
export function assertSharedStateKept(t: StatementType, sql: string): void {
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
