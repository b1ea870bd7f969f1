/**
 * Opens a database file read-only with its own engine, describes it, and closes it again.
 * Only for a process that does not otherwise hold the file (tools, not the host).
 */
import BetterSqlite3 from 'better-sqlite3';
import { describeDuckDb, type DuckDbDescription } from '../../adapters/duckdb/describe.js';
import { describeSqlite, type SqliteDescription } from '../../adapters/sqlite/describe.js';
import { checkReadOnlyOpen, removeWalLeftovers } from '../../adapters/sqlite/wal-leftovers.js';

/** Opens the DuckDB file at `path` with `access_mode = READ_ONLY`, describes it, closes it. */
export async function describeDuckDbFile(path: string): Promise<DuckDbDescription> {
  // Loaded here: the DuckDB binding takes ~0.2 s to load, which commands that never open a file
  // in this process (and `bolt --help`) should not pay.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  try {
    const conn = await instance.connect();
    try {
      return await describeDuckDb(conn);
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/**
 * Opens the SQLite file at `path` read-only (waiting at most `busyMs` on locks), describes it,
 * closes it; leaves no `-wal` or `-shm` that were not there (wal-leftovers.ts).
 */
export function describeSqliteFile(path: string, busyMs = 1000): SqliteDescription {
  const leftovers = checkReadOnlyOpen(path);
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true, timeout: busyMs });
  try {
    return describeSqlite(db);
  } finally {
    db.close();
    if (leftovers) removeWalLeftovers(path);
  }
}
