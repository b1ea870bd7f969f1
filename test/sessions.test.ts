/**
 * Sessions: isolation, conflicts, read-only by statement type, idle timeout, maximum
 * transaction time, and a client that disconnects mid-transaction (SIGKILL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';
import { spawnAgent } from './helpers/agents.js';

test('uncommitted writes of one session are invisible to others; a second writer conflicts', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  await db.execute('CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER)');
  await db.execute('INSERT INTO kv VALUES (1, 10)');
  const a = await db.session({ name: 'a' });
  const b = await db.session({ name: 'b' });
  await a.begin();
  await a.execute('INSERT INTO kv VALUES (2, 20)');
  await a.execute('UPDATE kv SET v = 11 WHERE k = 1');
  assert.deepEqual(await b.query('SELECT k, v FROM kv ORDER BY k'), [{ k: 1, v: 10 }]);
  assert.deepEqual(await db.query('SELECT k, v FROM kv ORDER BY k'), [{ k: 1, v: 10 }]);
  assert.deepEqual(await a.query('SELECT k, v FROM kv ORDER BY k'), [
    { k: 1, v: 11 },
    { k: 2, v: 20 },
  ]);
  await b.begin();
  await b.query('SELECT v FROM kv WHERE k = 1');
  await a.commit();
  await assert.rejects(
    b.execute('UPDATE kv SET v = 12 WHERE k = 1').then(() => b.commit()),
    (e) => hasCode(e, 'BOLT_TX_CONFLICT'),
  );
  await b.rollback();
  assert.deepEqual(await b.query('SELECT k, v FROM kv ORDER BY k'), [
    { k: 1, v: 11 },
    { k: 2, v: 20 },
  ]);
  await a.close();
  await b.close();
  assert.equal(db.stats().pool.inUse, 0);
  await assert.rejects(a.query('SELECT 1'), (e) => hasCode(e, 'BOLT_SESSION_CLOSED'));
});

test('read-only sessions refuse statements that are not reads (by statement type)', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (x INTEGER)');
  const ro = await db.session({ name: 'eval', readOnly: true });
  t.after(() => ro.close());
  assert.deepEqual(await ro.query('  /* comment */ WITH q AS (SELECT 1 AS x) SELECT * FROM q'), [{ x: 1 }]);
  assert.ok((await ro.query('EXPLAIN SELECT * FROM t')).length > 0);
  for (const sql of [
    'INSERT INTO t VALUES (1)',
    '/* SELECT */ DELETE FROM t',
    'CREATE TABLE u (y INTEGER)',
    'UPDATE t SET x = 2',
    'DROP TABLE t',
    "COPY t TO '/dev/null'",
  ]) {
    await assert.rejects(ro.execute(sql), (e) => hasCode(e, 'BOLT_READ_ONLY'), sql);
  }
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 0 }]);
});

test('idle timeout closes the session and rolls back; max transaction time rolls back', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (x INTEGER)');
  const idle = await db.session({ name: 'idler', idleTimeoutMs: 200 });
  await idle.begin();
  await idle.execute('INSERT INTO t VALUES (1)');
  await waitFor(() => db.stats().pool.inUse === 0, 10_000, 'the idle session to be closed');
  await assert.rejects(idle.query('SELECT 1'), (e) => hasCode(e, 'BOLT_SESSION_TIMEOUT'));
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 0 }]);

  const slow = await db.session({ name: 'slow', maxTransactionMs: 200 });
  t.after(() => slow.close());
  await slow.begin();
  await slow.execute('INSERT INTO t VALUES (2)');
  await waitFor(
    async () => {
      try {
        await slow.query('SELECT 1');
        return false;
      } catch (e) {
        return hasCode(e, 'BOLT_TX_TIMEOUT');
      }
    },
    10_000,
    'the transaction to time out',
  );
  await slow.rollback();
  assert.deepEqual(await slow.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 0 }]);
});

test('a client killed mid-transaction: rolled back, connection returned', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (x INTEGER)');
  const agent = await spawnAgent(t, path);
  await agent.call('open');
  const sid = await agent.call<number>('session.open', { opts: { name: 'doomed' } });
  await agent.call('session.begin', { sid });
  await agent.call('session.execute', { sid, sql: 'INSERT INTO t VALUES (1), (2)' });
  const before = db.stats().pool;
  assert.ok(before.holders.some((h) => h.session === 'doomed'));
  agent.kill('SIGKILL');
  await agent.exited;
  await waitFor(() => !db.stats().pool.holders.some((h) => h.session === 'doomed'), 10_000, 'the connection to be returned');
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 0 }]);
  // The row lock is gone too: we can write the same table in a transaction.
  await db.transaction(async (tx) => {
    await tx.execute('INSERT INTO t VALUES (3)');
  });
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 1 }]);
});

test('a statement running past maxTransactionMs is interrupted and reports BOLT_TX_TIMEOUT', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  const s = await db.session({ name: 'long', maxTransactionMs: 300 });
  t.after(() => s.close());
  await s.begin();
  const started = Date.now();
  await assert.rejects(s.query('SELECT count(*) FROM range(5000000000) r(i) WHERE i % 7 = 0'), (e) => hasCode(e, 'BOLT_TX_TIMEOUT'));
  assert.ok(Date.now() - started < 20_000, 'interrupted, not run to the end');
  await s.rollback();
  assert.deepEqual(await s.query('SELECT 1 AS x'), [{ x: 1 }]);
});

test('closing a session stops its long statement wherever it is: queued, being prepared, or running', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  // Run to its end, each statement would take minutes; the test's time limit would fail first.
  const long = 'SELECT count(*) FROM range(1000000000000) r(i) WHERE i % 7 = 0';
  for (let i = 0; i < 30; i++) {
    const s = await db.session({ name: `closing-${i}` });
    const running = s.query(long);
    // Close after 0..9 turns of the event loop: the statement is queued, in prepare, or running.
    for (let k = 0; k < i % 10; k++) await new Promise((r) => setImmediate(r));
    await s.close();
    await assert.rejects(running, (e) => hasCode(e, 'BOLT_SESSION_CLOSED'), `round ${i}`);
  }
  assert.deepEqual(await db.query('SELECT 1 AS x'), [{ x: 1 }]);
});

test('through a client: a read-only handle refuses writes on a read-write host; session requestIds apply once', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  await db.execute("INSERT INTO t VALUES (1, 'a')");

  const ro = await spawnAgent(t, path, { readOnly: true });
  assert.equal((await ro.call<{ lockInfo: { role: string } }>('open')).lockInfo.role, 'client');
  const readOnly = (e: unknown) => hasCode(e, 'BOLT_READ_ONLY');
  await assert.rejects(ro.call('execute', { sql: "INSERT INTO t VALUES (2, 'b')" }), readOnly);
  await assert.rejects(ro.call('execute', { sql: 'DELETE FROM t', opts: { requestId: 'ro-del' } }), readOnly);
  await assert.rejects(ro.call('insertMany', { table: 't', columns: ['id', 'v'], rows: [[3, 'c']] }), readOnly);
  const sid = await ro.call<number>('session.open', { opts: { name: 'ro-client' } });
  await assert.rejects(ro.call('session.execute', { sid, sql: "UPDATE t SET v = 'z'" }), readOnly);
  assert.deepEqual(await ro.call('session.query', { sid, sql: 'SELECT v FROM t' }), [{ v: 'a' }]);
  assert.deepEqual(await ro.call('query', { sql: 'SELECT count(*)::INTEGER AS n FROM t' }), [{ n: 1 }]);

  const rw = await spawnAgent(t, path);
  await rw.call('open');
  const s = await rw.call<number>('session.open', { opts: { name: 'rw-client' } });
  const ins = { sid: s, sql: 'INSERT INTO t VALUES (?, ?)', params: [10, 'x'], opts: { requestId: 'client-auto' } };
  assert.deepEqual(await rw.call('session.execute', ins), { rowsChanged: 1 });
  assert.deepEqual(await rw.call('session.execute', ins), { rowsChanged: 1, deduplicated: true });
  // Inside an explicit transaction the id is recorded in it: rolled back, it counts for nothing.
  const upd = { sid: s, sql: "UPDATE t SET v = v || '!' WHERE id = 10", opts: { requestId: 'client-tx' } };
  await rw.call('session.begin', { sid: s });
  assert.deepEqual(await rw.call('session.execute', upd), { rowsChanged: 1 });
  assert.deepEqual(await rw.call('session.execute', upd), { rowsChanged: 1, deduplicated: true });
  await rw.call('session.rollback', { sid: s });
  await rw.call('session.begin', { sid: s });
  assert.deepEqual(await rw.call('session.execute', upd), { rowsChanged: 1 });
  await rw.call('session.commit', { sid: s });
  assert.deepEqual(await rw.call('session.execute', upd), { rowsChanged: 1, deduplicated: true });
  assert.deepEqual(await db.query('SELECT id, v FROM t ORDER BY id'), [
    { id: 1, v: 'a' },
    { id: 10, v: 'x!' },
  ]);
});
