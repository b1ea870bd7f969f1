/**
 * `StatementOptions.prepared` on PostgreSQL: the text is kept prepared on the connection (one
 * named statement per text, reused), results are the same as unprepared, and what cannot be
 * prepared fails as a typed error without harming the connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../storage/open-database.js';
import { hasCode } from '../core/errors.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';

test('a prepared statement is parsed once per connection and answers as an unprepared one [postgres]', { timeout: 60_000, skip: PG_SKIP }, async (t) => {
  const db = await openDatabase((await freshPgDatabase(t, 'bolt_prep')).tcp, { maxConnections: 1 });
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)');
  const insert = 'INSERT INTO t (id, v) VALUES (?, ?) RETURNING id, v';
  for (let i = 1; i <= 3; i++) assert.deepEqual(await db.query(insert, [i, `v${i}`], { prepared: true }), [{ id: BigInt(i), v: `v${i}` }]);
  assert.deepEqual(await db.query('SELECT v FROM t WHERE id = ?', [2], { prepared: true }), await db.query('SELECT v FROM t WHERE id = ?', [2]));

  // One connection: the statements it keeps prepared are the two texts, once each.
  const kept = await db.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'bolt\\_%' ORDER BY statement");
  assert.deepEqual(
    kept.map((r) => r.statement),
    ['INSERT INTO t (id, v) VALUES ($1, $2) RETURNING id, v', 'SELECT v FROM t WHERE id = $1'],
  );

  // A constraint violation and several statements in one text: typed errors, nothing written, the connection still serves.
  await assert.rejects(db.query(insert, [1, 'again'], { prepared: true }), (err) => hasCode(err, 'BOLT_SQL'));
  await assert.rejects(
    db.query('SELECT 1; SELECT 2', [], { prepared: true }),
    (err) => hasCode(err, 'BOLT_BAD_INPUT') && /prepared statement must be a single statement/.test((err as Error).message),
  );
  assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM t', [], { prepared: true }), [{ n: 3 }]);
});

test('preparedStatements: false runs the same statements unprepared [postgres]', { timeout: 60_000, skip: PG_SKIP }, async (t) => {
  const { openPostgres } = await import('../adapters/postgres/open.js');
  const db = await openPostgres((await freshPgDatabase(t, 'bolt_noprep')).tcp, { maxConnections: 1, preparedStatements: false });
  t.after(() => db.close());
  assert.deepEqual(await db.query('SELECT ?::int AS x', [7], { prepared: true }), [{ x: 7 }]);
  assert.deepEqual(await db.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'bolt\\_%'"), [{ n: 0 }]);
});

test(
  'a caller that runs DEALLOCATE ALL or DISCARD ALL does not break prepared statements on that connection [postgres]',
  { timeout: 60_000, skip: PG_SKIP },
  async (t) => {
    const db = await openDatabase((await freshPgDatabase(t, 'bolt_dealloc')).tcp, { maxConnections: 1 });
    t.after(() => db.close());
    const sql = 'SELECT ?::int + 1 AS x';
    assert.deepEqual(await db.query(sql, [1], { prepared: true }), [{ x: 2 }]);
    for (const reset of ['DEALLOCATE ALL', 'DISCARD ALL']) {
      await db.execute(reset);
      assert.deepEqual(await db.query(sql, [2], { prepared: true }), [{ x: 3 }], `after ${reset}`);
      assert.deepEqual(await db.query(sql, [3], { prepared: true }), [{ x: 4 }], `after ${reset}, again`);
      assert.deepEqual(
        await db.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'bolt\\_%'"),
        [{ n: 1 }],
        `prepared again after ${reset}`,
      );
    }
  },
);

test(
  'a prepared statement whose result type a caller changed (ALTER TABLE) runs again, re-prepared [postgres]',
  { timeout: 60_000, skip: PG_SKIP },
  async (t) => {
    const db = await openDatabase((await freshPgDatabase(t, 'bolt_alter')).tcp, { maxConnections: 1 });
    t.after(() => db.close());
    await db.execute('CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1)');
    assert.deepEqual(await db.query('SELECT v FROM t', [], { prepared: true }), [{ v: 1 }]);
    await db.execute('ALTER TABLE t ALTER COLUMN v TYPE TEXT');
    assert.deepEqual(await db.query('SELECT v FROM t', [], { prepared: true }), [{ v: '1' }]);
    assert.deepEqual(await db.query('SELECT v FROM t', [], { prepared: true }), [{ v: '1' }]);
  },
);
