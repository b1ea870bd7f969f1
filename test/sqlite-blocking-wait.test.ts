/**
 * When a writer waiting for SQLite's lock lets SQLite wait inside its busy handler (busy_timeout,
 * blocking its thread): only after it has waited a while for a lock that keeps moving between
 * other writers (a transaction 5 ms, a group-commit batch 30 ms), at most 10 ms a try and never
 * longer than the lock timeout. A lock that one
 * holder keeps is waited for without blocking, so such a wait leaves the thread's event loop free,
 * and after the wait the connection is back to not blocking at all. What the blocking tries do
 * for the write tail is measured by `sqlite-scaling` (docs/benchmarks.md).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { BATCH_WAIT, InlineConnection } from '../adapters/sqlite/inline-connection.js';
import { tempDir } from './helpers/tmp.js';
import { waitForValue } from './helpers/wait.js';

/** A WAL file with table t, a foreign connection to it, and a Bolt connection whose tries may block `lockWaitMs`. */
async function setup(t: TestContext, lockWaitMs = 10) {
  const path = join(tempDir(t), 'lock.db');
  const other = new BetterSqlite3(path);
  t.after(() => other.close());
  other.pragma('journal_mode = WAL');
  other.exec('CREATE TABLE t (x INTEGER)');
  const conn = new InlineConnection({ path, readOnly: false, cacheSizeKiB: 1024, pragmas: {}, lockWaitMs });
  await conn.ready;
  t.after(() => conn.close());
  const busyTimeout = () => {
    const out = conn.run('SELECT timeout FROM pragma_busy_timeout', [], 'deny', true);
    return Number(('rows' in out && out.rows?.[0]?.timeout) ?? -1);
  };
  return { other, conn, busyTimeout };
}

/** Keeps the lock with `other` while committing a row every turn of the event loop, until stopped. */
function movingLock(other: BetterSqlite3.Database): () => void {
  let on = true;
  other.exec('BEGIN IMMEDIATE');
  const step = () => {
    if (!on) return;
    other.exec('INSERT INTO t VALUES (1); COMMIT; BEGIN IMMEDIATE');
    setImmediate(step);
  };
  setImmediate(step);
  return () => {
    on = false;
    other.exec('COMMIT');
  };
}

test('a writer waiting for a lock that keeps moving lets SQLite wait (10 ms a try); after the wait it does not block', { timeout: 30_000 }, async (t) => {
  const { other, conn, busyTimeout } = await setup(t);
  assert.equal(busyTimeout(), 0, 'no wait inside SQLite while nothing waits');
  const stop = movingLock(other);
  const begun = conn.begin(true, Date.now() + 20_000);
  assert.ok(begun, 'the lock is held: BEGIN waits');
  await waitForValue('the waiting writer to block in SQLite', busyTimeout, (v) => v === 10);
  stop();
  await begun;
  assert.equal(conn.inTransaction, true, 'the writer got the lock');
  assert.equal(busyTimeout(), 0, 'back to not blocking once the wait is over');
  conn.rollback();
});

test('a writer waiting for a lock one holder keeps never blocks its thread', { timeout: 30_000 }, async (t) => {
  const { other, conn, busyTimeout } = await setup(t);
  other.exec('BEGIN IMMEDIATE');
  const begun = conn.begin(true, Date.now() + 20_000);
  assert.ok(begun, 'the lock is held: BEGIN waits');
  // Well past the point where a moving lock's waiter blocks (5 ms), sampled between its tries.
  const seen = new Set<number>();
  const until = Date.now() + 200;
  while (Date.now() < until) {
    seen.add(busyTimeout());
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.deepEqual([...seen], [0]);
  other.exec('COMMIT');
  await begun;
  assert.equal(conn.inTransaction, true);
  conn.rollback();
});

test('no blocking try when the lock timeout leaves no room for one', { timeout: 30_000 }, async (t) => {
  const { other, conn, busyTimeout } = await setup(t, 0);
  const stop = movingLock(other);
  const begun = conn.begin(true, Date.now() + 20_000);
  assert.ok(begun);
  // The moving holder commits hundreds of times meanwhile; a writer allowed to block would have.
  const rows = other.prepare('SELECT count(*) AS n FROM t');
  await waitForValue(
    'the holder to commit 200 times',
    () => (rows.get() as { n: number }).n,
    (n) => n >= 200,
  );
  assert.equal(busyTimeout(), 0);
  stop();
  await begun;
  conn.rollback();
});

test('a group-commit batch waiting for a moving lock tries without blocking for its first 30 ms, then blocks', { timeout: 30_000 }, async (t) => {
  const { other, conn, busyTimeout } = await setup(t);
  const stop = movingLock(other);
  const since = Date.now();
  const batch = conn.writeBatch([{ sql: 'INSERT INTO t VALUES (2)', params: [], rows: false }], since + 20_000, since);
  try {
    // Each sample is read before the clock that dates it: one dated under 30 ms after `since`
    // was read while the batch had waited less than that.
    const early = new Set<number>();
    while (Date.now() - since <= BATCH_WAIT.blockingAfterMs - 1) {
      const v = busyTimeout();
      if (Date.now() - since <= BATCH_WAIT.blockingAfterMs - 1) early.add(v);
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.ok(!early.has(10), 'no blocking try in the first 30 ms (a transaction blocks after 5)');
    await waitForValue('the waiting batch to block in SQLite', busyTimeout, (v) => v === 10);
  } finally {
    // Also when an assertion failed: the holder stops and the batch ends before the connections close.
    stop();
    await batch.catch(() => undefined);
  }
  const [outcome] = await batch;
  assert.equal(outcome?.ok, true, 'the batch committed');
  assert.equal(busyTimeout(), 0, 'back to not blocking once the wait is over');
  assert.equal((other.prepare('SELECT count(*) AS n FROM t WHERE x = 2').get() as { n: number }).n, 1);
});
