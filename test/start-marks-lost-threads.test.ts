/**
 * A task that began and then lost its thread (it exited the thread, ran out of heap) before the
 * runtime's sweep read its start mark is still reported started, once, before its failure: the
 * runtime reads the mark when the thread's death fails the task (agents/start-marks.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testRuntime } from './helpers/runtime.js';
import { waitForValue } from './helpers/wait.js';

test('a task whose thread died after it began gets task:started before task:failed, once per attempt', { timeout: 90_000 }, async (t) => {
  const { bolt } = await testRuntime(t, { agentHeapMb: 48 });
  const seen: string[] = [];
  bolt.on('task:started', (e) => seen.push(`${e.id}/${e.attempt} started ${e.agentId}`));
  bolt.on('task:failed', (e) => seen.push(`${e.id}/${e.attempt} failed ${e.agentId}`));
  bolt.on('task:done', (e) => seen.push(`${e.id}/${e.attempt} done ${e.agentId}`));
  const ids = [await bolt.submit('crash', null), await bolt.submit('oom', null)];
  // Read from what was seen since before the submits: either task may finish first (one CI run
  // began to wait for the second's done only after it had come, and timed out).
  await waitForValue(
    'both tasks done',
    () => ids.filter((id) => seen.some((s) => s.startsWith(`${id}/`) && s.includes(' done '))),
    (done) => done.length === ids.length,
    { timeoutMs: 60_000 },
  );
  for (const id of ids) {
    const mine = seen.filter((s) => s.startsWith(`${id}/`)).map((s) => s.replace(/ agent-\d+$/, ''));
    assert.deepEqual(mine, [`${id}/1 started`, `${id}/1 failed`, `${id}/2 started`, `${id}/2 done`], seen.join('\n'));
    const failed = seen.find((s) => s.startsWith(`${id}/1 failed`))!;
    const started = seen.find((s) => s.startsWith(`${id}/1 started`))!;
    assert.equal(failed.split(' ')[2], started.split(' ')[2], 'the failure names the agent it started on');
  }
});
