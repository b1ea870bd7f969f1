/**
 * task:started is emitted when the runtime learns of a start (agents/start-marks.ts): at the
 * task's reply, in status(), or from the sweep timer; task:progress from piscina's message handler.
 * A listener that throws there must not lose the task's outcome, make status() throw, or end the
 * process: it is reported as runtime:error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testRuntime } from './helpers/runtime.js';
import { nextEvent, waitForValue } from './helpers/wait.js';

test('task:started and task:progress listeners that throw lose no task and break neither status() nor the runtime', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t, { agents: 1 });
  bolt.on('task:started', () => {
    throw new Error('a listener bug');
  });
  // task:progress comes from piscina's message handler: a throw there escaped it.
  let progressed = 0;
  bolt.on('task:progress', () => {
    progressed++;
    throw new Error('a listener bug');
  });
  const errors: string[] = [];
  bolt.on('runtime:error', (e) => errors.push(e.error.message));
  // Short tasks: task:started comes from their reply. Their results are recorded from before the
  // first submit: an echo may finish while the second is still being submitted.
  const results = new Map<number, unknown>();
  bolt.on('task:done', (e) => results.set(e.id, e.result));
  const ids = [await bolt.submit('echo', { n: 1 }), await bolt.submit('echo', { n: 2 })];
  await waitForValue(
    'both echoes done',
    () => ids.map((id) => results.get(id)),
    (rs) => rs.every((r) => r !== undefined),
    { timeoutMs: 60_000 },
  );
  assert.deepEqual(
    ids.map((id) => results.get(id)),
    [{ n: 1 }, { n: 2 }],
  );
  // A long task: task:started comes from status() or the sweep.
  const id = await bolt.submit('wait', null);
  // The throwing listener was added first, so it is the one that sees the report.
  await waitForValue(
    'the progress report',
    () => progressed,
    (n) => n >= 1,
  );
  const slot = bolt.status().agents.find((a) => a.taskId === id);
  assert.equal(slot?.agent, 'wait');
  const cancelled = nextEvent(bolt, 'task:cancelled', (e: { id: number }) => e.id === id);
  await bolt.cancel(id);
  await cancelled;
  assert.ok(errors.length >= 4 && errors.every((m) => m === 'a listener bug'), errors.join(', '));
  assert.equal((await bolt.counts()).running, 0);
});
