/**
 * Types survive the wire: for every DuckDB type (and NULLs), a query through a client (another
 * process, and a worker thread) returns exactly what the same query returns in-process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { tempDir } from './helpers/tmp.js';
import { spawnAgent, spawnWorkerAgent } from './helpers/agents.js';
import { TYPE_QUERIES, TYPE_SETUP } from './fixtures/type-queries.js';

test('every type: client results deep-equal in-process results', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  for (const sql of TYPE_SETUP) await db.execute(sql);
  const proc = await spawnAgent(t, path);
  const worker = await spawnWorkerAgent(t, path);
  await proc.call('open');
  await worker.call('open');
  for (const sql of TYPE_QUERIES) {
    const local = await db.query(sql);
    assert.ok(local.length > 0);
    assert.deepStrictEqual(await proc.call('query', { sql }), local, sql);
    assert.deepStrictEqual(await worker.call('query', { sql }), local, sql);
  }
  // Spot checks of the documented mapping (README.md, "Types").
  const [r1, r2, r3, r4] = await db.query('SELECT * FROM typed ORDER BY i');
  assert.equal(r1!.bi, 9223372036854775807n);
  assert.equal(r1!.hi, -170141183460469231731687303715884105727n);
  assert.equal(r1!.ubi, 18446744073709551615n);
  assert.equal(r1!.dec, '123456789012345.678');
  assert.equal(r2!.dec, '-0.001');
  assert.ok(Number.isNaN(r1!.dbl));
  assert.equal(r2!.dbl, Infinity);
  assert.equal(r3!.dbl, -Infinity);
  assert.equal(r1!.s, 'héllo 🌍 中文');
  assert.deepEqual(r1!.b, new Uint8Array([0, 255]));
  assert.equal(r1!.bo, true);
  assert.equal(r1!.d, '2024-02-29');
  assert.equal(r1!.tm, '13:14:15.123456');
  assert.equal(r1!.ts, '2024-01-02 03:04:05.678');
  assert.equal(r1!.tstz, '2024-01-02 01:04:05.678+00');
  assert.equal(r2!.tstz, '1999-12-31 23:59:59.999999+00');
  assert.equal(r1!.iv, '1 year 2 days 00:00:03');
  assert.equal(r2!.iv, '-00:05:00');
  assert.equal(r1!.u, '550e8400-e29b-41d4-a716-446655440000');
  assert.equal(r1!.e, 'happy');
  assert.deepEqual(r1!.l, [1, 2, null]);
  assert.deepEqual(r1!.arr, [1.5, 2.5, 3.5]);
  assert.deepEqual(r1!.st, { a: 1, b: 'x' });
  assert.deepEqual(r1!.m, [
    { key: 'k1', value: 1 },
    { key: 'k2', value: null },
  ]);
  assert.deepEqual(r1!.un, { tag: 'num', value: 2 });
  assert.deepEqual(r2!.un, { tag: 'str', value: 'x' });
  for (const [k, v] of Object.entries(r4!)) if (k !== 'i') assert.equal(v, null, k);

  // Parameters: JS values bind and round-trip through a client too.
  const params = [1n << 62n, 'ü\u0000z', new Uint8Array([1, 2]), true, null, 1.25, new Date('2020-05-06T07:08:09.010Z'), [1, 2], { a: 1 }];
  const sql = 'SELECT ?::BIGINT AS a, ? AS b, ? AS c, ? AS d, ? AS e, ? AS f, ? AS g, ? AS h, ? AS i';
  const local = await db.query(sql, params);
  assert.deepStrictEqual(await proc.call('query', { sql, params }), local);
  assert.deepEqual(local[0], {
    a: 1n << 62n,
    b: 'ü\u0000z',
    c: new Uint8Array([1, 2]),
    d: true,
    e: null,
    f: 1.25,
    g: '2020-05-06 07:08:09.01',
    h: [1, 2],
    i: { a: 1 },
  });
  await proc.call('close');
  await worker.call('close');
});
