/**
 * core/fifo.ts, the queue waiters wait in (connection pools, SQLite's writer turn, a host
 * connection's requests, MCP reads): first in, first out; an item taken out while it waits is
 * passed over; and a million items go through in time proportional to their number (an
 * array's `shift` copies what is left each time: 400,000 took 20 s).
 */
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import assert from 'node:assert/strict';
import { Fifo } from '../core/fifo.js';
import { ConnectionPool } from '../adapters/shared/connection-pool.js';

test('first in, first out; deleted items are passed over; drain and iteration keep the order', { timeout: 5_000 }, () => {
  const q = new Fifo<{ n: number }>();
  const items = Array.from({ length: 6 }, (_, n) => ({ n }));
  for (const it of items) q.push(it);
  q.push(items[0]!); // already queued: stays first
  assert.equal(q.length, 6);
  assert.equal(q.delete(items[1]!), true);
  assert.equal(q.delete(items[1]!), false, 'not queued any more');
  assert.equal(q.shift(), items[0]);
  assert.equal(q.peek(), items[2], 'the deleted one is passed over');
  q.push(items[1]!); // queued again: last
  assert.deepEqual(
    [...q].map((x) => x.n),
    [2, 3, 4, 5, 1],
  );
  assert.equal(q.delete(items[4]!), true);
  assert.deepEqual(
    q.drain().map((x) => x.n),
    [2, 3, 5, 1],
  );
  assert.equal(q.length, 0);
  assert.equal(q.shift(), undefined);
});

test('a million items pushed, some deleted, all others shifted in order', { timeout: 30_000 }, () => {
  const q = new Fifo<{ n: number }>();
  const items = Array.from({ length: 1_000_000 }, (_, n) => ({ n }));
  for (const it of items) q.push(it);
  for (let n = 0; n < items.length; n += 3) q.delete(items[n]!);
  let expected = 1;
  for (let it = q.shift(); it !== undefined; it = q.shift()) {
    assert.equal(it.n, expected);
    expected += expected % 3 === 2 ? 2 : 1;
  }
  assert.equal(expected, 1_000_000, 'every item not deleted came out');
  assert.equal(q.length, 0);
});

test('a pool of one connection serves 50,000 waiters in order, and forgets those that gave up', { timeout: 60_000 }, async () => {
  let created = 0;
  const pool = new ConnectionPool<number>({ size: 1, acquireTimeoutMs: 60_000, create: async () => ++created, destroy: () => undefined });
  const first = await pool.acquire('first');
  const order: number[] = [];
  const aborts = Array.from({ length: 50_000 }, () => new AbortController());
  const waits = aborts.map((a, i) =>
    pool.acquire(`w${i}`, 60_000, a.signal).then(
      (lease) => {
        order.push(i);
        lease.release();
      },
      () => undefined,
    ),
  );
  for (let i = 0; i < aborts.length; i += 2) aborts[i]!.abort();
  assert.equal(pool.stats().waiting, 25_000);
  first.release();
  await Promise.all(waits);
  assert.deepEqual(
    order,
    Array.from({ length: 25_000 }, (_, k) => 2 * k + 1),
  );
  assert.equal(created, 1);
  pool.close();
});

test('items deleted behind one that stays first are let go, not kept by their slots', { timeout: 30_000 }, async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const q = new Fifo<object>();
  const first = {};
  q.push(first);
  const refs: Array<WeakRef<object>> = [];
  for (let i = 0; i < 5_000; i++) {
    const item = {};
    refs.push(new WeakRef(item));
    q.push(item);
    q.delete(item);
  }
  // A WeakRef made in this turn keeps its object alive until the turn ends.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const kept = refs.filter((r) => r.deref() !== undefined).length;
  assert.ok(kept <= 1_100, `${kept} of 5,000 deleted items still held`);
  assert.equal(q.length, 1);
  assert.equal(q.shift(), first);
});
