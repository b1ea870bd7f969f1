/**
 * The host's connection pool: bounded, FIFO waiters, BOLT_POOL_TIMEOUT naming the holders,
 * statistics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode, type BoltError } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';

test('a full pool times out with BOLT_POOL_TIMEOUT listing who holds connections', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'), { maxConnections: 2, connectionTimeoutMs: 300 });
  t.after(() => db.close());
  const a = await db.session({ name: 'holder-a' });
  const b = await db.session({ name: 'holder-b' });
  const started = Date.now();
  const err = await db.query('SELECT 1').then(
    () => undefined,
    (e: unknown) => e as BoltError,
  );
  assert.ok(err && hasCode(err, 'BOLT_POOL_TIMEOUT'), String(err));
  assert.ok(Date.now() - started >= 250);
  assert.match(err.message, /holder-a for \d+ ms/);
  assert.match(err.message, /holder-b for \d+ ms/);
  assert.deepEqual((err.details.holders as Array<{ session: string }>).map((h) => h.session).sort(), ['holder-a', 'holder-b']);
  const st = db.stats();
  assert.equal(st.pool.size, 2);
  assert.equal(st.pool.inUse, 2);
  assert.equal(st.errorsByCode.BOLT_POOL_TIMEOUT, 1);
  await a.close();
  assert.deepEqual(await db.query('SELECT 1 AS x'), [{ x: 1 }]);
  await b.close();
});

test('waiters are served first come, first served', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'), { maxConnections: 1, connectionTimeoutMs: 20_000 });
  t.after(() => db.close());
  const holder = await db.session({ name: 'holder' });
  const order: number[] = [];
  const waits = Array.from({ length: 6 }, (_, i) => db.query('SELECT ? AS i', [i]).then(() => order.push(i)));
  // All six are queued behind the holder.
  const end = Date.now() + 10_000;
  while (db.stats().pool.waiting < 6) {
    if (Date.now() > end) throw new Error('waiters did not queue');
    await new Promise((r) => setTimeout(r, 5));
  }
  await holder.close();
  await Promise.all(waits);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  const st = db.stats().pool;
  assert.equal(st.waiting, 0);
  assert.ok(st.waitMs.max > 0);
  assert.ok(st.waitMs.p99 >= st.waitMs.p50);
});

test('BOLT_POOL_TIMEOUT (ms) sets the default wait', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'a.db');
  // A child process with the env var: its own pool of 1, held by a session, times out fast.
  const script = `
    import { ConcurrentDatabase } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)};
    const db = await ConcurrentDatabase.open(${JSON.stringify(path)}, { maxConnections: 1 });
    const s = await db.session({ name: 'hog' });
    const t0 = Date.now();
    try { await db.query('SELECT 1'); console.log('no-timeout'); }
    catch (e) { console.log(e.code, Date.now() - t0); }
    await s.close(); await db.close();
  `;
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, BOLT_POOL_TIMEOUT: '150' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const [code, ms] = r.stdout.trim().split(' ');
  assert.equal(code, 'BOLT_POOL_TIMEOUT', r.stdout + r.stderr);
  assert.ok(Number(ms) >= 140 && Number(ms) < 5_000, `waited ${ms} ms`);
});
