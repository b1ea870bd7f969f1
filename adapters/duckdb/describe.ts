/**
 * What a DuckDB database holds: its tables with exact row counts.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

import type { TableInfo } from '../../core/database.js';

/** Tables of the main database (schema-qualified unless in `main`) with their row counts. */
export async function describeTables(conn: DuckDBConnection): Promise<TableInfo[]> {
  const r = await conn.runAndReadAll(
    `SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary ORDER BY schema_name, table_name`,
  );
  const out: TableInfo[] = [];
  for (const [schema, table] of r.getRowsJS() as [string, string][]) {
    const q = `"${schema.replace(/"/g, '""')}"."${table.replace(/"/g, '""')}"`;
    const c = await conn.runAndReadAll(`SELECT count(*) FROM ${q}`);
    out.push({ name: schema === 'main' ? table : `${schema}.${table}`, rows: Number(c.getRowsJS()[0]![0]) });
  }
  return out;
}

/**
 * Reads every value of every table (an aggregate over all columns, so nothing can be skipped
 * from metadata) and returns the row counts: the `bolt db verify` scan.
 */
export async function scanAllTables(conn: DuckDBConnection): Promise<TableInfo[]> {
  const tables = await describeTables(conn);
  for (const t of tables) {
    const q = t.name
      .split('.')
      .map((p) => `"${p.replace(/"/g, '""')}"`)
      .join('.');
    const r = await conn.runAndReadAll(`SELECT count(*) AS n, bit_xor(hash(COLUMNS(*))) FROM ${q}`);
    t.rows = Number(r.getRowsJS()[0]![0]);
  }
  return tables;
}

/** What {@link describeDuckDb} reports (`bolt db info`). */
export interface DuckDbDescription {
  engine: 'duckdb';
  /** DuckDB library version of this process (e.g. `v1.5.6`). */
  libraryVersion: string;
  tables: TableInfo[];
}

/** Library version and tables with row counts of the connection's database. */
export async function describeDuckDb(conn: DuckDBConnection): Promise<DuckDbDescription> {
  const version = (await conn.runAndReadAll('SELECT version()')).getRowsJS()[0]?.[0];
  return { engine: 'duckdb', libraryVersion: String(version ?? ''), tables: await describeTables(conn) };
}
