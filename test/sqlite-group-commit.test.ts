/**
 * Autocommit writes on a SQLite handle are group-committed: concurrent writes share one
 * transaction, and a write that fails is rolled back alone (its savepoint) while the others commit.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openSqlite } from '../adapters/sqlite/open.js';
import type { Database } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';

/** A new SQLite file, closed after the test, with `setup` run on it in order. */
async function openWith(t: TestContext, ...setup: string[]): Promise<Database> {
  const db = await openSqlite(join(tempDir(t), 'g.db'));
  t.after(() => db.close());
  for (const sql of setup) await db.execute(sql);
  return db;
}

/** A table `seen` whose one row counts the inserts that reached `table` (a trigger). */
const countInserts = (table: string): string[] => [
  'CREATE TABLE seen (n INTEGER NOT NULL)',
  'INSERT INTO seen (n) VALUES (0)',
  `CREATE TRIGGER count_${table} AFTER INSERT ON ${table} BEGIN UPDATE seen SET n = n + 1; END`,
];

/** Group-commit batches the handle has committed so far. */
const batchesOf = (db: Database): number => (db.stats().groupCommit as { batches: number }).batches;

test('concurrent autocommit writes share commits; a failing one fails alone', { timeout: 30_000 }, async (t) => {
  const db = await openWith(t, 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
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

test('a batch with a failing write runs again one write at a time: nothing before the failure is applied twice', { timeout: 30_000 }, async (t) => {
  // A trigger counts the inserts that reached the table; AUTOINCREMENT numbers them.
  const db = await openWith(t, 'CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, k INTEGER UNIQUE)', ...countInserts('t'));
  await db.execute('INSERT INTO t (k) VALUES (?)', [-1]); // learnt once to be a write
  const before = batchesOf(db);
  const writes = Array.from({ length: 30 }, (_, i) =>
    i % 10 === 5
      ? // Fails on its second row: its first row must not stay either.
        db.execute('INSERT OR FAIL INTO t (k) VALUES (?), (?)', [1000 + i, -1])
      : db.execute('INSERT INTO t (k) VALUES (?)', [i]),
  );
  const results = await Promise.allSettled(writes);
  assert.deepEqual(
    results.map((r, i) => [i, r.status]).filter(([, s]) => s === 'rejected'),
    [
      [5, 'rejected'],
      [15, 'rejected'],
      [25, 'rejected'],
    ],
  );
  const batches = batchesOf(db) - before;
  assert.ok(batches < 27, `the writes shared batches (${batches})`);
  assert.deepEqual(await db.query('SELECT COUNT(*) AS n FROM t'), [{ n: 28 }], 'the 27 that succeeded and the first');
  assert.deepEqual(await db.query('SELECT n FROM seen'), [{ n: 28 }], 'each counted once');
  assert.deepEqual(await db.query('SELECT COUNT(*) AS n FROM t WHERE k >= 1000'), [{ n: 0 }], 'no half of a failed statement');
  assert.deepEqual(await db.query('SELECT MAX(id) AS id FROM t'), [{ id: 28 }], 'no number used by a write that was undone');
});

test('a write whose trigger rolls back the whole transaction fails alone; the writes batched with it commit once', { timeout: 30_000 }, async (t) => {
  const db = await openWith(
    t,
    'CREATE TABLE t (k INTEGER UNIQUE)',
    ...countInserts('t'),
    "CREATE TRIGGER no_boom BEFORE INSERT ON t WHEN NEW.k = 13 BEGIN SELECT RAISE(ROLLBACK, 'thirteen refused'); END",
  );
  await db.execute('INSERT INTO t (k) VALUES (?)', [0]);
  const before = batchesOf(db);
  // 13: the trigger ends the transaction; 5 twice: the second fails alone (UNIQUE, no rollback);
  // 17 with OR ROLLBACK after a 17: ends the transaction too.
  const keys = [...Array.from({ length: 20 }, (_, i) => i + 1), 5, 17];
  const results = await Promise.allSettled(keys.map((k, i) => db.execute(`INSERT${i === 21 ? ' OR ROLLBACK' : ''} INTO t (k) VALUES (?)`, [k])));
  const batches = batchesOf(db) - before;
  assert.ok(batches < keys.length - 3, `the writes shared batches (${batches})`);
  const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [{ k: keys[i], reason: String(r.reason) }] : []));
  assert.equal(rejected.length, 3, JSON.stringify(rejected));
  assert.deepEqual(
    rejected.map((r) => r.k),
    [13, 5, 17],
  );
  assert.match(rejected[0]!.reason, /thirteen refused/);
  assert.deepEqual(await db.query('SELECT COUNT(*) AS n, COUNT(DISTINCT k) AS d FROM t'), [{ n: 20, d: 20 }], 'the first and the 19 accepted, once each');
  assert.deepEqual(await db.query('SELECT n FROM seen'), [{ n: 20 }], 'each counted once');
  assert.deepEqual(await db.query('SELECT COUNT(*) AS n FROM t WHERE k = 13'), [{ n: 0 }]);
  await db.execute('INSERT INTO t (k) VALUES (?)', [99]);
  assert.deepEqual(await db.query('SELECT k FROM t WHERE k = 99'), [{ k: 99 }]);
});

test('a write that breaks a deferred foreign key fails alone at COMMIT; the writes batched with it commit once', { timeout: 30_000 }, async (t) => {
  const db = await openWith(
    t,
    'CREATE TABLE p (id INTEGER PRIMARY KEY)',
    'CREATE TABLE c (k INTEGER, pid INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)',
    'INSERT INTO p VALUES (1)',
  );
  const before = batchesOf(db);
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => db.execute('INSERT INTO c VALUES (?, ?)', [i, i === 4 ? 99 : 1])));
  const batches = batchesOf(db) - before;
  assert.ok(batches < 10, `the writes shared batches (${batches})`);
  assert.deepEqual(
    results.map((r) => r.status),
    results.map((_, i) => (i === 4 ? 'rejected' : 'fulfilled')),
  );
  assert.match(String((results[4] as PromiseRejectedResult).reason), /FOREIGN KEY/);
  assert.deepEqual(await db.query('SELECT COUNT(*) AS n, COUNT(DISTINCT k) AS d FROM c'), [{ n: 9, d: 9 }]);
  assert.deepEqual(await db.query('SELECT COUNT(*) AS n FROM c WHERE k = 4'), [{ n: 0 }]);
});
