/**
 * Runtimes starting at the same moment on a fresh PostgreSQL database all create the queue's
 * tables at once: PostgreSQL's `CREATE … IF NOT EXISTS` is not atomic (two sessions can both
 * find the name free, and the second fails on the catalog's unique index), so each must still
 * start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPostgres } from '../adapters/postgres/open.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';

test('twelve handles creating the queue schema at once on a fresh PostgreSQL database all succeed', { timeout: 60_000, skip: PG_SKIP }, async (t) => {
  for (let round = 0; round < 3; round++) {
    const { tcp } = await freshPgDatabase(t, `bolt_race${round}`);
    const dbs = await Promise.all(Array.from({ length: 12 }, () => openPostgres(tcp, { maxConnections: 1 })));
    try {
      const outcomes = await Promise.allSettled(dbs.map((db) => new TaskQueue(db).ensureSchema()));
      const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
      assert.deepEqual(failed, [], `round ${round}`);
      const queue = new TaskQueue(dbs[0]!);
      const { id } = await queue.submit('sql', { sql: 'SELECT 1' });
      assert.ok(id > 0);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  }
});
