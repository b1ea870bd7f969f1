/**
 * Group commit of logged client writes: concurrent writes share one transaction, and one bad
 * write in a batch fails alone while the others are applied (each exactly once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';
import { spawnAgent } from './helpers/agents.js';

test('concurrent client writes are batched; a failing one fails alone', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE u (id INTEGER PRIMARY KEY, v VARCHAR)');
  await db.execute("INSERT INTO u VALUES (7, 'taken')");
  const agent = await spawnAgent(t, path);
  await agent.call('open');
  let batches = 0;
  for (let round = 0; round < 5 && batches === 0; round++) {
    const base = 1000 * (round + 1);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => agent.call('execute', { sql: 'INSERT INTO u VALUES (?, ?)', params: [i === 13 ? 7 : base + i, `r${round}`] })),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ i, e: r.reason as unknown }] : []));
    assert.equal(failed.length, 1, `round ${round}: ${failed.map((f) => String(f.e)).join('; ')}`);
    assert.equal(failed[0]!.i, 13);
    assert.ok(hasCode(failed[0]!.e, 'BOLT_SQL') && /Duplicate key|constraint/i.test((failed[0]!.e as Error).message));
    assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM u WHERE v = ?', [`r${round}`]), [{ n: 39 }]);
    batches = (db.stats().groupCommit as { batches: number }).batches;
  }
  assert.ok(batches > 0, 'some writes were committed in a batch');
  const logged = await db.query<{ n: number }>('SELECT count(*)::INTEGER AS n FROM bolt_requests WHERE auto');
  const rows = await db.query<{ n: number }>('SELECT count(*)::INTEGER AS n FROM u WHERE id >= 1000');
  assert.equal(logged[0]!.n, rows[0]!.n, 'one request-log row per applied write');
  await agent.call('close');
});

test('overlapping batches that update the same row: every increment applied once, no conflict reaches a caller', { timeout: 90_000 }, async (t) => {
  const path = join(tempDir(t), 'c.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)');
  await db.execute('INSERT INTO c VALUES (1, 0)');
  const agent = await spawnAgent(t, path);
  await agent.call('open');
  const before = (db.stats().groupCommit as { batches: number }).batches;
  // A batch runs its writes while the previous one commits, so a hot row conflicts between
  // them; the losing batch is re-run write by write with conflict retries. Sustained load from
  // 8 callers: when re-runs competed with a stream of new batches, their retries ran out.
  const CALLERS = 8;
  const EACH = 150;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      for (let i = 0; i < EACH; i++) await agent.call('execute', { sql: 'UPDATE c SET n = n + 1 WHERE id = 1' });
    }),
  );
  assert.deepEqual(await db.query('SELECT n FROM c'), [{ n: CALLERS * EACH }]);
  assert.ok((db.stats().groupCommit as { batches: number }).batches > before, 'some increments were committed in a batch');
  await agent.call('close');
});
