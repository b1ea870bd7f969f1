/**
 * A DuckDB script whose later statements name what an earlier one creates
 * (`CREATE TABLE t …; INSERT INTO t …`) runs, as on SQLite and PostgreSQL, and stays
 * all-or-nothing: in the host's own process, through a client, with a request id, in a session,
 * and from `bolt query`. A read-only handle refuses it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import type { Database } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { clientOfChildHost } from './helpers/child-host.js';
import { runBolt } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

async function scripts(db: Database): Promise<void> {
  assert.deepEqual(await db.query('CREATE TABLE a (i INTEGER); INSERT INTO a VALUES (1), (2); SELECT count(*)::INTEGER AS n FROM a'), [{ n: 2 }]);
  const r = await db.execute('CREATE TABLE b (i INTEGER); INSERT INTO b VALUES (7)', [], { requestId: 'script-b' });
  assert.equal(r.rowsChanged, 1);
  assert.deepEqual(await db.execute('CREATE TABLE b (i INTEGER); INSERT INTO b VALUES (7)', [], { requestId: 'script-b' }), {
    rowsChanged: 1,
    deduplicated: true,
  });
  // All-or-nothing: the failing last statement undoes the table the first made.
  await assert.rejects(db.execute('CREATE TABLE c (i INTEGER PRIMARY KEY); INSERT INTO c VALUES (1); INSERT INTO c VALUES (1)'), (e) => hasCode(e, 'BOLT_SQL'));
  await assert.rejects(db.execute('CREATE TABLE d (i INTEGER); INSERT INTO nope VALUES (1)'), (e) => hasCode(e, 'BOLT_SQL'));
  await assert.rejects(db.execute('CREATE TABLE e (i INTEGER); BEGIN; INSERT INTO e VALUES (1)'), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
  const s = await db.session();
  try {
    await s.execute('CREATE TABLE f (i INTEGER); INSERT INTO f VALUES (3)');
  } finally {
    await s.close();
  }
  const tables = (
    await db.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_name <> 'bolt_requests' ORDER BY 1")
  ).map((x) => x.name);
  assert.deepEqual(tables, ['a', 'b', 'f']);
  assert.deepEqual(await db.query('SELECT i FROM b UNION ALL SELECT i FROM f ORDER BY i'), [{ i: 3 }, { i: 7 }]);
}

test('DuckDB host in this process: CREATE TABLE then INSERT INTO it in one script', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await scripts(db);
  const ro = await ConcurrentDatabase.open(path, { readOnly: true });
  t.after(() => ro.close());
  await assert.rejects(ro.execute('CREATE TEMP TABLE g (i INTEGER); INSERT INTO g VALUES (1)'), (e) => hasCode(e, 'BOLT_READ_ONLY'));
});

test('DuckDB client of a host in another process: CREATE TABLE then INSERT INTO it in one script', { timeout: 60_000 }, async (t) => {
  const { db } = await clientOfChildHost(t);
  await db.execute('DROP TABLE t');
  await scripts(db);
});

test('bolt query: a script that creates a table and fills it', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const r = await runBolt(['query', 'CREATE TABLE t (i INTEGER); INSERT INTO t VALUES (1); SELECT i FROM t', '--db', join(dir, 'a.db'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).rows, [{ i: 1 }]);
});
