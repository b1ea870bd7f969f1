/**
 * Describes an open DuckDB database: its tables with exact row counts, and a few settings.
 * Takes an open connection, so the DuckDB adapter, the host's `info` op and `bolt db info`
 * share it.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

/** One table of a database and its row count. */
export interface TableRows {
  /** `table`, or `schema.table` outside the default schema. */
  name: string;
  rows: number;
}

/** What {@link describeDuckDb} reports. */
export interface DuckDbDescription {
  engine: 'duckdb';
  /** DuckDB library version of this process (e.g. `v1.5.6`). */
  libraryVersion: string;
  tables: TableRows[];
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Lists the base tables of the connection's current database with `count(*)` of each. */
export async function describeDuckDb(conn: DuckDBConnection): Promise<DuckDbDescription> {
  const version = (await conn.runAndReadAll('SELECT version() AS v')).getRowObjectsJS()[0]?.v;
  const list = (
    await conn.runAndReadAll(
      `SELECT schema_name, table_name FROM duckdb_tables()
       WHERE database_name = current_database() AND NOT internal AND NOT temporary
       ORDER BY schema_name, table_name`,
    )
  ).getRowObjectsJS() as Array<{ schema_name: string; table_name: string }>;
  const tables: TableRows[] = [];
  for (const t of list) {
    const q = `${quoteIdent(t.schema_name)}.${quoteIdent(t.table_name)}`;
    const n = (await conn.runAndReadAll(`SELECT count(*) AS n FROM ${q}`)).getRowObjectsJS()[0]?.n;
    tables.push({ name: t.schema_name === 'main' ? t.table_name : `${t.schema_name}.${t.table_name}`, rows: Number(n ?? 0) });
  }
  return { engine: 'duckdb', libraryVersion: String(version ?? ''), tables };
}
