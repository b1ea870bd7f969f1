/**
 * Two writes to one row of the queue's tables on DuckDB, the second from a transaction whose
 * snapshot predates the first's commit: DuckDB must report a conflict, never keep one write and
 * silently lose the other. On a table with an index, DuckDB 1.5 runs `UPDATE … RETURNING` (and
 * an upsert with RETURNING) as a delete and an insert that it does not check against updates
 * made in place (docs/concurrent-database.md):
 * - `bolt_tasks`: a lease renewal wrote the whole old row back over a release, and the task
 *   stayed `running` with nobody running it (`bolt start`, second Ctrl-C: once in 25–40 runs).
 *   The table now has no index; a queue made by an older Bolt is rebuilt without its primary
 *   key at `ensureSchema`.
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
import type { Database, Session } from '../core/database.js';
import { admitInGroup, loadGroupLimits, storeGroupLimit } from '../core/runtime/group-limits.js';
import { advanceSchedule, loadSchedules, storeSchedule } from '../core/runtime/schedules.js';

const CONSTRAINTS = `SELECT count(*) AS n FROM duckdb_constraints() WHERE table_name = 'bolt_tasks' AND constraint_type = 'PRIMARY KEY'`;

async function open(t: TestContext, path: string, readOnly = false): Promise<Database> {
  const db = await openDatabase(path, { engine: 'duckdb', readOnly });
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
 * A queue whose statements run in `s` (inside its open transaction, with that snapshot), and
 * the errors they met: the first is what DuckDB said (a re-run in the aborted transaction then
 * fails for that reason).
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
  return { q: new TaskQueue(inSession as unknown as Database), errors };
}

/** Gives `bolt_tasks` the primary key that queues made by an older Bolt have. */
async function withOldPrimaryKey(db: Database): Promise<void> {
  await db.execute('ALTER TABLE bolt_tasks ADD PRIMARY KEY (id)');
}

/**
 * Claims a task as `owner`, begins a transaction in a session and reads the queue there (its
 * snapshot), then releases the task from the handle: the renewal that follows in the session
 * has the snapshot from before the release.
 */
async function renewalBehindRelease(
  t: TestContext,
  db: Database,
  q: TaskQueue,
): Promise<{ id: number; renewed: Promise<Set<number>>; errors: unknown[]; s: Session }> {
  const { id } = await q.submit('slow', null);
  const [claimed] = await q.claim('rt', ['slow'], 1, 60_000);
  assert.equal(claimed?.id, id);
  const s = await staleSession(t, db, 'bolt_tasks');
  assert.equal(await q.release('rt', [{ id, attempt: claimed.attempt }]), 1);
  const stale = queueIn(s, db.engine);
  return { id, s, renewed: stale.q.renew('rt', 60_000, [id]), errors: stale.errors };
}

test('a lease renewal whose snapshot predates a release conflicts instead of undoing it [duckdb]', { timeout: 30_000 }, async (t) => {
  const db = await open(t, join(tempDir(t), 'q.duckdb'));
  const q = new TaskQueue(db);
  await q.ensureSchema();
  assert.equal(Number((await db.query(CONSTRAINTS))[0]!.n), 0, 'a new queue has no primary key on bolt_tasks');
  const { id, s, renewed, errors } = await renewalBehindRelease(t, db, q);
  await assert.rejects(renewed);
  assert.ok(hasCode(errors[0], 'BOLT_TX_CONFLICT'), String(errors[0]));
  await s.rollback();
  const task = await q.get(id);
  assert.equal(task.status, 'queued');
  assert.equal(task.leaseOwner, null);
  assert.equal(task.attempts, 0);
});

test('a queue made with a primary key on bolt_tasks is rebuilt without it at ensureSchema, rows and ids kept [duckdb]', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'old.duckdb');
  const db = await open(t, path);
  const q = new TaskQueue(db);
  await q.ensureSchema();
  const before = [await q.submit('echo', { n: 1 }), await q.submit('echo', { n: 2 }, { dedupeKey: 'k' })];
  await q.claim('rt', ['echo'], 1, 60_000);
  await withOldPrimaryKey(db);
  assert.equal(Number((await db.query(CONSTRAINTS))[0]!.n), 1);
  const rows = await db.query('SELECT * FROM bolt_tasks ORDER BY id');

  // The lost update, as it happened before the rebuild: the release is undone.
  const lost = await renewalBehindRelease(t, db, q);
  assert.deepEqual([...(await lost.renewed)], [lost.id]);
  await lost.s.commit();
  assert.equal((await q.get(lost.id)).status, 'running', 'with the primary key, the renewal wrote the released row back');
  await db.execute('DELETE FROM bolt_tasks WHERE id = ?', [lost.id]);

  // A read-only handle cannot rebuild it: the queue still opens and reads.
  const ro = await open(t, path, true);
  const roQueue = new TaskQueue(ro);
  await roQueue.ensureSchema();
  assert.equal((await roQueue.get(before[0]!.id)).status, 'running');
  assert.equal(Number((await db.query(CONSTRAINTS))[0]!.n), 1);

  // Two at once: both succeed, one rebuilds.
  await Promise.all([new TaskQueue(db).ensureSchema(), new TaskQueue(db).ensureSchema()]);
  assert.equal(Number((await db.query(CONSTRAINTS))[0]!.n), 0);
  assert.deepEqual(await db.query('SELECT * FROM bolt_tasks ORDER BY id'), rows, 'every row as it was');
  const next = await q.submit('echo', { n: 3 });
  assert.ok(next.id > lost.id, `ids go on from the sequence: ${next.id} after ${lost.id}`);
  assert.equal((await q.submit('echo', { n: 4 }, { dedupeKey: 'k' })).id, before[1]!.id, 'dedupe keys kept');

  const after = await renewalBehindRelease(t, db, q);
  await assert.rejects(after.renewed);
  assert.ok(hasCode(after.errors[0], 'BOLT_TX_CONFLICT'), String(after.errors[0]));
  await after.s.rollback();
  assert.equal((await q.get(after.id)).status, 'queued');
});

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
