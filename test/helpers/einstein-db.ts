/**
 * The database Einstein tests run against: a real `ConcurrentDatabase` on a DuckDB file,
 * closed when the test ends.
 */
import type { TestContext } from 'node:test';
import type { Database } from '../../core/database.js';
import { ConcurrentDatabase } from '../../storage/concurrent-database.js';

/** Opens a DuckDB database at `path`, closed when the test ends. */
export async function openTestDb(t: TestContext, path: string): Promise<Database> {
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  return db;
}
