/**
 * SQLite: an agent's worker thread that exits in the middle of a write transaction (SQLite's
 * write lock held, a row inserted) leaves nothing behind: its insert is rolled back with the
 * thread's connection, the lock is free for the runtime and the other agents, and the task's
 * retry runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextEvent } from './helpers/wait.js';
import { testRuntime } from './helpers/runtime.js';
import type { TaskDoneEvent, TaskFailedEvent } from '../core/events.js';

test('an agent thread that exits inside a write transaction does not hold up the runtime’s other writers', { timeout: 40_000 }, async (t) => {
  const { bolt } = await testRuntime(t, { file: 'agents.sqlite' });
  const db = bolt.getDatabaseManager();
  await db.execute('CREATE TABLE seen (task_id BIGINT, agent_id TEXT)');

  const failed: TaskFailedEvent[] = [];
  bolt.on('task:failed', (e) => failed.push(e));
  const dying = await bolt.submit('die-writing', null, { maxAttempts: 2 });
  const dyingDone = nextEvent<TaskDoneEvent>(bolt, 'task:done', (e) => e.id === dying, 30_000);
  await dyingDone;
  // Writers after the death: the runtime's own (task state) and an agent's.
  const after = await bolt.submit('record', null);
  const recorded = await nextEvent<TaskDoneEvent>(bolt, 'task:done', (e) => e.id === after, 30_000);
  assert.deepEqual(recorded.result, { id: after, agentId: recorded.agentId });
  const rows = await db.query<{ task_id: number; agent_id: string }>('SELECT task_id, agent_id FROM seen ORDER BY task_id, agent_id');
  assert.deepEqual(
    rows.map((r) => [Number(r.task_id), r.agent_id === 'dying' ? 'dying' : 'agent']),
    [
      [dying, 'agent'],
      [after, 'agent'],
    ],
    'the dead thread’s insert was rolled back; the retry and the next task wrote',
  );
  assert.equal(failed.filter((f) => f.id === dying).length, 1, 'the first attempt failed (its thread exited)');
});
