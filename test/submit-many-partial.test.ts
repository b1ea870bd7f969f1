/**
 * A batch of tasks is written in several statements (`submitMany`), so a failure part-way
 * leaves what was written before it queued. The error must say which tasks those are
 * (`details.queuedIds`), so a caller re-sends only the rest instead of queuing them twice.
 * The failure is made real: a SQLite trigger refuses one item's row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { tempDir } from './helpers/tmp.js';
import { testRuntime } from './helpers/runtime.js';
import { openDatabase } from '../storage/open-database.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { BoltError } from '../core/errors.js';

/** Makes every insert of a task whose payload holds "boom" fail, from another connection. */
function refuseBoom(path: string): void {
  const raw = new BetterSqlite3(path);
  try {
    raw.exec(`CREATE TRIGGER refuse_boom BEFORE INSERT ON bolt_tasks WHEN NEW.payload LIKE '%boom%' BEGIN SELECT RAISE(ABORT, 'boom refused'); END`);
  } finally {
    raw.close();
  }
}

/** The ids of every task in the file, ascending. */
function storedIds(path: string): number[] {
  const raw = new BetterSqlite3(path, { readonly: true });
  try {
    return (raw.prepare('SELECT id FROM bolt_tasks ORDER BY id').all() as Array<{ id: number }>).map((r) => r.id);
  } finally {
    raw.close();
  }
}

async function failure(p: Promise<unknown>): Promise<BoltError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof BoltError, String(err));
    return err;
  }
  assert.fail('the batch was expected to fail');
}

test('TaskQueue.submitMany: a failure part-way names the tasks it had queued', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'q.sqlite');
  const db = await openDatabase(path, { engine: 'sqlite' });
  t.after(() => db.close());
  const q = new TaskQueue(db);
  await q.ensureSchema();
  refuseBoom(path);

  // 256 rows per statement on SQLite: the first 256 are written, the statement holding item 400 fails.
  const items = Array.from({ length: 600 }, (_, i) => ({ agent: 'echo', payload: i === 400 ? { boom: true } : { i } }));
  const err = await failure(q.submitMany(items));
  assert.match(err.message, /boom refused/);
  assert.match(err.message, /256 tasks of this batch had been queued before the failure and stay queued/);
  assert.deepEqual(
    [...(err.details.queuedIds as number[])].sort((a, b) => a - b),
    storedIds(path),
  );
  assert.equal(storedIds(path).length, 256);

  // A batch that fails in its first statement queued nothing, and says nothing about it.
  const none = await failure(q.submitMany([{ agent: 'echo', payload: { boom: 1 } }]));
  assert.equal(none.details.queuedIds, undefined);
  assert.doesNotMatch(none.message, /queued before/);
});

test('runtime submitMany: chunks committed before a failure are named in details.queuedIds', { timeout: 60_000 }, async (t) => {
  const { bolt, dir } = await testRuntime(t, { file: 'runtime.sqlite' });
  const path = join(dir, 'runtime.sqlite');
  refuseBoom(path);

  // Chunks of 1,000: two are committed, the third fails at its item 100.
  const items = Array.from({ length: 2500 }, (_, i) => ({ agent: 'echo', payload: i === 2100 ? { boom: true } : { i } }));
  const err = await failure(bolt.submitMany(items));
  const queued = [...(err.details.queuedIds as number[])].sort((a, b) => a - b);
  assert.equal(queued.length, 2000, err.message);
  assert.match(err.message, /2000 tasks of this batch had been queued/);
  assert.deepEqual(queued, storedIds(path));
});
