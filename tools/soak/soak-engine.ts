/**
 * The soak's engine: `--engine`, or when it is not given, what the `--db` name says (a
 * postgres:// URL, a `.sqlite` file), as every other Bolt command tells it. An `--engine`
 * the name contradicts is refused: `bolt soak --engine duckdb --db x.sqlite` made a DuckDB file
 * named x.sqlite, and the default engine did the same for a `--db x.sqlite` without `--engine`.
 */
import { BadInputError } from '../../core/errors.js';
import type { EngineName } from '../../core/database.js';
import { isUrl } from '../../storage/open-database.js';
import { SQLITE_NAME } from '../../storage/concurrent-database.js';
import { isPostgresUrl } from '../../adapters/postgres/names.js';

const ENGINES: readonly EngineName[] = ['duckdb', 'sqlite', 'postgres'];
const DUCKDB_NAME = /\.duckdb$/i;

/** What the name of `db` says its engine is, if anything. */
function engineByName(db: string): EngineName | undefined {
  if (isPostgresUrl(db)) return 'postgres';
  if (isUrl(db)) return undefined;
  if (SQLITE_NAME.test(db)) return 'sqlite';
  if (DUCKDB_NAME.test(db)) return 'duckdb';
  return undefined;
}

/** The engine to soak, or BOLT_BAD_INPUT for an unknown one or one the `--db` name contradicts. */
export function soakEngine(flag: string | undefined, db: string | undefined): EngineName {
  if (flag !== undefined && !ENGINES.includes(flag as EngineName)) throw new BadInputError(`--engine must be duckdb, sqlite or postgres, not "${flag}"`);
  const named = db === undefined ? undefined : engineByName(db);
  if (flag === undefined) return named ?? 'duckdb';
  const engine = flag as EngineName;
  if (named !== undefined && named !== engine && named !== 'postgres') {
    const label = named === 'sqlite' ? 'SQLite' : 'DuckDB';
    throw new BadInputError(
      `--db ${db} is named as a ${label} file, but --engine ${engine} would make it a ${engine === 'sqlite' ? 'SQLite' : 'DuckDB'} file; give --engine ${named} or a name that fits`,
      {
        db,
        engine,
      },
    );
  }
  return engine;
}
