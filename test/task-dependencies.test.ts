/**
 * Dependencies between tasks (`dependsOn`) on every engine: a dependant runs only after all its
 * parents are done and sees their results; one parent ending dead or cancelled cancels it (and
 * its own dependants) with the reason; bad ids store nothing; a crash between a parent's end and
 * its dependants' update is repaired by the heartbeat. Then a diamond run by two real runtimes
 * in separate processes, one SIGKILLed while it runs the root.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { openDatabase } from '../storage/open-database.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import type { Database } from '../core/database.js';
import { hasCode, type SerializedError } from '../core/errors.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';
import { startedMarkers, writeTestAgents } from './helpers/agents-fixture.js';
import { spawnChild, type Child } from './helpers/child.js';
import { BOLT_BIN, runBolt } from './helpers/cli.js';
import { waitForValue } from './helpers/wait.js';

type Engine = 'duckdb' | 'sqlite' | 'postgres';
const ERR: SerializedError = { name: 'TaskError', code: 'BOLT_TASK', message: 'boom', details: {} };

async function open(t: TestContext, engine: Engine): Promise<Database> {
  const db = engine === 'postgres' ? await openDatabase((await freshPgDatabase(t, 'bolt_deps')).tcp) : await openDatabase(join(tempDir(t), 'q.db'), { engine });
  t.after(() => db.close());
  return db;
}

/** A fresh queue on `engine` (one attempt per task), and the database under it. */
async function openQueue(t: TestContext, engine: Engine): Promise<{ db: Database; q: TaskQueue }> {
  const db = await open(t, engine);
  const q = new TaskQueue(db, { backoff: { baseMs: 10, capMs: 20 }, maxAttempts: 1 });
  await q.ensureSchema();
  return { db, q };
}

async function queue(t: TestContext, engine: Engine): Promise<TaskQueue> {
  return (await openQueue(t, engine)).q;
}

const claimIds = async (q: TaskQueue): Promise<number[]> => (await q.claim('rt', ['a', 'b', 'c', 'd'], 100, 60_000)).map((c) => c.id);

for (const engine of ['duckdb', 'sqlite', 'postgres'] as const) {
  const skip = engine === 'postgres' ? PG_SKIP : undefined;

  test(`a diamond runs in order, each dependant seeing its parents' results [${engine}]`, { timeout: 60_000, skip }, async (t) => {
    const q = await queue(t, engine);
    const a = (await q.submit('a', { n: 1 })).id;
    const b = (await q.submit('b', null, { dependsOn: [a] })).id;
    const c = (await q.submit('c', null, { dependsOn: [a, a] })).id;
    const d = (await q.submit('d', null, { dependsOn: [c, b] })).id;
    assert.deepEqual((await q.get(d)).waitingOn, 2);
    assert.deepEqual(await claimIds(q), [a], 'only the root is claimable');
    await q.complete('rt', [{ id: a, attempt: 1, result: { from: 'a' } }]);
    const bc = await q.claim('rt', ['b', 'c', 'd'], 100, 60_000);
    assert.deepEqual(
      bc.map((x) => x.id),
      [b, c],
    );
    assert.deepEqual(bc[0]!.parents, [{ id: a, agent: 'a', result: { from: 'a' } }]);
    await q.complete('rt', [{ id: b, attempt: 1, result: 'B' }]);
    assert.equal((await q.get(d)).waitingOn, 1);
    assert.deepEqual(await claimIds(q), [], 'd waits for c');
    await q.complete('rt', [{ id: c, attempt: 1, result: 'C' }]);
    const [claimedD] = await q.claim('rt', ['d'], 10, 60_000);
    assert.equal(claimedD?.id, d);
    assert.deepEqual(claimedD!.parents, [
      { id: b, agent: 'b', result: 'B' },
      { id: c, agent: 'c', result: 'C' },
    ]);
    assert.deepEqual(await q.graph(d), {
      parents: [
        { id: b, agent: 'b', status: 'done' },
        { id: c, agent: 'c', status: 'done' },
      ],
      dependants: [],
    });
    assert.deepEqual(
      (await q.graph(a)).dependants.map((x) => x.id),
      [b, c],
    );
  });

  test(`a parent that ends dead or cancelled cancels its dependants, down the graph [${engine}]`, { timeout: 60_000, skip }, async (t) => {
    const q = await queue(t, engine);
    const root = (await q.submit('a', null)).id;
    const child = (await q.submit('b', null, { dependsOn: [root] })).id;
    const grandchild = (await q.submit('c', null, { dependsOn: [child] })).id;
    await q.cancel(root);
    for (const id of [child, grandchild]) {
      const task = await q.get(id);
      assert.equal(task.status, 'cancelled', `task ${id}`);
      assert.match(task.error!.message, /depends on, ended cancelled/);
    }
    assert.equal((await q.get(child)).error!.details.parent, root);

    const dying = (await q.submit('a', null)).id;
    const orphan = (await q.submit('b', null, { dependsOn: [dying] })).id;
    const [claimed] = await q.claim('rt', ['a'], 1, 60_000);
    assert.equal(claimed?.id, dying);
    assert.equal((await q.fail('rt', dying, 1, ERR)).status, 'dead');
    assert.equal((await q.get(orphan)).status, 'cancelled');
    assert.match((await q.get(orphan)).error!.message, new RegExp(`Task ${dying}, which this task depends on, ended dead`));

    const late = (await q.submit('b', null, { dependsOn: [dying] })).id;
    assert.equal((await q.get(late)).status, 'cancelled', 'a task submitted after its parent died is cancelled at once');
    assert.deepEqual(await claimIds(q), []);
  });

  test(`dependsOn with ids that name no task, or are not ids, stores nothing [${engine}]`, { timeout: 60_000, skip }, async (t) => {
    const q = await queue(t, engine);
    const real = (await q.submit('a', null)).id;
    const before = await q.counts();
    for (const dependsOn of [[real, 999_999], [0], [1.5], ['1'], [-3], 'x', Array.from({ length: 1001 }, (_, i) => i + 1)] as unknown[]) {
      await assert.rejects(
        q.submit('b', null, { dependsOn: dependsOn as number[] }),
        (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'),
        JSON.stringify(dependsOn).slice(0, 40),
      );
    }
    await assert.rejects(q.submitMany([{ agent: 'b', options: { dependsOn: [999_999] } }]), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'));
    assert.deepEqual(await q.counts(), before, 'nothing stored');
    assert.deepEqual(await q.graph(real), { parents: [], dependants: [] }, 'no edge stored');
    assert.equal((await q.get(real)).status, 'queued');
    const none = (await q.submit('b', null, { dependsOn: [] })).id;
    assert.equal((await q.get(none)).waitingOn, 0, 'an empty list is no dependency');
  });

  test(
    `a parent finished without its dependants' update (a crash between) is repaired by settleDependants [${engine}]`,
    { timeout: 60_000, skip },
    async (t) => {
      const { db, q } = await openQueue(t, engine);
      const done = (await q.submit('a', null)).id;
      const dead = (await q.submit('a', null)).id;
      const waits = (await q.submit('b', null, { dependsOn: [done] })).id;
      const doomed = (await q.submit('b', null, { dependsOn: [dead] })).id;
      // What a runtime killed right after recording the outcomes leaves.
      await db.execute(`UPDATE bolt_tasks SET status = 'done', result = '1' WHERE id = ?`, [done]);
      await db.execute(`UPDATE bolt_tasks SET status = 'dead' WHERE id = ?`, [dead]);
      assert.deepEqual(await claimIds(q), []);
      assert.equal(await q.settleDependants(), 2);
      assert.equal((await q.get(doomed)).status, 'cancelled');
      assert.deepEqual(await claimIds(q), [waits]);
      assert.equal(await q.settleDependants(), 0, 'nothing left to settle');
    },
  );

  test(
    `retrying a dependant whose parent ended dead or cancelled, or is gone, is refused naming it, and changes nothing [${engine}]`,
    { timeout: 60_000, skip },
    async (t) => {
      const { db, q } = await openQueue(t, engine);
      const parent = (await q.submit('a', null)).id;
      const child = (await q.submit('b', null, { dependsOn: [parent] })).id;
      await q.cancel(parent);
      const before = await q.get(child);
      assert.equal(before.status, 'cancelled');
      await assert.rejects(q.retry(child), (e: unknown) => {
        assert.ok(hasCode(e, 'BOLT_BAD_INPUT'));
        assert.equal((e as Error).message, `Task ${child} cannot be retried: it depends on task ${parent}, which ended cancelled; retry it first`);
        assert.deepEqual((e as { details: unknown }).details, { id: child, parents: [{ id: parent, status: 'cancelled' }], missing: 0 });
        return true;
      });
      assert.deepEqual(await q.get(child), before, 'nothing changed');
      // Retried in order, it waits for its parent and then runs with its result.
      await q.retry(parent);
      const again = await q.retry(child);
      assert.equal(again.status, 'queued');
      assert.equal(again.waitingOn, 1);
      assert.equal(again.error, null);
      assert.deepEqual(await claimIds(q), [parent]);
      await q.complete('rt', [{ id: parent, attempt: 1, result: 'P' }]);
      const [c] = await q.claim('rt', ['b'], 1, 60_000);
      assert.equal(c?.id, child);
      assert.deepEqual(c!.parents, [{ id: parent, agent: 'a', result: 'P' }]);

      // Two parents, one dead: named, with its status; a parent gone is named too.
      const ok = (await q.submit('a', null)).id;
      const dies = (await q.submit('c', null)).id;
      const both = (await q.submit('b', null, { dependsOn: [ok, dies] })).id;
      const [d] = await q.claim('rt', ['c'], 1, 60_000);
      assert.equal(d?.id, dies);
      await q.fail('rt', dies, 1, ERR);
      assert.equal((await q.get(both)).status, 'cancelled');
      await db.execute(`DELETE FROM bolt_tasks WHERE id = ?`, [ok]);
      await assert.rejects(q.retry(both), (e: unknown) => {
        assert.ok(hasCode(e, 'BOLT_BAD_INPUT'));
        assert.match(
          (e as Error).message,
          new RegExp(`task ${ok}, which no longer exists \\(purged or deleted\\), task ${dies}, which ended dead; without that result`),
        );
        return true;
      });
      assert.equal((await q.get(both)).status, 'cancelled');
      assert.deepEqual(await claimIds(q), []);
    },
  );

  test(
    `a parent whose row is gone counts as cancelled, never as done: its dependants end cancelled, never run without it [${engine}]`,
    { timeout: 60_000, skip },
    async (t) => {
      const { db, q } = await openQueue(t, engine);
      const finish = async (id: number, result: unknown) => {
        const [c] = await q.claim('rt', ['a'], 1, 60_000);
        assert.equal(c?.id, id);
        await q.complete('rt', [{ id, attempt: 1, result }]);
      };
      // Waiting: one parent done and then deleted by hand, the other finishing after.
      const gone = (await q.submit('a', null)).id;
      const other = (await q.submit('a', null)).id;
      const waits = (await q.submit('b', null, { dependsOn: [gone, other] })).id;
      await finish(gone, 'lost');
      await db.execute(`DELETE FROM bolt_tasks WHERE id = ?`, [gone]);
      await finish(other, 'kept');
      assert.equal((await q.get(waits)).waitingOn, 1, 'the missing parent is not counted done');
      assert.deepEqual(await claimIds(q), []);
      // Released already: its only parent deleted between the release and the claim.
      const parent = (await q.submit('a', null)).id;
      const released = (await q.submit('c', null, { dependsOn: [parent] })).id;
      await finish(parent, 'soon gone');
      assert.equal((await q.get(released)).waitingOn, 0);
      await db.execute(`DELETE FROM bolt_tasks WHERE id = ?`, [parent]);
      assert.deepEqual(await claimIds(q), [], 'the claim gives it back instead of running it without its parent');
      const back = await q.get(released);
      assert.equal(back.status, 'queued');
      assert.equal(back.attempts, 0, 'the attempt is not counted');
      assert.equal(back.waitingOn, 1);
      // Its edge deleted by hand too: the parent cannot even be named.
      const edgeless = (await q.submit('a', null)).id;
      const nameless = (await q.submit('d', null, { dependsOn: [edgeless] })).id;
      await db.execute(`DELETE FROM bolt_task_deps WHERE task_id = ?`, [nameless]);
      await db.execute(`DELETE FROM bolt_tasks WHERE id = ?`, [edgeless]);

      assert.equal(await q.settleDependants(), 3);
      for (const [id, parentId] of [
        [waits, gone],
        [released, parent],
        [nameless, null],
      ] as const) {
        const task = await q.get(id);
        assert.equal(task.status, 'cancelled', `task ${id}`);
        assert.deepEqual(task.error!.details, { parent: parentId, parentStatus: 'missing' });
        assert.match(task.error!.message, /no longer exists \(it was purged or deleted\)/);
      }
      assert.deepEqual(await claimIds(q), []);
      assert.equal(await q.settleDependants(), 0, 'nothing left to settle');
      // `bolt task` names a parent that is gone, as missing.
      assert.deepEqual((await q.graph(waits)).parents, [
        { id: gone, agent: '?', status: 'missing' },
        { id: other, agent: 'a', status: 'done' },
      ]);
    },
  );
}

/** Resolves once the clock is past `at` (so `purge(0)` counts a task finished at `at` as old). */
const clockPast = (at: number) =>
  waitForValue(
    `the clock to pass ${at}`,
    () => Date.now(),
    (now) => now > at,
  );

for (const engine of ['duckdb', 'sqlite', 'postgres'] as const) {
  const skip = engine === 'postgres' ? PG_SKIP : undefined;

  test(
    `purge keeps a finished task that unfinished tasks depend on, and deletes it with its edges once they finish [${engine}]`,
    { timeout: 60_000, skip },
    async (t) => {
      const { db, q } = await openQueue(t, engine);
      const first = (await q.submit('a', 'E', { dedupeKey: 'first' })).id;
      const second = (await q.submit('b', null)).id;
      const child = (await q.submit('c', null, { dependsOn: [first, second] })).id;
      await q.claim('rt', ['a'], 1, 60_000);
      await q.complete('rt', [{ id: first, attempt: 1, result: 'from first' }]);
      await q.claim('rt', ['b'], 1, 60_000); // running
      await clockPast((await q.get(first)).finishedAt!);
      assert.deepEqual(await q.purge(0, ['done']), { deleted: 0, kept: 1 });
      assert.equal((await q.get(first)).status, 'done', 'kept: its dependant has not run yet');
      assert.deepEqual(await q.submit('a', 'again', { dedupeKey: 'first' }), { id: first, deduplicated: true }, 'with its dedupe key');
      await q.complete('rt', [{ id: second, attempt: 1, result: 'from second' }]);
      const [c] = await q.claim('rt', ['c'], 1, 60_000);
      assert.equal(c?.id, child);
      assert.deepEqual(c!.parents, [
        { id: first, agent: 'a', result: 'from first' },
        { id: second, agent: 'b', result: 'from second' },
      ]);
      await clockPast((await q.get(second)).finishedAt!);
      assert.deepEqual(await q.purge(0), { deleted: 0, kept: 2 }, 'a running dependant needs its parents too (it may be retried)');
      await q.complete('rt', [{ id: child, attempt: 1, result: null }]);
      await clockPast((await q.get(child)).finishedAt!);
      assert.deepEqual(await q.purge(0), { deleted: 3, kept: 0 });
      assert.deepEqual(await db.query('SELECT task_id FROM bolt_task_deps'), [], 'their edges went with them');
      assert.deepEqual(await db.query('SELECT task_id FROM bolt_task_keys'), []);
    },
  );

  test(
    `purge keeps a cancelled parent while a dependant still waits on it; the dependant ends cancelled, never runs [${engine}]`,
    { timeout: 60_000, skip },
    async (t) => {
      const { db, q } = await openQueue(t, engine);
      const parent = (await q.submit('a', null)).id;
      const child = (await q.submit('b', null, { dependsOn: [parent] })).id;
      // Cancelled by a process that died before cancelling its dependants (the heartbeat's job).
      const at = Date.now();
      await db.execute(`UPDATE bolt_tasks SET status = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ?`, [at, at, parent]);
      await clockPast(at);
      assert.deepEqual(await q.purge(0, ['cancelled']), { deleted: 0, kept: 1 });
      assert.equal(await q.settleDependants(), 1);
      const cancelled = await q.get(child);
      assert.equal(cancelled.status, 'cancelled');
      assert.deepEqual(cancelled.error!.details, { parent, parentStatus: 'cancelled' });
      assert.deepEqual(await claimIds(q), []);
      await clockPast(cancelled.finishedAt!);
      assert.deepEqual(await q.purge(0, ['cancelled']), { deleted: 2, kept: 0 });
    },
  );

  test(
    `a parent purged once its dependants finished takes its edges along; retrying such a dependant is refused [${engine}]`,
    { timeout: 60_000, skip },
    async (t) => {
      const { db, q } = await openQueue(t, engine);
      const parent = (await q.submit('a', null)).id;
      const child = (await q.submit('b', null, { dependsOn: [parent] })).id;
      await q.claim('rt', ['a'], 1, 60_000);
      await q.complete('rt', [{ id: parent, attempt: 1, result: 1 }]);
      await q.cancel(child);
      await clockPast((await q.get(parent)).finishedAt!);
      assert.deepEqual(await q.purge(0, ['done']), { deleted: 1, kept: 0 });
      assert.deepEqual(await db.query('SELECT task_id FROM bolt_task_deps'), [], 'no edge left pointing at the purged parent');
      assert.deepEqual(await q.graph(child), { parents: [], dependants: [] });
      await assert.rejects(q.retry(child), (e: unknown) => {
        assert.ok(hasCode(e, 'BOLT_BAD_INPUT'));
        assert.equal(
          (e as Error).message,
          `Task ${child} cannot be retried: it depends on 1 task that no longer exists (purged or deleted); without that result it cannot run again`,
        );
        return true;
      });
      assert.equal((await q.get(child)).status, 'cancelled');
    },
  );
}

const OLD_COLUMNS =
  'agent TEXT NOT NULL, payload TEXT, status TEXT NOT NULL, priority INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 3, timeout_ms BIGINT, dedupe_key TEXT, run_at BIGINT NOT NULL, lease_owner TEXT, lease_expires BIGINT, result TEXT, error TEXT, created_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT, updated_at BIGINT NOT NULL';
const OLD_ID: Record<Engine, string> = {
  duckdb: "id BIGINT PRIMARY KEY DEFAULT nextval('bolt_tasks_seq')",
  sqlite: 'id INTEGER PRIMARY KEY AUTOINCREMENT',
  postgres: 'id BIGSERIAL PRIMARY KEY',
};

for (const engine of ['duckdb', 'sqlite', 'postgres'] as const) {
  test(
    `a queue made before dependencies gets their columns at ensureSchema (two at once), and keeps its tasks [${engine}]`,
    { timeout: 60_000, skip: engine === 'postgres' ? PG_SKIP : undefined },
    async (t) => {
      const db = await open(t, engine);
      if (engine === 'duckdb') await db.execute('CREATE SEQUENCE bolt_tasks_seq');
      await db.execute(`CREATE TABLE bolt_tasks (${OLD_ID[engine]}, ${OLD_COLUMNS})`);
      await db.execute("INSERT INTO bolt_tasks (agent, payload, status, run_at, created_at, updated_at) VALUES ('a', 'null', 'queued', 0, 0, 0)");
      const q = new TaskQueue(db);
      await Promise.all([q.ensureSchema(), new TaskQueue(db).ensureSchema()]);
      const [old] = await q.list();
      assert.equal(old?.waitingOn, 0);
      const child = (await q.submit('b', null, { dependsOn: [old!.id] })).id;
      assert.equal((await q.get(child)).waitingOn, 1);
      assert.deepEqual(await claimIds(q), [old!.id]);
    },
  );
}

/** Task id → how many times the `join` agent started it (its marker files). */
const starts = (dir: string): Map<number, number> => new Map([...startedMarkers(dir)].map(([id, pids]) => [id, pids.filter(Boolean).length]));

for (const engine of ['duckdb', 'postgres'] as const) {
  test(
    `a diamond across two runtimes in separate processes, the root's runtime SIGKILLed mid-run: the root is retried, the others run once each [${engine}]`,
    { timeout: 150_000, skip: engine === 'postgres' ? PG_SKIP : undefined },
    async (t) => {
      const dir = tempDir(t);
      const location = engine === 'postgres' ? (await freshPgDatabase(t, 'bolt_deps_rt')).tcp : join(dir, 'q.db');
      const module = writeTestAgents(dir);
      const env = { BOLT_LEASE_MS: '1500', BOLT_HEARTBEAT_MS: '100', BOLT_POLL_MS: '20', BOLT_PREFETCH: '0' };
      const start = (): Child =>
        spawnChild(t, process.execPath, [BOLT_BIN, 'start', '--agents', '2', '--agent-module', module, '--db', location, '--no-status'], { env });
      const first = start();
      await first.waitForLine('ready: ', 60_000);
      const db = await openDatabase(location);
      t.after(() => db.close());
      const q = new TaskQueue(db);
      const marker = join(dir, 'started');
      const gate = join(dir, 'gate');
      const payload = (tag: string, extra: object = {}) => ({ tag, marker, ms: 10, ...extra });
      // The root waits on a gate that never opens, so its first runtime is running it when killed.
      const a = (await q.submit('join', payload('A', { gate }), { maxAttempts: 3 })).id;
      const b = (await q.submit('join', payload('B'), { dependsOn: [a] })).id;
      const c = (await q.submit('join', payload('C'), { dependsOn: [a] })).id;
      const d = (await q.submit('join', payload('D'), { dependsOn: [b, c] })).id;
      await waitForValue(
        'the root started',
        () => starts(dir).get(a) ?? 0,
        (n) => n === 1,
        { timeoutMs: 60_000 },
      );
      const second = start();
      await second.waitForLine('ready: ', 60_000);
      first.child.kill('SIGKILL');
      await first.exited;
      // Let the retried root finish.
      const { writeFileSync } = await import('node:fs');
      writeFileSync(gate, '');
      const finished = await waitForValue(
        'every task done',
        async () => Promise.all([a, b, c, d].map((id) => q.get(id))),
        (ts) => ts.every((x) => x.status === 'done'),
        { timeoutMs: 90_000 },
      );
      const runs = starts(dir);
      assert.equal(runs.get(a), 2, 'the root ran again after its runtime died');
      for (const id of [b, c, d]) assert.equal(runs.get(id), 1, `task ${id} ran once`);
      const [, tb, tc, td] = finished;
      assert.ok(tb!.startedAt! >= finished[0]!.finishedAt! && tc!.startedAt! >= finished[0]!.finishedAt!, 'B and C started after A finished');
      assert.ok(td!.startedAt! >= Math.max(tb!.finishedAt!, tc!.finishedAt!), 'D started after B and C finished');
      const seen = (td!.result as { parents: Array<{ id: number; result: { tag: string } }> }).parents;
      assert.deepEqual(
        seen.map((p) => [p.id, p.result.tag]),
        [
          [b, 'B'],
          [c, 'C'],
        ],
      );
    },
  );
}

test(
  'bolt purge while a dependant waits keeps its finished parent, and the dependant runs with every parent result; bolt retry refuses a dependant of a cancelled task [duckdb]',
  { timeout: 150_000 },
  async (t) => {
    const dir = tempDir(t);
    const location = join(dir, 'q.db');
    const env = { BOLT_LEASE_MS: '3000', BOLT_HEARTBEAT_MS: '100', BOLT_POLL_MS: '20' };
    const bolt = (...args: string[]) => runBolt([...args, '--db', location], { env, timeoutMs: 60_000 });
    const rt = spawnChild(t, process.execPath, [BOLT_BIN, 'start', '--agents', '2', '--agent-module', writeTestAgents(dir), '--db', location, '--no-status'], {
      env,
    });
    await rt.waitForLine('ready: ', 60_000);
    const db = await openDatabase(location);
    t.after(() => db.close());
    const q = new TaskQueue(db);
    const marker = join(dir, 'started');
    const gate = join(dir, 'gate');
    const first = (await q.submit('join', { tag: 'first', marker, ms: 10 })).id;
    const second = (await q.submit('join', { tag: 'second', marker, ms: 10, gate })).id;
    const child = (await q.submit('join', { tag: 'child', marker, ms: 10 }, { dependsOn: [first, second] })).id;
    const done = await waitForValue(
      'the first parent done and the second running',
      async () => [await q.get(first), await q.get(second)] as const,
      ([a, b]) => a.status === 'done' && b.status === 'running',
      { timeoutMs: 60_000 },
    );
    await clockPast(done[0].finishedAt!);
    const purge = await bolt('purge', '--older-than', '0', '--status', 'done');
    assert.equal(purge.code, 0, purge.stderr);
    assert.equal(purge.stdout, 'deleted 0 finished tasks; kept 1 that unfinished tasks depend on (purged once those finish)\n');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(gate, '');
    const ran = await waitForValue(
      'the dependant done',
      () => q.get(child),
      (x) => x.status === 'done',
      { timeoutMs: 60_000 },
    );
    assert.deepEqual(
      (ran.result as { parents: Array<{ id: number; result: { tag: string } }> }).parents.map((p) => [p.id, p.result.tag]),
      [
        [first, 'first'],
        [second, 'second'],
      ],
      'it saw both parents',
    );
    await clockPast(ran.finishedAt!);
    const again = await bolt('purge', '--older-than', '0', '--json');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { deleted: 3, kept: 0 });

    // A dependant of a cancelled task: retrying it is refused and changes nothing.
    const later = (await q.submit('join', { tag: 'later', marker }, { delayMs: 3_600_000 })).id;
    const waiting = (await q.submit('join', { tag: 'waiting', marker }, { dependsOn: [later] })).id;
    assert.equal((await bolt('cancel', String(later))).code, 0);
    const before = await q.get(waiting);
    assert.equal(before.status, 'cancelled');
    const retry = await bolt('retry', String(waiting));
    assert.equal(retry.code, 2, retry.stdout);
    assert.equal(retry.stdout, '');
    assert.equal(
      retry.stderr,
      `error [BOLT_BAD_INPUT]: Task ${waiting} cannot be retried: it depends on task ${later}, which ended cancelled; retry it first\n`,
    );
    assert.deepEqual(await q.get(waiting), before);
  },
);

test(
  'PostgreSQL: a purge that waits on a submit marking its parent keeps the parent of the task just accepted',
  { timeout: 60_000, skip: PG_SKIP },
  async (t) => {
    const { db, q } = await openQueue(t, 'postgres');
    const parent = (await q.submit('a', null)).id;
    await q.claim('rt', ['a'], 1, 60_000);
    await q.complete('rt', [{ id: parent, attempt: 1, result: 'kept for the child' }]);
    await clockPast((await q.get(parent)).finishedAt!);
    // A session holds the parent's row: first the submit, then the purge, queue behind it.
    const holder = await db.session();
    t.after(() => holder.close());
    await holder.begin();
    await holder.query('SELECT id FROM bolt_tasks WHERE id = ? FOR UPDATE', [parent]);
    const waiting = async (): Promise<number> =>
      Number(
        (await db.queryOne<{ n: unknown }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))!.n,
      );
    const submitted = q.submit('c', null, { dependsOn: [parent] }).then(
      (r) => r.id,
      (e: unknown) => e,
    );
    await waitForValue('the submit to wait for the row', waiting, (n) => n === 1);
    const purged = q.purge(0, ['done']);
    await waitForValue('the purge to wait too', waiting, (n) => n === 2);
    await holder.rollback();
    const child = await submitted;
    const { deleted } = await purged;
    // Either order is right; a child accepted whose parent is gone is not.
    if (typeof child === 'number') {
      assert.equal(deleted, 0, 'the parent of the accepted child was kept');
      assert.equal((await q.get(parent)).status, 'done');
      const [c] = await q.claim('rt', ['c'], 1, 60_000);
      assert.deepEqual(c?.parents, [{ id: parent, agent: 'a', result: 'kept for the child' }]);
    } else {
      assert.ok(hasCode(child, 'BOLT_BAD_INPUT'), String(child));
      assert.equal(deleted, 1);
    }
  },
);
