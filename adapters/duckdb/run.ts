/**
 * Runs SQL on one DuckDB connection: prepare, decide read vs write from the prepared
 * statement's type (never by parsing SQL text), bind JS parameters, return plain JS rows.
 */
import { ResultReturnType, StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import type { Row } from '../../core/database.js';
import { BadInputError, ReadOnlyError } from '../../core/errors.js';
import { classifyDuckDBError } from './classify-errors.js';
import { toDuckDBParams, toJSValue } from './values.js';

/** Statement types that only read. */
const READ_TYPES = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);

/** Prepared statement(s) for one SQL text (a script without parameters may hold several). */
export interface PreparedSql {
  readonly statements: DuckDBPreparedStatement[];
  /** True when every statement only reads. */
  readonly isRead: boolean;
  /** True when some statement is BEGIN/COMMIT/ROLLBACK. */
  readonly isTransactionControl: boolean;
  readonly types: StatementType[];
}

/** The outcome of one statement (the last one for a script). */
export interface StatementResult {
  rows: Row[];
  rowsChanged: number;
  isRead: boolean;
}

/** Human name of a statement type, for messages. */
export function statementTypeName(t: StatementType): string {
  return StatementType[t] ?? String(t);
}

/** Prepares `sql` on `conn`; a multi-statement script is split (it then takes no parameters). */
export async function prepareSql(conn: DuckDBConnection, sql: string, paramCount: number): Promise<PreparedSql> {
  if (typeof sql !== 'string' || !sql.trim()) throw new BadInputError('SQL text is empty');
  let statements: DuckDBPreparedStatement[];
  // User statements are prepared afresh every time, never cached: DuckDB 1.5.6 folds table
  // statistics into a prepared plan, so a cached `SELECT count(*) FROM t` keeps returning the
  // row count of t's checkpointed data as of PREPARE while other connections append
  // (measured; re-preparing gives the right answer).
  try {
    statements = [await conn.prepare(sql)];
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!/multiple statements/i.test(message)) throw classifyDuckDBError(err, { sql });
    if (paramCount > 0) throw new BadInputError('parameters are only accepted with a single statement', { sql });
    statements = [];
    try {
      const extracted = await conn.extractStatements(sql);
      for (let i = 0; i < extracted.count; i++) statements.push(await extracted.prepare(i));
    } catch (e) {
      for (const s of statements) s.destroySync();
      throw classifyDuckDBError(e, { sql });
    }
  }
  const types = statements.map((s) => s.statementType);
  return {
    statements,
    types,
    isRead: types.every((t) => READ_TYPES.has(t)),
    isTransactionControl: types.some((t) => t === StatementType.TRANSACTION),
  };
}

/** Refuses statements a read-only caller may not run (transaction control is allowed). */
export function assertReadOnlyAllowed(p: PreparedSql, sql: string): void {
  const bad = p.types.find((t) => !READ_TYPES.has(t) && t !== StatementType.TRANSACTION);
  if (bad !== undefined) {
    throw new ReadOnlyError(`read-only: a ${statementTypeName(bad)} statement is not a read; use a read-write session`, {
      sql,
      statementType: statementTypeName(bad),
    });
  }
}

/** Binds parameters and runs prepared statement(s); returns the last one's rows. */
export async function runPrepared(p: PreparedSql, params: readonly unknown[] | undefined, sql: string): Promise<StatementResult> {
  const values = toDuckDBParams(params);
  let last: StatementResult = { rows: [], rowsChanged: 0, isRead: p.isRead };
  for (const s of p.statements) {
    try {
      if (p.statements.length === 1) {
        if (values.length !== s.parameterCount) {
          throw new BadInputError(`the statement takes ${s.parameterCount} parameter(s), ${values.length} given`, { sql });
        }
        s.clearBindings();
        if (values.length) s.bind(values);
      }
      const reader = await s.runAndReadAll();
      const returnsRows = reader.returnType === ResultReturnType.QUERY_RESULT;
      last = {
        rows: returnsRows ? (reader.convertRowObjects(toJSValue) as Row[]) : [],
        rowsChanged: reader.returnType === ResultReturnType.CHANGED_ROWS ? reader.rowsChanged : 0,
        isRead: READ_TYPES.has(s.statementType),
      };
    } catch (err) {
      throw classifyDuckDBError(err, { sql });
    }
  }
  return last;
}

/** Releases prepared statements. */
export function destroyPrepared(p: PreparedSql): void {
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
