/**
 * SQLite's one-writer-at-a-time rule across sessions and processes: a second writer waits for
 * the first, or times out with BOLT_LOCK_TIMEOUT naming the holder (a session of this process,
 * or the pid and command line of another process).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { openSqlite } from '../adapters/sqlite/open.js';
import { hasCode } from '../core/errors.js';
import { spawnChild } from './helpers/child.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const CHILD = fileURLToPath(new URL('./fixtures/sqlite-child.js', import.meta.url));

test('two writer sessions in one process: the second times out naming the first, then succeeds once it commits', { timeout: 30_000 }, async (t) => {
  const path = join(tempDir(t), 'w.db');
  const db = await openSqlite(path, { writeLockTimeoutMs: 300 });
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)');
  const a = await db.session({ name: 'writer-a' });
  const b = await db.session({ name: 'writer-b' });
  await a.begin();
  await a.execute('INSERT INTO t (id, who) VALUES (1, ?)', ['a']);
  await assert.rejects(b.begin(), (err) => hasCode(err, 'BOLT_LOCK_TIMEOUT') && /writer-a/.test(err.message));
  await assert.rejects(db.execute('INSERT INTO t (id, who) VALUES (2, ?)', ['db']), (err) => hasCode(err, 'BOLT_LOCK_TIMEOUT'));
  assert.deepEqual(await db.query('SELECT COUNT(*) AS n FROM t'), [{ n: 0 }], 'readers are not blocked by the writer');
  const waiting = b.transaction((tx) => tx.execute('INSERT INTO t (id, who) VALUES (3, ?)', ['b']));
  await a.commit();
  await waiting;
  assert.deepEqual(await db.query('SELECT id, who FROM t ORDER BY id'), [
    { id: 1, who: 'a' },
    { id: 3, who: 'b' },
  ]);
  await Promise.all([a.close(), b.close()]);
});

test('two writer processes: the second waits for the first, or times out naming its pid and command', { timeout: 40_000 }, async (t) => {
  const path = join(tempDir(t), 'p.db');
  const db = await openSqlite(path, { writeLockTimeoutMs: 400 });
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)');
  const child = spawnChild(t, process.execPath, [CHILD, 'hold', path]);
  await child.waitForLine('holding');

  const err = await db.execute('INSERT INTO t (id, who) VALUES (1, ?)', ['parent']).then(
    () => assert.fail('the write should have timed out'),
    (e: unknown) => e,
  );
  assert.ok(hasCode(err, 'BOLT_LOCK_TIMEOUT'), String(err));
  assert.match(err.message, new RegExp(`pid ${child.child.pid} \\(.*sqlite-child\\.js hold`));
  assert.ok((err.details.waitedMs as number) >= 400, JSON.stringify(err.details));

  // A patient writer waits while the other process holds the lock, and goes through once it commits.
  const patient = await openSqlite(path, { writeLockTimeoutMs: 15_000 });
  t.after(() => patient.close());
  const write = patient.execute('INSERT INTO t (id, who) VALUES (2, ?)', ['patient']);
  let settled = false;
  void write.finally(() => (settled = true));
  await waitFor(() => patient.stats().pool.holders.some((h) => h.session === 'execute'), 10_000, 'the second writer waiting');
  assert.equal(settled, false, 'the second writer is waiting');
  child.child.stdin!.end('commit\n');
  await child.waitForLine('committed');
  assert.deepEqual(await write, { rowsChanged: 1 });
  assert.deepEqual(await db.query('SELECT id, who FROM t ORDER BY id'), [
    { id: 2, who: 'patient' },
    { id: 1000, who: 'child' },
  ]);
  assert.equal((await child.exited).code, 0);
});

test("a worker thread and the main thread write under the same rule (SQLite's own lock, waited for without blocking)", { timeout: 40_000 }, async (t) => {
  const path = join(tempDir(t), 'threads.db');
  const db = await openSqlite(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)');
  const worker = new Worker(new URL('./fixtures/sqlite-thread.js', import.meta.url), { workerData: { path, first: 1_000, count: 60 } });
  t.after(() => worker.terminate());
  const done = new Promise<{ kind: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await Promise.all(Array.from({ length: 60 }, (_, i) => db.execute('INSERT INTO t (id, who) VALUES (?, ?)', [i, 'main'])));
  const r = await done;
  assert.equal(r.kind, 'sqlite');
  assert.equal((db.lockInfo() as { writerLockKind?: string }).writerLockKind, 'sqlite');
  assert.deepEqual(await db.query('SELECT who, COUNT(*) AS n FROM t GROUP BY who ORDER BY who'), [
    { who: 'main', n: 60 },
    { who: 'thread', n: 30 },
    { who: 'thread-tx', n: 30 },
  ]);
});
