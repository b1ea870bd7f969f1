/**
 * SQLite connections are pooled too: a statement outside a session runs on whichever one is
 * free, and a session's goes back to the pool after it. PRAGMAs that set something, ATTACH and
 * temporary tables stayed on that connection for the next caller (`PRAGMA busy_timeout = 1`
 * changed how long others wait for the write lock, an attached file stayed readable). A
 * connection that ran one is now closed when given back.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import type { Database } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';

const T = { timeout: 30_000 };

async function openOne(t: TestContext): Promise<{ db: Database; dir: string }> {
  const dir = tempDir(t);
  const db = await ConcurrentDatabase.open(join(dir, 's.sqlite'), { engine: 'sqlite', maxConnections: 1 });
  t.after(() => db.close());
  return { db, dir };
}

const STATE =
  'SELECT (SELECT timeout FROM pragma_busy_timeout) AS busy, (SELECT cache_size FROM pragma_cache_size) AS cache, (SELECT count(*) FROM pragma_database_list) AS dbs';

test('PRAGMAs that set something, ATTACH and temporary tables do not stay for the next caller [sqlite]', T, async (t) => {
  const { db, dir } = await openOne(t);
  const before = await db.query(STATE);
  await db.execute('PRAGMA busy_timeout = 1');
  await db.execute('PRAGMA cache_size = 7');
  await db.execute(`ATTACH '${join(dir, 'other.sqlite')}' AS other`);
  await db.execute('CREATE TEMP TABLE leftover (i INTEGER)');
  await db.execute('CREATE TABLE base (a INTEGER)');
  await db.execute('CREATE TABLE audit (a INTEGER)');
  await db.execute('CREATE TRIGGER temp.rewrite AFTER INSERT ON main.base BEGIN DELETE FROM main.base; INSERT INTO main.audit VALUES (new.a); END');
  await db.execute('INSERT INTO base VALUES (42)');
  assert.deepEqual(
    await db.query('SELECT (SELECT count(*) FROM base) AS base, (SELECT count(*) FROM audit) AS audit'),
    [{ base: 1, audit: 0 }],
    'no temporary trigger rewrites later writes',
  );
  await assert.rejects(db.execute('SELECT 1; PRAGMA cache_size = 9'), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'), 'not inside a script');
  // A comment between the name and its value: still a PRAGMA that sets (in a script it ran on the
  // handle's one writer, and query_only made every later write of every caller fail).
  await assert.rejects(db.execute('INSERT INTO base VALUES (1); PRAGMA query_only/**/=1'), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'));
  await db.execute('PRAGMA cache_size -- the size\n= 5');
  assert.deepEqual(await db.query(STATE), before);
  await assert.rejects(db.query('SELECT * FROM leftover'), (e: unknown) => hasCode(e, 'BOLT_SQL'));

  const s = await db.session();
  try {
    await s.execute('PRAGMA cache_size = 11');
    await s.execute('CREATE TEMP TABLE mine (i INTEGER)');
    assert.deepEqual(await s.query('SELECT cache_size FROM pragma_cache_size'), [{ cache_size: 11 }], 'the session keeps its own');
  } finally {
    await s.close();
  }
  assert.deepEqual(await db.query(STATE), before);
  await assert.rejects(db.query('SELECT * FROM mine'), (e: unknown) => hasCode(e, 'BOLT_SQL'));
  await db.execute('PRAGMA query_only /* on */ = 1');
  await db.execute('CREATE TABLE kept (i INTEGER)');
  await db.execute('INSERT INTO kept VALUES (1)');
  assert.deepEqual(await db.query('SELECT i FROM kept'), [{ i: 1 }]);
});

test("the handle's transactions, which share its writer connection, may not leave state on it [sqlite]", T, async (t) => {
  const { db } = await openOne(t);
  await db.execute('CREATE TABLE w (i INTEGER)');
  // Each stayed on the writer connection: query_only made every later write of the handle fail.
  for (const sql of [
    'PRAGMA query_only = 1',
    'PRAGMA query_only/**/=1',
    "ATTACH ':memory:' AS x",
    'CREATE TEMP TABLE tt (a INTEGER)',
    'CREATE TRIGGER temp.tr AFTER INSERT ON main.w BEGIN DELETE FROM main.w; END',
  ]) {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.execute('INSERT INTO w VALUES (1)');
        await tx.queryOne(sql);
      }),
      (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'),
      sql,
    );
    await db.execute('INSERT INTO w VALUES (2)');
  }
  assert.deepEqual(await db.query('SELECT count(*) AS n FROM w'), [{ n: 5 }], 'the refused transactions wrote nothing; every later write landed');
  assert.deepEqual(await db.query("SELECT count(*) AS n FROM pragma_database_list WHERE name = 'x'"), [{ n: 0 }]);
  // A table of the database itself is no connection state.
  await db.transaction((tx) => tx.execute('CREATE TABLE made_in_tx (a INTEGER)'));
  assert.deepEqual(await db.query('SELECT count(*) AS n FROM made_in_tx'), [{ n: 0 }]);
});
