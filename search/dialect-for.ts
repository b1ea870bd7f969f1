/**
 * Picks Einstein's SQL dialect for an engine (dialect.ts holds DuckDB's and what they share;
 * dialect-postgres.ts and dialect-sqlite.ts the others).
 */
import type { EngineName } from '../core/database.js';
import { BadInputError } from '../core/errors.js';
import { duckdbDialect, type EinsteinDialect } from './dialect.js';
import { postgresDialect } from './dialect-postgres.js';
import { sqliteDialect } from './dialect-sqlite.js';

/** The dialect of an engine. */
export function dialectFor(engine: EngineName): EinsteinDialect {
  switch (engine) {
    case 'duckdb':
      return duckdbDialect;
    case 'postgres':
      return postgresDialect;
    case 'sqlite':
      return sqliteDialect;
  }
  throw new BadInputError(`Einstein search does not support ${String(engine)}`, { engine });
}
