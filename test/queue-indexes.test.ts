/**
 * PostgreSQL's partial index of claimable tasks (queue-dialect.ts): a queue made before it gets it at
 * `ensureSchema`, claims keep their order (priority, then id) through it, and a read-only handle
 * on such a queue still opens it (the index is only a speed-up). A claim's plan reads only the
 * rows it takes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../storage/open-database.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import type { Database } from '../core/database.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';

const INDEX_EXISTS = "SELECT count(*) AS n FROM pg_indexes WHERE indexname = 'bolt_tasks_ready'";

async function location(t: TestContext): Promise<string> {
  return (await freshPgDatabase(t, 'bolt_idx')).tcp;
}

async function open(t: TestContext, where: string, readOnly = false): Promise<Database> {
  const db = await openDatabase(where, { readOnly });
  t.after(() => db.close());
  return db;
}

test(
  `a queue made before the index of claimable tasks gets it at ensureSchema; claims keep their order [postgres]`,
  { timeout: 60_000, skip: PG_SKIP },
  async (t) => {
    const where = await location(t);
    const db = await open(t, where);
    await new TaskQueue(db).ensureSchema();
    const count = async (d: Database) => Number((await d.query(INDEX_EXISTS))[0]!.n);
    assert.equal(await count(db), 1, 'a new queue has it');
    await db.execute('DROP INDEX bolt_tasks_ready');
    const q = new TaskQueue(db);
    const low = (await q.submit('a', null, { priority: 0 })).id;
    const high = (await q.submit('a', null, { priority: 5 })).id;
    const low2 = (await q.submit('a', null, { priority: 0 })).id;

    // A read-only handle cannot add it: the queue still opens and reads.
    const ro = await open(t, where, true);
    const roQueue = new TaskQueue(ro);
    await roQueue.ensureSchema();
    assert.equal(await count(ro), 0);
    assert.equal((await roQueue.get(high)).status, 'queued');

    await Promise.all([q.ensureSchema(), new TaskQueue(db).ensureSchema()]);
    assert.equal(await count(db), 1, 'added, once, by two at once');
    assert.deepEqual(
      (await q.claim('rt', ['a'], 2, 60_000)).map((c) => c.id),
      [high, low],
    );
    assert.deepEqual(
      (await q.claim('rt', ['a'], 5, 60_000)).map((c) => c.id),
      [low2],
    );
  },
);

test(
  'a claim on PostgreSQL reads only what it takes: no scan of the whole task table, whatever its size [postgres]',
  { timeout: 60_000, skip: PG_SKIP },
  async (t) => {
    const db = await open(t, await location(t));
    const q = new TaskQueue(db);
    await q.ensureSchema();
    for (let i = 0; i < 20; i++) await q.submitMany(Array.from({ length: 1000 }, () => ({ agent: 'a' })));
    await db.execute('ANALYZE bolt_tasks');
    // The claim's own text and parameters, as the queue sends them.
    let claim: { sql: string; params: readonly unknown[] } | undefined;
    const query = db.query.bind(db);
    db.query = ((sql: string, params: readonly unknown[] = [], opts = {}) => {
      if (/FOR UPDATE SKIP LOCKED/.test(sql)) claim = { sql, params };
      return query(sql, params, opts);
    }) as typeof db.query;
    assert.equal((await q.claim('me', ['a'], 256, 60_000)).length, 256);
    assert.ok(claim, 'the claim was seen');
    const plan = (await query(`EXPLAIN ${claim.sql}`, claim.params)).map((r) => String(r['QUERY PLAN'])).join('\n');
    assert.doesNotMatch(plan, /Seq Scan on bolt_tasks\b/, plan);
  },
);
