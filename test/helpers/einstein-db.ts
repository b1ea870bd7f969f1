/**
 * The database Einstein tests run against. Today: the in-process stop-gap (direct-duckdb.ts);
 * switch to `ConcurrentDatabase.open` when it lands — the one place to change.
 */
import type { TestContext } from 'node:test';
import type { Database } from '../../core/database.js';
import { openDirectDuckDB } from './direct-duckdb.js';

/** Opens a DuckDB database at `path`, closed when the test ends. */
export async function openTestDb(t: TestContext, path: string): Promise<Database> {
  const db = await openDirectDuckDB(path);
  t.after(() => db.close());
  return db;
}
