/**
 * Per-group limits, enforced in the claim on every engine: bad limits or groups store nothing;
 * a group with concurrency N never has more than N tasks claimed, a group with a rate never
 * starts more than it allows in a window; a limit set applies to the next claim; removed, the
 * group's tasks run as any other; sequential claims wait at a group's limit. Then two runtimes in separate processes × 8 agents share one
 * group of 60 tasks: at most 3 ran at once, and no second held more than 5 starts of a rate group.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { openDatabase } from '../storage/open-database.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import type { Task } from '../core/runtime/task.js';
import { hasCode } from '../core/errors.js';
import { PG_SKIP } from './helpers/pg.js';
import { freshLocation, freshQueue, type Engine } from './helpers/queue.js';
import { writeTestAgents } from './helpers/agents-fixture.js';
import { spawnChild, type Child } from './helpers/child.js';
import { BOLT_BIN, runBolt } from './helpers/cli.js';
import { waitForValue } from './helpers/wait.js';

const location = (t: TestContext, engine: Engine): Promise<string> => freshLocation(t, engine, 'bolt_groups');
const queue = (t: TestContext, engine: Engine): Promise<TaskQueue> => freshQueue(t, engine, 'bolt_groups');

const bad = (e: unknown): boolean => hasCode(e, 'BOLT_BAD_INPUT');

for (const engine of ['duckdb', 'sqlite', 'postgres'] as const) {
  const skip = engine === 'postgres' ? PG_SKIP : undefined;

  test(`group limits: concurrency and rate bound the claim; bad input stores nothing [${engine}]`, { timeout: 60_000, skip }, async (t) => {
    const q = await queue(t, engine);
    for (const limit of [
      {},
      { concurrency: 0 },
      { concurrency: -1 },
      { concurrency: 1.5 },
      { ratePerSecond: 0 },
      { ratePerSecond: Number.NaN },
      { ratePerSecond: -2 },
      { ratePerSecond: 1e-16 }, // its window overflowed PostgreSQL's BIGINT and stopped every claim
      { ratePerSecond: 1e-7 },
      { ratePerSecond: 2e6 },
      { concurrency: 2 ** 31 },
    ]) {
      await assert.rejects(q.setGroupLimit('g', limit), bad, JSON.stringify(limit));
    }
    await assert.rejects(q.setGroupLimit('', { concurrency: 1 }), bad);
    await assert.rejects(q.setGroupLimit('x'.repeat(201), { concurrency: 1 }), bad);
    await assert.rejects(q.submit('a', null, { group: '' }), bad);
    assert.deepEqual(await q.groupLimits(), [], 'nothing stored');
    assert.equal((await q.counts()).queued, 0);

    const g = (await q.submitMany(Array.from({ length: 8 }, () => ({ agent: 'a', options: { group: 'g' } })))).sort((x, y) => x.id - y.id);
    const free = await q.submit('a', null);
    await q.setGroupLimit('g', { concurrency: 3 });
    const first = await q.claim('rt-1', ['a'], 100, 60_000);
    assert.deepEqual(
      first.map((c) => c.id),
      [...g.slice(0, 3).map((x) => x.id), free.id].sort((a, b) => a - b),
      'three of the group, and the task of no group',
    );
    assert.deepEqual(await q.claim('rt-2', ['a'], 100, 60_000), [], 'the group is full for everyone');
    await q.complete('rt-1', [{ id: g[0]!.id, attempt: 1, result: null }]);
    assert.deepEqual(
      (await q.claim('rt-2', ['a'], 100, 60_000)).map((c) => c.id),
      [g[3]!.id],
      'one slot freed, one more claimed',
    );
    assert.deepEqual(await q.groupLimits(), [{ group: 'g', concurrency: 3, running: 3, queued: 4 }]);

    await q.setGroupLimit('g', { ratePerSecond: 2 });
    await q.complete(
      'rt-1',
      [1, 2].map((i) => ({ id: g[i]!.id, attempt: 1, result: null })),
    );
    await q.complete('rt-2', [{ id: g[3]!.id, attempt: 1, result: null }]);
    const burst = await q.claim('rt-1', ['a'], 100, 60_000);
    assert.equal(burst.length, 2, 'two starts per second');
    assert.deepEqual(await q.claim('rt-1', ['a'], 100, 60_000), [], 'no third start within the second');

    await q.removeGroupLimit('g');
    assert.equal((await q.claim('rt-1', ['a'], 100, 60_000)).length, 2, 'without limits the rest is claimed at once');
    await assert.rejects(q.removeGroupLimit('g'), (e: unknown) => hasCode(e, 'BOLT_NOT_FOUND'));
    assert.equal((await q.get(g[7]!.id)).group, 'g');
  });

  test(
    `a limited group whose claim fails (a limits row written by hand) does not stop the claim of other tasks [${engine}]`,
    { timeout: 60_000, skip },
    async (t) => {
      const q = await queue(t, engine);
      await q.setGroupLimit('slowest', { ratePerSecond: 1e-6 });
      // A rate no statement accepts; SQLite stores NaN as NULL, so it gets a negative concurrency.
      const nan = { duckdb: "'nan'::DOUBLE", postgres: "'NaN'::float8", sqlite: 'NULL' }[engine];
      await q.db.execute(`INSERT INTO bolt_groups VALUES ('broken', ${engine === 'sqlite' ? -5 : 'NULL'}, ${nan}, 0)`);
      const inBroken = await q.submit('a', null, { group: 'broken' });
      const slowest = [await q.submit('a', null, { group: 'slowest' }), await q.submit('a', null, { group: 'slowest' })];
      const free = await q.submit('a', null);
      const claimed = (await q.claim('rt', ['a'], 10, 60_000)).map((c) => c.id);
      assert.deepEqual(claimed, [slowest[0]!.id, free.id], "the free task and the slow group's one start, whatever the broken group does");
      assert.equal((await q.get(inBroken.id)).status, 'queued');
      assert.equal((await q.get(slowest[1]!.id)).status, 'queued', 'one start per 11.6 days');
    },
  );

  test(`sequential claims respect a group's rate: its head waits, and the tasks after it with it [${engine}]`, { timeout: 60_000, skip }, async (t) => {
    const q = await queue(t, engine);
    await q.setGroupLimit('slow', { ratePerSecond: 0.5 }); // one start per 2 s
    const a = await q.submit('a', null, { group: 'slow' });
    const b = await q.submit('a', null, { group: 'slow' });
    const c = await q.submit('a', null);
    const d = await q.submit('a', null, { group: 'unlimited' });
    assert.equal((await q.claimNextInOrder('rt', ['a'], 60_000))?.id, a.id);
    await q.complete('rt', [{ id: a.id, attempt: 1, result: null }]);
    assert.equal(await q.claimNextInOrder('rt', ['a'], 60_000), undefined, 'the group started one task in this window');
    assert.equal((await q.get(c.id)).status, 'queued', 'the task after it waits too (strict order)');
    await q.removeGroupLimit('slow');
    for (const next of [b, c, d]) {
      assert.equal((await q.claimNextInOrder('rt', ['a'], 60_000))?.id, next.id, 'in order once the limit is gone; a group without limits as any task');
      await q.complete('rt', [{ id: next.id, attempt: 1, result: null }]);
    }
  });
}

test('bolt limits set|list|remove and bolt submit --group; bad input is one line, exit 2, nothing created', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'q.db');
  const refused = await runBolt(['limits', 'set', 'g', '--concurrency', '0', '--db', db]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /^error \[BOLT_BAD_INPUT\]: --concurrency/m);
  const noRate = await runBolt(['limits', 'set', 'g', '--rate', 'fast', '--db', db]);
  assert.equal(noRate.code, 2);
  assert.match(noRate.stderr, /--rate takes starts per second/);
  const nothing = await runBolt(['limits', 'set', 'g', '--db', db]);
  assert.equal(nothing.code, 2);
  const { existsSync } = await import('node:fs');
  assert.equal(existsSync(db), false, 'no database created for bad input');
  const set = await runBolt(['limits', 'set', 'customer-42', '--concurrency', '3', '--rate', '30/min', '--db', db, '--json']);
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(JSON.parse(set.stdout), { group: 'customer-42', concurrency: 3, ratePerSecond: 0.5 });
  assert.equal((await runBolt(['submit', 'echo', '--group', 'customer-42', '--db', db])).code, 0);
  const list = JSON.parse((await runBolt(['limits', 'list', '--db', db, '--json'])).stdout) as { groups: unknown[] };
  assert.deepEqual(list.groups, [{ group: 'customer-42', concurrency: 3, ratePerSecond: 0.5, running: 0, queued: 1 }]);
  assert.equal((await runBolt(['limits', 'remove', 'customer-42', '--db', db])).code, 0);
  assert.match((await runBolt(['limits', 'list', '--db', db])).stdout, /no group limits/);
});

/** The most intervals [start, end) open at one moment. */
function maxOverlap(tasks: Task[]): number {
  const edges = tasks.flatMap((x) => [
    [x.startedAt!, 1],
    [x.finishedAt!, -1],
  ]);
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let open = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (open += d!));
  return most;
}

/** The most starts in any window of `ms`. */
function mostStartsIn(tasks: Task[], ms: number): number {
  const starts = tasks.map((x) => x.startedAt!).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i]! - starts[j]! >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

for (const engine of ['duckdb', 'postgres'] as const) {
  test(
    `two runtimes × 8 agents in separate processes: a group of 60 with concurrency 3 never ran more than 3 at once; one with 5/s never started more than 5 in a second [${engine}]`,
    { timeout: 150_000, skip: engine === 'postgres' ? PG_SKIP : undefined },
    async (t) => {
      const dir = tempDir(t);
      const db = await location(t, engine);
      const module = writeTestAgents(dir);
      const env = { BOLT_LEASE_MS: '5000', BOLT_HEARTBEAT_MS: '100', BOLT_POLL_MS: '20' };
      const start = (): Child =>
        spawnChild(t, process.execPath, [BOLT_BIN, 'start', '--agents', '8', '--agent-module', module, '--db', db, '--no-status'], { env });
      const runtimes = [start(), start()];
      for (const r of runtimes) await r.waitForLine('ready: ', 60_000);
      const handle = await openDatabase(db);
      t.after(() => handle.close());
      const q = new TaskQueue(handle);
      await q.setGroupLimit('three', { concurrency: 3 });
      await q.setGroupLimit('five', { ratePerSecond: 5 });
      const three = await q.submitMany(Array.from({ length: 60 }, () => ({ agent: 'slow', payload: { ms: 50 }, options: { group: 'three' } })));
      const five = await q.submitMany(Array.from({ length: 20 }, () => ({ agent: 'slow', payload: { ms: 10 }, options: { group: 'five' } })));
      const other = await q.submitMany(Array.from({ length: 40 }, () => ({ agent: 'slow', payload: { ms: 50 } })));
      const all = [...three, ...five, ...other].map((x) => x.id);
      const done = await waitForValue(
        'every task done',
        async () => Promise.all(all.map((id) => q.get(id))),
        (ts) => ts.every((x) => x.status === 'done'),
        { timeoutMs: 120_000, everyMs: 250 },
      );
      const inGroup = (g: string) => done.filter((x) => x.group === g);
      const pids = new Set(done.map((x) => (x.result as { pid: number }).pid));
      assert.equal(pids.size, 2, 'both runtimes ran tasks');
      assert.equal(maxOverlap(inGroup('three')), 3, 'at most (and, with 16 agents, exactly) 3 at once');
      assert.ok(mostStartsIn(inGroup('five'), 1000) <= 5, `at most 5 starts in any second: ${mostStartsIn(inGroup('five'), 1000)}`);
      assert.ok(maxOverlap(done.filter((x) => x.group === null)) > 3, 'tasks of no group were not held back');
    },
  );
}
