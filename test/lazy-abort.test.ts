/** A task's abort signal made on first read (agents/lazy-abort.ts): the same abort either way. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LazyAbort } from '../agents/lazy-abort.js';

test('a signal read before the abort fires with its reason; one read after is already aborted with it', () => {
  const early = new LazyAbort();
  const signal = early.signal;
  assert.equal(early.signal, signal, 'one signal per task');
  const seen: unknown[] = [];
  signal.addEventListener('abort', () => seen.push(signal.reason));
  assert.equal(signal.aborted, false);
  early.abort('cancelled');
  early.abort('timeout');
  assert.deepEqual(seen, ['cancelled'], 'fired once, with the first reason');

  const late = new LazyAbort();
  late.abort('timeout');
  late.abort('cancelled');
  assert.equal(late.signal.aborted, true);
  assert.equal(late.signal.reason, 'timeout');
  assert.equal(new LazyAbort().signal.aborted, false);
});
