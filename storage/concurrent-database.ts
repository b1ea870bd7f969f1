/**
 * The front door: `ConcurrentDatabase.open()` picks the engine of a path and opens it.
 * `postgres://` URLs go to PostgreSQL, SQLite files (told by their header, or a new file named
 * `.sqlite`, `.sqlite3` or `.db3`) to SQLite, everything else — other new files included — is
 * DuckDB, whose handles are instances of this class.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkValueMode, type Database, type OpenOptions } from '../core/database.js';
import { BadInputError, PermissionError } from '../core/errors.js';
import { detectFileKind } from './platform/file-kind.js';
import { accessProblem } from './platform/check-directory.js';
import { checkSidecarName, sidecarPath } from './platform/sidecar.js';
import { DuckDbDatabase } from '../adapters/duckdb/database.js';
import { isPostgresUrl } from '../adapters/postgres/names.js';
import { openSqlite } from '../adapters/sqlite/open.js';

/** A handle on one database; for DuckDB, many handles (threads, processes) may share one file. */
export class ConcurrentDatabase extends DuckDbDatabase {
  /** Opens a database of any engine (see the file comment for how the engine is chosen). */
  static async open(path: string, opts: OpenOptions = {}): Promise<Database> {
    if (typeof path !== 'string' || !path) throw new BadInputError('a database path or URL is required');
    checkValueMode(opts.values);
    refuseOtherUrls(path);
    const engine = opts.engine ?? detectEngine(path);
    if (engine === 'postgres') {
      // Loaded on use: the pg driver is not every file user's to load.
      const { openPostgres } = await import('../adapters/postgres/open.js');
      return openPostgres(path, opts);
    }
    checkSidecarName(path);
    if (engine === 'sqlite') return openSqlite(path, opts);
    if (engine !== 'duckdb') throw new BadInputError(`unknown engine ${String(engine)}`);
    return this.openFile(path, opts);
  }
}

/** The engine `open` would pick for `path`, told without opening it. */
export function detectEngine(path: string): 'duckdb' | 'sqlite' | 'postgres' {
  if (isPostgresUrl(path)) return 'postgres';
  refuseOtherUrls(path);
  // A sidecar exists only for DuckDB files; otherwise tell by the header. The header is read
  // only when no sidecar exists, i.e. no Bolt host has this file open (architecture.md, fact 3).
  const abs = resolve(path);
  if (existsSync(sidecarPath(abs))) return 'duckdb';
  const kind = detectFileKind(abs);
  if (kind.kind === 'sqlite') return 'sqlite';
  // Neither engine could open it: say why, rather than fail later as a DuckDB file.
  if (kind.kind === 'unreadable' && /EACCES|EPERM/.test(kind.reason))
    throw accessProblem(abs) ?? new PermissionError(`cannot read ${abs}: ${kind.reason}`, { path: abs });
  // A file not made yet (or empty) is SQLite when its name says so, as SQLite's own tools name
  // them; so is one that is no database at all, so that the error names the engine it meant.
  if ((kind.kind === 'missing' || kind.kind === 'empty' || kind.kind === 'other') && SQLITE_NAME.test(abs)) return 'sqlite';
  return 'duckdb';
}

/**
 * BOLT_BAD_INPUT for a URL of any scheme but postgres:// and postgresql://, which would
 * otherwise be taken for a relative path (`http:/host/…`) and fail as a missing directory.
 * `file://` URLs are refused too, naming the path to give instead.
 */
function refuseOtherUrls(location: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)?.[1];
  if (scheme === undefined || /^postgres(ql)?$/i.test(scheme)) return;
  let hint = '';
  if (scheme.toLowerCase() === 'file') {
    try {
      hint = `; for a file URL give its path: ${fileURLToPath(location)}`;
    } catch {
      hint = '; for a file URL give its path';
    }
  }
  throw new BadInputError(
    `unsupported database URL scheme ${scheme}://: Bolt opens a file path (DuckDB or SQLite) or a postgres:// or postgresql:// URL${hint}`,
    { scheme },
  );
}

/** File names SQLite's own tools use: `.sqlite`, `.sqlite3`, `.db3`. */
export const SQLITE_NAME = /\.(sqlite3?|db3)$/i;
