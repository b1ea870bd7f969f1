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
import { openDatabase } from '../storage/open-database.js';

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

test('cached write statements stay right after the data and the schema change under them', { timeout: 30_000 }, async (t) => {
  const db = await openDatabase(join(tempDir(t), 'writes.db'));
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id INTEGER, status TEXT, n INTEGER)');
  await db.execute('CREATE TABLE summary (status TEXT, n INTEGER)');
  const update = 'UPDATE t SET n = n + 1 WHERE id = ?';
  const del = "DELETE FROM t WHERE status = 'gone'";
  const summarize = 'INSERT INTO summary SELECT status, CAST(COUNT(*) AS INTEGER) FROM t GROUP BY status';
  // Prepare (and cache) them on every pooled connection while the table is empty.
  await Promise.all(Array.from({ length: 8 }, () => db.execute(update, [1])));
  await Promise.all(Array.from({ length: 8 }, () => db.execute(del)));
  await Promise.all(Array.from({ length: 8 }, () => db.execute(summarize)));
  assert.equal((await db.query('SELECT * FROM summary')).length, 0);

  await db.execute("INSERT INTO t SELECT i, CASE WHEN i % 10 = 0 THEN 'gone' ELSE 'kept-' || (i % 3) END, 0 FROM range(1000) r(i)");
  const updated = await Promise.all(Array.from({ length: 8 }, () => db.execute(update, [999])));
  assert.deepEqual(
    updated.map((r) => r.rowsChanged),
    Array(8).fill(1),
    'an UPDATE planned on an empty table finds the row',
  );
  assert.deepEqual(await db.query('SELECT n FROM t WHERE id = 999'), [{ n: 8 }]);
  const deleted = await Promise.all(Array.from({ length: 8 }, () => db.execute(del)));
  assert.equal(
    deleted.reduce((s, r) => s + r.rowsChanged, 0),
    100,
    'a DELETE planned on an empty table deletes the rows',
  );
  await db.execute(summarize);
  assert.deepEqual(await db.query('SELECT status, n FROM summary ORDER BY status'), [
    { status: 'kept-0', n: 300 },
    { status: 'kept-1', n: 300 },
    { status: 'kept-2', n: 300 },
  ]);

  // Schema changes: DuckDB re-binds a prepared statement whose tables changed.
  const insert = 'INSERT INTO t VALUES (?, ?, ?)';
  await Promise.all(Array.from({ length: 8 }, (_, i) => db.execute(insert, [2000 + i, 'x', 1])));
  await db.execute('ALTER TABLE t ADD COLUMN note TEXT');
  await assert.rejects(db.execute(insert, [3000, 'x', 1]), /4 columns but 3 values|expected 4 values/i);
  await db.execute('DROP TABLE t');
  await db.execute('CREATE TABLE t (id INTEGER, status TEXT, n TEXT)');
  await Promise.all(Array.from({ length: 8 }, (_, i) => db.execute(insert, [4000 + i, 'y', `n${i}`])));
  assert.deepEqual(await db.query("SELECT count(*)::INTEGER AS c, min(n) AS lo FROM t WHERE status = 'y'"), [{ c: 8, lo: 'n0' }]);
});
