/**
 * Regression: the host caches prepared statements per connection. DuckDB 1.5.6 plans GROUP BY
 * over strings with "compressed materialization" sized from the table's statistics at prepare
 * time; re-running such a statement prepared on an empty table, after rows arrived, returned
 * corrupted strings ('done' → 'g'), and a filter prepared on an empty table found no rows.
 * Found through `bolt tasks` counting zero tasks. Fixed by turning off DuckDB's
 * statistics-based optimizers in the host (adapters/duckdb/connect.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { openDatabase } from '../core/open-database.js';

test('a cached GROUP BY statement prepared on an empty table returns the right strings later', { timeout: 30_000 }, async (t) => {
  const db = await openDatabase(join(tempDir(t), 'plan.db'));
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (status TEXT)');
  const sql = 'SELECT status, CAST(COUNT(*) AS INTEGER) AS n FROM t GROUP BY status ORDER BY status';
  // Prepare (and cache) it on every pooled connection while the table is empty.
  await Promise.all(Array.from({ length: 8 }, () => db.query(sql)));
  const where = "SELECT status FROM t WHERE status = 'done'";
  await Promise.all(Array.from({ length: 8 }, () => db.query(where)));
  await db.execute("INSERT INTO t VALUES ('done'), ('done'), ('cancelled')");
  for (let i = 0; i < 8; i++) {
    assert.deepEqual(await db.query(sql), [
      { status: 'cancelled', n: 1 },
      { status: 'done', n: 2 },
    ]);
    assert.equal((await db.query(where)).length, 2, 'a filter planned on an empty table still finds the rows');
  }
});
