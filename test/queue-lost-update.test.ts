/**
 * Two writes to one row of the queue's tables on DuckDB, the second from a transaction whose
 * snapshot predates the first's commit: DuckDB must report a conflict, never keep one write and
 * silently lose the other. DuckDB 1.5 does not check every pair (docs/concurrent-database.md):
 * on a table with an index, `UPDATE … RETURNING` (and an upsert with RETURNING) is a delete and
 * an insert that a plain UPDATE does not conflict with; on a table without one, no DELETE
 * conflicts with an UPDATE.
 * - `bolt_tasks`: a lease renewal wrote the whole old row back over a release, and the task
 *   stayed `running` with nobody running it (`bolt start`, second Ctrl-C: once in 25–40 runs);
 *   a `retry` racing a `purge` was acknowledged and its task deleted. New queues have no index;
 *   queues made by an older Bolt keep their primary key. Both layouts are tested.
 * - `bolt_groups` and `bolt_schedules` keep their primary keys (upserts need them): every write
 *   of their rows has RETURNING, so DuckDB checks them against each other.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { openDatabase } from '../storage/open-database.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { hasCode } from '../core/errors.js';
import type { Database, Session, Transaction } from '../core/database.js';
import { admitInGroup, loadGroupLimits, storeGroupLimit } from '../core/runtime/group-limits.js';
import { advanceSchedule, loadSchedules, storeSchedule } from '../core/runtime/schedules.js';

const CONSTRAINTS = `SELECT count(*) AS n FROM duckdb_constraints() WHERE table_name = 'bolt_tasks' AND constraint_type = 'PRIMARY KEY'`;

async function open(t: TestContext, path: string): Promise<Database> {
  const db = await openDatabase(path, { engine: 'duckdb' });
  t.after(() => db.close());
  return db;
}

/** Begins a transaction in a new session of `db` and reads `table` there: its snapshot is now. */
async function staleSession(t: TestContext, db: Database, table: string): Promise<Session> {
  const s = await db.session();
  t.after(() => s.close());
  await s.begin();
  await s.query(`SELECT count(*) AS n FROM ${table}`);
  return s;
}

/**
 * A queue whose statements (and transactions) run in `s`, inside its open transaction with that
 * snapshot, and the errors they met: the first is what DuckDB said (a re-run in the aborted
 * transaction then fails for that reason).
 */
function queueIn(s: Session, engine: Database['engine']): { q: TaskQueue; errors: unknown[] } {
  const errors: unknown[] = [];
  const noted =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> =>
      fn(...a).catch((e: unknown) => {
        errors.push(e);
        throw e;
      });
  const inSession = { engine, query: noted(s.query.bind(s)), execute: noted(s.execute.bind(s)) };
  const db = { ...inSession, transaction: <T>(fn: (tx: Transaction) => Promise<T>) => fn(inSession as unknown as Transaction) };
  return { q: new TaskQueue(db as unknown as Database), errors };
}

/** A DuckDB queue as made now (no index on bolt_tasks), or as an older Bolt made it (`id BIGINT PRIMARY KEY`). */
async function queueOn(t: TestContext, layout: 'new' | 'old'): Promise<{ db: Database; q: TaskQueue }> {
  const db = await open(t, join(tempDir(t), 'q.duckdb'));
  const q = new TaskQueue(db);
  await q.ensureSchema();
  if (layout === 'old') await db.execute('ALTER TABLE bolt_tasks ADD PRIMARY KEY (id)');
  assert.equal(Number((await db.query(CONSTRAINTS))[0]!.n), layout === 'old' ? 1 : 0);
  return { db, q };
}

for (const layout of ['new', 'old'] as const) {
  test(`a lease renewal whose snapshot predates a release conflicts instead of undoing it [duckdb, ${layout} layout]`, { timeout: 30_000 }, async (t) => {
    const { db, q } = await queueOn(t, layout);
    const { id } = await q.submit('slow', null);
    const [claimed] = await q.claim('rt', ['slow'], 1, 60_000);
    assert.equal(claimed?.id, id);
    const s = await staleSession(t, db, 'bolt_tasks');
    assert.equal(await q.release('rt', [{ id, attempt: claimed.attempt }]), 1);
    const stale = queueIn(s, db.engine);
    await assert.rejects(stale.q.renew('rt', 60_000, [id]));
    assert.ok(hasCode(stale.errors[0], 'BOLT_TX_CONFLICT'), String(stale.errors[0]));
    await s.rollback();
    const task = await q.get(id);
    assert.equal(task.status, 'queued');
    assert.equal(task.leaseOwner, null);
    assert.equal(task.attempts, 0);
  });

  test(`a retry and a purge of the same task conflict, whichever commits first [duckdb, ${layout} layout]`, { timeout: 30_000 }, async (t) => {
    const { db, q } = await queueOn(t, layout);
    const deadTask = async (agent: string): Promise<number> => {
      const { id } = await q.submit(agent, null, { maxAttempts: 1 });
      const [c] = await q.claim('rt', [agent], 1, 60_000);
      await q.fail('rt', id, c!.attempt, { name: 'E', code: 'BOLT_TASK', message: 'boom', details: {} });
      assert.equal((await q.get(id)).status, 'dead');
      return id;
    };
    // The retry commits first; the purge's snapshot still shows the task dead.
    const first = await deadTask('a');
    const purging = await staleSession(t, db, 'bolt_tasks');
    assert.equal((await q.retry(first)).status, 'queued');
    const stalePurge = queueIn(purging, db.engine);
    await assert.rejects(stalePurge.q.purge(0));
    assert.ok(hasCode(stalePurge.errors[0], 'BOLT_TX_CONFLICT'), String(stalePurge.errors[0]));
    await purging.rollback();
    assert.equal((await q.get(first)).status, 'queued', 'the retried task is kept');

    // The purge commits first; the retry's snapshot still shows the task dead.
    const second = await deadTask('b');
    const retrying = await staleSession(t, db, 'bolt_tasks');
    assert.equal((await q.purge(0)).deleted, 1);
    const staleRetry = queueIn(retrying, db.engine);
    await assert.rejects(staleRetry.q.retry(second));
    assert.ok(hasCode(staleRetry.errors[0], 'BOLT_TX_CONFLICT'), String(staleRetry.errors[0]));
    await retrying.rollback();
    await assert.rejects(q.get(second), (e: unknown) => hasCode(e, 'BOLT_NOT_FOUND'));
  });
}

test('a group limit set while a claim holds an older snapshot is neither undone by the claim nor lost [duckdb]', { timeout: 30_000 }, async (t) => {
  const db = await open(t, join(tempDir(t), 'g.duckdb'));
  await new TaskQueue(db).ensureSchema();
  await storeGroupLimit(db, 'g', { concurrency: 3 });
  const limit = async (): Promise<number | undefined> => (await loadGroupLimits(db)).find((g) => g.group === 'g')?.concurrency;

  // The claim's write of the group's row comes after the new limit committed.
  const claim = await staleSession(t, db, 'bolt_groups');
  await storeGroupLimit(db, 'g', { concurrency: 7 });
  await assert.rejects(admitInGroup(claim, 'g', 1), (e: unknown) => hasCode(e, 'BOLT_TX_CONFLICT'));
  await claim.rollback();
  assert.equal(await limit(), 7);

  // The new limit's write comes after a claim committed.
  const set = await staleSession(t, db, 'bolt_groups');
  const { q, errors } = queueIn(set, db.engine);
  await db.transaction((tx) => admitInGroup(tx, 'g', 1));
  await assert.rejects(storeGroupLimit(q.db, 'g', { concurrency: 9 }));
  assert.ok(hasCode(errors[0], 'BOLT_TX_CONFLICT'), String(errors[0]));
  await set.rollback();
  assert.equal(await limit(), 7);
});

test('a schedule tick recorded from an older snapshot than a replacement of the schedule conflicts [duckdb]', { timeout: 30_000 }, async (t) => {
  const db = await open(t, join(tempDir(t), 's.duckdb'));
  await new TaskQueue(db).ensureSchema();
  await storeSchedule(db, 'every', { cron: '* * * * * *', agent: 'echo' }, 'null');
  const [old] = await loadSchedules(db);
  const firer = await staleSession(t, db, 'bolt_schedules');
  const { q, errors } = queueIn(firer, db.engine);
  const replaced = await storeSchedule(db, 'every', { cron: '*/5 * * * * *', agent: 'echo' }, 'null');
  await assert.rejects(advanceSchedule(q.db, old!, old!.lastTick + 1000));
  assert.ok(hasCode(errors[0], 'BOLT_TX_CONFLICT'), String(errors[0]));
  await firer.rollback();
  assert.deepEqual(await loadSchedules(db), [replaced]);
});
