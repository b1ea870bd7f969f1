/**
 * Whether a path can be a DuckDB database this process may host, told without loading DuckDB
 * (threads that are only clients never load its native addon).
 */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { BadInputError, NotADatabaseError, PermissionError } from '../../core/errors.js';
import { checkDirectory } from '../../storage/platform/check-directory.js';
import { detectFileKind } from '../../storage/platform/file-kind.js';

/**
 * Checks that `path` can be a DuckDB database we may write: its directory exists and is
 * writable, and the file is missing, empty or a DuckDB file. Throws a typed error otherwise.
 * Reads the file header: never call it while this process has the file open in DuckDB.
 */
export function checkDuckDBPath(path: string): { exists: boolean } {
  const abs = resolve(path);
  checkDirectory(abs);
  const kind = detectFileKind(abs);
  switch (kind.kind) {
    case 'missing':
    case 'empty':
      return { exists: kind.kind === 'empty' };
    case 'duckdb':
      try {
        accessSync(abs, constants.W_OK);
      } catch {
        throw new PermissionError(`${abs} (or its directory) is read-only; DuckDB needs to write its WAL next to it`, { path: abs });
      }
      return { exists: true };
    case 'directory':
      throw new BadInputError(`${abs} is a directory, not a database file`, { path: abs });
    case 'sqlite':
      throw new NotADatabaseError(`${abs} is a SQLite database, not a DuckDB one (open it with engine 'sqlite')`, { path: abs });
    case 'unreadable':
      throw new PermissionError(`${abs} cannot be read: ${kind.reason}`, { path: abs });
    default:
      throw new NotADatabaseError(`${abs} is not a DuckDB database file (unknown header)`, { path: abs, size: kind.size });
  }
}
