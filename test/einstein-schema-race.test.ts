/**
 * Indexers starting at the same moment on a fresh PostgreSQL database all create Einstein's
 * tables at once; PostgreSQL's `CREATE … IF NOT EXISTS` is not atomic, so each must still start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPostgres } from '../adapters/postgres/open.js';
import { dialectFor } from '../search/dialect-for.js';
import { IndexStore } from '../search/index-store.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';

test('twelve handles creating the Einstein schema at once on a fresh PostgreSQL database all succeed', { timeout: 60_000, skip: PG_SKIP }, async (t) => {
  for (let round = 0; round < 3; round++) {
    const { tcp } = await freshPgDatabase(t, `bolt_einrace${round}`);
    const dbs = await Promise.all(Array.from({ length: 12 }, () => openPostgres(tcp, { maxConnections: 1 })));
    try {
      const outcomes = await Promise.allSettled(dbs.map((db) => new IndexStore(db, dialectFor('postgres'), 16, 'hash-16').ensureSchema()));
      const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
      assert.deepEqual(failed, [], `round ${round}`);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  }
});
