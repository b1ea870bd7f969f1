/**
 * What a PostgreSQL database holds, as `bolt db info` shows it: server version, database and
 * schema, the tables of the schema with exact row counts, and who is connected. Reads only,
 * through any `Database` handle on the server (the location never carries the password).
 */
import type { Database } from '../../core/database.js';
import type { TableInfo } from '../../core/database.js';

/** What {@link describePostgres} reports. */
export interface PostgresDescription {
  engine: 'postgres';
  location: string;
  serverVersion: string;
  database: string;
  /** First schema of search_path: where Bolt's tables live. */
  schema: string;
  tables: TableInfo[];
  /** Sessions connected to this database, by application name (Bolt's say `bolt`). */
  connections: Array<{ application: string; state: string; count: number }>;
  /** Default isolation level of the server. */
  defaultIsolation: string;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Describes the database `db` is connected to. */
export async function describePostgres(db: Database): Promise<PostgresDescription> {
  const [head] = await db.query<{ v: string; d: string; s: string; iso: string }>(
    "SELECT current_setting('server_version') AS v, current_database() AS d, current_schema() AS s, current_setting('default_transaction_isolation') AS iso",
  );
  const names = await db.query<{ name: string }>('SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename');
  const tables: TableInfo[] = [];
  for (const { name } of names) {
    const [c] = await db.query<{ n: number }>(`SELECT COUNT(*)::bigint AS n FROM ${quoteIdent(head!.s)}.${quoteIdent(name)}`);
    tables.push({ name, rows: Number(c!.n) });
  }
  const connections = await db.query<{ application: string; state: string; count: number }>(
    "SELECT COALESCE(NULLIF(application_name, ''), '?') AS application, COALESCE(state, '?') AS state, COUNT(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() GROUP BY 1, 2 ORDER BY 1, 2",
  );
  return {
    engine: 'postgres',
    location: db.location,
    serverVersion: head!.v,
    database: head!.d,
    schema: head!.s,
    tables,
    connections,
    defaultIsolation: head!.iso,
  };
}
