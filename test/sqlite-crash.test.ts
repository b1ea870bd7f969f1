/**
 * A writer process SIGKILLed in the middle of its transactions leaves a sound database: the
 * integrity check passes, only whole transactions are there, and the writer lock is free.
 * Also: connection counts return to zero, and no descriptor on the database stays open after close.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSqlite } from '../adapters/sqlite/open.js';
import { spawnChild } from './helpers/child.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const CHILD = fileURLToPath(new URL('./fixtures/sqlite-child.js', import.meta.url));

/** Descriptors of this process open on `path` or its -wal/-shm files. */
function openDescriptors(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target === path || target === `${path}-wal` || target === `${path}-shm`) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

test('integrity_check ok after a writer is SIGKILLed mid-transaction; only whole transactions remain', { timeout: 40_000 }, async (t) => {
  const path = join(tempDir(t), 'crash.db');
  const setup = await openSqlite(path);
  await setup.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)');
  await setup.close();

  const child = spawnChild(t, process.execPath, [CHILD, 'churn', path]);
  await child.waitForLine('churning');
  // Let it commit a few more batches, then kill it wherever it is.
  const watcher = await openSqlite(path, { readOnly: true });
  await waitFor(async () => Number((await watcher.query<{ n: number }>('SELECT COUNT(*) AS n FROM t'))[0]!.n) >= 500, 15_000, 'five batches');
  await watcher.close();
  child.child.kill('SIGKILL');
  assert.equal((await child.exited).signal, 'SIGKILL');

  const db = await openSqlite(path, { writeLockTimeoutMs: 1_000 });
  t.after(() => db.close());
  assert.deepEqual(await db.query('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
  assert.deepEqual(await db.query('PRAGMA foreign_key_check'), []);
  const [{ n }] = (await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM t')) as [{ n: number }];
  assert.ok(n >= 100, `at least the first batch is there (${n})`);
  assert.equal(n % 100, 0, `only whole 100-row transactions are there (${n})`);
  // The dead writer's lock went with it: writing works at once.
  assert.deepEqual(await db.execute('INSERT INTO t (id, who) VALUES (?, ?)', [-1, 'after']), { rowsChanged: 1 });
  await db.close();
  // An independent check with the real sqlite3 CLI, when installed.
  try {
    assert.equal(execFileSync('sqlite3', [path, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim(), 'ok');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
});

test('connection counts return to zero; leaks are reported by session name and age; close releases every descriptor', { timeout: 30_000 }, async (t) => {
  const path = join(tempDir(t), 'count.db');
  const db = await openSqlite(path, { maxConnections: 4, leakReportMs: 50 });
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)');
  await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0
        ? db.execute('INSERT INTO t (id, who) VALUES (?, ?)', [i, 'w'])
        : i % 3 === 1
          ? db.query('SELECT COUNT(*) AS n FROM t')
          : db.transaction((tx) => tx.execute('INSERT INTO t (id, who) VALUES (?, ?)', [i, 'tx'])),
    ),
  );
  const sessions = await Promise.all([db.session({ name: 's1' }), db.session({ name: 's2', readOnly: true })]);
  assert.equal(db.stats().pool.inUse, 2);
  const leaky = await db.session({ name: 'forgotten' });
  await waitFor(() => (db.stats().leaks as Array<{ session: string }>).some((l) => l.session === 'forgotten'), 5_000, 'leak report');
  const leaks = db.stats().leaks as Array<{ session: string; heldMs: number }>;
  assert.ok(
    leaks.some((l) => l.session === 'forgotten' && l.heldMs >= 50),
    JSON.stringify(leaks),
  );
  await Promise.all([...sessions, leaky].map((s) => s.close()));
  const st = db.stats();
  assert.equal(st.pool.inUse, 0);
  assert.deepEqual(st.pool.holders, []);
  assert.equal(st.pool.waiting, 0);
  assert.ok(st.pool.size >= 1 && st.pool.size <= 4);
  assert.ok(openDescriptors(path) > 0, 'connections hold the file while open');
  await db.close();
  assert.equal(openDescriptors(path), 0, 'no descriptor left on the database, its WAL or shared memory');
  assert.equal(db.stats().pool.size, 0);
});
