/**
 * Consistent copy of the connection's database into a new DuckDB file: `COPY FROM DATABASE`
 * runs as one statement, in one transaction (one snapshot), while other connections keep
 * writing. The copy is then attached read-only and its tables counted.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { describeTables, type TableInfo } from './describe.js';

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Copies everything into `dest` (must not exist); returns the copy's tables and row counts. */
export async function copyDatabaseTo(conn: DuckDBConnection, dest: string): Promise<TableInfo[]> {
  const alias = `bolt_backup_${process.pid}_${Date.now()}`;
  const cur = (await conn.runAndReadAll('SELECT current_database()')).getRowsJS()[0]![0] as string;
  await conn.run(`ATTACH ${lit(dest)} AS ${alias}`);
  try {
    await conn.run(`COPY FROM DATABASE ${ident(cur)} TO ${alias}`);
  } finally {
    await conn.run(`DETACH ${alias}`);
  }
  await conn.run(`ATTACH ${lit(dest)} AS ${alias} (READ_ONLY)`);
  try {
    await conn.run(`USE ${alias}`);
    return await describeTables(conn);
  } finally {
    await conn.run(`USE ${ident(cur)}`);
    await conn.run(`DETACH ${alias}`);
  }
}
