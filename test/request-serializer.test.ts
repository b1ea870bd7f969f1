/**
 * Copies of one request id never run at the same time on a host, even when the copy they
 * waited for failed (the request log then holds nothing that would stop the next ones), and a
 * failed copy leaves no rejected promise behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { RequestSerializer } from '../adapters/duckdb/request-serializer.js';

test('three copies of one id, the first failing: they run one at a time, in order', async () => {
  const s = new RequestSerializer();
  let running = 0;
  let most = 0;
  const order: string[] = [];
  const copy = (name: string, fail: boolean) =>
    s.run('id-1', async () => {
      running++;
      most = Math.max(most, running);
      order.push(`${name} start`);
      await nextTurn();
      order.push(`${name} end`);
      running--;
      if (fail) throw new Error(`${name} failed`);
      return name;
    });
  const results = await Promise.allSettled([copy('a', true), copy('b', false), copy('c', false), s.run('id-2', async () => 'other')]);
  assert.equal(most, 1, order.join(', '));
  assert.deepEqual(order, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
  );
});
