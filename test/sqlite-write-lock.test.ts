/**
 * The handle's writer turn (adapters/sqlite/write-lock.ts): FIFO, one timer for the whole
 * queue. Waiters with different deadlines time out each at its own, an aborted one leaves the
 * queue, the rest keep their places, and once nobody waits no timer keeps the process alive.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteLock } from '../adapters/sqlite/write-lock.js';
import { hasCode } from '../core/errors.js';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('waiters time out at their own deadlines, aborts leave the queue, the rest get their turns in order', { timeout: 10_000 }, async () => {
  const before = timers();
  const lock = new WriteLock('/nowhere/w.db');
  assert.equal(lock.acquire('holder', 1000), undefined, 'a free turn is taken at once');
  const order: string[] = [];
  const patient = lock.acquire('patient', 5000)!.then(() => order.push('patient'));
  const hasty = lock.acquire('hasty', 30);
  const abort = new AbortController();
  const aborted = lock.acquire('aborted', 5000, abort.signal);
  const last = lock.acquire('last', 5000)!.then(() => order.push('last'));

  await assert.rejects(hasty!, (err) => hasCode(err, 'BOLT_LOCK_TIMEOUT') && /session "holder"/.test((err as Error).message));
  abort.abort();
  await assert.rejects(aborted!, (err) => hasCode(err, 'BOLT_ABORTED'));
  assert.deepEqual(order, [], 'nobody got the turn while the holder kept it');

  lock.release();
  await patient;
  assert.equal(lock.heldBy()?.session, 'patient');
  lock.release();
  await last;
  assert.deepEqual(order, ['patient', 'last']);
  lock.release();
  assert.equal(lock.heldBy(), undefined);
  assert.equal(timers(), before, 'no timer left once nobody waits');
});

test('a waiter whose wait ends by a timeout after others were granted still times out on time', { timeout: 10_000 }, async () => {
  const lock = new WriteLock('/nowhere/w.db');
  assert.equal(lock.acquire('holder', 1000), undefined);
  const first = lock.acquire('first', 5000)!;
  const second = lock.acquire('second', 60);
  lock.release(); // first's turn; second keeps waiting behind it
  await first;
  const started = Date.now();
  await assert.rejects(second!, (err) => hasCode(err, 'BOLT_LOCK_TIMEOUT') && /session "first"/.test((err as Error).message));
  assert.ok(Date.now() - started < 5000, 'timed out at its own deadline, not the earlier waiter’s');
  lock.release();
});
