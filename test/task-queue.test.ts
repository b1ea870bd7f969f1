/**
 * The durable queue's state machine on every engine, through ConcurrentDatabase: a real DuckDB
 * file, a real SQLite file, and PostgreSQL when BOLT_TEST_PG_URL is set. Claims, fencing,
 * retries with backoff, dead letter, dedupe, cancel/retry, lease expiry, release, sequential
 * order.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { waitForValue } from './helpers/wait.js';
import { openDatabase } from '../storage/open-database.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { hasCode, type SerializedError } from '../core/errors.js';

const ERR: SerializedError = { name: 'TaskError', code: 'BOLT_TASK', message: 'boom', details: {} };

type Engine = 'duckdb' | 'sqlite' | 'postgres';
const PG = process.env.BOLT_TEST_PG_URL;

async function queue(t: TestContext, engine: Engine, backoff = { baseMs: 40, capMs: 80 }): Promise<TaskQueue> {
  const db = engine === 'postgres' ? await openDatabase(PG!) : await openDatabase(join(tempDir(t), 'q.db'), { engine });
  t.after(() => db.close());
  // PostgreSQL: one shared test database; the tests of this file run one at a time.
  if (engine === 'postgres') await db.execute('DROP TABLE IF EXISTS bolt_tasks, bolt_task_keys, bolt_task_deps');
  const q = new TaskQueue(db, { backoff, maxAttempts: 3 });
  await q.ensureSchema();
  await q.ensureSchema(); // idempotent
  return q;
}

function skip(engine: Engine): string | undefined {
  return engine === 'postgres' && !PG ? 'BOLT_TEST_PG_URL not set: start one with eval "$(scripts/pg-test-cluster.sh start)"' : undefined;
}

for (const engine of ['duckdb', 'sqlite', 'postgres'] as const) {
  test(`submit, claim, complete: results recorded once, fenced by owner and attempt [${engine}]`, { timeout: 30_000, skip: skip(engine) }, async (t) => {
    const q = await queue(t, engine);
    const a = await q.submit('echo', { n: 1 });
    const b = await q.submit('echo', { n: 2 });
    assert.equal((await q.get(a.id)).status, 'queued');
    const claimed = await q.claim('rt-1', ['echo'], 10, 10_000);
    assert.deepEqual(
      claimed.map((c) => c.id),
      [a.id, b.id],
    );
    assert.deepEqual(claimed[0]!.payload, { n: 1 });
    assert.equal(claimed[0]!.attempt, 1);
    const running = await q.get(a.id);
    assert.equal(running.status, 'running');
    assert.equal(running.leaseOwner, 'rt-1');
    assert.ok(running.leaseExpires! > Date.now());
    assert.deepEqual(await q.claim('rt-2', ['echo'], 10, 10_000), [], 'nothing left to claim while leases hold');

    const wrong = await q.complete('rt-2', [{ id: a.id, attempt: 1, result: 'stolen' }]);
    assert.equal(wrong.size, 0, 'another owner cannot complete it');
    const stale = await q.complete('rt-1', [{ id: a.id, attempt: 2, result: 'stale' }]);
    assert.equal(stale.size, 0, 'another attempt cannot complete it');
    const ok = await q.complete('rt-1', [
      { id: a.id, attempt: 1, result: { big: 10n, s: "it's" } },
      { id: b.id, attempt: 1, result: null },
    ]);
    assert.deepEqual([...ok].sort(), [a.id, b.id].sort());
    const done = await q.get(a.id);
    assert.equal(done.status, 'done');
    assert.deepEqual(done.result, { big: 10, s: "it's" });
    assert.equal(done.leaseOwner, null);
    assert.equal((await q.complete('rt-1', [{ id: a.id, attempt: 1, result: 'again' }])).size, 0, 'a done task is not completed twice');
    assert.deepEqual(await q.counts(), { queued: 0, running: 0, done: 2, failed: 0, dead: 0, cancelled: 0 });
  });

  test(
    `a batch of results is stored exactly, each fenced by its own attempt, across chunks [${engine}]`,
    { timeout: 60_000, skip: skip(engine) },
    async (t) => {
      const q = await queue(t, engine);
      // Texts an array literal or a CASE would have to escape (PostgreSQL binds the batch as arrays).
      const odd: unknown[] = [
        '',
        'NULL',
        'null',
        '"',
        '\\',
        '\\"',
        '{a,b}',
        ' , ',
        "it's",
        'tab\tnew\nline',
        'é 中 𝄞',
        '\u0000',
        { '"k"': ['{', '}', null] },
        -0.5,
        true,
      ];
      const n = 1_203; // more than one statement's chunk
      await q.submitMany(Array.from({ length: n }, (_, i) => ({ agent: 'echo', payload: i })));
      const claimed = await q.claim('rt', ['echo'], n, 60_000);
      assert.equal(claimed.length, n);
      const expected = new Map(claimed.map((c, i) => [c.id, { i, result: odd[i % odd.length] }]));
      // Every 7th completion names an attempt it does not hold: not recorded, the task stays running.
      const batch = claimed.map((c, i) => ({ id: c.id, attempt: i % 7 === 3 ? c.attempt + 1 : c.attempt, result: odd[i % odd.length] }));
      const applied = await q.complete('rt', batch.reverse());
      assert.equal(applied.size, claimed.filter((_, i) => i % 7 !== 3).length);
      for (const task of await q.list({ limit: 2_000 })) {
        const e = expected.get(task.id)!;
        if (e.i % 7 === 3) {
          assert.equal(task.status, 'running', `task ${task.id}`);
          assert.ok(!applied.has(task.id));
        } else {
          assert.equal(task.status, 'done', `task ${task.id}`);
          assert.deepEqual(task.result, e.result, `task ${task.id}`);
        }
      }
    },
  );

  test(`failures retry with backoff, then go dead; final failures go dead at once [${engine}]`, { timeout: 30_000, skip: skip(engine) }, async (t) => {
    // A first retry 1–2 s out: long enough that "not claimable yet" holds on a loaded machine.
    const q = await queue(t, engine, { baseMs: 2000, capMs: 2000 });
    const { id } = await q.submit('flaky', null, { maxAttempts: 2 });
    const [c1] = await q.claim('rt', ['flaky'], 1, 10_000);
    const f1 = await q.fail('rt', id, c1!.attempt, ERR);
    assert.equal(f1.status, 'failed');
    const failed = await q.get(id);
    assert.equal(failed.status, 'failed');
    assert.ok(failed.runAt >= Date.now() + 1 || failed.runAt > failed.updatedAt, 'retry is scheduled in the future');
    assert.deepEqual(failed.error, ERR);
    assert.deepEqual(await q.claim('rt', ['flaky'], 1, 10_000), [], 'not claimable before run_at');
    const [c2] = await waitForValue(
      'the retry to become claimable',
      () => q.claim('rt', ['flaky'], 1, 10_000),
      (r) => r.length === 1,
    );
    assert.equal(c2!.attempt, 2);
    const f2 = await q.fail('rt', id, 2, ERR);
    assert.equal(f2.status, 'dead');
    assert.equal((await q.get(id)).status, 'dead');

    const other = await q.submit('flaky', null, { maxAttempts: 5 });
    const [c3] = await q.claim('rt', ['flaky'], 1, 10_000);
    assert.equal(c3!.id, other.id);
    assert.equal((await q.fail('rt', other.id, 1, ERR, true)).status, 'dead', 'final: dead on the first attempt');
    assert.equal((await q.fail('rt', other.id, 1, ERR)).status, undefined, 'a second report is ignored');
  });

  test(`claims take priority first, then submission order, and only the agents asked for [${engine}]`, { timeout: 30_000, skip: skip(engine) }, async (t) => {
    const q = await queue(t, engine);
    const low = await q.submit('a', 1);
    const high = await q.submit('a', 2, { priority: 5 });
    const other = await q.submit('b', 3, { priority: 9 });
    const low2 = await q.submit('a', 4);
    const got = await q.claim('rt', ['a'], 10, 10_000);
    assert.deepEqual(
      got.map((g) => g.id),
      [high.id, low.id, low2.id],
    );
    assert.equal((await q.get(other.id)).status, 'queued');
    const delayed = await q.submit('b', 5, { delayMs: 60_000 });
    const gotB = await q.claim('rt', ['b'], 10, 10_000);
    assert.deepEqual(
      gotB.map((g) => g.id),
      [other.id],
      'a delayed task waits',
    );
    assert.equal((await q.get(delayed.id)).status, 'queued');
  });

  test(`dedupe keys: one task per key, also under concurrent submits [${engine}]`, { timeout: 30_000, skip: skip(engine) }, async (t) => {
    const q = await queue(t, engine);
    const first = await q.submit('echo', 1, { dedupeKey: 'k1' });
    const again = await q.submit('echo', 2, { dedupeKey: 'k1' });
    assert.equal(again.id, first.id);
    assert.equal(again.deduplicated, true);
    assert.equal(first.deduplicated, false);
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => q.submit('echo', i, { dedupeKey: 'k2' })));
    assert.equal(new Set(many.map((m) => m.id)).size, 1, 'all concurrent submits got the same task');
    assert.equal(many.filter((m) => !m.deduplicated).length, 1);
    const all = await q.list({ agent: 'echo' });
    assert.equal(all.length, 2);
    assert.equal((await q.get(first.id)).dedupeKey, 'k1');
    const batch = await q.submitMany([
      { agent: 'echo', payload: 'x' },
      { agent: 'echo', options: { dedupeKey: 'k1' } },
      { agent: 'echo', payload: 'y' },
    ]);
    assert.equal(batch[1]!.id, first.id);
    assert.ok(batch[0]!.id < batch[2]!.id);
    assert.deepEqual((await q.get(batch[2]!.id)).payload, 'y');
  });

  test(`cancel and retry (redrive) follow the state machine [${engine}]`, { timeout: 30_000, skip: skip(engine) }, async (t) => {
    const q = await queue(t, engine);
    const a = await q.submit('x', null);
    const c = await q.cancel(a.id);
    assert.equal(c.task.status, 'cancelled');
    assert.equal(c.wasRunningOn, null);
    await assert.rejects(q.cancel(a.id), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'));
    await assert.rejects(q.get(99_999), (e: unknown) => hasCode(e, 'BOLT_NOT_FOUND'));
    const r = await q.retry(a.id);
    assert.equal(r.status, 'queued');
    assert.equal(r.attempts, 0);
    await assert.rejects(q.retry(a.id), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'), 'a queued task cannot be redriven');
    const [claimed] = await q.claim('rt-9', ['x'], 1, 10_000);
    const running = await q.cancel(claimed!.id);
    assert.equal(running.wasRunningOn, 'rt-9', 'cancel names the runtime that must abort it');
    assert.deepEqual([running.task.leaseOwner, running.task.leaseExpires], [null, null], 'a cancelled task holds no lease');
    assert.equal((await q.renew('rt-9', 10_000)).has(claimed!.id), false, 'a cancelled task is no longer held');
    assert.equal((await q.complete('rt-9', [{ id: claimed!.id, attempt: 1, result: 1 }])).size, 0, 'its late result is discarded');
  });

  test(
    `a retried task starts without its old error, so one that then succeeds shows only its result [${engine}]`,
    { timeout: 30_000, skip: skip(engine) },
    async (t) => {
      const q = await queue(t, engine);
      const a = await q.submit('x', null, { maxAttempts: 1 });
      await q.claim('rt', ['x'], 1, 10_000);
      assert.equal((await q.fail('rt', a.id, 1, ERR)).status, 'dead');
      assert.equal((await q.get(a.id)).error?.message, 'boom');
      const redriven = await q.retry(a.id);
      assert.equal(redriven.error, null, 'retry clears the error');
      const [again] = await q.claim('rt', ['x'], 1, 10_000);
      await q.complete('rt', [{ id: a.id, attempt: again!.attempt, result: 'fine' }]);
      const done = await q.get(a.id);
      assert.equal(done.status, 'done');
      assert.equal(done.result, 'fine');
      assert.equal(done.error, null, 'no error left from the dead attempt');
    },
  );

  test(`expired leases are reclaimed (attempt counted) and the old owner is fenced out [${engine}]`, { timeout: 30_000, skip: skip(engine) }, async (t) => {
    const q = await queue(t, engine);
    const a = await q.submit('x', null, { maxAttempts: 2 });
    const [c1] = await q.claim('dead-runtime', ['x'], 1, 100);
    assert.deepEqual([...(await q.renew('dead-runtime', 100))], [a.id]);
    const reaped = await waitForValue(
      'the lease to expire',
      () => q.reapExpired(),
      (r) => r.length > 0,
    );
    assert.deepEqual(reaped, [{ id: a.id, agent: 'x', status: 'queued' }]);
    const [c2] = await q.claim('survivor', ['x'], 1, 10_000);
    assert.equal(c2!.attempt, c1!.attempt + 1);
    assert.equal((await q.complete('dead-runtime', [{ id: a.id, attempt: 1, result: 'late' }])).size, 0);
    assert.equal((await q.complete('survivor', [{ id: a.id, attempt: 2, result: 'ok' }])).size, 1);
    assert.equal((await q.get(a.id)).result, 'ok');

    const b = await q.submit('x', null, { maxAttempts: 1 });
    await q.claim('dead-runtime', ['x'], 1, 50);
    const reapedB = await waitForValue(
      'the lease to expire',
      () => q.reapExpired(),
      (r) => r.length > 0,
    );
    assert.deepEqual(reapedB, [{ id: b.id, agent: 'x', status: 'dead' }], 'out of attempts: dead, not looping');
  });

  test(`release gives claimed tasks back without counting the attempt [${engine}]`, { timeout: 30_000, skip: skip(engine) }, async (t) => {
    const q = await queue(t, engine);
    await q.submitMany(Array.from({ length: 5 }, (_, i) => ({ agent: 'x', payload: i })));
    const got = await q.claim('rt', ['x'], 5, 10_000);
    assert.equal(await q.release('other', got), 0, 'only the owner can release');
    assert.equal(await q.release('rt', got), 5);
    const again = await q.claim('rt', ['x'], 5, 10_000);
    assert.deepEqual(
      again.map((g) => g.attempt),
      [1, 1, 1, 1, 1],
    );
  });

  test(`sequential claims follow submission order and wait for a retrying head [${engine}]`, { timeout: 30_000, skip: skip(engine) }, async (t) => {
    const q = await queue(t, engine);
    const a = await q.submit('s', 'a');
    const b = await q.submit('s', 'b', { priority: 10 });
    const first = await q.claimNextInOrder('rt', ['s'], 10_000);
    assert.equal(first!.id, a.id, 'priority does not reorder the sequential mode');
    assert.equal(await q.claimNextInOrder('rt', ['s'], 10_000), undefined, 'one at a time');
    await q.fail('rt', a.id, 1, ERR);
    // b waits behind a, which waits for its retry: whatever comes next is a, never b.
    const retried = await waitForValue(
      'the head to become runnable',
      () => q.claimNextInOrder('rt', ['s'], 10_000),
      (r) => r !== undefined,
    );
    assert.equal(retried!.id, a.id);
    await q.complete('rt', [{ id: a.id, attempt: 2, result: null }]);
    assert.equal((await q.claimNextInOrder('rt', ['s'], 10_000))!.id, b.id);
    await q.complete('rt', [{ id: b.id, attempt: 1, result: null }]);
    const later = await q.submit('s', 'later', { delayMs: 60_000 });
    await q.submit('s', 'after');
    assert.equal(await q.claimNextInOrder('rt', ['s'], 10_000), undefined, 'a head that is not runnable yet blocks the tasks after it');
    assert.equal((await q.get(later.id)).status, 'queued');
  });

  test(`purge deletes old finished tasks and frees their dedupe keys [${engine}]`, { timeout: 30_000, skip: skip(engine) }, async (t) => {
    const q = await queue(t, engine);
    const done = await q.submit('p', 1, { dedupeKey: 'once' });
    const open = await q.submit('p', 2);
    const [c] = await q.claim('rt', ['p'], 1, 10_000);
    assert.equal(c!.id, done.id);
    await q.complete('rt', [{ id: done.id, attempt: 1, result: null }]);
    assert.deepEqual(await q.purge(60_000), { deleted: 0, kept: 0 }, 'not old enough');
    await assert.rejects(q.purge(0, ['queued']), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'));
    await waitForValue(
      'the finished task to age',
      () => q.purge(0),
      (n) => n.deleted === 1,
    );
    await assert.rejects(q.get(done.id), (e: unknown) => hasCode(e, 'BOLT_NOT_FOUND'));
    assert.equal((await q.get(open.id)).status, 'queued', 'unfinished tasks stay');
    const again = await q.submit('p', 3, { dedupeKey: 'once' });
    assert.equal(again.deduplicated, false, 'the purged key can be used again');
  });

  test(`a retry arriving while purge runs never leaves a live task without its dedupe key [${engine}]`, { timeout: 30_000, skip: skip(engine) }, async (t) => {
    const q = await queue(t, engine);
    const { id } = await q.submit('k', null, { dedupeKey: 'K', maxAttempts: 1 });
    const [c] = await q.claim('rt', ['k'], 1, 60_000);
    await q.fail('rt', id, c!.attempt, ERR);
    assert.equal((await q.get(id)).status, 'dead');
    // The retry runs right after the first transaction purge commits: purge used to delete the
    // keys in one transaction and the tasks in another, and a retry between them kept the task
    // and lost its key, so the next submit with that key made a second task.
    let transactions = 0;
    const db = q.db;
    const racing = new Proxy(db, {
      get(target, key) {
        const v = Reflect.get(target, key) as unknown;
        if (key !== 'transaction' || typeof v !== 'function') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        return async (...args: unknown[]) => {
          const r = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (++transactions === 1) await q.retry(id).catch(() => undefined);
          return r;
        };
      },
    });
    await new TaskQueue(racing).purge(0);
    const again = await q.submit('k', null, { dedupeKey: 'K' });
    const live = (await db.query(`SELECT id FROM bolt_tasks WHERE dedupe_key = 'K'`, [], { values: 'js' })).map((r) => Number(r.id));
    assert.ok(live.length <= 1, `tasks with key K: ${JSON.stringify(live)}`);
    if (live.length === 1) assert.equal(again.id, live[0], 'the submit found the live task by its key');
  });
}
