/**
 * What an agent returns must be storable: JSON of at most 16 MiB. A result that is not (an
 * object that refers to itself, a string of 17 MiB, a function) fails its own task with BOLT_BAD_INPUT;
 * the tasks completed with it in the same batch are recorded, and the runtime goes on. A
 * payload past the same limit is refused at submit, nothing stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextEvent } from './helpers/wait.js';
import { testRuntime } from './helpers/runtime.js';
import { hasCode } from '../core/errors.js';
import type { TaskDeadEvent, TaskDoneEvent } from '../core/events.js';

test('a result that cannot be stored fails its task alone; the others complete', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t, { file: 'results.db' });

  const dead = new Map<number, TaskDeadEvent>();
  const done = new Map<number, TaskDoneEvent>();
  bolt.on('task:dead', (e) => dead.set(e.id, e));
  bolt.on('task:done', (e) => done.set(e.id, e));
  const circular = await bolt.submit('unstorable', null, { maxAttempts: 1 });
  const huge = await bolt.submit('unstorable', { mib: 17 }, { maxAttempts: 1 });
  const fn = await bolt.submit('unstorable', { fn: true }, { maxAttempts: 1 });
  const thrownObject = await bolt.submit('unstorable', { throw: { why: 'nope' } }, { maxAttempts: 1 });
  const echoes = await Promise.all(Array.from({ length: 6 }, (_, i) => bolt.submit('echo', { i })));
  for (const id of echoes) {
    if (!done.has(id)) await nextEvent<TaskDoneEvent>(bolt, 'task:done', (e) => e.id === id, 30_000);
  }
  for (const id of [circular, huge, fn, thrownObject]) {
    if (!dead.has(id)) await nextEvent<TaskDeadEvent>(bolt, 'task:dead', (e) => e.id === id, 30_000);
  }

  assert.equal(dead.get(circular)!.error.code, 'BOLT_BAD_INPUT');
  assert.match(dead.get(circular)!.error.message, /cannot be stored as JSON/);
  assert.equal(dead.get(huge)!.error.code, 'BOLT_BAD_INPUT');
  assert.match(dead.get(huge)!.error.message, /at most 16777216/);
  assert.equal(dead.get(fn)!.error.code, 'BOLT_BAD_INPUT');
  assert.match(dead.get(fn)!.error.message, /result holds a function at result, which cannot leave its agent's thread/);
  assert.equal(dead.get(thrownObject)!.error.message, 'a value that is not an Error was thrown: {"why":"nope"}', 'not [object Object]');
  for (const [i, id] of echoes.entries()) assert.deepEqual((await bolt.getTask(id))?.result, { i }, `echo ${i} completed`);
  assert.equal((await bolt.getTask(circular))?.status, 'dead');

  // The runtime still completes work.
  const after = await bolt.submit('echo', { after: true });
  assert.deepEqual((await nextEvent<TaskDoneEvent>(bolt, 'task:done', (e) => e.id === after, 30_000)).result, { after: true });
});

test('a payload over 16 MiB of JSON is refused at submit; nothing is stored', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t, { agents: 1, file: 'payloads.db' });
  await assert.rejects(
    bolt.submit('echo', { s: 'x'.repeat(16 * 1024 * 1024) }),
    (err) => hasCode(err, 'BOLT_BAD_INPUT') && /payload takes \d+ bytes/.test(err.message),
  );
  const rows = await bolt.getDatabaseManager().query<{ n: unknown }>('SELECT COUNT(*) AS n FROM bolt_tasks');
  assert.equal(Number(rows[0]!.n), 0);
});
