/**
 * Describes an open SQLite database (better-sqlite3 handle): tables with exact row counts,
 * journal mode, page size and count. Shared by the SQLite adapter and `bolt db info`.
 */
import type { Database } from 'better-sqlite3';
import type { TableInfo } from '../../core/database.js';

/** What {@link describeSqlite} reports. */
export interface SqliteDescription {
  engine: 'sqlite';
  /** SQLite library version of this process. */
  libraryVersion: string;
  /** `wal`, `delete`, `truncate`, `persist`, `memory` or `off`. */
  journalMode: string;
  pageSize: number;
  pageCount: number;
  tables: TableInfo[];
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Reads the description of `db` (read-only statements only). */
export function describeSqlite(db: Database): SqliteDescription {
  const libraryVersion = String(db.prepare('SELECT sqlite_version() AS v').pluck().get());
  const journalMode = String(db.pragma('journal_mode', { simple: true }));
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const pageCount = Number(db.pragma('page_count', { simple: true }));
  const names = db
    .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`)
    .pluck()
    .all() as string[];
  const tables: TableInfo[] = names.map((name) => ({
    name,
    rows: Number(
      db
        .prepare(`SELECT count(*) FROM ${quoteIdent(name)}`)
        .pluck()
        .get(),
    ),
  }));
  return { engine: 'sqlite', libraryVersion, journalMode, pageSize, pageCount, tables };
}

/** Runs `PRAGMA integrity_check` and returns its messages (`['ok']` when sound). */
export function integrityCheck(db: Database): string[] {
  const rows = db.pragma('integrity_check') as Array<Record<string, unknown>>;
  return rows.map((r) => String(r.integrity_check));
}
