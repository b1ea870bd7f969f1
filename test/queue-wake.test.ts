/**
 * PostgreSQL wakes runtimes: a task submitted from another process is claimed at once through
 * LISTEN/NOTIFY, not at the runtime's next poll. The runtime here polls once every 10 minutes,
 * so every task it runs within the test's bounds was found by a NOTIFY.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../storage/open-database.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';
import { spawnChild } from './helpers/child.js';
import { BOLT_BIN } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';
import { waitForValue } from './helpers/wait.js';

test('PostgreSQL: tasks submitted by another process wake an idle runtime (NOTIFY), single and in bulk', { timeout: 90_000, skip: PG_SKIP }, async (t) => {
  const { tcp } = await freshPgDatabase(t, 'bolt_wake');
  const rt = spawnChild(t, process.execPath, [BOLT_BIN, 'start', '--agents', '2', '--db', tcp, '--no-status'], {
    cwd: tempDir(t),
    env: { BOLT_POLL_MS: '600000' },
  });
  await rt.waitForLine('ready: ', 60_000);
  const db = await openDatabase(tcp);
  t.after(() => db.close());
  const q = new TaskQueue(db);
  // The runtime's first claims may come before its LISTEN: wait until an idle poll is behind it.
  const first = await q.submit('echo', { n: 1 });
  await waitForValue(
    'the first task done',
    () => q.get(first.id).then((x) => x.status),
    (s) => s === 'done',
    { timeoutMs: 30_000 },
  );
  const single = await q.submit('echo', { n: 2 });
  await waitForValue(
    'a single submit woke the runtime',
    () => q.get(single.id).then((x) => x.status),
    (s) => s === 'done',
    { timeoutMs: 30_000 },
  );
  const bulk = await q.submitMany(Array.from({ length: 20 }, (_, i) => ({ agent: 'echo', payload: { i } })));
  const tasks = await waitForValue(
    'a bulk submit woke the runtime',
    () => Promise.all(bulk.map((b) => q.get(b.id))),
    (ts) => ts.every((x) => x.status === 'done'),
    { timeoutMs: 30_000 },
  );
  assert.equal(tasks.length, 20);
});
