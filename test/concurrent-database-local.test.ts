/**
 * ConcurrentDatabase in the host process: query/execute/transaction/session/insertMany/stats,
 * request-id deduplication, and the in-thread guard against a second DuckDB instance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';

test('the first opener hosts the file and serves statements in-process', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = await ConcurrentDatabase.open(join(dir, 'a.db'));
  t.after(() => db.close());
  assert.equal(db.lockInfo().role, 'host');
  assert.equal(db.lockInfo().host?.pid, process.pid);
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)');
  assert.deepEqual(await db.execute('INSERT INTO t VALUES (?, ?), (?, ?)', [1, 'a', 2, 'b']), { rowsChanged: 2 });
  assert.deepEqual(await db.query('SELECT id, v FROM t WHERE id = ?', [2]), [{ id: 2, v: 'b' }]);
  assert.deepEqual(
    await db.insertMany(
      't',
      ['v', 'id'],
      [
        ['x', 10],
        ['y', 11],
      ],
    ),
    { rowsChanged: 2 },
  );
  assert.deepEqual(await db.query('SELECT v FROM t WHERE id >= 10 ORDER BY id'), [{ v: 'x' }, { v: 'y' }]);
  const st = db.stats();
  assert.equal(st.role, 'host');
  assert.equal(st.pool.size, 8);
  assert.ok(st.queries >= 4);
});

test('a result of many chunks comes back whole and in order; writes report their row counts', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  // DuckDB hands results over in chunks of 2,048 rows: 5,000 rows span three.
  const rows = await db.query<{ i: number; s: string }>("SELECT i::INTEGER AS i, 'r' || i AS s FROM range(5000) r(i) ORDER BY i");
  assert.equal(rows.length, 5000);
  assert.ok(rows.every((r, k) => r.i === k && r.s === `r${k}`));
  assert.deepEqual(await db.query('SELECT 1 AS x WHERE false'), []);
  await db.execute('CREATE TABLE t (i INTEGER)');
  assert.deepEqual(await db.execute('INSERT INTO t SELECT * FROM range(3000)'), { rowsChanged: 3000 });
  assert.deepEqual(await db.execute('UPDATE t SET i = i + 1 WHERE i < 10'), { rowsChanged: 10 });
  assert.deepEqual(await db.execute('DELETE FROM t WHERE i >= 2000'), { rowsChanged: 1000 });
});

test('a repeated requestId is applied once', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id INTEGER)');
  assert.deepEqual(await db.execute('INSERT INTO t VALUES (1)', [], { requestId: 'r-1' }), { rowsChanged: 1 });
  assert.deepEqual(await db.execute('INSERT INTO t VALUES (1)', [], { requestId: 'r-1' }), { rowsChanged: 1, deduplicated: true });
  assert.deepEqual(await db.insertMany('t', [], [[2], [3]], { requestId: 'r-2' }), { rowsChanged: 2 });
  assert.deepEqual(await db.insertMany('t', [], [[2], [3]], { requestId: 'r-2' }), { rowsChanged: 2, deduplicated: true });
  assert.equal(await db.transaction(async (tx) => (await tx.execute('INSERT INTO t VALUES (4)')).rowsChanged, { requestId: 'r-3' }), 1);
  assert.equal(await db.transaction(async (tx) => (await tx.execute('INSERT INTO t VALUES (4)')).rowsChanged, { requestId: 'r-3' }), undefined);
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 4 }]);
  const log = await db.query<{ id: string }>('SELECT id FROM bolt_requests ORDER BY id');
  assert.deepEqual(
    log.map((r) => r.id),
    ['r-1', 'r-2', 'r-3'],
  );
});

test("invalid SQL gives DuckDB's message in a typed error and the host keeps serving", { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  await assert.rejects(db.query('SELEC 1'), (e) => hasCode(e, 'BOLT_SQL') && /syntax error/.test(e.message));
  await assert.rejects(db.query('SELECT * FROM missing_table'), (e) => hasCode(e, 'BOLT_SQL') && /missing_table/.test(e.message));
  await assert.rejects(db.query('SELECT ?', []), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
  await assert.rejects(db.execute('BEGIN'), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
  assert.deepEqual(await db.query('SELECT 42 AS x'), [{ x: 42 }]);
  assert.equal(db.stats().errorsByCode.BOLT_SQL, 2);
});

test('a second open in the same thread shares the host instead of a second DuckDB instance', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const a = await ConcurrentDatabase.open(path);
  const b = await ConcurrentDatabase.open(path);
  await a.execute('CREATE TABLE t (id INTEGER)');
  await a.execute('INSERT INTO t SELECT * FROM range(1000)');
  await b.execute('INSERT INTO t SELECT * FROM range(1000, 2000)');
  assert.equal(b.lockInfo().role, 'host');
  await a.close();
  // b still works after a closed: the host stays while a handle uses it.
  assert.deepEqual(await b.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 2000 }]);
  await b.close();
  const c = await ConcurrentDatabase.open(path);
  t.after(() => c.close());
  assert.deepEqual(await c.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 2000 }]);
});

test('transaction() re-runs the closure on a write conflict', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  await db.execute('CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)');
  await db.execute('INSERT INTO c VALUES (1, 0)');
  let runs = 0;
  const other = await db.session({ name: 'other' });
  await other.begin();
  await other.execute('UPDATE c SET n = n + 100 WHERE id = 1');
  const p = db.transaction(async (tx) => {
    runs++;
    await tx.query('SELECT n FROM c');
    if (runs === 1) await other.commit(); // commits after our snapshot: our UPDATE conflicts
    await tx.execute('UPDATE c SET n = n + 1 WHERE id = 1');
  });
  await assert.doesNotReject(p);
  await other.close();
  assert.ok(runs >= 2, `closure ran ${runs} time(s)`);
  assert.deepEqual(await db.query('SELECT n FROM c'), [{ n: 101 }]);
  const conflicts = db.transaction(
    async (tx) => {
      await tx.execute('UPDATE c SET n = n + 1 WHERE id = 1');
      const s = await db.session({ name: 'spoiler' });
      try {
        await s.execute('UPDATE c SET n = n + 1 WHERE id = 1');
      } finally {
        await s.close();
      }
    },
    { retries: 2 },
  );
  await assert.rejects(conflicts, (e) => hasCode(e, 'BOLT_TX_CONFLICT') && e.details.attempts === 3);
});

test('reads are never answered from a stale prepared plan (count(*) on a reopened file)', { timeout: 60_000 }, async (t) => {
  // DuckDB 1.5.6 folds table statistics into prepared plans: on a file opened with
  // checkpointed rows, a re-executed prepared `SELECT count(*)` keeps the count of PREPARE
  // time while rows are appended. Bolt must not reuse prepared plans of user statements.
  const path = join(tempDir(t), 'a.db');
  const first = await ConcurrentDatabase.open(path);
  await first.execute('CREATE TABLE t (x INTEGER)');
  await first.execute('INSERT INTO t SELECT * FROM range(200)');
  await first.close(); // CHECKPOINT and close
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  const reader = await db.session({ name: 'reader' }); // one connection for every count
  t.after(() => reader.close());
  assert.deepEqual(await reader.query('SELECT count(*) AS n FROM t'), [{ n: 200n }]);
  await db.insertMany('t', [], [[1], [2], [3]]);
  await reader.execute('INSERT INTO t VALUES (4)');
  assert.deepEqual(await reader.query('SELECT count(*) AS n FROM t'), [{ n: 204n }]);
  assert.deepEqual(await db.query('SELECT count(*) AS n FROM t'), [{ n: 204n }]);
});

test('a cached read plan is not reused after another session commits', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const first = await ConcurrentDatabase.open(path);
  await first.execute('CREATE TABLE t (x INTEGER)');
  await first.execute('INSERT INTO t SELECT * FROM range(100)');
  await first.close();
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  const reader = await db.session({ name: 'reader' });
  const writer = await db.session({ name: 'writer' });
  t.after(() => Promise.all([reader.close(), writer.close()]));
  await writer.begin();
  await writer.execute('INSERT INTO t VALUES (1)'); // uncommitted: invisible to the reader
  assert.deepEqual(await reader.query('SELECT count(*) AS n FROM t'), [{ n: 100n }]);
  assert.deepEqual(await reader.query('SELECT count(*) AS n FROM t'), [{ n: 100n }]);
  await writer.commit();
  assert.deepEqual(await reader.query('SELECT count(*) AS n FROM t'), [{ n: 101n }]);
});
