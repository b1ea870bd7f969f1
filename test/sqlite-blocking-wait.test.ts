/**
 * A writer that finds SQLite's lock taken first waits inside SQLite (busy_timeout, 10 ms at most,
 * never longer than the lock timeout), blocking its thread, and only while the lock moves between
 * writers: while one holder keeps it, the tries stop blocking, so a long wait leaves the thread's
 * event loop free; once the wait ends the connection blocks briefly again. What the brief blocking
 * wait does for the write tail is measured by `sqlite-scaling` (docs/benchmarks.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import { InlineConnection } from '../adapters/sqlite/inline-connection.js';
import { tempDir } from './helpers/tmp.js';
import { waitForValue } from './helpers/wait.js';

const BUSY = 'SELECT timeout FROM pragma_busy_timeout';

test('connections wait inside SQLite for 10 ms at most, and never longer than the lock timeout', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  for (const [opts, expected] of [
    [{}, 10],
    [{ writeLockTimeoutMs: 5 }, 5],
    [{ lockTimeoutMs: 0 }, 0],
  ] as const) {
    const db = await ConcurrentDatabase.open(join(dir, `w${expected}.db`), { ...opts, engine: 'sqlite' });
    try {
      await db.execute('CREATE TABLE t (x INTEGER)');
      await db.execute('INSERT INTO t VALUES (1)');
      assert.equal((await db.queryOne<{ timeout: number }>(BUSY))?.timeout, expected, JSON.stringify(opts));
    } finally {
      await db.close();
    }
  }
});

test('while one holder keeps the lock the tries stop blocking; after the wait they block briefly again', { timeout: 30_000 }, async (t) => {
  const path = join(tempDir(t), 'held.db');
  const holder = new BetterSqlite3(path);
  t.after(() => holder.close());
  holder.pragma('journal_mode = WAL');
  holder.exec('CREATE TABLE t (x INTEGER)');
  const conn = new InlineConnection({ path, readOnly: false, cacheSizeKiB: 1024, pragmas: {}, lockWaitMs: 10 });
  await conn.ready;
  t.after(() => conn.close());
  const busyTimeout = () => {
    const out = conn.run(BUSY, [], 'deny', true);
    return Number(('rows' in out && out.rows?.[0]?.timeout) ?? -1);
  };
  assert.equal(busyTimeout(), 10);

  holder.exec('BEGIN IMMEDIATE');
  const begun = conn.begin(true, Date.now() + 20_000);
  assert.ok(begun, 'the lock is held: BEGIN waits');
  await waitForValue('the waiting writer to stop blocking', busyTimeout, (v) => v === 0);
  holder.exec('COMMIT');
  await begun;
  assert.equal(conn.inTransaction, true, 'the writer got the lock');
  assert.equal(busyTimeout(), 10, 'the brief blocking wait is back for the next time');
  conn.rollback();
});
