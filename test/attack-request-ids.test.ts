/**
 * Careless request ids and insertMany columns, in a DuckDB host's process, through a client of
 * a host in another process, on SQLite and on PostgreSQL: an id that is not a non-empty string
 * is BOLT_BAD_INPUT before anything runs (on DuckDB an object id was "[object Object]", so a
 * second write with another object id was silently skipped as already applied; SQLite threw an
 * untyped TypeError; a 10 MB id was stored), and a column named twice is BOLT_BAD_INPUT (one
 * value was dropped).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import type { Database } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { clientOfChildHost } from './helpers/child-host.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';
import { tempDir } from './helpers/tmp.js';

const badInput = (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT');

async function careless(db: Database): Promise<void> {
  await db.execute('CREATE TABLE u (i INTEGER, j INTEGER)');
  for (const id of [{ order: 1 }, { order: 2 }, 5, 5n, '', null, 'x'.repeat(1025)]) {
    await assert.rejects(db.execute('INSERT INTO u VALUES (1, 1)', [], { requestId: id as never }), badInput, `execute with requestId ${String(id)}`);
    await assert.rejects(db.insertMany('u', ['i', 'j'], [[1, 1]], { requestId: id as never }), badInput, `insertMany with requestId ${String(id)}`);
    await assert.rejects(
      db.transaction(async (tx) => tx.execute('INSERT INTO u VALUES (1, 1)'), { requestId: id as never }),
      badInput,
      `transaction with requestId ${String(id)}`,
    );
  }
  await assert.rejects(db.insertMany('u', ['i', 'i'], [[1, 2]]), badInput);
  await assert.rejects(db.insertMany('u', ['j', 'J'], [[1, 2]]), badInput);
  assert.deepEqual(await db.query('SELECT * FROM u'), [], 'nothing was written');
}

test('in the host process: request ids that are not non-empty strings, columns named twice', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  await careless(db);
});

test('through a client: request ids that are not non-empty strings, columns named twice', { timeout: 60_000 }, async (t) => {
  const { host, db } = await clientOfChildHost(t);
  await careless(db);
  assert.equal(host.child.exitCode, null);
});

test('SQLite: request ids that are not non-empty strings, columns named twice', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.sqlite'), { engine: 'sqlite' });
  t.after(() => db.close());
  await careless(db);
});

test('PostgreSQL: request ids that are not non-empty strings, columns named twice', { timeout: 60_000, skip: PG_SKIP }, async (t) => {
  const { tcp } = await freshPgDatabase(t);
  const db = await ConcurrentDatabase.open(tcp);
  t.after(() => db.close());
  await careless(db);
});
