/**
 * Autocommit writes on a SQLite handle are group-committed: concurrent writes share one
 * transaction, and a write that fails is rolled back alone (its savepoint) while the others commit.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqlite } from '../adapters/sqlite/open.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';

test('concurrent autocommit writes share commits; a failing one fails alone', { timeout: 30_000 }, async (t) => {
  const db = await openSqlite(join(tempDir(t), 'g.db'));
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const insert = 'INSERT INTO t (id, v) VALUES (?, ?)';
  await db.execute(insert, [0, 'first']); // SQLite tells Bolt once that this SQL writes
  const before = db.stats().groupCommit as { batches: number; writes: number };
  const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => db.execute(insert, i % 10 === 9 ? [0, 'duplicate key'] : [i + 1, `v${i}`])));
  const failed = results.filter((r) => r.status === 'rejected');
  assert.equal(failed.length, 4);
  for (const f of failed) assert.ok(hasCode((f as PromiseRejectedResult).reason, 'BOLT_SQL'), String((f as PromiseRejectedResult).reason));
  assert.deepEqual(await db.query('SELECT COUNT(*) AS n FROM t'), [{ n: 37 }]);
  assert.deepEqual(await db.query('SELECT v FROM t WHERE id = 0'), [{ v: 'first' }], 'the failed writes changed nothing');
  const gc = db.stats().groupCommit as { batches: number; writes: number };
  const writes = gc.writes - before.writes;
  const batches = gc.batches - before.batches;
  assert.equal(writes, 36);
  assert.ok(batches < writes, `fewer commits than writes (${batches} for ${writes})`);
  // RETURNING rows come back through the same path.
  assert.deepEqual(await db.query('INSERT INTO t (id, v) VALUES (?, ?) RETURNING id', [100, 'r']), [{ id: 100 }]);
  assert.deepEqual(await db.query('INSERT INTO t (id, v) VALUES (?, ?) RETURNING id', [101, 'r']), [{ id: 101 }]);
});
