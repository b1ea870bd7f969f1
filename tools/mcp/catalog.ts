/**
 * What the database holds, read from each engine's own catalog without writing anything: the
 * tables with their columns, types and row counts (`describe`, the schema resource), and
 * whether one table exists (the read-only tools answer "nothing there" instead of creating it).
 */
import type { Database } from '../../core/database.js';

export interface TableInfo {
  name: string;
  rows: number;
  columns: Array<{ name: string; type: string }>;
}

function columnsSql(db: Database): string {
  if (db.engine === 'sqlite') {
    return "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid";
  }
  if (db.engine === 'postgres') {
    return 'SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position';
  }
  return "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' ORDER BY table_name, ordinal_position";
}

/** A name as a quoted identifier, the same on every engine (`"` doubled inside). */
const quoted = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Tables, columns and row counts. */
export async function describeTables(db: Database): Promise<TableInfo[]> {
  const tables = new Map<string, Array<{ name: string; type: string }>>();
  for (const r of await db.query(columnsSql(db))) {
    const t = String(r.table_name);
    if (!tables.has(t)) tables.set(t, []);
    tables.get(t)!.push({ name: String(r.column_name), type: String(r.data_type) });
  }
  const out: TableInfo[] = [];
  for (const [name, columns] of tables) {
    const [c] = await db.query(`SELECT COUNT(*) AS n FROM ${quoted(name)}`);
    out.push({ name, rows: Number(c?.n ?? 0), columns });
  }
  return out;
}

/** True when the table exists (in the default schema). */
export async function tableExists(db: Database, name: string): Promise<boolean> {
  const sql =
    db.engine === 'sqlite'
      ? "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?"
      : db.engine === 'postgres'
        ? 'SELECT 1 AS x FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?'
        : "SELECT 1 AS x FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?";
  return (await db.query(sql, [name])).length > 0;
}
