/**
 * The bulk path: rows appended with DuckDB's appender on one connection (inside whatever
 * transaction the connection has open), each value converted to its column's type.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { BadInputError } from '../../core/errors.js';
import { toDuckDBParam } from './values.js';

/** Appends `rows` (values in `columns` order; all columns in table order when empty). */
export async function appendRows(
  conn: DuckDBConnection,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): Promise<{ rowsChanged: number }> {
  const { schema, name } = splitTableName(table);
  const appender = await conn.createAppender(name, schema);
  try {
    const n = appender.columnCount;
    const types = Array.from({ length: n }, (_, i) => appender.columnType(i));
    let order: number[] | undefined;
    if (columns.length) {
      const desc = await conn.runAndReadAll(`SELECT * FROM ${quoteTableName(table)} LIMIT 0`);
      const names = desc.columnNames();
      order = names.map((c) => columns.indexOf(c));
      const unknown = columns.filter((c) => !names.includes(c));
      if (unknown.length) throw new BadInputError(`insertMany: ${table} has no column(s) ${unknown.join(', ')}`, { table, columns: unknown });
    }
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      if (!Array.isArray(row)) throw new BadInputError(`insertMany: row ${r} is not an array`);
      const width = columns.length || n;
      if (row.length !== width) throw new BadInputError(`insertMany: row ${r} has ${row.length} values, ${width} expected`, { row: r });
      for (let c = 0; c < n; c++) {
        const src = order ? order[c]! : c;
        if (src < 0) {
          appender.appendDefault();
          continue;
        }
        const v = toDuckDBParam(row[src], `row ${r} column ${c + 1}`).value;
        if (v === null) appender.appendNull();
        else appender.appendValue(v, types[c]);
      }
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    // Rows a failed flush left behind must go now: closing flushes them again (which fails in
    // the aborted transaction, leaving the appender open), and an appender left open flushes
    // when it is garbage-collected — into whatever transaction its connection runs then,
    // silently invalidating it (measured: that transaction's COMMIT then succeeds without
    // applying anything).
    appender.clear();
    appender.closeSync();
  }
  return { rowsChanged: rows.length };
}

/** `schema.table` → parts (no quoting support beyond plain identifiers). */
export function splitTableName(table: string): { schema: string | null; name: string } {
  const i = table.indexOf('.');
  return i < 0 ? { schema: null, name: table } : { schema: table.slice(0, i), name: table.slice(i + 1) };
}

/** `"schema"."table"` with quotes doubled. */
export function quoteTableName(table: string): string {
  return table
    .split('.')
    .map((p) => `"${p.replace(/"/g, '""')}"`)
    .join('.');
}
