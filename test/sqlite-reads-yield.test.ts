/**
 * SQLite statements run in the calling thread and resolve without leaving the microtask
 * queue, so a caller looping on reads could starve everything else of its thread: timers,
 * I/O, a writer's backoff while it waits for another process's lock. Here a tight read loop
 * runs while a writer waits for another process to commit; the writer must get through, and
 * this process must still see the other process's output (I/O).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqlite } from '../adapters/sqlite/open.js';
import { spawnChild } from './helpers/child.js';
import { tempDir } from './helpers/tmp.js';

const CHILD = fileURLToPath(new URL('./fixtures/sqlite-child.js', import.meta.url));

test('a loop of reads does not starve a writer waiting for another process, nor the I/O of its thread', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'yield.db');
  const db = await openSqlite(path, { writeLockTimeoutMs: 30_000 });
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)');
  await db.execute('INSERT INTO t (id, who) VALUES (1, ?)', ['parent']);
  const child = spawnChild(t, process.execPath, [CHILD, 'hold', path]);
  await child.waitForLine('holding');

  let reads = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      await db.query('SELECT who FROM t WHERE id = ?', [1]);
      reads++;
    }
  })();
  const write = db.execute('INSERT INTO t (id, who) VALUES (2, ?)', ['parent']);
  // Both need this thread's event loop: writing to the child's stdin, and reading its reply.
  child.child.stdin!.end('commit\n');
  await child.waitForLine('committed');
  assert.deepEqual(await write, { rowsChanged: 1 });
  stop = true;
  await loop;
  assert.ok(reads > 0);
  assert.deepEqual(await db.query('SELECT id, who FROM t ORDER BY id'), [
    { id: 1, who: 'parent' },
    { id: 2, who: 'parent' },
    { id: 1000, who: 'child' },
  ]);
});
