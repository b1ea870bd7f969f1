/**
 * Start marks (agents/start-marks.ts): what a worker thread records is what the main thread
 * reads, per dispatch, and a worker that comes late for a dispatch whose mark moved on changes
 * nothing. Workers are real threads sharing the buffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { StartMarks, type MarkRef } from '../agents/start-marks.js';

/** Begins `refs` in a real worker thread, as an agent thread does; resolves with its thread id. */
async function beginInThread(buffer: SharedArrayBuffer, refs: MarkRef[]): Promise<number> {
  const url = new URL('../agents/start-marks.js', import.meta.url).href;
  const w = new Worker(
    `const { workerData, parentPort, threadId } = require('node:worker_threads');
     import(workerData.url).then(({ StartMarks }) => {
       const marks = new StartMarks(workerData.buffer);
       for (const r of workerData.refs) marks.begin(r, threadId);
       parentPort.postMessage(threadId);
     });`,
    { eval: true, workerData: { url, buffer, refs } },
  );
  try {
    return await new Promise<number>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  } finally {
    await w.terminate();
  }
}

test('each dispatch reads the thread and time its worker recorded, not a neighbour’s', { timeout: 30_000 }, async () => {
  const marks = StartMarks.create(4);
  const refs = [marks.take(), marks.take(), marks.take(), marks.take()];
  assert.deepEqual(
    refs.map((r) => r.mark),
    [0, 1, 2, 3],
  );
  assert.equal(marks.take().mark, -1, 'no fifth mark: that dispatch goes without one');
  for (const r of refs) {
    assert.equal(marks.begun(r), false);
    assert.equal(marks.started(r), undefined);
  }
  const before = Date.now();
  const a = await beginInThread(marks.buffer, [refs[0]!, refs[2]!]);
  const b = await beginInThread(marks.buffer, [refs[1]!]);
  const after = Date.now();
  assert.notEqual(a, b);
  for (const [r, thread] of [
    [refs[0]!, a],
    [refs[1]!, b],
    [refs[2]!, a],
  ] as const) {
    assert.equal(marks.begun(r), true);
    const s = marks.started(r)!;
    assert.equal(s.threadId, thread);
    assert.ok(s.at >= before && s.at <= after, `at ${s.at}`);
  }
  assert.equal(marks.begun(refs[3]!), false, 'a dispatch no worker began');
  assert.equal(marks.started(refs[3]!), undefined);
  assert.equal(marks.begun({ mark: -1, seq: 99 }), true, 'without a mark, counted as begun');
});

test('a worker late for a dispatch whose mark serves another changes nothing', { timeout: 30_000 }, async () => {
  const marks = StartMarks.create(1);
  const old = marks.take();
  marks.release(old);
  const now = marks.take();
  assert.equal(now.mark, old.mark);
  await beginInThread(marks.buffer, [old]);
  assert.equal(marks.begun(now), false);
  assert.equal(marks.started(now), undefined);
  assert.equal(marks.begun(old), false, 'the old dispatch is not begun either: its mark moved on');
  const t = await beginInThread(marks.buffer, [now]);
  assert.equal(marks.started(now)!.threadId, t);
  await beginInThread(marks.buffer, [now]);
  assert.equal(marks.started(now)!.threadId, t, 'a second begin of the same dispatch keeps the first');
});
