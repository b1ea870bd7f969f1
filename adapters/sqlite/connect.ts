/**
 * Opens one better-sqlite3 connection with Bolt's pragmas, in the thread that uses it. It does
 * not wait inside SQLite (`busy_timeout = 0`): inline-connection.ts waits for locks itself, and
 * lets SQLite wait (blocking, `lockWaitMs` at a time) only for a writer that has waited a while
 * for a lock that moves between others.
 */
import BetterSqlite3 from 'better-sqlite3';

/** Per-connection settings. */
export interface SqliteConnectSettings {
  path: string;
  readOnly: boolean;
  /** Page cache size in KiB. */
  cacheSizeKiB: number;
  /** Extra or overriding pragmas, applied last: name → value. */
  pragmas: Record<string, string | number>;
  /**
   * How long one try for a lock may wait inside SQLite (busy_timeout, blocking the thread) when
   * inline-connection.ts lets it; 0 or absent: never.
   */
  lockWaitMs?: number;
}

/**
 * The journal mode a connection sets before its first write (WAL unless `settings.pragmas`
 * says otherwise); undefined for a read-only connection, which cannot change it. It is not set
 * at connect: it is stored in the file, so setting it there would change a file only read.
 */
export function writeJournalMode(s: SqliteConnectSettings): string | undefined {
  if (s.readOnly) return undefined;
  return String(s.pragmas.journal_mode ?? 'WAL');
}

/**
 * The pragmas applied at every connection, in order (overrides from `settings.pragmas` win).
 * None of them writes to the file; the journal mode waits for the first write ({@link writeJournalMode}).
 */
export function connectionPragmas(s: SqliteConnectSettings): Array<[string, string | number]> {
  const base: Record<string, string | number> = {
    synchronous: 'NORMAL',
    foreign_keys: 'ON',
    busy_timeout: 0,
    temp_store: 'MEMORY',
    cache_size: -Math.max(1, Math.round(s.cacheSizeKiB)),
  };
  return Object.entries({ ...base, ...s.pragmas }).filter(([name]) => name.toLowerCase() !== 'journal_mode');
}

/**
 * Opens the connection and applies the pragmas (see {@link connectionPragmas}). `fileMustExist`:
 * never create the file (a read-only connection never does).
 */
export function connect(s: SqliteConnectSettings, fileMustExist = s.readOnly): BetterSqlite3.Database {
  const db = new BetterSqlite3(s.path, { readonly: s.readOnly, fileMustExist, timeout: 0 });
  try {
    for (const [name, value] of connectionPragmas(s)) {
      if (!/^[A-Za-z_]+$/.test(name)) throw new Error(`invalid pragma name: ${name}`);
      if (!/^[-\w.]+$/.test(String(value))) throw new Error(`invalid value for pragma ${name}: ${value}`);
      db.pragma(`${name} = ${value}`);
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
